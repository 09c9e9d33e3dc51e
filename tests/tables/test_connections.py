"""smnb.tables.connections: one audio clock across reconnections, and the pieces and gaps.

Sessions are written by hand (times are binary fractions, so equality is exact).
"""

from __future__ import annotations

import itertools

import numpy as np

from smnb import tables
from smnb.recorder import RECONNECT, Recorder, read_jsonl
from tests.support.table_sessions import fixture


def test_the_tables_move_only_what_came_after_a_reconnection() -> None:
    rec = Recorder(lambda: 0.0)
    word = {"start_time": 0.5, "end_time": 0.8, "alternatives": [{"content": "x"}]}
    final = {"message": "AddTranscript", "metadata": {"start_time": 0.5, "end_time": 0.8}}
    rec.record_sent({"message": "StartRecognition"})
    rec.record_audio(1, 3200, 0.0, 0.1, scheduled_t=0.1, t=0.1)
    rec.record_received({**final, "results": [word]}, 1.0)
    rec.record_sent({"message": "StartRecognition"})
    rec.record_meta(RECONNECT, {"audio_offset": 3.0, "gap_s": 0.2})
    rec.record_received({**final, "results": [word]}, 2.0)
    words = tables.words(rec)
    assert words["start_time"].tolist() == [0.5, 3.5] and words["end_time"].tolist() == [0.8, 3.8]
    assert tables.transcripts(rec)["end_time"].tolist() == [0.8, 3.8]
    assert rec.records[-1].payload["results"][0]["start_time"] == 0.5  # the log is untouched
    assert tables.connections(rec)["audio_offset"].tolist() == [0.0, 3.0]
    assert np.isnan(tables.connections(rec)["gap_s"].iloc[0])
    pairs = list(itertools.pairwise(tables.words(rec)["start_time"]))
    assert all(a < b for a, b in pairs)


def test_a_session_that_never_dropped_has_one_connection_and_unchanged_tables() -> None:
    recorder = read_jsonl(fixture("simple"))
    c = tables.connections(recorder)
    assert c["connection"].tolist() == [0] and c["session_id"].tolist() == ["sess-simple"]
    assert c["frames"].tolist() == [8] and c["finals"].tolist() == [4]
    assert c["audio_offset"].tolist() == [0.0] and np.isnan(c["gap_s"].iloc[0])
    assert tables.on_audio_clock(recorder.records) is recorder.records  # nothing copied
    assert tables.audio(recorder)["connection"].tolist() == [0] * 8
    assert not tables.audio(recorder)["resent"].any()
