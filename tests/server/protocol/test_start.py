"""StartRecognition checks and replies: enrolled speakers, close payloads, recognition quality."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import soxr

from smnb.server import voiceprint
from smnb.server.protocol.start import Rejected, close_for, plan_session
from smnb.server.voiceprint import Voiceprint
from tests.support import speech_session as speech
from tests.support.client import tone_server
from tests.support.engine_audio import clip
from tests.support.rt_stream import converse
from tests.support.server_fakes import s16
from tests.support.server_fakes import speech as tone_speech

RAW = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
GOOD = voiceprint.encode(Voiceprint(600, (0.5,) * 16, (4.8,) * 9))


def speakers_plan(speakers: list[dict[str, Any]], diarization: str = "speaker") -> Any:
    return plan_session({
        "message": "StartRecognition",
        "audio_format": RAW,
        "transcription_config": {
            "language": "en", "diarization": diarization,
            "speaker_diarization_config": {"speakers": speakers},
        },
    })  # fmt: skip


def test_enrolled_speakers_reach_the_recognizer_and_foreign_ids_get_speaker_id_warnings() -> None:
    p = speakers_plan([
        {"label": "Alice", "speaker_identifiers": [GOOD, "<alice_id2>"]},
        {"label": "Bob", "speaker_identifiers": ["smnb-voice-0"]},
        {"label": "Empty", "speaker_identifiers": [voiceprint.encode(Voiceprint(0, (0.0,) * 16))]},
    ])  # fmt: skip
    assert p.settings.known_speakers == (("Alice", (GOOD,)),)
    assert [w["type"] for w in p.notices] == ["speaker_id"] * 3
    assert "'Alice'): identifier 2 is ignored" in p.notices[0]["reason"]
    assert "no speech" in p.notices[2]["reason"]


@pytest.mark.parametrize(
    ("speakers", "match"),
    [
        ([{"label": "Alice"}], "speaker_identifiers"),
        ([{"label": "Alice", "speaker_identifiers": []}], "speaker_identifiers"),
        ([{"label": "Alice", "speaker_identifiers": [GOOD, GOOD]}], "unique"),
        (
            [{"label": f"P{i}", "speaker_identifiers": [f"{GOOD}{i}"]} for i in range(51)],
            "at most 50",
        ),
        ([{"label": "S1", "speaker_identifiers": [GOOD]}], "reserved"),
    ],
)
def test_malformed_speakers_are_invalid_config(speakers: list[dict[str, Any]], match: str) -> None:
    with pytest.raises(Rejected, match=match) as raised:
        speakers_plan(speakers)
    assert raised.value.error_type == "invalid_config"


def test_close_payloads_are_the_documented_ones() -> None:
    assert close_for("invalid_config") == (1008, "policy_violation")
    assert close_for("invalid_message") == (1008, "policy_violation")
    assert close_for("unknown_error") == (1011, "internal_error")
    assert close_for("protocol_error") == (1003, "protocol_error")
    assert close_for("job_error") == (4013, "job_error")
    assert close_for("quota_exceeded") == (4005, "quota_exceeded")


def wav(audio: np.ndarray, rate: int) -> bytes:
    out = io.BytesIO()
    sf.write(out, audio, rate, format="WAV", subtype="PCM_16")
    return out.getvalue()


def quality(messages: list[dict[str, Any]]) -> tuple[str, int]:
    """The reported quality and where it came (index among the session's messages)."""
    found = [(i, m) for i, m in enumerate(messages) if m.get("type") == "recognition_quality"]
    assert len(found) == 1
    return found[0][1]["quality"], found[0][0]


def test_recognition_quality_follows_the_real_sample_rate_of_a_file() -> None:
    audio = clip("cards-003")
    narrow = soxr.resample(audio.astype(np.float32) / 32768, 16000, 8000)
    telephone = speech.run(wav(narrow, 8000), {"type": "file"}, chunk=4000)
    kind, at = quality(telephone)
    assert kind == "telephony"
    first_ack = next(i for i, m in enumerate(telephone) if m["message"] == "AudioAdded")
    assert at < first_ack  # reported as soon as the header is read, before the first ack
    assert speech.words(telephone)  # and the 8 kHz speech is transcribed
    assert quality(speech.run(wav(audio, 16000), {"type": "file"}))[0] == "broadcast"
    raw8 = {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 8000}
    assert quality(speech.run(np.round(narrow * 32767).astype(np.int16).tobytes(), raw8))[0] == (
        "telephony"
    )


def test_warnings_about_the_config_come_before_recognition_started() -> None:
    out = speech.run(clip("cards-001"), domain="medical", extra={"translation_config": {
        "target_languages": ["es"]}})  # fmt: skip
    kinds = [m.get("type", m["message"]) for m in out]
    started = kinds.index("RecognitionStarted")
    assert kinds.index("validation_warning") < started
    assert started < kinds.index("unsupported_translation_pair")


@pytest.mark.parametrize(
    ("changes", "path", "meant"),
    [
        ({"audio_filtering_config": {"volume_treshold": 3}},
         "transcription_config.audio_filtering_config.volume_treshold", "volume_threshold"),
        ({"conversation_config": {"end_of_utterence_silence_trigger": 0.5}},
         "transcription_config.conversation_config.end_of_utterence_silence_trigger",
         "end_of_utterance_silence_trigger"),
    ],
)  # fmt: skip
async def test_set_recognition_config_refuses_a_nested_typo_by_its_path(
    changes: dict[str, Any], path: str, meant: str
) -> None:
    start = {"message": "StartRecognition", "audio_format": RAW,
             "transcription_config": {"language": "en"}}  # fmt: skip
    mid = {"message": "SetRecognitionConfig", "transcription_config": changes}
    async with tone_server() as url:
        out = await converse(url, start, [s16(tone_speech(["alpha", 0.2])), mid])
    error = out[-1]
    assert (error["message"], error["type"]) == (
        "Error",
        "invalid_config",
    )  # as for a top-level one
    assert error["reason"] == (f"{path} is not a field of the RT v2 API; did you mean {meant!r}?")


LONG_PHRASE = "one two three four five six seven"


@pytest.mark.parametrize(
    "config",
    [
        {"additional_vocab": ["alpha", LONG_PHRASE]},  # the long phrase is dropped at the start
        {"model": "enhanced", "operating_point": "enhanced"},  # operating_point dropped
        {"foo_option": True},  # unknown: dropped
    ],
)  # fmt: skip
async def test_a_whole_config_resent_mid_session_is_accepted_with_what_was_dropped(
    config: dict[str, Any],
) -> None:
    """The legacy client resends its whole config: fields the server dropped at the start
    (with a warning) come back unchanged, and must not count as changes."""
    sent = {"language": "en", **config}
    start = {"message": "StartRecognition", "audio_format": RAW, "transcription_config": sent}
    mid = {"message": "SetRecognitionConfig", "transcription_config": {**sent, "max_delay": 1.5}}
    async with tone_server() as url:
        out = await converse(url, start, [s16(tone_speech(["alpha", 0.2])), mid])
    kinds = [(msg["message"], msg.get("type")) for msg in out]
    assert ("Warning", "validation_warning") in kinds  # dropped at the start, as before
    assert not [msg for msg in out if msg["message"] == "Error"]
    assert out[-1]["message"] == "EndOfTranscript"


async def test_a_dropped_field_that_changes_mid_session_is_still_refused() -> None:
    sent = {"language": "en", "additional_vocab": ["alpha", LONG_PHRASE]}
    start = {"message": "StartRecognition", "audio_format": RAW, "transcription_config": sent}
    mid = {"message": "SetRecognitionConfig",
           "transcription_config": {**sent, "additional_vocab": ["alpha"]}}  # fmt: skip
    async with tone_server() as url:
        out = await converse(url, start, [mid])
    assert (out[-1]["message"], out[-1]["type"]) == ("Error", "invalid_config")
    assert out[-1]["reason"] == "additional_vocab cannot change mid-session"
