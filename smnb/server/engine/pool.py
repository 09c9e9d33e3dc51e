"""Recognizers in worker processes, driven from asyncio: the engine's async bridge.

pocketsphinx never releases the GIL, so each session's recognizer runs in a worker
process (:class:`~smnb.server.engine.process.WorkerProcess`); the loop waits on sockets.

* :class:`EnginePool` (an async context manager) keeps ``idle_workers`` started and
  prewarmed so :meth:`EnginePool.open` returns at once, and reuses a worker when its
  session ends (its loaded decoder is kept; no session leaves anything that could change
  the next one's words, so a reused worker and a new one decode alike).
* The pool keeps its word on numbers: never more than :attr:`EnginePool.capacity`
  recognizers at once, and never more worker processes than that, however many opens
  arrive together. At capacity, :meth:`~EnginePool.open` raises :class:`EngineAtCapacity`
  (after ``queue_timeout`` seconds of waiting for a session to end; the server waits 0).
  ``capacity="measure"`` sets it from this machine's real-time capacity
  (:mod:`~smnb.server.engine.capacity`), learnt at start-up and from every session since.
* An idle worker that dies is noticed at once (end of file on its socket) and replaced;
  one found dead when picked is skipped: a dead spare never costs a session.
* :meth:`~EnginePool.open` returns a :class:`~smnb.server.engine.handle.RecognizerHandle`,
  one session's recognizer; a worker whose recognizer raised is retired, not reused.
* Factories are injectable (importable by name): tests run cheap recognizers through it.

Imports asyncio (as ``process`` and ``handle`` do). Must not import: websockets, pandas,
anything from ``smnb.session``.
"""

from __future__ import annotations

import asyncio
import logging
import os
from types import TracebackType
from typing import Any, Literal, Self

from smnb.exceptions import EngineAtCapacity, EngineWorkerError
from smnb.server.engine.capacity import CapacityModel, measure, usable_cpus
from smnb.server.engine.handle import RecognizerHandle
from smnb.server.engine.process import STOP_TIMEOUT, WorkerProcess, exiting, start_worker
from smnb.server.engine.worker import (
    Hooks,
    Prewarm,
    RecognizerFactory,
    default_factory,
    default_prewarm,
)
from smnb.server.recognizer import RecognizerSettings

__all__ = [
    "STOP_TIMEOUT",
    "EngineAtCapacity",
    "EnginePool",
    "EngineWorkerError",
    "RecognizerHandle",
]

log = logging.getLogger("smnb.server.engine")

OPEN_ATTEMPTS = 3
"""Workers ``open`` tries before giving up when the ones it picks turn out dead."""

START_TIMEOUT = 60.0
"""Seconds a new worker gets to load before ``open`` gives up on it."""


