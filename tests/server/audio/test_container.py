"""Containers through PyAV within bounds: refused rates, bounded passes, bounded size."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from smnb.exceptions import UnsupportedAudio
from smnb.server.audio import container
from smnb.server.audio.input import decoder_for
from tests.support.audio_formats import decode, encoded


def test_a_container_declaring_an_unsupported_rate_is_refused() -> None:
    x = np.zeros(4000 * 60, dtype=np.float32)  # a minute at 4 kHz: refused, not upsampled
    buf = io.BytesIO()
    sf.write(buf, x, 4000, format="FLAC")
    decoder = decoder_for({"type": "file"})
    with pytest.raises(UnsupportedAudio, match="4000 Hz"):
        decoder.push(buf.getvalue())
        decoder.finish()


def test_container_passes_are_bounded_yet_lose_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encoded("FLAC", None)
    whole = decode({"type": "file"}, data)
    monkeypatch.setattr(container, "MAX_STEP_SAMPLES", 16000)  # one second per pass
    assert np.array_equal(decode({"type": "file"}, data), whole)
    monkeypatch.setattr(container, "MAX_CONTAINER_BYTES", len(data) - 1)
    with pytest.raises(UnsupportedAudio, match="send it as raw PCM or WAV"):
        decode({"type": "file"}, data)
