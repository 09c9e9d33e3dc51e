"""Recognizers in worker processes, driven from asyncio: the engine's async bridge.

pocketsphinx never releases the GIL, so a decoder in a thread would stall the event loop
for as long as it decodes (up to seconds at an utterance end). Each live session's
recognizer therefore runs in its own worker process, and the loop only waits on pipes.

* :class:`EnginePool` (an async context manager) owns the workers. It keeps
  ``idle_workers`` started and prewarmed (decoder loaded) so :meth:`EnginePool.open`
  returns at once, reuses a worker for the next session when one ends (its decoder, and
  so its cepstral mean, carries over), and never runs more than ``max_workers``. A newly
  started worker begins from the state the last finished session exported (``state``
  hooks; by default pocketsphinx's cepstral mean, so a new worker's first utterance is
  not decoded with the generic prior).
* :class:`RecognizerHandle` is one session's recognizer: ``feed``, ``force_end_of_utterance``,
  ``finish``, ``speakers``, ``reconfigure``, ``close``. Calls on one handle run one at a time.
* The recognizer factory is injectable (any picklable callable taking
  :class:`~smnb.server.recognizer.RecognizerSettings`), so tests can run a cheap recognizer
  through the same machinery. ``prewarm`` runs in each worker before it is offered.
* A worker that dies makes every pending and later call on its handle raise
  :class:`EngineWorkerError` at once (the loop watches the process sentinel); a recognizer
  that raises makes the call raise :class:`EngineWorkerError` with the remote traceback,
  and its worker is retired rather than reused.
* Workers start from a ``forkserver`` (or ``spawn``) context, never ``fork``: forking an
  asyncio process copies its loop and threads. On exit every worker is asked to stop,
  then terminated, then killed, and joined: no orphans.

This is the only engine module that imports asyncio. Must not import: websockets, pandas,
anything from ``smnb.session``.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import threading
from multiprocessing.context import BaseContext
from types import TracebackType
from typing import Any, Self

from smnb.exceptions import EngineWorkerError
from smnb.server.engine.worker import (
    ExportState,
    ImportState,
    Prewarm,
    RecognizerFactory,
    default_export_state,
    default_factory,
    default_import_state,
    default_prewarm,
    worker_main,
)
from smnb.server.recognizer import MaxDelayMode, RecognizerSettings, Update

STOP_TIMEOUT = 2.0
"""Seconds a worker gets to exit on request before it is terminated (then killed)."""

PRELOAD = [
    "smnb.server.engine.pool",
    "smnb.server.engine.worker",
    "smnb.server.pocketsphinx.recognizer",
]
"""Modules the forkserver imports once, so each new worker starts with them loaded."""

LARGE_MESSAGE = 1 << 20
"""Messages at least this big are written from a thread, so the loop never waits on a pipe."""


# --------------------------------------------------------------------------- parent side


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(
        self,
        ctx: BaseContext,
        factory: RecognizerFactory,
        prewarm: Prewarm | None,
        state: tuple[ExportState, ImportState, str | None] | None,
    ):
        parent, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(  # type: ignore[attr-defined]
            target=worker_main, args=(child, factory, prewarm, state), daemon=True
        )
        self.process.start()
        child.close()  # only the worker holds it now, so its death closes the pipe
        self.conn = parent
        self.pid: int = self.process.pid
        self.healthy = True
        self.stopped = False
        self.in_call = False
        self._conn_closed = False
        # stop() runs in a thread while a call may wake on the loop; closing the
        # pipe and the process object must not interleave with the reaping.
        self._close_lock = threading.Lock()

    async def ready(self) -> None:
        kind, value = await self.receive("starting")
        if kind != "ready":
            raise EngineWorkerError(f"engine worker {self.pid} failed to start:\n{value}")

    async def call(self, command: str, argument: object = None) -> Any:
        if self.stopped:
            raise EngineWorkerError(f"engine worker {self.pid} was stopped (the pool closed)")
        if not self.healthy:
            raise EngineWorkerError(f"engine worker {self.pid} is no longer usable")
        self.in_call = True
        try:
            kind, value = await self._exchange(command, argument)
        finally:
            self.in_call = False
            self._dispose_if_stopped()
        if kind == "error":
            self.healthy = False
            raise EngineWorkerError(f"recognizer failed in worker {self.pid} ({command}):\n{value}")
        return value

    async def _exchange(self, command: str, argument: object) -> tuple[str, Any]:
        message = (command, argument)
        try:
            if isinstance(argument, bytes) and len(argument) >= LARGE_MESSAGE:
                await asyncio.get_running_loop().run_in_executor(None, self.conn.send, message)
            else:
                self.conn.send(message)
        except (OSError, ValueError) as error:  # broken pipe, or closed by stop()
            self.healthy = False
            raise self._died(command) from error
        return await self.receive(command)

    async def receive(self, command: str) -> tuple[str, Any]:
        """The worker's next reply, or :class:`EngineWorkerError` as soon as it dies."""
        loop = asyncio.get_running_loop()
        wake = loop.create_future()

        def readable() -> None:
            if not wake.done():
                wake.set_result(None)

        try:
            conn_fd, sentinel = self.conn.fileno(), self.process.sentinel
        except (OSError, ValueError) as error:
            self.healthy = False
            raise self._died(command) from error
        loop.add_reader(conn_fd, readable)
        loop.add_reader(sentinel, readable)
        try:
            await wake
        finally:
            loop.remove_reader(conn_fd)
            loop.remove_reader(sentinel)
        try:
            if self.conn.poll():
                reply: tuple[str, Any] = self.conn.recv()
                return reply
        except (EOFError, OSError) as error:
            self.healthy = False
            raise self._died(command) from error
        self.healthy = False
        raise self._died(command)

    def _died(self, command: str) -> EngineWorkerError:
        try:
            self.process.join(timeout=0.1)
            code = self.process.exitcode
        except ValueError:  # already reaped and closed by stop()
            return EngineWorkerError(f"engine worker {self.pid} was stopped during {command}")
        if code is None:
            how = "stopped answering"
        elif code < 0:
            how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        return EngineWorkerError(f"engine worker {self.pid} {how} during {command}")

    def stop(self) -> None:
        """Ask, then force; always reap the process. Safe to call from a thread."""
        with self._close_lock:
            if self.stopped:
                return
            self.stopped = True
        if self.process.is_alive() and self.healthy and not self.in_call:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(("exit", None))
            self.process.join(STOP_TIMEOUT)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(STOP_TIMEOUT)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        with self._close_lock:
            self.process.close()  # only here, once reaped: nothing else touches it after
            if not self.in_call:  # otherwise the call in flight closes the pipe when it wakes
                self._close_conn()

    def _dispose_if_stopped(self) -> None:
        # stop() may have run, or be running, in another thread while the call awaited.
        with self._close_lock:
            if self.stopped:
                self._close_conn()

    def _close_conn(self) -> None:
        if not self._conn_closed:
            self._conn_closed = True
            self.conn.close()


