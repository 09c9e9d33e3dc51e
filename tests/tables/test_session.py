"""smnb.tables.session: the messages, events and audio tables.

Expected values are worked out by hand from the fixtures (see
tests/fixtures/README.md) and from the sessions recorded in
tests/tables/conftest.py; times are binary fractions, so equality is exact.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smnb import tables
from smnb.clock import ManualClock
from smnb.recorder import Recorder, jsonl, read_jsonl
from tests.support.table_sessions import FIXTURES, fixture, values


def test_events_and_audio_of_the_simple_session(simple: Recorder) -> None:
    ev = tables.events(simple)
    assert ev["message"].tolist() == ["Info", "EndOfUtterance"]
    assert values(ev["type"]) == ["recognition_quality", None]
    assert ev["received_s"].tolist() == [-0.5, 2.25]  # Info came before sample 0 was spoken
    assert values(ev["end_time"]) == [None, 2.0]
    assert ev["payload"][0]["quality"] == "broadcast"

    a = tables.audio(simple)
    assert a["seq_no"].tolist() == list(range(1, 9))
    assert a["scheduled_s"].tolist() == [0.25 * k for k in range(1, 9)]
    assert a["acked_s"].tolist() == [0.25 * k + 0.0625 for k in range(1, 9)]
    assert a["pacing_error_s"].tolist() == [0, 0, 0.015625, 0, 0, 0, 0, 0]
    assert a["sent_s"][2] == 0.765625
    assert a["nbytes"].sum() == 64000


def test_messages_is_the_whole_log(simple: Recorder) -> None:
    m = tables.messages(simple)
    assert len(m) == 33 and m["i"].tolist() == list(range(33))
    assert (m["elapsed_s"] == m["t"] - 1.0).all()
    assert m["direction"].value_counts().to_dict() == {"recv": 21, "sent": 10, "meta": 2}
    assert m["payload"][31] == {"message": "EndOfTranscript"}
    assert m["payload"][4] is None and m["audio_end"][4] == 0.25


def test_two_channels_root_and_per_result_channel_and_per_channel_acks() -> None:
    rec = read_jsonl(fixture("two_channels"))  # t0 = 0.5
    w = tables.words(rec)
    assert w["channel"].tolist() == ["left", "left", "right", "right"]  # root, then results[]
    assert w["latency_s"].tolist() == [1.25, 1.25, 1.375, 1.375]
    a = tables.audio(rec)
    assert a["channel"].tolist() == ["left", "right", "left", "right"]
    assert values(a["acked_s"]) == [0.625, 0.6875, 1.125, None]  # right #2 was never acked
    assert a["pacing_error_s"].tolist() == [0, 0, 0, 0.015625]
    u = tables.utterances(rec)
    assert list(zip(u["channel"], u["text"], strict=True)) == [("left", "Yes."), ("right", "No.")]
    assert values(u["eou_received_s"]) == [1.875, None]
    assert tables.events(rec)["channel"].tolist() == ["left"]
    assert tables.transcripts(rec)["channel"].tolist() == ["left", "right"]
    assert tables.text(rec) == "left: Yes.\nright: No."


def test_events_of_a_revised_session(revised: Recorder) -> None:
    ev = tables.events(revised)
    assert ev["message"].tolist() == ["EndOfUtterance", "Error"]
    assert ev["received_s"].tolist() == [2.0, 2.625]
    assert values(ev["code"]) == [None, 1003]
    assert values(ev["reason"]) == [None, "bad"]


FIXTURE_LOGS = sorted(FIXTURES.glob("*/messages.jsonl"))


@pytest.mark.parametrize("path", FIXTURE_LOGS, ids=[p.parent.name for p in FIXTURE_LOGS])
def test_fixture_lines_are_canonical_recorder_output(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    times = []
    for n, line in enumerate(lines):
        rec = jsonl.from_line(line)
        assert rec.i == n and jsonl.to_line(rec) == line
        times.append(rec.t)
        if rec.direction == "recv":
            again = Recorder(ManualClock()).record_received(json.loads(line)["payload"], rec.t)
            assert (again.seq_no, again.channel, again.type) == (rec.seq_no, rec.channel, rec.type)
    assert times == sorted(times)
