"""The asyncio transport: one RT v2 session over a WebSocket, as a thin loop.

Every protocol decision lives in :class:`~smnb.protocol.session.ClientSession`;
this module only moves frames. :class:`SessionRunner` opens the connection,
sends ``StartRecognition``, then runs three tasks in one ``TaskGroup``:

- the receiver time-stamps each frame the moment it is read (before parsing),
  feeds it to the session and appends it to the recorder;
- the audio pump waits for ``RecognitionStarted``, then sends each chunk when
  the pacer and the unacknowledged window allow, recording its sequence
  number, audio span, scheduled and actual send time, and ends the stream;
- the watchdog fails the session with :class:`~smnb.exceptions.SessionTimeout`
  when the server owes us something (``RecognitionStarted``, acks, finals) and
  has sent nothing for ``timeout`` seconds.

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
import base64
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from smnb._version import __version__
from smnb.audio.pacing import DEFAULT_MAX_UNACKED, AckWindow, Pace, Pacer, Sleep
from smnb.audio.sources import AudioSource, Chunk
from smnb.exceptions import (
    AudioError,
    ConfigError,
    ProtocolError,
    SessionCancelled,
    SessionError,
    SessionTimeout,
    SmnbError,
)
from smnb.protocol import messages as m
from smnb.protocol.messages import Message, ServerMessage
from smnb.protocol.session import ClientSession, SessionState
from smnb.recorder import Recorder
from smnb.recorder.records import OUTCOME, PROBLEM
from smnb.recorder.sanitize import redact_url, scrub_text
from smnb.session.connect import open_connection
from smnb.session.options import DEFAULT_TIMEOUT

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

_ACKS = frozenset({ServerMessage.AUDIO_ADDED.value, ServerMessage.CHANNEL_AUDIO_ADDED.value})
_STARTED = ServerMessage.RECOGNITION_STARTED.value
_WARNING = ServerMessage.WARNING.value
_INFO = ServerMessage.INFO.value

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
    ) -> None:
        self.url = url
        self.source = source
        self.recorder = recorder
        self.pace = pace
        self.timeout = timeout
        self.sleep = sleep
        self.result = recorder if result is None else result
        channels = getattr(source, "channels", None)
        self.session = ClientSession(start_message, channels=list(channels) if channels else None)
        self.window = AckWindow(max_unacked)
        self._headers = dict(headers or {})
        self._note = dict(note or {})
        self._started = asyncio.Event()
        self.stop_requested = False
        self.outcome: BaseException | None = None
        """The error that ended the session (recorded once), or None."""
        self._progress = 0.0

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
            ConnectionLost: the connection failed or closed before ``EndOfTranscript``.
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
            self._end(error)
            raise error
        return self.session

    async def _session(self) -> None:
        if self.url is None:
            raise ConfigError("no URL to connect to")
        self.recorder.record_meta("Session", self._session_note())
        await self._connect_and_stream()

    async def _connect_and_stream(self) -> None:
        assert self.url is not None
        ws = await open_connection(self.url, self._headers, timeout=self.timeout)
        try:
            self._progress = asyncio.get_running_loop().time()
            await self._send_json(ws, self.session.start())
            try:
                async with asyncio.TaskGroup() as tg:
                    pump = tg.create_task(self._pump(ws), name="smnb-audio")
                    watchdog = tg.create_task(self._watchdog(), name="smnb-watchdog")
                    await self._receive(ws)
                    pump.cancel()
                    watchdog.cancel()
            except BaseExceptionGroup as group:
                error = _primary(group)
                raise error from error.__cause__
        finally:
            await ws.close()
            self.recorder.record_meta(
                "Closed", {"code": ws.close_code, "reason": ws.close_reason or ""}
            )

    async def _receive(self, ws: ClientConnection) -> None:
        session, recorder, now = self.session, self.recorder, self.recorder.now
        loop = asyncio.get_running_loop()
        while True:
            try:
                frame = await ws.recv()
            except ConnectionClosed:
                session.receive_closed(ws.close_code, ws.close_reason or "")
                return
            t = now()  # arrival time, before any parsing
            self._progress = loop.time()
            try:
                msg = session.receive_text(frame)
            except ProtocolError as exc:
                # Keep going: one bad frame must not cost the rest of the session. It is
                # a Problem (non-fatal), kept whole: nothing received is lost.
                text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                recorder.record_meta(
                    PROBLEM,
                    {"error": "ProtocolError", "message": scrub_text(str(exc)), "frame": text},
                    t=t,
                )
                continue
            recorder.record_received(msg, t)
            kind = msg["message"]
            if kind in _ACKS:
                self.window.notify()
            elif kind == _STARTED:
                self._started.set()
            elif kind == _WARNING:
                logger.warning("server warning %s: %s", msg.get("type"), msg.get("reason"))
            elif kind == _INFO:
                logger.info("server info %s: %s", msg.get("type"), msg.get("reason"))
            if session.finished:
                return

    async def _pump(self, ws: ClientConnection) -> None:
        await self._started.wait()
        session, recorder = self.session, self.recorder
        pacer = Pacer(
            recorder.now,
            self.pace,
            live=self.source.live,
            origin=recorder.origin,
            sleep=self.sleep,
        )
        loop = asyncio.get_running_loop()

        def unacked() -> int:
            return session.unacked

        chunks = self.source.chunks()
        try:
            while True:  # a stopped source ends its own iteration (see request_stop)
                chunk = await _next_chunk(chunks)
                if chunk is None:
                    break
                await self.window.room(unacked)
                scheduled = await pacer.wait(chunk)
                if session.state is not SessionState.STREAMING:
                    return
                if not session.unacked:
                    self._progress = loop.time()  # the server owes us an ack from now
                await self._send_chunk(ws, chunk, scheduled)
            if session.state is SessionState.STREAMING:
                self._progress = loop.time()
                if session.channels:
                    for label in session.channels:
                        await self._send_json(ws, session.end_channel(label))
                else:
                    await self._send_json(ws, session.end_stream())
        except ConnectionClosed:
            return  # the receiver sees the close and fails the session
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:  # release the source (file handle, device) now, not at GC
                await aclose()

    async def _send_chunk(self, ws: ClientConnection, chunk: Chunk, scheduled: float) -> None:
        session, recorder = self.session, self.recorder
        nbytes = len(chunk.data)
        if chunk.channel is None:
            seq = session.audio_sent()
            recorder.record_audio(
                seq, nbytes, chunk.audio_start, chunk.audio_end, scheduled_t=scheduled
            )
            await ws.send(chunk.data)
        else:
            msg, seq = session.channel_audio(chunk.channel, base64.b64encode(chunk.data).decode())
            recorder.record_audio(
                seq,
                nbytes,
                chunk.audio_start,
                chunk.audio_end,
                scheduled_t=scheduled,
                channel=chunk.channel,
            )
            await ws.send(m.encode(msg))

    async def _send_json(self, ws: ClientConnection, msg: Message) -> None:
        self.recorder.record_sent(msg)
        await ws.send(m.encode(msg))

    async def _watchdog(self) -> None:
        timeout = self.timeout
        if timeout is None:
            return
        loop = asyncio.get_running_loop()
        while True:
            remaining = self._progress + timeout - loop.time()
            if remaining > 0:
                await asyncio.sleep(remaining)
                continue
            owed = self._owed()
            if owed:
                raise SessionTimeout(
                    f"the server sent nothing for {timeout:g} s while we waited for {owed}"
                )
            self._progress = loop.time()

    def _owed(self) -> str:
        """What the server owes us now ('' if nothing)."""
        state = self.session.state
        if state is SessionState.STARTING:
            return "RecognitionStarted"
        if state is SessionState.ENDING:
            return "EndOfTranscript"
        if self.session.unacked:
            return f"{self.session.unacked} audio acknowledgements"
        return ""

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


async def _next_chunk(chunks: AsyncIterator[Chunk]) -> Chunk | None:
    """The source's next chunk, ``None`` at its end; a failing source is an AudioError."""
    try:
        chunk: Chunk = await anext(chunks)
    except StopAsyncIteration:
        return None
    except (SmnbError, asyncio.CancelledError):
        raise
    except Exception as exc:
        raise AudioError(f"the audio source failed: {exc}") from exc
    return chunk


def _primary(group: BaseExceptionGroup[Any]) -> BaseException:
    """The exception that ended a task group: smnb's own first, then anything else."""
    leaves: list[BaseException] = []
    stack: list[BaseException] = [group]
    while stack:
        exc = stack.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            stack.extend(exc.exceptions)
        else:
            leaves.append(exc)
    for exc in leaves:
        if isinstance(exc, SmnbError):
            return exc
    return leaves[0]