class RecognizerHandle:
    """One session's recognizer, living in a worker process."""

    def __init__(self, pool: EnginePool, worker: _Worker) -> None:
        self._pool = pool
        self._worker: _Worker | None = worker
        self._lock = asyncio.Lock()

    @property
    def pid(self) -> int | None:
        """The worker's process id (None once closed)."""
        return None if self._worker is None else self._worker.pid

    async def feed(self, pcm: bytes) -> Update:
        """Decode more audio: 16 kHz mono int16 little-endian bytes."""
        if len(pcm) % 2:
            raise ValueError("pcm must hold whole int16 samples (an even number of bytes)")
        update: Update = await self._call("feed", bytes(pcm))
        return update

    async def force_end_of_utterance(self) -> Update:
        update: Update = await self._call("force_end_of_utterance")
        return update

    async def finish(self) -> Update:
        update: Update = await self._call("finish")
        return update

    async def speakers(self) -> dict[str, list[str]]:
        speakers: dict[str, list[str]] = await self._call("speakers")
        return speakers

    async def reconfigure(self, max_delay: float, max_delay_mode: MaxDelayMode) -> None:
        """New ``max_delay`` / ``max_delay_mode`` for the words not yet final."""
        await self._call("reconfigure", (max_delay, max_delay_mode))

    async def close(self) -> None:
        """End the session; the worker goes back to the pool (or is retired). Idempotent."""
        async with self._lock:
            worker, self._worker = self._worker, None
            if worker is None:
                return
            if worker.healthy:
                with contextlib.suppress(EngineWorkerError):
                    self._pool._carry(await worker.call("close"))
            await self._pool._release(worker)

    async def _call(self, command: str, argument: object = None) -> Any:
        async with self._lock:
            if self._worker is None:
                raise EngineWorkerError("the recognizer handle is closed")
            return await self._worker.call(command, argument)


