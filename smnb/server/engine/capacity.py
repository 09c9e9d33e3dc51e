"""How many real-time sessions this machine can decode at once: the engine's capacity model.

A real-time recognizer needs ``c`` CPU seconds per second of audio, so a machine with
``n`` usable CPUs keeps up with

    capacity = floor(n × UTILISATION / c)

real-time streams (sessions, or channels of a multichannel session: each is one
recognizer). :data:`UTILISATION` keeps the rest for the server's own event loop (frames,
audio decoding, JSON) and for the decoding bursts at utterance ends, so admitted sessions
keep their ``max_delay`` bound instead of everyone missing it together.

``c`` is what a stream costs *at real-time pace*, which is more than the same audio costs
decoded as fast as possible: a worker that wakes for every 0.1 s chunk finds its caches
cold (the other workers ran meanwhile). So ``c`` starts from a measurement when the first
pool of a process starts (a worker decodes :data:`CALIBRATION_AUDIO`, a recording that
ships with smnb, as fast as it can) scaled by :data:`REALTIME_OVERHEAD`, and then follows
what finished real-time sessions actually cost: a mean weighted by audio seconds in which
recent sessions count most. Sessions sent faster than real time (see
:data:`REALTIME_PACE`) are not counted: they say what decoding costs, not what a live
stream costs. Diarization, long vocabularies or a machine busy with other work so lower
the capacity; cheap sessions raise it. ``n`` is what this process may run on: its CPU
affinity and, on Linux, a cgroup CPU quota.

Stdlib only (the measurement drives a worker through the callables it is given).
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

UTILISATION = 0.55
"""Share of the usable CPUs the recognizers may fill. Decoding is bursty (a unit's end
brings its bestpath search and, when the cepstral mean moved, its re-decoding in one
go), so sessions miss their bound well before the CPUs are full on average. Measured with
``benchmarks/server_bench.py --ramp`` on 2 CPUs (max_delay 2): 5 real-time sessions at
0.19 CPU s per audio s each held p95 ≤ max_delay (0.48 of the CPUs); 6 held on some runs
and missed on others; 8 missed on every run."""

REALTIME_OVERHEAD = 1.6
"""A real-time stream's CPU seconds per audio second over the same audio's cost decoded
as fast as possible. Measured on 2 CPUs (``benchmarks/server_bench.py`` prints both):
the calibration clip decodes at 0.116–0.12 as fast as possible; real-time sessions of
``two-speakers.wav`` cost 0.16–0.17 alone and 0.19 with 5 at once (0.21–0.25 with 8)."""

REALTIME_PACE = 1.5
"""A session whose audio came more than this many times faster than real time is not a
real-time stream, and its cost is not counted."""

CALIBRATION_AUDIO = Path(__file__).resolve().parents[2] / "samples" / "librivox-ss01-0870.wav"
"""7 s of read speech (public domain, see ``smnb/samples/ATTRIBUTION.md``), 16 kHz mono."""

MIN_SAMPLE_SECONDS = 2.0
"""Sessions with less audio than this say little about the cost and are not counted."""

HALF_WEIGHT_SECONDS = 120.0
"""A finished session with this much audio moves the estimate halfway to its own cost."""

log = logging.getLogger("smnb.server.engine")

_measured: dict[str, float] = {}
"""CPU seconds per audio second learnt in this process, per recognizer factory."""


def usable_cpus() -> float:
    """CPUs this process may use: affinity mask, capped by a cgroup v2 CPU quota."""
    try:
        count = float(len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS
        count = float(os.cpu_count() or 1)
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, int(quota) / int(period))
    except (OSError, ValueError):
        pass
    return max(count, 1.0)


def known_cost(key: str) -> float | None:
    """The cost learnt earlier in this process for factory ``key``, if any."""
    return _measured.get(key)


@dataclass(slots=True)
class CapacityModel:
    """The capacity of one engine pool; see the module docstring."""

    key: str
    """Names the recognizer factory whose cost this is."""
    limit: int
    """Never more sessions than this (``max_workers``, or a capacity given outright)."""
    fixed: bool = False
    """A capacity given outright: measurements are recorded but do not change it."""
    cpus: float = 1.0
    cost: float | None = None
    """CPU seconds per audio second, once measured."""
    reserved: int = 0
    """Sessions the server's owner runs at once on purpose (a sweep's ``concurrency`` on its
    own embedded server): admitted even above the measured capacity, never above ``limit``."""

    @property
    def measured_sessions(self) -> int:
        """How many real-time sessions fit by the cost alone."""
        if self.fixed or self.cost is None or self.cost <= 0:
            return self.limit
        return max(1, min(self.limit, math.floor(self.cpus * UTILISATION / self.cost)))

    @property
    def sessions(self) -> int:
        """How many recognizers may run at once."""
        return min(self.limit, max(self.reserved, self.measured_sessions))

    def calibrated(self, cost: float) -> None:
        self.cost = _measured[self.key] = max(cost, 1e-6)

    def session_ended(self, cpu_seconds: float, audio_seconds: float, wall_seconds: float) -> None:
        """Fold a finished real-time session's cost into the estimate."""
        if audio_seconds < MIN_SAMPLE_SECONDS or cpu_seconds < 0:
            return
        if audio_seconds > REALTIME_PACE * wall_seconds:
            return  # sent faster than real time: not what a live stream costs
        cost = cpu_seconds / audio_seconds
        if self.cost is None:
            self.calibrated(cost)
            return
        weight = audio_seconds / (audio_seconds + HALF_WEIGHT_SECONDS)
        self.calibrated(self.cost + weight * (cost - self.cost))

    def describe(self) -> str:
        """One line for people: the capacity and where it comes from."""
        head = f"{self.sessions} concurrent real-time session{'s' * (self.sessions != 1)}"
        if self.fixed or self.cost is None:
            return f"{head} (set, not measured)"
        return (
            f"{head} (measured {self.cost:.3f} CPU s per audio s on {self.cpus:g} CPUs, "
            f"filling {UTILISATION:.0%})"
        )


async def measure(model: CapacityModel, start: Callable[[], Awaitable[Any]]) -> None:
    """Set ``model.cost``: learnt earlier in this process, or measured now by a worker from
    ``start()`` decoding :data:`CALIBRATION_AUDIO` as fast as it can (then stopped: its
    decoder has heard it), times :data:`REALTIME_OVERHEAD`."""
    cost = known_cost(model.key)
    if cost is not None:
        model.cost = cost
        return
    try:
        worker = await start()
    except Exception as exc:
        log.warning("cannot measure the engine's capacity (worker failed: %s)", exc)
        return
    try:
        fast = await worker.call("calibrate", str(CALIBRATION_AUDIO))
        model.calibrated(fast * REALTIME_OVERHEAD)
    except Exception as exc:
        log.warning("cannot measure the engine's capacity: %s", exc)
    finally:
        worker.healthy = False
        await asyncio.to_thread(worker.stop)
