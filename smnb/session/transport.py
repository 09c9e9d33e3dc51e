"""The asyncio transport: one RT v2 session over a WebSocket, as a thin loop.

Every protocol decision lives in :class:`~smnb.protocol.session.ClientSession`;
this module only moves frames. :class:`SessionRunner` opens the connection and
runs it (:class:`~smnb.session.stream.Connection`: the receiver, the audio pump
and the watchdog).

A connection that drops mid-stream (an abnormal close or a network error, never
after a server ``Error``) is replaced: the runner reconnects with bounded retries
and backoff (:mod:`smnb.session.resume`), starts a new recognition with the same
``StartRecognition``, re-sends the audio no final covered yet, and records a
``Reconnect`` note (``gap_s``, ``old_session_id``, ``new_session_id``,
``audio_offset``: where the new session's times start on the original audio clock,
which the tables apply). The audio is read from the source by one task for the
whole session, so a drop never cancels the source mid-chunk.

One outcome per session, owned here: whatever ends the session (a server
``Error``, a lost connection, a timeout, a cancel, a failing endpoint or audio
source), the runner records it exactly once as the ``ClientError`` note (after
the ``Closed`` note when a connection existed) and raises it with ``.result``
attached; :attr:`SessionRunner.outcome` holds it. A problem the session survives
(a malformed server frame) is a ``Problem`` note and never ends anything.

Third-party errors become smnb's at the handshake (:mod:`smnb.session.connect`)
and here (a close ends the session as ``ConnectionLost``). Must not import: pandas,
widgets, matplotlib, :mod:`smnb.tables`, :mod:`smnb.result` (it stays light).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from websockets.asyncio.client import ClientConnection

from smnb._version import __version__
from smnb.audio.pacing import DEFAULT_MAX_UNACKED, AckWindow, Pace, Pacer, Sleep
from smnb.audio.sources import AudioSource
from smnb.exceptions import (
    ConfigError,
    ServerError,
    SessionCancelled,
    SessionError,
)
from smnb.protocol.messages import Message
from smnb.protocol.session import ClientSession
from smnb.recorder import Recorder
from smnb.recorder.records import OUTCOME, RECONNECT
from smnb.recorder.sanitize import redact_url, scrub_text
from smnb.session.connect import open_connection
from smnb.session.failures import with_hint
from smnb.session.options import DEFAULT_TIMEOUT, ReconnectPolicy
from smnb.session.resume import AudioQueue, Gap, can_resume, reopen
from smnb.session.stream import Connection

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

__all__ = ["DEFAULT_TIMEOUT", "Endpoint", "SessionRunner"]

Endpoint = Callable[
    [], AbstractAsyncContextManager[tuple[str, Mapping[str, str], Mapping[str, Any]]]
]
"""Opens where the session connects: ``async with endpoint() as (url, headers, note)``.