class EnginePool:
    """Worker processes hosting recognizers; see the module docstring."""

    def __init__(
        self,
        max_workers: int | None = None,
        *,
        factory: RecognizerFactory = default_factory,
        prewarm: Prewarm | None = default_prewarm,
        state: tuple[ExportState, ImportState] | None = (
            default_export_state,
            default_import_state,
        ),
        idle_workers: int = 1,
        max_idle: int = 2,
        start_method: str | None = None,
    ) -> None:
        self.max_workers = max_workers or max(2, 4 * (os.cpu_count() or 1))
        self.idle_workers = min(idle_workers, self.max_workers)
        self.max_idle = max(max_idle, self.idle_workers)
        self._factory = factory
        self._prewarm = prewarm
        self._state_hooks = state
        self._carried: str | None = None
        method = start_method or (
            "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        )
        if method == "fork":
            raise ValueError("fork is unsafe in an asyncio process; use forkserver or spawn")
        self._ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            self._ctx.set_forkserver_preload(PRELOAD)
        self._idle: list[_Worker] = []
        self._busy: set[_Worker] = set()
        self._starting = 0
        self._changed: asyncio.Condition | None = None
        self._background: set[asyncio.Task[None]] = set()
        self._closed = False

    @property
    def carried_state(self) -> str | None:
        """The state the last finished session exported (handed to new workers)."""
        return self._carried

    @property
    def worker_pids(self) -> list[int]:
        """Process ids of every live worker (idle and busy)."""
        return [w.pid for w in (*self._idle, *self._busy)]

    async def __aenter__(self) -> Self:
        self._changed = asyncio.Condition()
        await asyncio.gather(*(self._start_worker() for _ in range(self.idle_workers)))
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def open(self, settings: RecognizerSettings) -> RecognizerHandle:
        """A recognizer for a new session (waits for a worker if all ``max_workers`` are busy)."""
        changed = self._require_open()
        async with changed:
            while not self._idle:
                if len(self._busy) + self._starting < self.max_workers:
                    self._starting += 1
                    try:
                        worker = await self._spawn()
                    finally:
                        self._starting -= 1
                    self._idle.append(worker)
                    break
                await changed.wait()
            worker = self._idle.pop()
            self._busy.add(worker)
        self._top_up()
        try:
            await worker.call("open", settings)
        except BaseException:
            await self._release(worker)
            raise
        return RecognizerHandle(self, worker)

    async def aclose(self) -> None:
        """Stop every worker (sessions still open get :class:`EngineWorkerError`)."""
        if self._closed:
            return
        self._closed = True
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        workers = [*self._idle, *self._busy]
        self._idle.clear()
        self._busy.clear()
        for worker in workers:
            worker.healthy = worker.healthy and worker.process.is_alive()
        await asyncio.gather(*(asyncio.to_thread(w.stop) for w in workers))

    # ------------------------------------------------------------------ internals

    def _require_open(self) -> asyncio.Condition:
        if self._closed or self._changed is None:
            raise EngineWorkerError(
                "the engine pool is not running (use `async with EnginePool()`)"
            )
        return self._changed

    def _carry(self, state: object) -> None:
        if isinstance(state, str) and state:
            self._carried = state

    async def _spawn(self) -> _Worker:
        hooks = self._state_hooks
        state = None if hooks is None else (hooks[0], hooks[1], self._carried)
        worker = await asyncio.to_thread(_Worker, self._ctx, self._factory, self._prewarm, state)
        try:
            await worker.ready()
        except BaseException:
            await asyncio.to_thread(worker.stop)
            raise
        return worker

    async def _start_worker(self) -> None:
        changed = self._require_open()
        self._starting += 1
        try:
            worker = await self._spawn()
        finally:
            self._starting -= 1
        async with changed:
            if self._closed:
                await asyncio.to_thread(worker.stop)
                return
            self._idle.append(worker)
            changed.notify()

    def _top_up(self) -> None:
        """Start workers in the background until ``idle_workers`` are idle or starting."""
        if self._closed:
            return
        total = len(self._idle) + len(self._busy) + self._starting
        missing = min(
            self.idle_workers - len(self._idle) - self._starting, self.max_workers - total
        )
        for _ in range(max(0, missing)):
            task = asyncio.create_task(self._start_worker())
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _release(self, worker: _Worker) -> None:
        changed = self._changed
        keep = (
            not self._closed
            and worker.healthy
            and worker.process.is_alive()
            and len(self._idle) < self.max_idle
        )
        self._busy.discard(worker)
        if keep:
            self._idle.append(worker)
        else:
            await asyncio.to_thread(worker.stop)
        if changed is not None and not self._closed:
            async with changed:
                changed.notify()
            self._top_up()
