"""smnb.audio.pacing: absolute real-time deadlines and the unacknowledged window."""

from __future__ import annotations

import asyncio
import math

import pytest

from smnb.audio import (
    AckWindow,
    Chunk,
    Pacer,
)
from smnb.audio.pacing import DEFAULT_LEAD
from smnb.clock import ManualClock
from smnb.exceptions import ConfigError


def fake_sleep(clock: ManualClock, log: list[float]) -> object:
    async def sleep(seconds: float) -> None:
        log.append(seconds)
        clock.advance(seconds)
        await asyncio.sleep(0)

    return sleep


async def test_realtime_deadlines_are_absolute_and_never_drift() -> None:
    clock, sleeps = ManualClock(100.0), []
    pacer = Pacer(lambda: clock() - 100.0, "realtime", sleep=fake_sleep(clock, sleeps), lead=0)  # type: ignore[arg-type]
    clock.advance(2.0)  # the pacer starts 2 s into the recording
    scheduled = []
    for k in range(5):
        chunk = Chunk(b"", k * 0.1, (k + 1) * 0.1)
        scheduled.append(await pacer.wait(chunk))
        clock.advance(0.013)  # each send costs 13 ms
    assert pacer.t0 == 2.0
    assert scheduled == pytest.approx([2.1, 2.2, 2.3, 2.4, 2.5], abs=1e-12)
    # the first sleep is one chunk; later ones are shortened by the send cost
    assert sleeps == pytest.approx([0.1, 0.087, 0.087, 0.087, 0.087], abs=1e-12)


async def test_a_late_chunk_is_sent_at_once_and_keeps_its_deadline() -> None:
    clock, sleeps = ManualClock(), []
    pacer = Pacer(clock, "realtime", sleep=fake_sleep(clock, sleeps), lead=0)  # type: ignore[arg-type]
    assert await pacer.wait(Chunk(b"", 0.0, 0.1)) == pytest.approx(0.1)
    clock.advance(0.35)  # stalled (e.g. waiting for acks) past two deadlines
    assert await pacer.wait(Chunk(b"", 0.1, 0.2)) == pytest.approx(0.2)
    assert await pacer.wait(Chunk(b"", 0.2, 0.3)) == pytest.approx(0.3)
    assert await pacer.wait(Chunk(b"", 0.3, 0.4)) == pytest.approx(0.4)
    assert await pacer.wait(Chunk(b"", 0.4, 0.5)) == pytest.approx(0.5)
    assert sleeps == pytest.approx([0.1, 0.05])


def asyncio_like_sleep(clock: ManualClock, log: list[float]) -> object:
    """asyncio's timer on epoll: a sleep rounds up to the millisecond and waking costs
    50 µs; a zero sleep is one loop iteration of 10 µs."""

    async def sleep(seconds: float) -> None:
        log.append(seconds)
        if seconds > 0:
            clock.advance(math.ceil(round(seconds * 1e3, 9)) * 1e-3 + 50e-6)
        else:
            clock.advance(10e-6)
        await asyncio.sleep(0)

    return sleep


async def run_frames(pacer: Pacer, clock: ManualClock, sleeps: list[float]) -> list[float]:
    """``sent − scheduled`` of 40 frames of 20 ms, each send costing a different time."""
    errors = []
    for k in range(40):
        scheduled = await pacer.wait(Chunk(b"", k * 0.02, (k + 1) * 0.02))
        errors.append(clock() - scheduled)
        clock.advance(0.0003 + 0.0001 * (k % 7))  # the send, then the receiver's work
    return errors


async def test_sends_land_on_the_deadline_despite_the_timers_rounding() -> None:
    clock, sleeps = ManualClock(7.0), []
    late = await run_frames(
        Pacer(clock, "realtime", sleep=asyncio_like_sleep(clock, sleeps), lead=0),  # type: ignore[arg-type]
        clock,
        sleeps,
    )
    assert min(late) >= 0 and max(late) > 0.0009  # sleeping the whole delay: ~1 ms late
    clock, sleeps = ManualClock(7.0), []
    pacer = Pacer(clock, "realtime", sleep=asyncio_like_sleep(clock, sleeps))  # type: ignore[arg-type]
    errors = await run_frames(pacer, clock, sleeps)
    assert all(-1e-9 <= e <= 10e-6 for e in errors)  # never early, at most one yield late
    spins = sleeps.count(0)
    assert 0 < spins <= 40 * (DEFAULT_LEAD / 10e-6 + 1)  # spinning is bounded by the lead
    assert all(s == 0 or s > 0.015 for s in sleeps)  # one long sleep a frame, then yields


async def test_a_clock_that_only_moves_when_slept_gets_the_rest_as_a_sleep() -> None:
    clock, sleeps = ManualClock(), []
    pacer = Pacer(clock, "realtime", sleep=fake_sleep(clock, sleeps))  # type: ignore[arg-type]
    assert await pacer.wait(Chunk(b"", 0.0, 0.1)) == pytest.approx(0.1)
    assert clock() == pytest.approx(0.1, abs=1e-12)
    # the long sleep ends `lead` early; a yield that moves no time: the rest is slept
    assert sleeps == pytest.approx([0.1 - DEFAULT_LEAD, 0.0, DEFAULT_LEAD], abs=1e-12)


async def test_a_sleep_that_wakes_early_never_sends_early() -> None:
    reads, sleeps = [0.0], []

    def clock() -> float:  # a clock that moves by itself: 1 µs a reading
        reads[0] += 1e-6
        return reads[0]

    async def hasty(seconds: float) -> None:  # returns after half the time asked
        sleeps.append(seconds)
        reads[0] += seconds / 2

    pacer = Pacer(clock, "realtime", sleep=hasty)
    for k in range(3):
        scheduled = await pacer.wait(Chunk(b"", k * 0.1, (k + 1) * 0.1))
        assert reads[0] >= scheduled - 1e-9  # the clock decides, not the sleep
    assert 0 in sleeps  # the last stretch was yielded away
    with pytest.raises(ConfigError, match="lead"):
        Pacer(clock, "realtime", lead=-0.001)


async def test_fast_and_live_pace_never_sleep() -> None:
    clock, sleeps = ManualClock(50.0), []
    fast = Pacer(clock, "fast", sleep=fake_sleep(clock, sleeps))  # type: ignore[arg-type]
    assert await fast.wait(Chunk(b"", 0.0, 0.1)) == 50.0
    assert fast.t0 == pytest.approx(49.9)
    live = Pacer(
        lambda: clock() - 40.0, "realtime", live=True, origin=40.0, sleep=fake_sleep(clock, sleeps)
    )  # type: ignore[arg-type]
    assert await live.wait(Chunk(b"", 0.0, 0.1, captured_t=49.5)) == pytest.approx(9.5)
    assert await live.wait(Chunk(b"", 0.1, 0.2)) == pytest.approx(10.0)  # no capture time: now
    assert sleeps == []
    with pytest.raises(ConfigError, match="pace"):
        Pacer(clock, "slow")  # type: ignore[arg-type]


async def test_ack_window_blocks_at_the_limit_until_notified() -> None:
    window = AckWindow(2)
    unacked = [2]
    waiter = asyncio.ensure_future(window.room(lambda: unacked[0]))
    await asyncio.sleep(0)
    assert not waiter.done() and window.waits == 1
    window.notify()  # a stale wake-up: still full, it waits again
    await asyncio.sleep(0)
    assert not waiter.done() and window.waits == 2
    unacked[0] = 1
    window.notify()
    await asyncio.wait_for(waiter, 5)
    with pytest.raises(ConfigError):
        AckWindow(0)
