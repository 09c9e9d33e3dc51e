"""One connection (smnb.session.stream): pacing on absolute deadlines, the unacknowledged
window, the watchdog, and a malformed frame survived, against the real local server."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from smnb.audio import open_source
from smnb.audio.pacing import DEFAULT_LEAD
from smnb.clock import ManualClock
from smnb.exceptions import SessionTimeout
from smnb.recorder import META, RECEIVED, Record, Recorder
from tests.support.client import WORDS, StallingEngine, injecting_proxy, tone_server, tone_wav
from tests.support.transport import kinds, runner, unacked_at_each_send


@pytest.fixture
def tones(tmp_path: Path) -> Path:
    return tone_wav(tmp_path / "tones.wav")


async def test_realtime_pacing_sends_on_exact_absolute_deadlines(tones: Path) -> None:
    clock = ManualClock(1000.0)
    recorder = Recorder(clock)
    sleeps: list[float] = []
    send_cost = 0.013

    async def sleep(seconds: float) -> None:  # time passes only when the pacer sleeps
        sleeps.append(seconds)
        clock.advance(seconds)
        await asyncio.sleep(0)

    def cost_of_sending(record: Record) -> None:
        if record.type == "AddAudio":
            clock.advance(send_cost)

    recorder.subscribe(cost_of_sending)
    clock.advance(0.5)  # connecting takes a while
    async with tone_server() as url:
        await runner(url, tones, recorder, pace="realtime", sleep=sleep).run()
    frames = [r for r in recorder.records if r.type == "AddAudio"]
    t0 = frames[0].scheduled_t - frames[0].audio_end
    assert t0 == pytest.approx(0.5)  # audio starts when streaming starts
    for k, frame in enumerate(frames):
        assert frame.audio_start == pytest.approx(k * 0.1, abs=1e-9)
        assert frame.scheduled_t == pytest.approx(t0 + frame.audio_end, abs=1e-9)
        assert frame.t == pytest.approx(frame.scheduled_t, abs=1e-9)  # sent on its deadline
    assert frames[-1].scheduled_t == pytest.approx(t0 + 2.8, abs=1e-9)
    # absolute deadlines: each sleep is shortened by the cost of the previous send; it
    # ends DEFAULT_LEAD early, the yield moves no time here, so the rest is slept
    lead = DEFAULT_LEAD
    naps = [(0.1 - lead, 0.0, lead)] + [(0.1 - send_cost - lead, 0.0, lead)] * (len(frames) - 1)
    assert sleeps == pytest.approx([s for nap in naps for s in nap])


async def test_fast_pace_never_has_more_than_max_unacked_frames_in_flight(tones: Path) -> None:
    recorder = Recorder()
    async with tone_server() as url:
        run = runner(url, tones, recorder, pace="fast", max_unacked=3)
        await run.run()
    in_flight = unacked_at_each_send(recorder.records)
    assert len(in_flight) == 28
    assert max(in_flight) == 3  # the window filled up …
    assert run.window.waits > 0  # … the sender waited for acks …
    assert all(n <= 3 for n in in_flight)  # … and never went beyond it


async def test_default_window_is_64_frames(tmp_path: Path) -> None:
    path = tone_wav(tmp_path / "long.wav", ("alpha", 2.0) * 5)  # 115 frames of 20 ms
    recorder = Recorder()
    async with tone_server() as url:
        source = open_source(path, chunk_seconds=0.02)
        await runner(url, path, recorder, pace="fast", source=source).run()
    in_flight = unacked_at_each_send(recorder.records)
    assert len(in_flight) == 575
    assert max(in_flight) == 64


async def test_silent_server_times_out_waiting_for_recognition_started(tones: Path) -> None:
    recorder, engine = Recorder(), StallingEngine()
    async with tone_server(engine) as url:
        with pytest.raises(SessionTimeout, match="waited for RecognitionStarted"):
            await runner(url, tones, recorder, timeout=0.5).run()
        engine.release()  # let the server's handler finish so it can shut down
    assert kinds(recorder)[-2:] == [(META, "Closed"), (META, "ClientError")]
    assert isinstance(SessionTimeout("x"), TimeoutError)


BAD_ACK = '{"message": "AudioAdded", "seq_no": null}'


async def test_a_malformed_frame_is_a_problem_not_the_outcome(tones: Path) -> None:
    recorder = Recorder()
    async with tone_server() as upstream, injecting_proxy(upstream, "AudioAdded", BAD_ACK) as url:
        run = runner(url, tones, recorder, pace="fast")
        session = await run.run()  # returns normally: the session survived the frame
    assert session.state.value == "done" and session.error is None and run.outcome is None
    problems = [r for r in recorder.records if r.direction == META and r.type == "Problem"]
    (problem,) = problems
    assert problem.payload is not None
    assert problem.payload["error"] == "ProtocolError"
    assert (
        "AudioAdded.seq_no must be a non-negative integer, not None" in problem.payload["message"]
    )
    assert problem.payload["frame"] == BAD_ACK  # kept whole: nothing received is lost
    assert not any(r.type == "ClientError" for r in recorder.records)
    assert kinds(recorder)[-2:] == [(RECEIVED, "EndOfTranscript"), (META, "Closed")]
    finals = [
        w for r in recorder.records if r.type == "AddTranscript" for w in r.payload["results"]
    ]
    assert [w["alternatives"][0]["content"].lower() for w in finals if w["type"] == "word"] == WORDS
