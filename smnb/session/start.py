"""Background sessions: :func:`start` and its handle, :class:`Transcription`.

``start(...)`` checks the settings and the audio, then returns at once; the session
runs as a background task on the running loop (a notebook), or on a private
event-loop thread (:class:`~smnb.session.sync.LoopThread`) when there is none. Its
``result`` fills up live; ``stop()``, ``cancel()``, ``wait()`` and ``await`` control it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Generator, Mapping, Sequence
from contextlib import suppress
from os import PathLike
from typing import Any, Literal

from smnb.audio import DEFAULT_CHUNK_SECONDS, DEFAULT_MAX_UNACKED, Pace
from smnb.auth import ApiKey
from smnb.clock import Clock
from smnb.exceptions import SessionCancelled
from smnb.recorder import Recorder
from smnb.result import Result
from smnb.session.options import DEFAULT_TIMEOUT, SessionOptions, options_from_keywords
from smnb.session.prepare import PreparedSession, prepare
from smnb.session.sync import LoopThread

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

__all__ = ["Transcription", "start"]

_RUNNING: set[asyncio.Task[Result]] = set()
"""Background sessions started by :func:`start` that have not finished yet."""


def start(
    source: Any,
    *,
    options: SessionOptions | None = None,
    language: str = "en",
    enable_partials: bool = True,
    max_delay: float | None = None,
    max_delay_mode: Literal["fixed", "flexible"] | None = None,
    diarization: Literal["none", "speaker", "channel", "channel_and_speaker"] | None = None,
    speaker_diarization_config: Mapping[str, Any] | None = None,
    channel_diarization_labels: Sequence[str] | None = None,
    conversation_config: Mapping[str, Any] | None = None,
    additional_vocab: Sequence[str | Mapping[str, Any]] | None = None,
    model: str | None = None,
    operating_point: str | None = None,
    domain: str | None = None,
    language_hints: Sequence[str] | None = None,
    output_locale: str | None = None,
    enable_entities: bool | None = None,
    punctuation_overrides: Mapping[str, Any] | None = None,
    audio_filtering_config: Mapping[str, Any] | None = None,
    transcript_filtering_config: Mapping[str, Any] | None = None,
    streaming_mode: bool | None = None,
    ctrl: Mapping[str, Any] | None = None,
    translation_config: Mapping[str, Any] | None = None,
    audio_events_config: Mapping[str, Any] | None = None,
    url: str | None = None,
    api_key: str | ApiKey | None = None,
    temp_key: bool | int = False,
    pace: Pace = "realtime",
    chunk_seconds: float = DEFAULT_CHUNK_SECONDS,
    out: str | PathLike[str] | None = None,
    clock: Clock | None = None,
    timeout: float | None = DEFAULT_TIMEOUT,
    max_unacked: int = DEFAULT_MAX_UNACKED,
    audio_format: Literal["raw", "file"] = "raw",
    sample_rate: int | None = None,
    encoding: Literal["pcm_s16le", "pcm_f32le", "mulaw"] = "pcm_s16le",
    live: bool = False,
    reconnect: bool | int = True,
) -> Transcription:
    """Start a session in the background and return its handle at once.

    On a running event loop (a notebook) the session is a task on that loop;
    otherwise it runs on a private event-loop thread. Settings and audio are
    checked before this returns. Same keyword-only settings as :func:`smnb.transcribe`.
    """
    keywords = dict(locals())  # exactly the parameters: nothing is assigned before this
    del keywords["source"], keywords["options"]
    return start_prepared(prepare(source, options_from_keywords(options, keywords)))


def start_prepared(session: PreparedSession) -> Transcription:
    """Run an already prepared session in the background (see :func:`start`)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return Transcription(session, LoopThread(session.run, name="smnb-session"))
    task = loop.create_task(session.run(), name="smnb-session")
    # The loop keeps only weak references to tasks: hold it until it ends, even if
    # the caller drops the handle (``smnb.start(...)`` without an assignment).
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return Transcription(session, task)


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
        self, session: PreparedSession, runner: asyncio.Task[Result] | LoopThread[Result]
    ) -> None:
        self._session = session
        self._task = runner if isinstance(runner, asyncio.Task) else None
        self._thread = runner if isinstance(runner, LoopThread) else None
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
