"""One engine worker process, from the server's side: start it, call it, watch it, stop it.

A worker is ``python -m smnb.server.engine.worker FD`` started with :mod:`subprocess`,
never with :mod:`multiprocessing`: its ``spawn`` and ``forkserver`` start methods import
the caller's ``__main__`` again in every child, which re-runs a guard-less script's
top-level code (or kills the worker), and ``fork`` would copy the event loop and its
threads. The two ends talk over a socket pair with :mod:`multiprocessing.connection`
framing; the worker holds the only other end of it, so its death reads as end of file at
once, whether a call is in flight (:meth:`WorkerProcess.call` raises
:class:`EngineWorkerError`) or the worker sits idle (:meth:`WorkerProcess.watch`).

Every worker is reaped: :meth:`WorkerProcess.stop` asks, then terminates, then kills; at
interpreter exit the ones still running (a pool nobody closed, such as a per-process
embedded server) are stopped the same way. A worker whose server vanishes without any of
that (SIGKILL) reads end of file and exits by itself.

Must not import: websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import os
import pickle
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from smnb.exceptions import EngineWorkerError
from smnb.server.engine.worker import Hooks

STOP_TIMEOUT = 2.0
"""Seconds a worker gets to exit on request before it is terminated (then killed)."""

LARGE_MESSAGE = 1 << 20
"""Messages at least this big are written from a thread, so the loop never waits on a socket."""

WORKER_MODULE = "smnb.server.engine.worker"

_SMNB_ROOT = str(Path(__file__).resolve().parents[3])
"""The directory holding this ``smnb`` package: workers import the same code as the server."""


def _worker_env() -> dict[str, str]:
    env = dict(os.environ)
    extra = env.get("PYTHONPATH")
    env["PYTHONPATH"] = _SMNB_ROOT if not extra else os.pathsep.join((_SMNB_ROOT, extra))
    return env


def _check_importable(hooks: Hooks) -> None:
    """Hooks travel by name: one defined in ``__main__`` cannot be found in a worker."""
    for hook in hooks:
        if hook is not None and getattr(hook, "__module__", None) == "__main__":
            raise EngineWorkerError(
                f"engine hook {getattr(hook, '__qualname__', hook)!r} is defined in __main__; "
                "workers never import the main script, so define it in an importable module"
            )


class WorkerProcess:
    """One worker process and the server's end of its socket.

    The constructor blocks while the process starts (run it in a thread); then
    :meth:`ready` waits for the worker to load. ``healthy`` turns False once the worker
    died or its recognizer raised: it is then only ever stopped, never reused.
    """

    def __init__(self, hooks: Hooks) -> None:
        if _EXITING:
            raise EngineWorkerError("the interpreter is exiting: no new engine workers")
        _check_importable(hooks)
        parent, child = socket.socketpair()
        try:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", WORKER_MODULE, str(child.fileno())],
                pass_fds=(child.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=2,  # the server's stdout may be a protocol (``smnb serve`` prints its URL)
                env=_worker_env(),
                # Its own session: Ctrl-C in a terminal reaches the server alone, which
                # stops its workers itself (even one still importing, not yet listening).
                start_new_session=True,
            )
        except BaseException:
            parent.close()
            raise
        finally:
            child.close()  # only the worker holds it now, so its death closes the socket
        self.conn = Connection(parent.detach())
        self.pid: int = self.popen.pid
        self.healthy = True
        self.stopped = False
        self.in_call = False
        self._conn_closed = False
        self._watching = False
        # stop() runs in a thread while a call may wake on the loop: closing the socket
        # must not interleave with the reaping.
        self._close_lock = threading.Lock()
        _LIVE.add(self)
        try:
            self.conn.send(list(sys.path))
            self.conn.send(hooks)
        except (OSError, pickle.PicklingError, AttributeError, TypeError) as exc:
            self.healthy = False
            self.stop()
            raise EngineWorkerError(f"cannot hand the engine hooks to a worker: {exc}") from exc

    @property
    def alive(self) -> bool:
        return not self.stopped and self.popen.poll() is None

    async def ready(self) -> None:
        """Wait until the worker has loaded (its ``prewarm`` ran)."""
        kind, value = await self.receive("starting")
        if kind != "ready":
            self.healthy = False
            raise EngineWorkerError(f"engine worker {self.pid} failed to start:\n{value}")

    async def call(self, command: str, argument: object = None) -> Any:
        """Run one command in the worker; its value, or :class:`EngineWorkerError`."""
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
            raise await self._died(command) from error
        return await self.receive(command)

    async def receive(self, command: str) -> tuple[str, Any]:
        """The worker's next reply, or :class:`EngineWorkerError` as soon as it dies."""
        loop = asyncio.get_running_loop()
        wake = loop.create_future()

        def readable() -> None:
            if not wake.done():
                wake.set_result(None)

        fd = self.conn.fileno()
        loop.add_reader(fd, readable)
        try:
            await wake
        finally:
            loop.remove_reader(fd)
        try:
            reply: tuple[str, Any] = self.conn.recv()
            return reply
        except (EOFError, OSError) as error:
            self.healthy = False
            raise await self._died(command) from error

    def watch(self, on_death: Callable[[WorkerProcess], None]) -> None:
        """Call ``on_death(self)`` on the loop if the worker dies while idle."""
        loop = asyncio.get_running_loop()
        loop.add_reader(self.conn.fileno(), on_death, self)
        self._watching = True

    def unwatch(self) -> None:
        if self._watching:
            self._watching = False
            with contextlib.suppress(OSError, ValueError):
                asyncio.get_running_loop().remove_reader(self.conn.fileno())

    async def _died(self, command: str) -> EngineWorkerError:
        if self.stopped:
            return EngineWorkerError(f"engine worker {self.pid} was stopped during {command}")
        try:
            code: int | None = await asyncio.to_thread(self.popen.wait, 1.0)
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            how = "stopped answering"
        elif code < 0:
            how = f"was killed by signal {-code}"
        else:
            how = f"exited with code {code}"
        return EngineWorkerError(f"engine worker {self.pid} {how} during {command}")

    def describe_exit(self) -> str:
        """How the worker ended, for a log line (its socket has closed: it is exiting)."""
        try:
            code: int | None = self.popen.wait(0.5)  # end of file comes just before the exit
        except subprocess.TimeoutExpired:
            code = None
        if code is None:
            return "stopped answering"
        return f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"

    def stop(self) -> None:
        """Ask, then force; always reap the process. Blocking: call it from a thread."""
        with self._close_lock:
            if self.stopped:
                return
            self.stopped = True
        if self.popen.poll() is None and self.healthy and not self.in_call:
            with contextlib.suppress(OSError, ValueError):
                self.conn.send(("exit", None))
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(STOP_TIMEOUT)
        _reap(self.popen)
        _LIVE.discard(self)
        with self._close_lock:
            if not self.in_call:  # otherwise the call in flight closes it when it wakes
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


