"""Injected time: a clock is any zero-argument callable returning monotonic seconds.

Latency is the point of smnb, so nothing reads the time directly: the transport,
the pacer and the recorder take a ``clock``. Tests pass a :class:`ManualClock`
and get exact, repeatable latency values.
"""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]
"""Monotonic seconds. Never wall-clock time: NTP steps would corrupt intervals."""

monotonic: Clock = time.perf_counter
"""The default clock."""


class ManualClock:
    """A clock that only moves when told to (for tests and offline replays)."""

    def __init__(self, start: float = 0.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("a monotonic clock cannot go back")
        self.now += seconds

    def set(self, now: float) -> None:
        """Jump to ``now`` (never backwards)."""
        self.advance(now - self.now)
