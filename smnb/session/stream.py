"""One connection of a session: ``StartRecognition``, then three tasks in one ``TaskGroup``.

- the receiver time-stamps each frame the moment it is read (before parsing),
  feeds it to the connection's :class:`~smnb.protocol.session.ClientSession` and
  appends it to the recorder;
- the audio pump waits for ``RecognitionStarted``, then sends each chunk when the
  pacer and the unacknowledged window allow, recording its sequence number, audio
  span, scheduled and actual send time, and ends the stream;
- the watchdog fails the session with :class:`~smnb.exceptions.SessionTimeout`
  when the server owes us something (``RecognitionStarted``, acks, finals) and has
  sent nothing for ``timeout`` seconds.

A :class:`Connection` ends when the server ends the session or the socket closes;
the :class:`~smnb.session.transport.SessionRunner` that made it decides what
happens next (the outcome, or a new connection). Must not import: pandas, widgets,
:mod:`smnb.tables`, :mod:`smnb.result`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from smnb.audio.sources import Chunk
from smnb.exceptions import ProtocolError, SessionTimeout, SmnbError
from smnb.protocol import messages as m
from smnb.protocol.messages import Message, ServerMessage
from smnb.protocol.session import SessionState
from smnb.recorder.records import PROBLEM
from smnb.recorder.sanitize import one_line
from smnb.session.resume import final_end

if TYPE_CHECKING:
    from smnb.session.transport import SessionRunner

logger = logging.getLogger("smnb.session.transport")  # one logger for the session's I/O

_ACKS = frozenset({ServerMessage.AUDIO_ADDED.value, ServerMessage.CHANNEL_AUDIO_ADDED.value})
_STARTED = ServerMessage.RECOGNITION_STARTED.value
_FINAL = ServerMessage.ADD_TRANSCRIPT.value
_WARNING = ServerMessage.WARNING.value
_INFO = ServerMessage.INFO.value

__all__ = ["Connection"]


class Connection:
    """One WebSocket of ``runner``'s session, numbered ``index`` (0 for the first)."""

    def __init__(self, runner: SessionRunner, ws: ClientConnection, index: int) -> None:
        self.runner = runner
        self.ws = ws
        self.index = index
        self.session = runner.session
        self.started = asyncio.Event()
        self._progress = 0.0

    async def run(self) -> None:
        """Start the recognition and move frames until the session or the socket ends."""
        self._progress = asyncio.get_running_loop().time()
        # A server that answers and closes at once (at capacity): the receiver reads why.
        with contextlib.suppress(ConnectionClosed):
            await self._send_json(self.session.start())
        try:
            async with asyncio.TaskGroup() as tg:
                pump = tg.create_task(self._pump(), name="smnb-audio")
                watchdog = tg.create_task(self._watchdog(), name="smnb-watchdog")
                await self._receive()
                pump.cancel()
                watchdog.cancel()
        except BaseExceptionGroup as group:
            error = _primary(group)
            raise error from error.__cause__

    # --- receiving ----------------------------------------------------------------

    async def _receive(self) -> None:
        ws, session, runner = self.ws, self.session, self.runner
        recorder, now = runner.recorder, runner.recorder.now
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
                    {"error": "ProtocolError", "message": one_line(exc), "frame": text},
                    t=t,
                )
                continue
            recorder.record_received(msg, t)
            kind = msg["message"]
            if kind in _ACKS:
                runner.window.notify()
            elif kind == _FINAL:
                self._finalised(msg)
            elif kind == _STARTED:
                runner.resumed(t)
                self.started.set()
            elif kind == _WARNING:
                logger.warning(
                    "server warning %s: %s", one_line(msg.get("type")), one_line(msg.get("reason"))
                )
            elif kind == _INFO:
                logger.info(
                    "server info %s: %s", one_line(msg.get("type")), one_line(msg.get("reason"))
                )
            if session.finished:
                return

    def _finalised(self, msg: Message) -> None:
        # Audio a final covers never needs re-sending after a drop.
        end, audio = final_end(msg), self.runner.audio
        if end is None or audio is None:
            return
        session = self.session
        acked: dict[str | None, int] = {None: session.frames_acked}
        acked.update(session.channel_frames_acked)
        channel = msg.get("channel") if isinstance(msg.get("channel"), str) else None
        audio.finalised(channel, self.runner.offset + end, acked=acked, connection=self.index)

    # --- sending --------------------------------------------------------------------

    async def _pump(self) -> None:
        await self.started.wait()
        session, runner = self.session, self.runner
        audio, pacer = runner.audio_queue(), runner.pacer()
        loop = asyncio.get_running_loop()

        def unacked() -> int:
            return session.unacked

        try:
            while True:  # a stopped source ends its own iteration (see request_stop)
                chunk = await audio.next()
                if chunk is None:
                    break
                await runner.window.room(unacked)
                scheduled = await pacer.wait(chunk)
                if session.state is not SessionState.STREAMING:
                    return
                if not session.unacked:
                    self._progress = loop.time()  # the server owes us an ack from now
                await self._send_chunk(chunk, scheduled)
            if session.state is SessionState.STREAMING:
                self._progress = loop.time()
                if session.channels:
                    for label in session.channels:
                        await self._send_json(session.end_channel(label))
                else:
                    await self._send_json(session.end_stream())
        except ConnectionClosed:
            return  # the receiver sees the close and ends (or resumes) the session

    async def _send_chunk(self, chunk: Chunk, scheduled: float) -> None:
        session, recorder = self.session, self.runner.recorder
        audio = self.runner.audio_queue()
        nbytes = len(chunk.data)
        if chunk.channel is None:
            seq = session.audio_sent()
            recorder.record_audio(
                seq, nbytes, chunk.audio_start, chunk.audio_end, scheduled_t=scheduled
            )
            audio.sent(chunk, connection=self.index, seq=seq)  # kept until a final covers it
            await self.ws.send(chunk.data)
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
            audio.channel_seen(chunk.channel)
            audio.sent(chunk, connection=self.index, seq=seq)
            await self.ws.send(m.encode(msg))

    async def _send_json(self, msg: Message) -> None:
        self.runner.recorder.record_sent(msg)
        await self.ws.send(m.encode(msg))

    # --- the watchdog -------------------------------------------------------------------

    async def _watchdog(self) -> None:
        timeout = self.runner.timeout
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