async def start_worker(hooks: Hooks, timeout: float) -> WorkerProcess:
    """A new worker, loaded and ready (stopped again if it is not within ``timeout``)."""
    worker = await asyncio.to_thread(WorkerProcess, hooks)
    try:
        async with asyncio.timeout(timeout):
            await worker.ready()
    except BaseException:
        worker.healthy = False
        await asyncio.to_thread(worker.stop)
        raise
    return worker


def _reap(popen: subprocess.Popen[bytes]) -> None:
    """Terminate, then kill, and wait: the process is gone (and reaped) on return."""
    for signal_it in (popen.terminate, popen.kill):
        if popen.poll() is not None:
            return
        with contextlib.suppress(OSError):
            signal_it()
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(STOP_TIMEOUT)
    popen.wait()


_LIVE: weakref.WeakSet[WorkerProcess] = weakref.WeakSet()
_EXITING = False


def exiting() -> bool:
    """True once the interpreter has begun stopping every worker (see :func:`_stop_all`)."""
    return _EXITING


@atexit.register
def _stop_all() -> None:
    """At interpreter exit: no worker outlives the server process. A pool still running
    (an embedded server on a daemon thread) sees its workers go and starts no others."""
    global _EXITING
    _EXITING = True
    workers = list(_LIVE)
    for worker in workers:
        worker.stopped = True
        with contextlib.suppress(OSError):
            worker.popen.terminate()
    for worker in workers:
        _reap(worker.popen)
