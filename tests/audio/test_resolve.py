"""smnb.audio.resolve: open_source checks everything before anything runs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from smnb.audio import (
    PcmSource,
    decode_file,
    open_source,
)
from smnb.exceptions import AudioError, ConfigError
from tests.support.audio import MONO, STEREO


def test_open_source_checks_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"2 or more channels; cards-001\.wav has 1"):
        open_source(MONO, per_channel=True)
    with pytest.raises(ConfigError, match=r"has 3 labels but stereo-two-channels\.wav has 2"):
        open_source(STEREO, per_channel=True, channel_labels=["a", "b", "c"])
    with pytest.raises(ConfigError, match="needs a path"):
        open_source(np.zeros(10), audio_format="file", sample_rate=16_000)
    with pytest.raises(ConfigError, match="sample_rate is required"):
        open_source(_empty_stream())
    with pytest.raises(AudioError, match="cannot stream a dict"):
        open_source({"not": "audio"})
    with pytest.raises(ConfigError, match="audio_format"):
        open_source(MONO, audio_format="mp3")
    with pytest.raises(ConfigError, match="chunk_seconds"):
        open_source(MONO, chunk_seconds=0)
    labelled = open_source(STEREO, per_channel=True, channel_labels=["agent", "caller"])
    assert labelled.channels == ["agent", "caller"]  # type: ignore[attr-defined]


async def _empty_stream() -> AsyncIterator[bytes]:
    if False:  # pragma: no cover - an async generator that yields nothing
        yield b""


def test_an_existing_source_is_used_as_it_is() -> None:
    source = PcmSource(decode_file(MONO))
    assert open_source(source) is source


@pytest.mark.parametrize(
    ("source", "settings", "message"),
    [
        (MONO, {"sample_rate": 8000}, "not to a file: its header gives the rate"),
        (MONO, {"sample_rate": 8000, "audio_format": "file"}, "not to a file: its header"),
        (MONO, {"encoding": "mulaw"}, "encoding='mulaw' applies to raw byte streams, not to a"),
        (str(MONO), {"encoding": "pcm_f32le", "audio_format": "file"}, "not to a file"),
        (np.zeros(16_000, np.int16), {"sample_rate": 16_000, "encoding": "mulaw"},
         "not to an array: its dtype gives the sample format"),
        ("source", {"sample_rate": 8000}, "not to an audio source"),
    ],
)  # fmt: skip
def test_raw_input_settings_are_refused_where_they_would_be_ignored(
    source: object, settings: dict[str, object], message: str
) -> None:
    if isinstance(source, str) and source == "source":
        source = PcmSource(decode_file(MONO))
    with pytest.raises(ConfigError, match=message):
        open_source(source, **settings)  # type: ignore[arg-type]
