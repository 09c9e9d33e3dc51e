"""The public entry points: ``transcribe``, ``atranscribe``, ``start`` and :class:`Transcription`.

:func:`prepare` (in :mod:`smnb._prepared`) checks the settings and opens the
audio before any connection; :meth:`PreparedSession.run` picks the endpoint
(the embedded local server when there is neither a ``url`` nor an API key; the
SaaS endpoint with ``Authorization: Bearer``, optionally a temporary key, when
there is one), runs the transport, and keeps a live :class:`~smnb.result.Result`.
This module decides only *where* that coroutine runs.

Three ways to run, one session coroutine underneath:

- ``await atranscribe(...)`` in async code and notebook cells;
- ``transcribe(...)`` anywhere: with no event loop in the thread it runs one;
  inside a running loop (a Jupyter cell) it runs the session on a private
  event-loop thread and blocks on it — never ``asyncio.run`` in a running
  loop, never nest_asyncio;
- ``start(...)`` returns a :class:`Transcription` at once; the session runs as
  a background task on the running loop (or on a private loop thread when
  there is none), its ``result`` fills up live.

Any error (server ``Error``, lost connection, timeout, Ctrl-C or cancel) is
recorded first and raised as a :class:`~smnb.exceptions.SmnbError` whose
``.result`` holds everything received; with ``out`` the log is already on disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from collections.abc import Generator
from contextlib import suppress
from typing import Any

from smnb._prepared import PreparedSession, prepare
from smnb.exceptions import SessionCancelled
from smnb.recorder import Recorder
from smnb.result import Result

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

__all__ = ["PreparedSession", "Transcription", "atranscribe", "prepare", "start", "transcribe"]

_RUNNING: set[asyncio.Task[Result]] = set()
"""Background sessions started by :func:`start` that have not finished yet."""


def transcribe(source: Any, **config: Any) -> Result:
    """Stream ``source`` and return the finished :class:`~smnb.result.Result` (blocking).

    Works in a plain script and inside a running event loop (a Jupyter cell),
    where it runs the session on a private event-loop thread.

    Args:
        source: a path to an audio file, a numpy array (with ``sample_rate``),
            an async iterable of raw bytes (with ``sample_rate``) or an audio
            source such as :class:`smnb.mic.Microphone`.
        **config: ``transcription_config`` fields by their protocol names
            (``language="en"``, ``max_delay``, ``max_delay_mode``,
            ``enable_partials`` (default True), ``diarization``,
            ``speaker_diarization_config``, ``conversation_config``,
            ``additional_vocab``, ``model`` …) and smnb options: ``url``,
            ``api_key``, ``temp_key`` (True or a TTL), ``pace``
            (``"realtime"``/``"fast"``), ``chunk_seconds``, ``out`` (a
            directory), ``clock``, ``timeout``, ``audio_format``
            (``"raw"``/``"file"``), ``sample_rate``, ``encoding``, ``live``,
            ``max_unacked``, ``translation_config``, ``audio_events_config``.

    Raises:
        ConfigError, AudioError: bad settings or audio, before connecting.
        ServerError, ConnectionLost, SessionTimeout, SessionCancelled, AuthError:
            the session failed; ``exc.result`` holds what was received.
    """
    return run_blocking(prepare(source, **config))


async def atranscribe(source: Any, **config: Any) -> Result:
    """Like :func:`transcribe`, for ``await`` in async code and notebook cells.

    Cancelling the awaiting task (a notebook interrupt) ends the session and
    raises :class:`~smnb.exceptions.SessionCancelled` carrying the partial result.
    """
    return await prepare(source, **config).run()


def start(source: Any, **config: Any) -> Transcription:
    """Start a session in the background and return its handle at once.

    On a running event loop (a notebook) the session is a task on that loop;
    otherwise it runs on a private event-loop thread. Settings and audio are
    checked before this returns (same keywords as :func:`transcribe`).
    """
    session = prepare(source, **config)
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return Transcription(session, _SessionThread(session))
    task = loop.create_task(session.run(), name="smnb-session")
    # The loop keeps only weak references to tasks: hold it until it ends, even if
    # the caller drops the handle (``smnb.start(...)`` without an assignment).
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return Transcription(session, task)


def run_blocking(session: PreparedSession) -> Result:
    """Run a prepared session to the end from synchronous code."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        # No loop in this thread: run one (Ctrl-C cancels the session → SessionCancelled).
        with asyncio.Runner() as runner:
            return runner.run(session.run())
    # A loop is running here (Jupyter): it cannot be re-entered, so use a private one.
    return _SessionThread(session).wait()


