"""Recordings in the SaaS line format become smnb records, and ``smnb.load`` reads them."""

from __future__ import annotations

import itertools
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import smnb
from smnb.exceptions import LogError, LogNotFound
from smnb.metrics.stats import quantile
from smnb.recorder import META, RECEIVED, SENT
from smnb.recorder.saas import read_saas_lines, saas_records, sniff
from smnb.result import Result
from tests.support.table_sessions import fixture

SAMPLES = Path(__file__).resolve().parents[2] / "smnb" / "samples"
CHAT1 = SAMPLES / "chat1.jsonl"
VOICE_LAYER = {
    *("AudioFile", "VoiceAgentConfig", "TranscriptionConfig", "AudioFormat", "AddSegment"),
    *("AddPartialSegment", "SpeakerStarted", "SpeakerEnded", "EndOfTurn"),
}


def chat1_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in CHAT1.read_text().splitlines()]


def test_the_format_is_told_apart_by_its_first_line() -> None:
    assert sniff(CHAT1) == "saas"
    assert sniff(fixture("simple")) == "smnb"


def test_service_messages_are_received_and_the_voice_layers_are_meta() -> None:
    records = read_saas_lines(CHAT1)
    assert [r.i for r in records] == list(range(len(records)))
    received = Counter(r.type for r in records if r.direction == RECEIVED)
    assert received == {"Info": 1, "RecognitionStarted": 1, "AddTranscript": 61,
                        "AddPartialTranscript": 77, "EndOfUtterance": 6}  # fmt: skip
    meta = Counter(r.type for r in records if r.direction == META)
    assert set(meta) == VOICE_LAYER | {"Session"}
    assert meta["AddPartialSegment"] == 84 and meta["SpeakerStarted"] == 11
    # Every line is kept, payload and audio time unchanged.
    lines = chat1_lines()
    kept = [r for r in records if r.direction in (RECEIVED, META) and r.type != "Session"]
    assert [(r.t, r.payload) for r in kept] == [(o["audio_ts"], o["payload"]) for o in lines]


def test_start_recognition_is_rebuilt_from_the_sdks_config_lines() -> None:
    records = read_saas_lines(CHAT1)
    [start] = [r for r in records if r.direction == SENT and r.type == "StartRecognition"]
    assert start.payload == {
        "message": "StartRecognition",
        "audio_format": {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16000},
        "transcription_config": {
            "language": "en",
            "operating_point": "enhanced",
            "diarization": "speaker",
            "max_delay": 0.7,
            "enable_partials": True,
            "speaker_diarization_config": {
                "speaker_sensitivity": 0.5,
                "prefer_current_speaker": False,
            },
            "conversation_config": {"end_of_utterance_silence_trigger": 0.2},
        },
    }
    first_server = next(r for r in records if r.direction == RECEIVED)
    assert start.i < first_server.i


def test_audio_frames_are_rebuilt_from_the_steps_of_audio_ts() -> None:
    records = read_saas_lines(CHAT1)
    frames = [r for r in records if r.direction == SENT and r.audio_end is not None]
    steps = sorted({o["audio_ts"] for o in chat1_lines()} - {0.0})
    assert [f.audio_end for f in frames] == steps
    assert all(f.t == f.scheduled_t == f.audio_end for f in frames)  # so t0 = 0
    assert frames[0].audio_start == 0.0 and frames[0].nbytes is None  # sizes are not recorded
    for before, after in itertools.pairwise(frames):
        assert after.audio_start == before.audio_end


def test_smnb_load_reads_a_saas_recording_into_the_usual_tables(tmp_path: Path) -> None:
    result = smnb.load(CHAT1)
    assert isinstance(result, Result)
    words = result.words
    spoken = words[words["type"] == "word"]
    assert len(spoken) == 58
    # Latency is the recording's own measure: audio_ts − end_time (its README: p50 0.78 s).
    assert quantile(spoken["latency_s"], 0.5) == pytest.approx(0.78)
    assert result.text.startswith("S1: Welcome to speech.")  # the service's own transcript text
    assert list(result.events["message"].value_counts().sort_index().items()) == [
        ("EndOfUtterance", 6),
        ("Info", 1),
    ]
    assert set(result.messages.loc[result.messages["direction"] == "meta", "type"]) == (
        VOICE_LAYER | {"Session"}
    )
    assert result.config is not None
    assert result.config["transcription_config"]["max_delay"] == 0.7
    assert result.session_id == "9d8a5d05-7a62-4266-8cfc-9ffd9cb3cdf1"
    assert result.error is None and not result.completed  # the recording has no EndOfTranscript
    # Exported, it is an smnb log like any other, and reads back the same.
    again = smnb.load(result.to_csv(tmp_path / "out"))
    assert isinstance(again, Result)
    assert sniff(tmp_path / "out" / "messages.jsonl") == "smnb"
    assert again.words["latency_s"].tolist() == words["latency_s"].tolist()


def test_a_recording_without_config_lines_or_with_bad_lines_still_loads(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    lines = [o for o in chat1_lines() if o["payload"]["message"] in {"Info", "AddTranscript"}]
    path = tmp_path / "part.jsonl"
    path.write_text("\n".join([*map(json.dumps, lines[:5]), "{not json", '{"i": 3}']) + "\n")
    with caplog.at_level(logging.WARNING):
        result = smnb.load(path)
    assert isinstance(result, Result)
    assert result.config is None  # no StartRecognition can be rebuilt without a config
    assert len(result.transcripts) == 4
    assert "skipping unreadable line 6" in caplog.text and "line 7" in caplog.text
    assert saas_records([{"ts": 0, "payload": {}}]) == saas_records([])  # not SaaS lines


def test_sniff_refuses_what_is_no_log_and_a_cut_last_line_is_skipped(tmp_path: Path) -> None:
    with pytest.raises(LogError, match=r"cards-001\.wav is not an smnb log .*\(not UTF-8 text\)"):
        sniff(SAMPLES / "cards-001.wav")
    (tmp_path / "list.jsonl").write_text("[1, 2]\n")  # JSON, but not an object
    with pytest.raises(LogError, match="its first line is not a JSON record"):
        sniff(tmp_path / "list.jsonl")
    with pytest.raises(LogNotFound, match="no such file"):
        sniff(tmp_path / "missing.jsonl")
    # A recording cut inside a multi-byte character (a crash mid-write) loses that line only.
    data = CHAT1.read_bytes().rstrip(b"\n")
    path = tmp_path / "cut.jsonl"
    path.write_bytes(data + b'\n{"ts": 1, "audio_ts": 1, "payload": {"x": "\xc3')
    assert sniff(path) == "saas"
    assert len(read_saas_lines(path)) == len(read_saas_lines(CHAT1))
