"""Run a coroutine from synchronous code, also inside a running event loop (Jupyter).

The one helper every blocking entry point uses (``smnb.transcribe``, ``smnb.sweep``,
the CLI): with no event loop in the thread it runs one (:class:`asyncio.Runner`, so
Ctrl-C cancels the coroutine cleanly); inside a running loop, which cannot be
re-entered, it runs the coroutine on a private event loop in a daemon thread and
blocks on it — never ``asyncio.run`` inside a running loop, never nest_asyncio.

Stdlib only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, Generic, TypeVar

T = TypeVar("T")

__all__ = ["LoopThread", "run_sync"]


def run_sync(make: Callable[[], Awaitable[T]], *, name: str = "smnb") -> T:
    """Run ``make()`` to the end from synchronous code and return its value.

    ``make`` creates the coroutine (so it is created on the loop that runs it, and
    never left un-awaited). Ctrl-C cancels it; what it raises then is re-raised.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        with asyncio.Runner() as runner:
            return runner.run(_awaited(make))
    return LoopThread(make, name=name).wait()


async def _awaited(make: Callable[[], Awaitable[T]]) -> T:
    return await make()


class LoopThread(Generic[T]):
    """``make()`` running on its own event loop in a daemon thread.

    ``future`` settles with its value or error; :meth:`call` runs a callback on
    that loop from any thread; :meth:`cancel` cancels the coroutine.
    """

    def __init__(self, make: Callable[[], Awaitable[T]], *, name: str = "smnb") -> None:
        self.future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._ready = threading.Event()
        self._make = make
        self.thread = threading.Thread(target=self._main, name=name, daemon=True)
        self.thread.start()
        self._ready.wait()

    def _main(self) -> None:
        try:
            with asyncio.Runner() as runner:
                result = runner.run(self._run())
        except BaseException as exc:
            self._ready.set()
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)

    async def _run(self) -> T:
        self.loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._ready.set()
        return await self._make()

    def call(self, callback: Callable[[], Any]) -> None:
        """Run ``callback()`` on the thread's loop (from any thread)."""
        if self.loop is not None and not self.future.done():
            with suppress(RuntimeError):  # the loop closed meanwhile: nothing left to do
                self.loop.call_soon_threadsafe(callback)

    def cancel(self) -> None:
        """Cancel the coroutine (from any thread)."""
        task = self._task
        if task is not None:
            self.call(task.cancel)

    def wait(self, timeout: float | None = None) -> T:
        """Block until it ends; Ctrl-C cancels it and re-raises what it raised then."""
        try:
            return self.future.result(timeout)
        except KeyboardInterrupt as interrupt:
            self.cancel()
            try:
                return self.future.result()
            except BaseException as exc:
                raise exc from interrupt