class EnginePool:
    """Worker processes hosting recognizers; see the module docstring.

    Args:
        max_workers: most worker processes (and so recognizers) at once; by default
            ``max(2, 4 × CPUs)``, or the measured capacity with ``capacity="measure"``.
        capacity: recognizers allowed at once: a number, ``"measure"`` (this machine's
            real-time capacity, never above ``max_workers``), or None for ``max_workers``.
        idle_workers: started, prewarmed spares kept ready for the next ``open``.
        max_idle: idle workers kept when sessions end (at least ``idle_workers``).
        queue_timeout: seconds ``open`` waits at capacity for a session to end before
            raising :class:`EngineAtCapacity` (0: refuse at once).
    """

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        factory: RecognizerFactory = default_factory,
        prewarm: Prewarm | None = default_prewarm,
        capacity: int | Literal["measure"] | None = None,
        idle_workers: int = 1,
        max_idle: int = 2,
        queue_timeout: float = START_TIMEOUT,
    ) -> None:
        if max_workers is not None and max_workers < 1:
            raise ValueError(f"max_workers must be at least 1, not {max_workers}")
        if isinstance(capacity, int) and capacity < 1:
            raise ValueError(f"capacity must be at least 1, not {capacity}")
        limit = max_workers or (64 if capacity == "measure" else max(2, 4 * (os.cpu_count() or 1)))
        if isinstance(capacity, int):
            limit = min(limit, capacity)
        key = f"{getattr(factory, '__module__', '?')}.{getattr(factory, '__qualname__', factory)}"
        self._model = CapacityModel(key, limit, fixed=capacity != "measure", cpus=usable_cpus())
        self._measure = capacity == "measure"
        self.idle_workers = max(0, idle_workers)
        self.max_idle = max(max_idle, self.idle_workers)
        self.queue_timeout = queue_timeout
        self._factory = factory
        self._prewarm = prewarm
        self._idle: list[WorkerProcess] = []
        self._busy: set[WorkerProcess] = set()
        self._starting = 0
        self._waiting = 0  # opens admitted but still without a worker
        self._start_failures = 0
        self._last_start_error: BaseException | None = None
        self._changed: asyncio.Condition | None = None
        self._background: set[asyncio.Task[Any]] = set()
        self._cancellable: set[asyncio.Task[Any]] = set()  # worker starts, not stops
        self._closed = False

    @property
    def capacity(self) -> int:
        """Recognizers allowed at once (it follows measured costs with ``"measure"``)."""
        return self._model.sessions

    @property
    def in_use(self) -> int:
        """Recognizers open or being opened."""
        return len(self._busy) + self._waiting

    @property
    def cpu_per_audio_second(self) -> float | None:
        """The measured cost of one recognizer (None until measured)."""
        return self._model.cost

    def describe(self) -> str:
        """One line: the capacity and where it comes from."""
        return self._model.describe()

    def reserve(self, sessions: int) -> None:
        """Admit at least ``sessions`` at once from now on (within ``max_workers``), whatever
        the measured capacity: the owner runs that many on purpose, and refusing some of
        them would fail its work rather than protect anyone's latency."""
        self._model.reserved = max(self._model.reserved, sessions)
        if sessions > self._model.measured_sessions:
            log.info(
                "running %d sessions at once, above this machine's real-time capacity (%s)",
                sessions, self._model.describe(),
            )  # fmt: skip

    def keep_spares(self, spares: int) -> None:
        """Keep ``spares`` workers started and loaded from now on (within ``capacity``);
        those missing start in the background. A server that keeps ``capacity`` spares
        admits a burst of sessions at once, without starting workers while others stream."""
        self.idle_workers = max(0, spares)
        self.max_idle = max(self.max_idle, self.idle_workers)
        self._top_up()

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of every live worker (idle and busy)."""
        return [w.pid for w in (*self._idle, *self._busy)]

    async def __aenter__(self) -> Self:
        self._changed = asyncio.Condition()
        spares = min(self.idle_workers, self._model.limit)
        self._starting += spares
        try:
            await asyncio.gather(
                self._calibrate(), *(self._start_worker(fail=True) for _ in range(spares))
            )
        except BaseException:
            await self.aclose()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self, settings: RecognizerSettings) -> RecognizerHandle:
        """A recognizer for a new session.

        Raises:
            EngineAtCapacity: all ``capacity`` recognizers are in use (still, after
                ``queue_timeout``).
            EngineWorkerError: no worker could be started.
        """
        changed = self._require_open()
        if self.in_use >= self.capacity:
            await self._wait_for_room(changed)
        for attempt in range(1, OPEN_ATTEMPTS + 1):
            worker = await self._acquire(changed)
            try:
                await worker.call("open", settings)
            except BaseException as exc:
                died = worker.popen.poll() is not None
                self._drop(worker)  # at once: nobody else may take its place meanwhile
                if (
                    isinstance(exc, EngineWorkerError)
                    and died
                    and attempt < OPEN_ATTEMPTS
                    and not self._closed
                ):
                    log.warning("engine worker %d %s before its session opened; using another",
                                worker.pid, worker.describe_exit())  # fmt: skip
                    continue
                raise
            return RecognizerHandle(self, worker)
        raise AssertionError("unreachable")  # pragma: no cover

    async def aclose(self) -> None:
        """Stop every worker (sessions still open get :class:`EngineWorkerError`)."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._cancellable):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        workers = [*self._idle, *self._busy]
        self._idle.clear()
        self._busy.clear()
        for worker in workers:
            worker.unwatch()
        if exiting():
            # Interpreter exit has stopped every worker already (so stop() returns at
            # once), and this loop's thread pool may refuse new work by now.
            for worker in workers:
                worker.stop()
        else:
            await asyncio.gather(*(asyncio.to_thread(w.stop) for w in workers))
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    def _require_open(self) -> asyncio.Condition:
        if self._closed or self._changed is None:
            raise EngineWorkerError("the engine pool is not running (`async with EnginePool()`)")
        return self._changed

    def _full(self) -> EngineAtCapacity:
        return EngineAtCapacity(
            f"the server is at capacity: {self.in_use} of {self.capacity} recognizers in use "
            f"({self.describe()}); try again when a session has ended"
        )

    async def _wait_for_room(self, changed: asyncio.Condition) -> None:
        if self.queue_timeout <= 0:
            raise self._full()
        try:
            async with asyncio.timeout(self.queue_timeout), changed:
                await changed.wait_for(lambda: self._closed or self.in_use < self.capacity)
        except TimeoutError:
            raise self._full() from None
        self._require_open()

    async def _acquire(self, changed: asyncio.Condition) -> WorkerProcess:
        """A live worker, now counted busy: an idle one, or one started for this open."""
        self._waiting += 1
        failures = self._start_failures
        try:
            async with changed:
                while True:
                    self._require_open()
                    while self._idle:
                        worker = self._idle.pop()
                        worker.unwatch()
                        if worker.alive:
                            self._busy.add(worker)
                            return worker
                        self._retire(worker)
                    if self._start_failures > failures and not self._starting:
                        raise EngineWorkerError(
                            f"could not start an engine worker: {self._last_start_error}"
                        )
                    self._top_up()
                    await changed.wait()
        finally:
            self._waiting -= 1

    def _top_up(self) -> None:
        """Start workers until every waiting open and ``idle_workers`` spares are covered,
        never beyond ``capacity`` processes."""
        if self._closed or exiting():
            return
        total = len(self._idle) + len(self._busy) + self._starting
        wanted = self._waiting + self.idle_workers - len(self._idle) - self._starting
        for _ in range(max(0, min(wanted, self.capacity - total))):
            self._launch()

    def _in_background(self, job: Any, *, cancel_on_close: bool = False) -> None:
        task = asyncio.create_task(job)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        if cancel_on_close:
            self._cancellable.add(task)
            task.add_done_callback(self._cancellable.discard)

    def _hooks(self) -> Hooks:
        return self._factory, self._prewarm

    async def _start(self) -> WorkerProcess:
        return await start_worker(self._hooks(), START_TIMEOUT)

    def _launch(self) -> None:
        self._starting += 1  # counted now, not when the task first runs: no double starts
        self._in_background(self._start_worker(), cancel_on_close=True)

    async def _start_worker(self, *, fail: bool = False) -> None:
        """Start one worker (already counted in ``_starting``) and offer it; a failure is
        logged, or raised with ``fail``."""
        changed = self._require_open()
        counted = True
        try:
            try:
                worker = await self._start()
            except Exception as error:
                async with changed:
                    self._starting -= 1
                    counted = False
                    self._start_failures += 1
                    self._last_start_error = error
                    changed.notify_all()
                if fail:
                    raise
                log.warning("an engine worker failed to start: %s", error)
                return
            async with changed:
                self._starting -= 1
                counted = False
                # Sessions may have ended while it started: no more idle than max_idle.
                surplus = not self._waiting and len(self._idle) >= self.max_idle
                if self._closed or surplus:
                    self._retire(worker)
                else:
                    self._offer(worker)
                changed.notify_all()
        finally:
            if counted:
                self._starting -= 1

    def _offer(self, worker: WorkerProcess) -> None:
        self._idle.append(worker)
        worker.watch(self._idle_died)

    def _idle_died(self, worker: WorkerProcess) -> None:
        """An idle worker's socket turned readable: it died (idle workers never speak)."""
        worker.unwatch()
        if worker not in self._idle or worker.stopped or exiting():
            return  # stopped on purpose (the pool, or the interpreter, is closing)
        self._idle.remove(worker)
        worker.healthy = False
        log.warning("idle engine worker %d %s; replacing it", worker.pid, worker.describe_exit())
        self._retire(worker)
        self._top_up()

    def _retire(self, worker: WorkerProcess) -> None:
        self._in_background(asyncio.to_thread(worker.stop))

    def _drop(self, worker: WorkerProcess) -> None:
        """A busy worker that must not be reused: retire it and let waiters know."""
        self._busy.discard(worker)
        worker.healthy = False
        self._retire(worker)
        self._in_background(self._notify())

    async def _notify(self) -> None:
        changed = self._changed
        if changed is not None and not self._closed:
            async with changed:
                changed.notify_all()
            self._top_up()

    async def _calibrate(self) -> None:
        if self._measure:
            await measure(self._model, self._start)
            log.info("engine capacity: %s", self.describe())

    def session_ended(self, outcome: object) -> None:
        """A handle closed its session: learn what it cost."""
        if not isinstance(outcome, tuple) or len(outcome) != 3:
            return
        cpu_seconds, audio_seconds, wall_seconds = outcome
        self._model.session_ended(float(cpu_seconds), float(audio_seconds), float(wall_seconds))

    async def release(self, worker: WorkerProcess) -> None:
        """A session's worker is free again: keep it idle, or retire it."""
        self._busy.discard(worker)
        keep = (
            not self._closed
            and worker.healthy
            and worker.alive
            and len(self._idle) < self.max_idle
            and len(self._idle) + len(self._busy) + self._starting < self.capacity
        )
        if keep:
            self._offer(worker)
        else:
            await asyncio.to_thread(worker.stop)
        await self._notify()
