"""run_inline: a whole session through the real protocol layer, on ToneRecognizer."""

from __future__ import annotations

import json

import pytest

from smnb.server.protocol.inline import SessionClosed, final_latencies, of, run_inline
from smnb.server.recognizer import RecognizerSettings
from tests.support.server_fakes import ToneRecognizer, s16, speech

AUDIO = s16(speech(["alpha", 0.1, "bravo", 0.6, "charlie", 1.0]))


def test_a_session_in_audio_time() -> None:
    made: list[ToneRecognizer] = []

    def recognizer(settings: RecognizerSettings) -> ToneRecognizer:
        made.append(ToneRecognizer(settings))
        return made[-1]

    timed = run_inline(AUDIO, {"max_delay": 1.0}, recognizer, chunk=1600)
    kinds = [m["message"] for _, m in timed]
    assert kinds[:3] == ["Info", "RecognitionStarted", "Info"]
    assert kinds[-1] == "EndOfTranscript"
    assert kinds.count("AudioAdded") == -(-len(AUDIO) // 1600)
    positions = [t for t, _ in timed]
    assert positions == sorted(positions)
    assert positions[-1] == pytest.approx(len(AUDIO) / 32000, abs=0.03)  # a padded last frame
    text = "".join(m["metadata"]["transcript"] for _, m in of(timed, "AddTranscript"))
    assert text == "Alpha bravo. Charlie. "
    # ToneRecognizer commits a word max_delay - 0.2 s after its end at the latest
    assert [round(lat, 2) for _, lat in final_latencies(timed)] == [0.75, 0.33, 0.33]
    assert len(made) == 1


def test_client_messages_mid_stream_and_a_failed_session() -> None:
    made: list[ToneRecognizer] = []

    def recognizer(settings: RecognizerSettings) -> ToneRecognizer:
        made.append(ToneRecognizer(settings))
        return made[-1]

    change = {"message": "SetRecognitionConfig", "transcription_config": {"max_delay": 2.0}}
    run_inline(AUDIO, {"max_delay": 1.0}, recognizer, texts={16000: change})
    assert made[0].settings.max_delay == 2.0
    with pytest.raises(SessionClosed) as failed:
        run_inline(AUDIO, {"max_delay": 99}, recognizer)
    assert json.loads(str(failed.value))["type"] == "invalid_config"
