"""smnb.tables.columns and the package: every table's columns and dtypes, the audio
origin, coercion of malformed values, and build speed.

Expected values are worked out by hand from the fixtures (see
tests/fixtures/README.md) and from the sessions recorded in
tests/tables/conftest.py; times are binary fractions, so equality is exact.
"""

from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from smnb import tables
from smnb.clock import ManualClock
from smnb.recorder import Recorder, read_jsonl
from tests.support.table_sessions import Session, fixture, values

# Written from docs/architecture.md, not from the implementation's schema.
EXPECTED_DTYPES = {
    "messages": "i:Int64 t:float64 elapsed_s:float64 direction:category type:category "
    "seq_no:Int64 nbytes:Int64 channel:category audio_start:float64 audio_end:float64 "
    "scheduled_t:float64 payload:object",
    "words": "content:str type:category start_time:float64 end_time:float64 confidence:float64 "
    "speaker:category channel:category is_eos:boolean attaches_to:category received_s:float64 "
    "latency_s:float64 message_i:Int64",
    "partials": "partial_i:Int64 position:Int64 content:str type:category start_time:float64 "
    "end_time:float64 confidence:float64 speaker:category channel:category is_eos:boolean "
    "attaches_to:category received_s:float64 latency_s:float64 message_i:Int64",
    "transcripts": "message_i:Int64 kind:category received_s:float64 start_time:float64 "
    "end_time:float64 transcript:str n_results:Int64 channel:category forced:boolean",
    "utterances": "utterance:Int64 channel:category speaker:category start_time:float64 "
    "end_time:float64 text:str n_words:Int64 received_s:float64 eou_received_s:float64 "
    "ended_by:category",
    "events": "message_i:Int64 received_s:float64 message:category type:category reason:str "
    "code:Int64 channel:category start_time:float64 end_time:float64 payload:object",
    "audio": "connection:Int64 seq_no:Int64 channel:category nbytes:Int64 audio_start:float64 "
    "audio_end:float64 scheduled_s:float64 sent_s:float64 acked_s:float64 "
    "pacing_error_s:float64 resent:boolean",
    "connections": "connection:Int64 session_id:str started_s:float64 closed_s:float64 "
    "close_code:Int64 close_reason:str gap_s:float64 audio_offset:float64 audio_start:float64 "
    "audio_end:float64 frames:Int64 resent_frames:Int64 finals:Int64 attempts:Int64",
}
TEXT_DTYPE = "str" if int(pd.__version__.split(".")[0]) >= 3 else "object"


def expected_dtypes(name: str) -> dict[str, str]:
    pairs = (item.split(":") for item in EXPECTED_DTYPES[name].split())
    return {col: (TEXT_DTYPE if dt == "str" else dt) for col, dt in pairs}


def dtypes(df: pd.DataFrame) -> dict[str, str]:
    return {col: str(dt) for col, dt in df.dtypes.items()}


@pytest.mark.parametrize("name", sorted(EXPECTED_DTYPES))
def test_an_empty_session_gives_empty_frames_with_every_column_typed(name: str) -> None:
    df = getattr(tables, name)(Recorder(ManualClock()))
    assert len(df) == 0
    assert dtypes(df) == expected_dtypes(name)


@pytest.mark.parametrize("name", sorted(EXPECTED_DTYPES))
@pytest.mark.parametrize("session", ["simple", "diarized", "two_channels", "server_error"])
def test_fixture_tables_have_the_documented_columns(name: str, session: str) -> None:
    df = getattr(tables, name)(read_jsonl(fixture(session)))
    assert dtypes(df) == expected_dtypes(name)


def test_a_recorder_and_its_records_give_the_same_tables() -> None:
    rec = read_jsonl(fixture("simple"))
    from_recorder, from_list = tables.all_tables(rec), tables.all_tables(list(rec.records))
    for name, df in from_recorder.items():
        pd.testing.assert_frame_equal(df, from_list[name])
    assert set(from_recorder) == set(EXPECTED_DTYPES)


def test_audio_origin_is_the_first_frames_schedule_minus_its_audio_end() -> None:
    assert tables.audio_origin(Recorder(ManualClock())) is None
    s = Session()
    s.audio(2.0, 1, 0.0, 0.25, due=1.75)  # sent late: t0 uses the schedule, not the send
    s.audio(2.0, 2, 0.25, 0.5, due=1.5)
    assert tables.audio_origin(s.recorder) == 1.5
    assert tables.audio_origin(read_jsonl(fixture("diarized"))) == 0.5


def test_without_audio_relative_times_are_nan_not_guesses() -> None:
    s = Session()
    s.recv(0.5, {"message": "Error", "type": "not_authorised", "reason": "bad key"})
    ev = tables.events(s.recorder)
    assert ev["message"].tolist() == ["Error"] and math.isnan(ev["received_s"][0])
    assert tables.messages(s.recorder)["elapsed_s"].isna().all()


def test_malformed_items_become_missing_values_not_crashes() -> None:
    s = Session()
    s.audio(0.25, 1, 0.0, 0.25, due=0.25)
    odd = {
        "message": "AddTranscript",
        "metadata": "not a dict",
        "results": [
            {"type": "word", "start_time": "0.5", "end_time": True, "alternatives": []},
            "not a result",
            {"type": "word", "start_time": 0.5, "end_time": 0.75, "alternatives": [{}]},
        ],
    }
    s.recv(1.0, odd)
    s.recv(1.0, {"message": "AddPartialTranscript", "results": None})
    s.recv(1.0, {"message": "EndOfUtterance", "metadata": None, "channel": 3})
    w = tables.words(s.recorder)
    assert len(w) == 2 and values(w["start_time"]) == [None, 0.5]
    assert values(w["end_time"]) == [None, 0.75] and w["content"].isna().all()
    assert w["latency_s"].tolist()[1] == 0.25
    tr = tables.transcripts(s.recorder)
    assert tr["n_results"].tolist() == [2, 0] and tr["transcript"].isna().all()
    assert tables.events(s.recorder)["channel"].isna().all()
    assert tables.utterances(s.recorder)["n_words"].tolist() == [2]
    assert tables.text(s.recorder) == ""


def test_twenty_minutes_of_messages_build_quickly() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    try:
        import tables_bench
    finally:
        sys.path.pop(0)
    steps = tables_bench.script_session(1200.0)
    clock = ManualClock()
    rec = Recorder(clock)
    tables_bench.replay(steps, rec, clock)
    assert len(rec) > 25_000
    start = time.perf_counter()
    built = tables.all_tables(rec)
    elapsed = time.perf_counter() - start
    assert len(built["audio"]) == 12_000 and len(built["words"]) > 2_000
    assert elapsed < 3.0, f"all tables took {elapsed:.2f} s for 20 minutes"  # ~0.15 s typical
