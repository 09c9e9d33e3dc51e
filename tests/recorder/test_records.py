"""Recorder: cheap appends, exact times from an injected clock, JSONL round trip."""

from __future__ import annotations

import logging
import threading

import pytest

from smnb.clock import ManualClock
from smnb.recorder import Record, Recorder


def test_times_are_relative_to_creation_on_the_injected_clock() -> None:
    clock = ManualClock(100.0)
    rec = Recorder(clock)
    clock.advance(0.25)
    r0 = rec.record_sent({"message": "StartRecognition"})
    r1 = rec.record_received({"message": "RecognitionStarted", "id": "x"}, t=rec.now() + 0.5)
    r2 = rec.record_audio(1, 3200, 0.0, 0.1, scheduled_t=0.35)
    assert (r0.i, r0.t) == (0, 0.25)
    assert (r1.i, r1.t, r1.direction, r1.type) == (1, 0.75, "recv", "RecognitionStarted")
    assert (r2.type, r2.seq_no, r2.nbytes, r2.audio_end, r2.scheduled_t) == (
        "AddAudio",
        1,
        3200,
        0.1,
        0.35,
    )
    assert len(rec) == 3


def test_end_of_stream_keeps_its_last_seq_no_and_acks_their_seq_no() -> None:
    rec = Recorder(ManualClock())
    assert rec.record_sent({"message": "EndOfStream", "last_seq_no": 9}).seq_no == 9
    assert rec.record_received({"message": "AudioAdded", "seq_no": 4}, t=0.0).seq_no == 4
    assert rec.record_received({"message": "AddTranscript", "channel": "L"}, t=0).channel == "L"


def test_a_failing_subscriber_is_contained_and_remembered(
    caplog: pytest.LogCaptureFixture,
) -> None:
    rec = Recorder(ManualClock())
    seen: list[int] = []

    def broken(record: Record) -> None:
        raise RuntimeError("display died")

    rec.subscribe(broken)
    rec.subscribe(lambda r: seen.append(r.i))
    rec.record_meta("Session")
    rec.record_meta("Closed")
    assert seen == [0, 1]
    assert [str(e) for e in rec.callback_errors] == ["display died", "display died"]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is None  # once, one line: no traceback
    assert "RuntimeError: display died (not logged again)" in errors[0].getMessage()


def test_unsubscribe_and_replay() -> None:
    rec = Recorder(ManualClock())
    rec.record_meta("Session")
    seen: list[str] = []
    stop = rec.subscribe(lambda r: seen.append(r.type), replay=True)
    rec.record_meta("A")
    stop()
    rec.record_meta("B")
    assert seen == ["Session", "A"]


def test_snapshot_is_safe_while_another_thread_appends() -> None:
    rec = Recorder()
    done = threading.Event()

    def writer() -> None:
        for _ in range(5000):
            rec.record_meta("x")
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    sizes = []
    while not done.is_set():
        snap = rec.snapshot()
        assert [r.i for r in snap] == list(range(len(snap)))
        sizes.append(len(snap))
    thread.join()
    assert len(rec.snapshot()) == 5000
