"""Recordings arranged for replay: greeting, timed messages on the audio clock, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smnb.exceptions import ConfigError
from smnb.recorder import RECEIVED, SENT, Record
from smnb.server.replay import Recording, Timed, load_recording
from tests.support.table_sessions import fixture

SAMPLES = Path(__file__).resolve().parents[3] / "smnb" / "samples"
CHAT1 = SAMPLES / "chat1.jsonl"


def test_an_smnb_log_is_sorted_by_when_each_message_may_go_again() -> None:
    rec = load_recording(fixture("simple").parent)  # the directory works as well as the file
    assert rec.source == str(fixture("simple"))
    assert rec.audio_format == {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
    assert rec.transcription_config == {"language": "en", "enable_partials": True, "max_delay": 1.0}
    assert rec.on_open == ()
    assert [m["message"] for m in rec.on_start] == ["RecognitionStarted", "Info"]
    # t0 = 1.0 (fixtures/README.md): audio times are t − 1.0; acks and EndOfTranscript stay out.
    assert [(t.audio_s, t.message["message"], t.after_end) for t in rec.timed] == [
        (0.875, "AddPartialTranscript", False),
        (1.125, "AddPartialTranscript", False),
        (1.375, "AddTranscript", False),
        (1.375, "AddPartialTranscript", False),
        (1.625, "AddTranscript", False),
        (1.625, "AddPartialTranscript", False),
        (2.125, "AddTranscript", True),  # EndOfStream went at t = 3.0 (record 25)
        (2.125, "AddPartialTranscript", True),
        (2.1875, "AddTranscript", True),
        (2.25, "EndOfUtterance", True),
    ]
    assert rec.audio_seconds == 2.0
    assert rec.audio_names == ("hello.wav",)
    assert rec.seconds_for(8000) == 0.25


def test_messages_before_start_recognition_greet_the_client_on_open(tmp_path: Path) -> None:
    lines = fixture("simple").read_text().splitlines()
    info = {"message": "Info", "type": "concurrent_session_usage", "reason": "1 of 2"}
    record = {"i": 1, "t": 0.0, "dir": "recv", "type": "Info", "payload": info}
    path = tmp_path / "messages.jsonl"
    path.write_text("\n".join([lines[0], json.dumps(record), *lines[1:]]) + "\n")
    rec = load_recording(path)
    assert rec.on_open == (info,)
    assert [m["message"] for m in rec.on_start] == ["RecognitionStarted", "Info"]


def test_a_saas_recording_is_read_from_its_lines() -> None:
    rec = load_recording(CHAT1)
    assert rec.audio_format == {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000}
    assert rec.transcription_config == {
        "language": "en",
        "operating_point": "enhanced",
        "diarization": "speaker",
        "max_delay": 0.7,
        "enable_partials": True,
        "speaker_diarization_config": {"speaker_sensitivity": 0.5, "prefer_current_speaker": False},
        "conversation_config": {"end_of_utterance_silence_trigger": 0.2},
    }
    assert rec.on_open == ()  # the SDK wrote its config before the service's first message
    assert [m["message"] for m in rec.on_start] == ["Info", "RecognitionStarted"]
    lines = [json.loads(line) for line in CHAT1.read_text().splitlines()]
    served_kinds = {"AddTranscript", "AddPartialTranscript", "EndOfUtterance"}
    served = [o for o in lines if o["payload"]["message"] in served_kinds]
    assert [(t.audio_s, t.message) for t in rec.timed] == [
        (o["audio_ts"], o["payload"]) for o in served
    ]
    assert len(rec.timed) == 144 and not any(t.after_end for t in rec.timed)
    assert rec.audio_seconds is None  # the lines do not say how long the audio was
    assert rec.audio_names == ("audio_01_16kHz.wav",)


def test_file_audio_is_timed_by_the_recorded_frames() -> None:
    start = {"message": "StartRecognition", "audio_format": {"type": "file"},
             "transcription_config": {"language": "en"}}  # fmt: skip
    records = [
        Record(0, 0.0, SENT, "StartRecognition", start),
        Record(1, 1.5, SENT, "AddAudio", nbytes=1000, audio_start=0.0, audio_end=0.5,
               scheduled_t=1.5),
        Record(2, 2.0, SENT, "AddAudio", nbytes=2000, audio_start=0.5, audio_end=1.0,
               scheduled_t=2.0),
        Record(3, 2.25, RECEIVED, "AddTranscript", {"message": "AddTranscript"}),
    ]  # fmt: skip
    rec = Recording.from_records(records, source="x.jsonl")
    assert rec.timed == (Timed(1.25, {"message": "AddTranscript"}),)  # t0 = 1.0
    assert rec.audio_seconds == 1.0
    assert rec.seconds_for(500) == 0.25
    assert rec.seconds_for(2000) == 0.75
    assert rec.seconds_for(6000) == 2.0  # past the recorded frames: the last byte rate


def test_what_cannot_be_replayed_fails_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such recording: .*nowhere\.jsonl"):
        load_recording(tmp_path / "nowhere.jsonl")
    with pytest.raises(ConfigError, match=r"holds no messages\.jsonl"):
        load_recording(tmp_path)
    with pytest.raises(ConfigError, match="a multichannel session cannot be replayed"):
        load_recording(fixture("two_channels"))
    saas = tmp_path / "chat2.jsonl"  # the SaaS lines of a session without its config lines
    info = {"message": "Info", "type": "concurrent_session_usage", "reason": "1 of 150"}
    saas.write_text(json.dumps({"ts": 0.09, "audio_ts": 0.0, "payload": info}) + "\n")
    with pytest.raises(ConfigError, match=r"chat2\.jsonl: no StartRecognition recorded"):
        load_recording(saas)
    wav = tmp_path / "speech.wav"  # not a log at all: one line, no UnicodeDecodeError
    wav.write_bytes(b"RIFF\xff\xff\x00\x00WAVEfmt ")
    with pytest.raises(ConfigError, match=r"^replay: .*speech\.wav is not an smnb log .*UTF-8"):
        load_recording(wav)