class _SessionThread:
    """A session on its own event loop in a daemon thread."""

    def __init__(self, session: PreparedSession) -> None:
        self.future: concurrent.futures.Future[Result] = concurrent.futures.Future()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._ready = threading.Event()
        self._session = session
        self.thread = threading.Thread(target=self._main, name="smnb-session", daemon=True)
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

    async def _run(self) -> Result:
        self.loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._ready.set()
        return await self._session.run()

    def call(self, callback: Any) -> None:
        """Run ``callback()`` on the session's loop (from any thread)."""
        if self.loop is not None and not self.future.done():
            with suppress(RuntimeError):  # the loop closed meanwhile: nothing left to do
                self.loop.call_soon_threadsafe(callback)

    def cancel(self) -> None:
        task = self._task
        if task is not None:
            self.call(task.cancel)

    def wait(self, timeout: float | None = None) -> Result:
        try:
            return self.future.result(timeout)
        except KeyboardInterrupt as interrupt:
            self.cancel()
            try:
                return self.future.result()
            except SessionCancelled as exc:
                raise exc from interrupt


class Transcription:
    """A session running in the background, returned by :func:`start`.

    ``result`` is live: its tables can be read at any time during the run.
    ``stop()`` ends the audio gracefully (``EndOfStream``, then every final),
    ``cancel()`` ends the session at once. ``await handle`` (on the loop that
    started it) or ``handle.wait()`` (from other threads) returns the final
    :class:`~smnb.result.Result` or raises the session's error. ``stop`` and
    ``cancel`` are safe from any thread, e.g. widget callbacks.
    """

    def __init__(
        self, session: PreparedSession, runner: asyncio.Task[Result] | _SessionThread
    ) -> None:
        self._session = session
        self._task = runner if isinstance(runner, asyncio.Task) else None
        self._thread = runner if isinstance(runner, _SessionThread) else None
        self._loop = runner.get_loop() if isinstance(runner, asyncio.Task) else runner.loop
        self._future: concurrent.futures.Future[Result]
        if isinstance(runner, asyncio.Task):
            self._future = concurrent.futures.Future()
            runner.add_done_callback(self._settle)
        else:
            self._future = runner.future

    @property
    def result(self) -> Result:
        """The live result (complete once :meth:`done`)."""
        return self._session.result

    @property
    def recorder(self) -> Recorder:
        """The session's recorder (for live views)."""
        return self._session.recorder

    def stop(self) -> None:
        """End the audio gracefully: no more chunks, ``EndOfStream``, wait for every final."""
        self._call(self._session.request_stop)

    def cancel(self) -> None:
        """End the session now; awaiting the handle raises ``SessionCancelled``."""
        if self._task is not None:
            self._call(self._task.cancel)
        elif self._thread is not None:
            self._thread.cancel()

    def done(self) -> bool:
        """True once the session has finished, successfully or not."""
        if self._task is not None:
            return self._task.done()
        return self._future.done()

    def exception(self) -> BaseException | None:
        """The error that ended the session (``None`` if it succeeded or still runs)."""
        task = self._task
        if task is not None:
            if not task.done():
                return None
            if task.cancelled():
                return SessionCancelled("the session was cancelled", result=self.result)
            return task.exception()
        return self._future.exception() if self._future.done() else None

    def wait(self, timeout: float | None = None) -> Result:
        """Block until the session ends (not from the loop it runs on; ``await`` there)."""
        if self._task is not None and _running_loop() is self._loop:
            raise RuntimeError("wait() would block the session's own loop; use `await handle`")
        if self._thread is not None:
            return self._thread.wait(timeout)
        return self._future.result(timeout)

    def __await__(self) -> Generator[Any, None, Result]:
        if self._task is not None and _running_loop() is self._loop:
            return self._task.__await__()
        return asyncio.wrap_future(self._future).__await__()

    def _call(self, callback: Any) -> None:
        if self.done() or self._loop is None:
            return
        with suppress(RuntimeError):  # the loop closed meanwhile: nothing left to do
            self._loop.call_soon_threadsafe(callback)

    def _settle(self, task: asyncio.Task[Result]) -> None:
        if task.cancelled():
            self._future.set_exception(
                SessionCancelled("the session was cancelled", result=self.result)
            )
            return
        error = task.exception()  # also marks it retrieved: no "never retrieved" noise
        if error is None:
            self._future.set_result(task.result())
            return
        self._future.set_exception(error)
        if not isinstance(error, SessionCancelled):
            logger.warning("background session failed: %s: %s", type(error).__name__, error)

    def __repr__(self) -> str:
        state = "running"
        if self.done():
            error = self.exception()
            state = "completed" if error is None else f"failed ({type(error).__name__})"
        return (
            f"<Transcription {state}: {len(self.recorder)} records, source={self.result.source!r}>"
        )


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None
