"""When each audio frame may be sent: real-time deadlines and the unacknowledged window.

``realtime`` pace sends like a live microphone: the frame carrying audio
``[a, b)`` leaves at ``t0 + b`` (chunk *k* of length *C* at ``t0 + (k+1)C``).
Deadlines are absolute, so a slow send or a late wake-up never pushes later
frames back (a fixed sleep after each send would drift and shorten the
measured latency). ``fast`` pace sends as soon as the server has room: at most
``max_unacked`` frames may be waiting for their ``AudioAdded``.

Live sources (microphones) are never delayed: their audio already arrives in
real time, and the frame's scheduled time is when it was captured.

Times are seconds on the session recorder's clock (``Recorder.now``), so
``scheduled_t`` sits on the same axis as every record's ``t``. The sleep
function is injectable: tests pass one that advances a manual clock.

A frame is never sent before its deadline (a microphone cannot deliver audio
early), and asyncio's timers are late by construction: the epoll selector
rounds every timeout up to a whole millisecond, and waking up costs more. So
the pacer sleeps until ``lead`` (1.5 ms) before the deadline and spends the
rest yielding to the loop (``sleep(0)``; the receiver keeps running) until the
clock reaches the deadline: at most ``lead`` of spinning per frame.

Must not import: websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal

from smnb.audio.sources import Chunk
from smnb.exceptions import ConfigError

Pace = Literal["realtime", "fast"]
PACES: tuple[Pace, ...] = ("realtime", "fast")

Sleep = Callable[[float], Awaitable[object]]
"""``await sleep(seconds)``; ``asyncio.sleep`` by default."""

DEFAULT_MAX_UNACKED = 64
"""Frames that may await ``AudioAdded`` at once (the legacy client allows 512)."""

DEFAULT_LEAD = 0.0015
"""Seconds before a deadline that the pacer's sleep ends: the selector's rounding
(up to 1 ms) plus a typical wake-up (0.1-0.5 ms); the rest is yielded away. Some
sleeps wake 1 ms later still (CPython rounds an epoll timeout up twice: 18 ms
sleeps 19), so a few frames stay late by up to ~1 ms: a longer lead would fix
those at the price of more spinning on every frame."""

_REACHED = 1e-9
"""A deadline this close counts as reached: sums of float seconds are off by an ulp."""


def check_pace(pace: object) -> Pace:
    """``pace`` if it is ``"realtime"`` or ``"fast"``.

    Raises:
        ConfigError: any other value.
    """
    if pace == "realtime":
        return "realtime"
    if pace == "fast":
        return "fast"
    raise ConfigError(f"pace must be 'realtime' or 'fast', not {pace!r}")


class Pacer:
    """Decides when each chunk is sent and returns the time it was scheduled for.

    Args:
        now: the recorder's clock (seconds since the recorder was created).
        pace: ``"realtime"`` or ``"fast"``.
        live: the source runs at real time by itself; never sleep.
        origin: the absolute clock reading that ``now()`` counts from, to turn
            a live chunk's ``captured_t`` into recorder time.
        sleep: awaited with the delay until a deadline (and with 0 to yield).
        lead: how long before a deadline the sleep ends; the rest of the wait
            yields to the loop until ``now()`` reaches the deadline. 0 sleeps the
            whole delay (late by the timer's rounding).
    """

    def __init__(
        self,
        now: Callable[[], float],
        pace: Pace,
        *,
        live: bool = False,
        origin: float = 0.0,
        sleep: Sleep = asyncio.sleep,
        lead: float = DEFAULT_LEAD,
    ) -> None:
        if not lead >= 0:
            raise ConfigError(f"lead must be >= 0 seconds, not {lead!r}")
        self.now = now
        self.pace = check_pace(pace)
        self.live = live
        self.origin = origin
        self.sleep = sleep
        self.lead = lead
        self.t0: float | None = None
        """Recorder time at which audio sample 0 was (as if) spoken."""

    async def wait(self, chunk: Chunk) -> float:
        """Wait until ``chunk`` is due; returns its scheduled time (recorder seconds)."""
        if self.live:
            scheduled = self.now() if chunk.captured_t is None else chunk.captured_t - self.origin
        elif self.pace == "realtime":
            if self.t0 is None:
                self.t0 = self.now() - chunk.audio_start
            scheduled = self.t0 + chunk.audio_end
            await self.until(scheduled)
            return scheduled
        else:
            scheduled = self.now()
        if self.t0 is None:
            self.t0 = scheduled - chunk.audio_end
        return scheduled

    async def until(self, deadline: float) -> None:
        """Return once ``now()`` reaches ``deadline``, as soon after it as the loop allows."""
        while (remaining := deadline - self.now()) > _REACHED:
            before = self.now()
            if remaining > self.lead + _REACHED:
                await self.sleep(remaining - self.lead)  # asyncio wakes up to ~1 ms late
            else:
                await self.sleep(0)  # one loop iteration: other tasks run meanwhile
            if self.now() <= before:  # a clock that only moves when slept (a test's)
                await self.sleep(deadline - self.now())
                return


class AckWindow:
    """Waits while too many frames are unacknowledged.

    The receiver calls :meth:`notify` on every ``AudioAdded``/``ChannelAudioAdded``;
    the sender awaits :meth:`room` before each frame.
    """

    def __init__(self, limit: int = DEFAULT_MAX_UNACKED) -> None:
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ConfigError(f"max_unacked must be a positive integer, not {limit!r}")
        self.limit = limit
        self.waits = 0
        """How many times the sender had to wait (for reports and tests)."""
        self._waiter: asyncio.Future[None] | None = None

    async def room(self, unacked: Callable[[], int]) -> None:
        """Return once fewer than ``limit`` frames are unacknowledged."""
        while unacked() >= self.limit:
            self.waits += 1
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def notify(self) -> None:
        """An acknowledgement arrived: wake the sender if it waits."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