Entered by :meth:`SessionRunner.run` inside its error handling, so a failure to
start the embedded server or to mint a temporary key is the session's one outcome
too; ``note`` adds fields to the ``Session`` note."""


class SessionRunner:
    """Runs one session from connect to ``EndOfTranscript`` (or failure).

    Args:
        url: ``ws://`` or ``wss://`` endpoint (may carry ``?jwt=``; never recorded);
            ``None`` when :meth:`run` is given an ``endpoint``.
        source: where the audio comes from.
        start_message: the validated ``StartRecognition``.
        recorder: receives every record, in order.
        headers: handshake headers (``Authorization``); never recorded or logged.
        pace: ``"realtime"`` (absolute deadlines) or ``"fast"`` (window-bound).
        max_unacked: frames that may await ``AudioAdded`` at once.
        timeout: seconds the server may stay silent while it owes a message;
            also the connection-open timeout. ``None`` waits forever (checked by
            :class:`~smnb.session.options.SessionOptions`).
        sleep: the pacer's sleep (tests advance a manual clock with it).
        result: attached as ``.result`` to every error raised (the session layer
            passes its :class:`~smnb.result.Result`); defaults to the recorder.
        note: extra fields for the ``Session`` note.
        reconnect: the :class:`~smnb.session.resume.ReconnectPolicy` for dropped
            connections, or ``None`` to end the session on the first drop.
        renew_headers: called before each reconnection for fresh handshake headers
            (a new temporary key); the first ones are reused without it.
    """

    def __init__(
        self,
        url: str | None,
        source: AudioSource,
        start_message: Message,
        recorder: Recorder,
        *,
        headers: Mapping[str, str] | None = None,
        pace: Pace = "realtime",
        max_unacked: int = DEFAULT_MAX_UNACKED,
        timeout: float | None = DEFAULT_TIMEOUT,
        sleep: Sleep = asyncio.sleep,
        result: Any = None,
        note: Mapping[str, Any] | None = None,
        reconnect: ReconnectPolicy | None = ReconnectPolicy(),  # noqa: B008 (frozen)
        renew_headers: Callable[[], Awaitable[Mapping[str, str]]] | None = None,
    ) -> None:
        self.url = url
        self.source = source
        self.recorder = recorder
        self.pace = pace
        self.timeout = timeout
        self.sleep = sleep
        self.result = recorder if result is None else result
        self.start_message = start_message
        channels = getattr(source, "channels", None)
        self._channels = list(channels) if channels else None
        self.session = ClientSession(start_message, channels=self._channels)
        """The protocol state of the current connection (a new one after a reconnect)."""
        self.window = AckWindow(max_unacked)
        self.reconnect = reconnect
        self.renew_headers = renew_headers
        self.reconnections = 0
        """How many times the session moved to a new connection."""
        self.offset = 0.0
        """Where the current connection's audio clock starts on the original one."""
        self._headers = dict(headers or {})
        self._note = dict(note or {})
        self.audio: AudioQueue | None = None
        """The audio between the source and the connections (created on first use)."""
        self._pacer: Pacer | None = None
        self._connection = -1
        self._gap: Gap | None = None  # a reconnection whose new session has not started
        self.stop_requested = False
        self.outcome: BaseException | None = None
        """The error that ended the session (recorded once), or None."""

    # --- control --------------------------------------------------------------

    def request_stop(self) -> None:
        """End the audio early but gracefully (call on the session's loop).

        The source is stopped and ends its chunks; ``EndOfStream`` follows and
        the session still waits for every final and ``EndOfTranscript``.
        """
        self.stop_requested = True
        self.source.stop()

    # --- the session ----------------------------------------------------------

    async def run(self, endpoint: Endpoint | None = None) -> ClientSession:
        """Run the session; returns the finished protocol state.

        Args:
            endpoint: opens the URL to use (and closes it after); without it,
                the ``url`` given to the constructor is used.

        Raises:
            ServerError: the server sent ``Error``.
            ConnectionLost: the connection failed or closed before ``EndOfTranscript``
                (and reconnecting was off, not possible, or failed).
            SessionTimeout: the server stayed silent for ``timeout`` seconds.
            AuthError: the handshake was refused with HTTP 401/403.
            AudioError: the audio source failed mid-stream.
            asyncio.CancelledError: the task was cancelled (recorded first as
                :class:`~smnb.exceptions.SessionCancelled`, kept in :attr:`outcome`).
        """
        try:
            if endpoint is None:
                await self._session()
            else:
                async with endpoint() as (url, headers, note):
                    self.url = url
                    self._headers = dict(headers)
                    self._note.update(note)
                    await self._session()
        except asyncio.CancelledError:
            self._end(SessionCancelled("the session was cancelled"))
            raise
        except Exception as exc:
            self._end(exc)
            raise
        error = self.session.error
        if error is not None:
            if isinstance(error, ServerError):
                error = with_hint(error, self.url)  # at capacity, refused key: what to do
            self._end(error)
            raise error
        return self.session

    async def _session(self) -> None:
        if self.url is None:
            raise ConfigError("no URL to connect to")
        self.recorder.record_meta("Session", self._session_note())
        try:
            ws = await open_connection(self.url, self._headers, timeout=self.timeout)
            await self._connect_and_stream(ws)
            while can_resume(self.session, self.reconnect, self.source, self.reconnections):
                await self._connect_and_stream(await self._reopen())
        finally:
            if self.audio is not None:
                await self.audio.aclose()  # release the source (file, device) now

    async def _connect_and_stream(self, ws: ClientConnection) -> None:
        self._connection += 1
        try:
            await Connection(self, ws, self._connection).run()
        finally:
            await ws.close()
            self.recorder.record_meta(
                "Closed", {"code": ws.close_code, "reason": ws.close_reason or ""}
            )

    # --- reconnecting ---------------------------------------------------------

    async def _reopen(self) -> ClientConnection:
        """A new connection for the dropped session (noted once the new session starts)."""
        assert self.url is not None and self.reconnect is not None
        dropped = self.session
        if self._gap is None:  # a retry of a reconnection that never started adds up
            self._gap = Gap.after(dropped, self.recorder.now())
        self.reconnections += 1
        logger.warning("%s; reconnecting to %s", dropped.error, redact_url(self.url))
        ws, attempts = await reopen(
            self.url,
            self._headers,
            timeout=self.timeout,
            policy=self.reconnect,
            renew=self.renew_headers,
            dropped=dropped.error,
        )
        self._gap.attempts += attempts
        self.session = ClientSession(self.start_message, channels=self._channels)
        return ws

    def resumed(self, t: float) -> None:
        """The new session started: re-queue the audio owed, note the reconnection."""
        gap, self._gap = self._gap, None
        if gap is None:
            return
        offset, resent = self.audio.rewind() if self.audio is not None else (0.0, 0)
        self.offset = offset
        note = gap.note(self.session.session_id, offset, resent, t)
        self.recorder.record_meta(RECONNECT, note, t=t)
        logger.warning(
            "reconnected after %.2f s: session %s goes on from %.2f s of audio",
            note["gap_s"],
            note["new_session_id"],
            offset,
        )

    # --- shared by the connections ------------------------------------------------

    def audio_queue(self) -> AudioQueue:
        """The session's audio queue, created when audio may first flow (a live source
        starts capturing on its first read)."""
        if self.audio is None:
            # Read ahead only what is sent at once: the window at fast pace; at real-time
            # pace (and live) one chunk or two, so a stop ends the audio at once.
            fast = self.pace == "fast" and not self.source.live
            prefetch = self.window.limit if fast else 2
            self.audio = AudioQueue(self.source.chunks(), prefetch=prefetch)
            self.audio.start()
        return self.audio

    def pacer(self) -> Pacer:
        """One pacer for the whole session: deadlines stay absolute across connections."""
        if self._pacer is None:
            self._pacer = Pacer(
                self.recorder.now,
                self.pace,
                live=self.source.live,
                origin=self.recorder.origin,
                sleep=self.sleep,
            )
        return self._pacer

    # --- notes ----------------------------------------------------------------

    def _session_note(self) -> Message:
        source = self.source
        return {
            "url": redact_url(self.url or ""),
            "source": str(getattr(source, "name", type(source).__name__)),
            "pace": "live" if source.live else self.pace,
            "chunk_seconds": source.chunk_seconds,
            "audio_format": dict(source.audio_format),
            "channels": self.session.channels,
            "max_unacked": self.window.limit,
            "timeout": self.timeout,
            "reconnect": self.reconnect is not None,
            "smnb_version": __version__,
            **self._note,
        }

    def _end(self, exc: BaseException) -> None:
        """Record the session's one outcome (only the first error counts)."""
        if isinstance(exc, SessionError) and exc.result is None:
            exc.result = self.result
        if self.outcome is not None:
            return
        self.outcome = exc
        self.recorder.record_meta(
            OUTCOME, {"error": type(exc).__name__, "message": scrub_text(str(exc))}
        )
