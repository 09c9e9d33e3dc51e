"""prepare (smnb.session.prepare): settings and audio become one StartRecognition."""

from __future__ import annotations

from pathlib import Path

import pytest

from smnb.exceptions import ConfigError
from smnb.session.options import SessionOptions
from smnb.session.prepare import prepare
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


def test_config_uses_protocol_names_and_smnb_defaults(tones: Path) -> None:
    session = prepare(
        tones,
        max_delay=1.5,
        max_delay_mode="fixed",
        diarization="speaker",
        speaker_diarization_config={"max_speakers": 3},
        additional_vocab=["smnb"],
        conversation_config={"end_of_utterance_silence_trigger": 0.5},
        operating_point="enhanced",
        translation_config={"target_languages": ["de"]},
        pace="fast",
    )
    start = session.start_message
    assert start["transcription_config"] == {
        "language": "en",
        "enable_partials": True,
        "max_delay": 1.5,
        "max_delay_mode": "fixed",
        "diarization": "speaker",
        "speaker_diarization_config": {"max_speakers": 3},
        "additional_vocab": ["smnb"],
        "conversation_config": {"end_of_utterance_silence_trigger": 0.5},
        "operating_point": "enhanced",
    }
    assert start["translation_config"] == {"target_languages": ["de"]}
    assert start["audio_format"] == {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
    assert (
        prepare(tones, enable_partials=False).start_message["transcription_config"][
            "enable_partials"
        ]
        is False
    )


def test_checked_options_are_reused_and_keywords_override_them(tones: Path) -> None:
    options = SessionOptions.create(language="de", max_delay=2, pace="fast", timeout=None)
    session = prepare(tones, options)
    assert session.options is options and session.runner.timeout is None
    assert session.start_message["transcription_config"]["language"] == "de"
    again = prepare(tones, options, max_delay=3)
    assert again.start_message["transcription_config"]["max_delay"] == 3
    assert options.transcription_config["max_delay"] == 2  # frozen: never changed in place
    with pytest.raises(ConfigError, match="needs 2 or more channels"):
        prepare(tones, options.replace(diarization="channel"))
