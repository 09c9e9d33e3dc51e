"""smnb.audio.live: the thread → session-loop hand-over shared by both microphones."""

from __future__ import annotations

import asyncio
import threading

import pytest

from smnb.audio.live import LiveSource
from smnb.audio.sources import AudioSource
from smnb.clock import ManualClock


def block(n: int, value: int) -> bytes:
    return value.to_bytes(2, "little") * n


class Recording(LiveSource):
    """A LiveSource whose device hooks are observable."""

    def __init__(self, **kw: object) -> None:
        super().__init__(sample_rate=16_000, chunk_seconds=0.1, **kw)  # type: ignore[arg-type]
        self.events: list[str] = []

    def _open(self, loop: asyncio.AbstractEventLoop) -> None:
        self.events.append("open")

    def _close(self) -> None:
        self.events.append("close")


async def test_blocks_fed_from_a_thread_arrive_in_order_and_nothing_is_lost() -> None:
    clock = ManualClock(7.0)
    src = Recording(clock=clock)
    assert isinstance(src, AudioSource) and src.live
    assert src.audio_format == {"type": "raw", "encoding": "pcm_s16le", "sample_rate": 16_000}
    src.feed(block(1600, 0))  # before chunks(): kept and delivered first

    def feeder() -> None:
        for k in range(1, 20):
            src.feed(block(1600, k), captured_t=100.0 + k)
        src.stop()  # graceful: everything fed before still comes out

    got = []
    async for chunk in src.chunks():
        got.append(chunk)
        if len(got) == 1:
            threading.Thread(target=feeder).start()
    assert [c.data[:2] for c in got] == [k.to_bytes(2, "little") for k in range(20)]
    assert [c.audio_start for c in got] == [k * 1600 / 16_000 for k in range(20)]
    assert got[-1].audio_end == pytest.approx(2.0)
    assert got[0].captured_t == 7.0 and got[1].captured_t == 101.0  # the clock, or the feeder's
    assert src.events == ["open", "close"]
    assert src.seconds_captured == pytest.approx(2.0) and src.chunks_delivered == 20


async def test_max_seconds_cuts_inside_a_block() -> None:
    src = Recording(max_seconds=0.25)
    for k in range(5):
        src.feed(block(1600, k))
    got = [c async for c in src.chunks()]
    assert [len(c.data) for c in got] == [3200, 3200, 1600]
    assert got[-1].audio_end == 0.25


async def test_stop_before_start_delivers_what_was_fed_and_never_opens() -> None:
    src = Recording()
    src.feed(block(160, 1))
    src.stop()
    assert not src.started
    got = [c async for c in src.chunks()]
    assert len(got) == 1 and src.events == ["close"]
    assert src.started


async def test_finish_ends_after_what_was_fed() -> None:
    src = Recording()
    src.feed(block(160, 1))
    src.finish()
    src.feed(block(160, 2))  # after the end: not delivered
    assert len([c async for c in src.chunks()]) == 1


async def test_end_soon_waits_for_late_blocks_then_ends() -> None:
    src = Recording()
    src.feed(block(160, 1))
    loop = asyncio.get_running_loop()
    got = []
    async for chunk in src.chunks():
        got.append(chunk)
        if len(got) == 1:
            src.end_soon(0.2)
            loop.call_later(0.05, src.feed, block(160, 2))  # arrives within the grace
    assert len(got) == 2


async def test_end_now_on_the_loop() -> None:
    src = Recording()
    asyncio.get_running_loop().call_later(0.01, src.end_now)
    assert [c async for c in src.chunks()] == []
    assert src.events == ["open", "close"]


def test_feeding_after_the_loop_closed_is_dropped_quietly() -> None:
    src = Recording()

    async def run() -> None:
        src.feed(block(160, 1))
        async for _ in src.chunks():
            break  # the session ends without ending the source

    asyncio.run(run())
    src.feed(block(160, 2))  # the loop is closed now: no exception escapes the thread
    src.stop()
