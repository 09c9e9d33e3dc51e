"""The embedded local server: one per process, shared by every session that needs it.

A session with neither a ``url`` nor an API key runs against smnb's own RT v2 server
(:func:`smnb.server.serve`). Starting one costs a server, recognizer worker processes
and a model load, so the process keeps **one**, started on first use and shared by
``transcribe``, ``atranscribe``, ``start``, ``live`` and ``sweep``: later calls start no
process and skip the start-up. It runs on its own event loop in a daemon thread, so
blocking and async callers, notebook kernels' loops and private session loops all
reach it the same way, over loopback; and it is stopped at interpreter exit
(``atexit``), which stops its worker processes too. A forked child starts its own.

Users who want their own server still pass ``url=``; :func:`close` stops the shared
one early (the next session that needs it starts a new one).

May import :mod:`smnb.server` (lazily, when the server starts); stdlib otherwise.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

__all__ = ["EmbeddedServer", "aurl", "close", "shared", "url"]

STOP_TIMEOUT = 15.0
"""Seconds :meth:`EmbeddedServer.close` waits for the server and its workers to stop."""


class EmbeddedServer:
    """A local RT v2 server on its own loop thread, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._ready: concurrent.futures.Future[str] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._engine: Any = None
        self._pid = os.getpid()

    # --- use ------------------------------------------------------------------------

    def url(self, timeout: float | None = None) -> str:
        """The server's ``ws://127.0.0.1:PORT/v2``, starting it first if needed (blocking).

        Raises:
            LocalServerError, OSError …: the server could not start (the next call retries).
        """
        return self._start().result(timeout)

    async def aurl(self) -> str:
        """Like :meth:`url`, awaited without blocking the caller's loop."""
        return await asyncio.wrap_future(self._start())

    def reserve(self, sessions: int) -> None:
        """Admit ``sessions`` at once and keep that many recognizers warm between sessions
        (a sweep's concurrency): the sweep's own server never refuses its sessions, even
        where this machine's measured real-time capacity is lower."""
        loop, engine = self._loop, self._engine
        if loop is None or engine is None or not hasattr(engine, "max_idle"):
            return

        def grow() -> None:
            if hasattr(engine, "reserve"):
                engine.reserve(sessions)
            # One more than the sessions at once: the pool's spare stays a spare.
            engine.max_idle = max(engine.max_idle, sessions + 1)

        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(grow)

    @property
    def running(self) -> bool:
        """True while the server thread is up (it may still be starting)."""
        thread = self._thread
        return thread is not None and thread.is_alive() and self._pid == os.getpid()

    def close(self, timeout: float = STOP_TIMEOUT) -> None:
        """Stop the server and its worker processes (sessions still on it lose their connection)."""
        with self._lock:
            thread, loop, stop = self._thread, self._loop, self._stop
            self._thread = self._ready = self._loop = self._stop = self._engine = None
        if thread is None or self._pid != os.getpid():
            return
        if loop is not None and stop is not None:
            with contextlib.suppress(RuntimeError):  # the loop already ended
                loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
        if thread.is_alive():
            logger.warning("the embedded server did not stop within %g s", timeout)

    # --- the server thread --------------------------------------------------------------

    def _start(self) -> concurrent.futures.Future[str]:
        with self._lock:
            if self._pid != os.getpid():  # a forked child: the parent's thread is not here
                self._forget()
            ready = self._ready
            failed = ready is not None and ready.done() and ready.exception() is not None
            alive = self._thread is not None and self._thread.is_alive()
            if ready is not None and not failed and (alive or not ready.done()):
                return ready
            ready = concurrent.futures.Future()
            self._ready = ready
            self._thread = threading.Thread(
                target=self._main, args=(ready,), name="smnb-embedded-server", daemon=True
            )
            self._thread.start()
            return ready

    def _main(self, ready: concurrent.futures.Future[str]) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as exc:  # reported to whoever waits; the next call retries
            if not ready.done():
                ready.set_exception(exc)
            else:
                logger.error("the embedded server stopped: %s: %s", type(exc).__name__, exc)

    async def _serve(self, ready: concurrent.futures.Future[str]) -> None:
        from smnb.server import serve  # only now: it loads the recognizer stack

        stop = asyncio.Event()
        self._loop, self._stop = asyncio.get_running_loop(), stop
        async with serve(engine_factory=self._engine_factory) as server_url:
            ready.set_result(server_url)
            logger.info("embedded RT v2 server on %s", server_url)
            await stop.wait()

    @contextlib.asynccontextmanager
    async def _engine_factory(self) -> AsyncIterator[Any]:
        from smnb.server import app  # looked up now, so tests may swap the engine

        async with app.default_engine_factory() as engine:
            self._engine = engine
            yield engine

    def _forget(self) -> None:
        self._thread = self._ready = self._loop = self._stop = self._engine = None
        self._pid = os.getpid()


_SHARED = EmbeddedServer()


def shared() -> EmbeddedServer:
    """The process's embedded server (started by the first session that needs it)."""
    return _SHARED


def url(timeout: float | None = None) -> str:
    """The shared embedded server's URL, starting it if needed (blocking)."""
    return _SHARED.url(timeout)


async def aurl() -> str:
    """The shared embedded server's URL, starting it if needed (awaitable)."""
    return await _SHARED.aurl()


def close() -> None:
    """Stop the shared embedded server now (it starts again when next needed)."""
    _SHARED.close()


atexit.register(close)  # after every non-daemon thread has ended: no leaked workers
