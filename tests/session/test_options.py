"""Settings (smnb.session.options): protocol names, smnb defaults, one check before connecting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import smnb
from smnb.exceptions import ConfigError
from smnb.session.options import SessionOptions
from smnb.session.run import prepare
from tests.support.client import (
    tone_wav,
)


@pytest.fixture
def tones(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "tones.wav")


@pytest.fixture(autouse=True)
def no_real_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # A developer's real key must never send these tests to the SaaS.
    monkeypatch.delenv("SPEECHMATICS_API_KEY", raising=False)
    monkeypatch.delenv("SPEECHMATICS_RT_URL", raising=False)


def lower(words: list[str]) -> list[str]:
    return [w.lower() for w in words]


@pytest.mark.parametrize(
    ("config", "error", "message"),
    [
        ({"max_dealy": 2.0}, ConfigError, "unknown setting 'max_dealy'.*did you mean 'max_delay'"),
        ({"max_delay": 9}, ConfigError, "max_delay must be between 0.7 and 4"),
        ({"max_delay_mode": "sometimes"}, ConfigError, "max_delay_mode must be one of"),
        ({"diarization": "channel"}, ConfigError, "needs 2 or more channels"),
        ({"pace": "slow"}, ConfigError, "pace must be 'realtime' or 'fast'"),
        ({"url": "http://example.com"}, ConfigError, "url must start with ws:// or wss://"),
        ({"language": ""}, ConfigError, "language must be a non-empty string"),
        ({"timeout": -1}, ConfigError, "timeout must be a positive number"),
        ({"temp_key": 5}, ConfigError, "temp_key must be True or a lifetime"),
        ({"chunk_seconds": 0}, ConfigError, "chunk_seconds must be a number"),
        (
            {"conversation_config": {"end_of_utterence_silence_trigger": 0.5}},
            ConfigError,
            r"^conversation_config\.end_of_utterence_silence_trigger is not a field .*"
            "did you mean 'end_of_utterance_silence_trigger'",
        ),
        (
            {"sample_rate": 8000, "encoding": "mulaw"},
            ConfigError,
            "^sample_rate applies to raw byte streams and arrays, not to a file: its header",
        ),
        (
            {"audio_format": "file", "encoding": "mulaw"},
            ConfigError,
            "^encoding='mulaw' applies to raw byte streams, not to a file",
        ),
        (
            {"translation_config": {"target_language": ["de"]}},
            ConfigError,
            r"^translation_config\.target_language is not a field.*'target_languages'",
        ),
        (
            {"audio_events_config": {"type": ["music"]}},
            ConfigError,
            r"^audio_events_config\.type is not a field.*'types'",
        ),
    ],
)
async def test_bad_settings_fail_before_connecting(
    tones: Path, config: dict[str, Any], error: type[Exception], message: str
) -> None:
    # Nothing listens on port 9: a connection attempt would be ConnectionLost instead.
    # The settings are checked once (SessionOptions.create), the audio by atranscribe.
    with pytest.raises(error, match=message):
        options = SessionOptions.create({"url": "ws://127.0.0.1:9/v2", **config})
        await smnb.atranscribe(tones, options=options)


async def test_a_misspelled_keyword_fails_at_the_call(tones: Path) -> None:
    # The entry points have explicit keyword-only parameters: Python (and mypy) reject it.
    with pytest.raises(TypeError, match="max_dealy"):
        await smnb.atranscribe(tones, url="ws://127.0.0.1:9/v2", max_dealy=2.0)  # type: ignore[call-arg]


def test_out_must_be_a_directory(tones: Path, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="exists and is not a directory"):
        prepare(tones, out=tmp_path / "file")


def test_speechmatics_rt_url_is_the_endpoint_with_or_without_a_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert SessionOptions.create().embedded  # nothing set: the embedded server
    monkeypatch.setenv("SPEECHMATICS_RT_URL", "ws://127.0.0.1:9/v2")
    options = SessionOptions.create()  # no key: an on-prem container needs none
    assert options.url == "ws://127.0.0.1:9/v2" and options.api_key is None
    assert not options.embedded
    assert SessionOptions.create(url="ws://127.0.0.1:8/v2").url == "ws://127.0.0.1:8/v2"
    monkeypatch.setenv("SPEECHMATICS_RT_URL", "http://127.0.0.1:9/v2")
    with pytest.raises(ConfigError, match=r"^SPEECHMATICS_RT_URL must start with ws:// or wss://"):
        SessionOptions.create()
