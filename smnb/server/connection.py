"""One WebSocket connection driving one :class:`~smnb.server.protocol.session.ServerSession`.

The loop reads a frame, hands it to the session and carries out the actions it returns
(sending messages, running recognizer commands in the engine's worker processes), then
reads the next. Reading the next frame only after the last one is decoded is the
backpressure a client sending faster than real time meets. Around that loop:

* **Limits** (:mod:`~smnb.server.protocol.limits`): each read waits at most until the
  next limit is due, so an idle or silent client gets its ``Warning`` and then
  ``Error idle_timeout`` / ``session_timeout`` (close 1008) on time. The server pings
  the client itself and counts every pong as traffic.
* **The loop stays free**: frames that are big, or that carry a container to decode, are
  decoded in a thread, so other sessions' messages keep flowing while one session
  decodes 16 MiB. Sends give up on a client that stops reading, instead of waiting on it.
* **Capacity**: when the engine has no recognizer to give, the session gets
  ``Error quota_exceeded`` (close 4005) at once, with a reason that says so. A session's
  recognizers go back to the engine before its ``EndOfTranscript`` (or ``Error``) is sent,
  so the client's next session finds them free. A client that drops its socket leaves
  its connection :attr:`~Connection.departing` until the command in flight is done and
  the recognizers are back (:attr:`~Connection.released`); the server's admission waits
  for that rather than refuse a client that reconnects at once.
* **Shutdown**: :meth:`Connection.shutdown` closes with 1001 and a reason saying the
  server is shutting down.

Must not import the client (``smnb.session``).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, Protocol

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from smnb.exceptions import EngineAtCapacity
from smnb.protocol.messages import ErrorType, encode
from smnb.server.protocol.actions import (
    Action,
    Close,
    EngineCommand,
    Feed,
    Finish,
    ForceEnd,
    OpenChannels,
    QuerySpeakers,
    Reconfigure,
    Send,
)
from smnb.server.protocol.limits import LimitClock, Limits
from smnb.server.protocol.session import ServerSession
from smnb.server.recognizer import MaxDelayMode, RecognizerSettings, Update

log = logging.getLogger("smnb.server")

CLOSE_GRACE = 10.0
"""Seconds the client gets to close after ``EndOfTranscript`` before the server does."""

OPEN_TIMEOUT = 60.0
"""Seconds to wait for the engine to open a recognizer before refusing the session."""

PING_INTERVAL = 20.0
"""Seconds between the server's pings (as the official clients' 20 s default)."""

INLINE_FRAME_BYTES = 64 * 1024
"""Frames up to this size are decoded on the loop (a 0.1 s chunk takes microseconds);
bigger ones, and anything in a container, are decoded in a thread."""

SHUTDOWN_REASON = "the server is shutting down"


class RecognizerHandle(Protocol):
    """One recognizer living in the engine (a worker process)."""

    async def feed(self, pcm: bytes) -> Update: ...
    async def force_end_of_utterance(self) -> Update: ...
    async def finish(self) -> Update: ...
    async def speakers(self) -> dict[str, list[str]]: ...
    async def reconfigure(self, max_delay: float, max_delay_mode: MaxDelayMode) -> None: ...
    async def close(self) -> None: ...


class Engine(Protocol):
    """Opens recognizers (:class:`smnb.server.engine.pool.EnginePool`).

    An engine may also tell its ``capacity`` and how many recognizers are ``in_use``
    (the server then refuses connections it cannot serve), and raises
    :class:`~smnb.exceptions.EngineAtCapacity` from :meth:`open` when it is full.
    """

    async def open(self, settings: RecognizerSettings) -> RecognizerHandle: ...


def at_capacity(engine: Engine) -> str | None:
    """Why ``engine`` cannot take another session now (None if it can, or cannot tell)."""
    capacity, in_use = getattr(engine, "capacity", None), getattr(engine, "in_use", None)
    if isinstance(capacity, int) and isinstance(in_use, int) and in_use >= capacity:
        return (
            f"the server is at capacity: {in_use} of {capacity} real-time sessions in use; "
            "try again when one has ended"
        )
    return None


async def close_draining(ws: ServerConnection, code: int, reason: str) -> None:
    """Close, reading (and dropping) whatever the client still sends meanwhile: frames
    nobody reads would fill the receive queue, websockets would stop reading, and the
    client's answer to the close would wait behind them until the close times out."""

    async def drain() -> None:
        with suppress(ConnectionClosed):
            while True:
                await ws.recv()

    drainer = asyncio.create_task(drain())
    try:
        await ws.close(code, reason)
    finally:
        drainer.cancel()
        with suppress(asyncio.CancelledError):
            await drainer


class Connection:
    """Drives one :class:`ServerSession` over one WebSocket; see the module docstring."""

    def __init__(
        self, ws: ServerConnection, session: ServerSession, engine: Engine, limits: Limits
    ) -> None:
        self.ws = ws
        self.session = session
        self.engine = engine
        self.limits = limits
        self.handles: dict[str | None, RecognizerHandle] = {}
        loop = asyncio.get_running_loop()
        self._now: Callable[[], float] = loop.time
        self.clock = LimitClock(limits, self._now())
        self._shutting_down = False
        self.released = asyncio.Event()
        """Set once this connection holds no recognizer any more (it never takes one again)."""

    @property
    def departing(self) -> bool:
        """The client has gone, but a command in flight still holds its recognizers."""
        return bool(self.handles) and self.ws.state is not State.OPEN

    async def run(self) -> None:
        keepalive = asyncio.create_task(self._keepalive())
        try:
            if await self.execute(self.session.opened()):
                await self._serve()
        except ConnectionClosed as exc:
            if not self.session.finished and not self._shutting_down:
                log.info("session %s: client left (%s)", self.session.session_id, exc)
        finally:
            keepalive.cancel()
            with suppress(asyncio.CancelledError):
                await keepalive

    async def _serve(self) -> None:
        finished_at: float | None = None
        while True:
            session = self.session
            if session.finished and finished_at is None:
                finished_at = self._now()
            deadline = self.clock.next_due()
            if finished_at is not None:
                deadline = min(deadline, finished_at + CLOSE_GRACE)
            try:
                async with asyncio.timeout_at(deadline):
                    frame = await self.ws.recv()
            except TimeoutError:
                if finished_at is not None and self._now() >= finished_at + CLOSE_GRACE:
                    await close_draining(self.ws, 1000, "EndOfTranscript sent")
                    return
                if not await self.execute(self._limits_due()):
                    return
                continue
            before = session.audio_frames
            actions = await self.receive(frame)
            now = self._now()
            self.clock.traffic(now)
            if session.audio_frames != before:
                self.clock.audio(now)
            self.clock.audio_expected = not session.stream_ended
            if not await self.execute(actions):
                return
            await asyncio.sleep(0)  # queued frames must not let one session hold the loop

    def _limits_due(self) -> list[Action]:
        warnings, expired = self.clock.due(self._now())
        actions: list[Action] = [Send(w) for w in warnings]
        if expired is not None:
            actions += self.session.fail(expired.error_type, expired.reason)
        return actions

    async def _keepalive(self) -> None:
        """Ping the client; each pong is traffic (the client is there, if silent)."""
        interval = min(PING_INTERVAL, self.limits.no_traffic_timeout / 3)
        with suppress(ConnectionClosed):
            while True:
                await asyncio.sleep(interval)
                pong = await self.ws.ping()
                with suppress(TimeoutError):
                    async with asyncio.timeout(interval):
                        await pong
                        self.clock.traffic(self._now())

    async def receive(self, frame: str | bytes) -> list[Action]:
        session = self.session
        step: Callable[[Any], list[Action]] = (
            session.receive_binary if isinstance(frame, bytes) else session.receive_text
        )
        if session.file_audio or len(frame) > INLINE_FRAME_BYTES:
            return await asyncio.to_thread(self._guard, step, frame)
        return self._guard(step, frame)

    def _guard(self, step: Callable[..., list[Action]], *args: Any) -> list[Action]:
        """Run a session step; a bug in it must cost this session only."""
        try:
            return step(*args)
        except Exception as exc:
            log.exception("session %s: internal error", self.session.session_id)
            return self.session.fail(ErrorType.UNKNOWN_ERROR, f"internal error: {exc}")

    async def execute(self, actions: list[Action]) -> bool:
        """Carry out ``actions`` in order; False once the socket is closed."""
        queue: deque[Action] = deque(actions)
        while queue:
            action = queue.popleft()
            if self.session.finished and self.handles:
                # Free the recognizers before the client hears that the session ended: a
                # client that starts its next session at once must not find them still busy.
                await self.release()
            if isinstance(action, Send):
                await self._send(encode(action.message))
                continue
            if isinstance(action, Close):
                if self.session.error is not None:
                    log.info("session %s: %s: %s", self.session.session_id, *self.session.error)
                await close_draining(self.ws, action.code, action.reason)
                return False
            if self.ws.state is not State.OPEN:
                return False  # the client has gone: decode nothing more for it
            try:
                result = await self.command(action)
            except Exception as exc:
                follow = self._engine_failed(exc)
            else:
                follow = self._guard(self.session.engine_done, action, result)
            queue.extendleft(reversed(follow))
        return True

    async def _send(self, text: str) -> None:
        """Send, but not forever: a client that stops reading is cut off."""
        try:
            async with asyncio.timeout(self.limits.no_traffic_timeout):
                await self.ws.send(text)
        except TimeoutError:
            log.info("session %s: the client stopped reading; closing", self.session.session_id)
            self.ws.transport.abort()
            raise ConnectionClosed(None, None) from None

    def _engine_failed(self, exc: Exception) -> list[Action]:
        if isinstance(exc, EngineAtCapacity):
            return self.session.fail(ErrorType.QUOTA_EXCEEDED, str(exc))
        if isinstance(exc, TimeoutError):
            return self.session.fail(
                ErrorType.QUOTA_EXCEEDED,
                f"the server is at capacity: no recognizer became free within {OPEN_TIMEOUT:g} s",
            )
        log.warning("session %s: engine command failed: %s", self.session.session_id, exc)
        return self.session.engine_failed(f"{type(exc).__name__}: {exc}")

    async def command(self, command: EngineCommand) -> Any:
        if isinstance(command, OpenChannels):
            async with asyncio.timeout(OPEN_TIMEOUT):
                for label in command.channels:
                    self.handles[label] = await self.engine.open(command.settings)
            self.clock.audio(self._now())  # no audio could come before: idle from now on
            return None
        if isinstance(command, QuerySpeakers):
            merged: dict[str, list[str]] = {}
            for handle in self.handles.values():
                for label, ids in (await handle.speakers()).items():
                    merged.setdefault(label, []).extend(ids)
            return merged
        handle = self.handles[command.channel]
        if isinstance(command, Reconfigure):
            return await handle.reconfigure(command.max_delay, command.max_delay_mode)
        call: Awaitable[Update]
        if isinstance(command, Feed):
            call = handle.feed(command.samples.astype("<i2").tobytes())
        elif isinstance(command, ForceEnd):
            call = handle.force_end_of_utterance()
        else:
            assert isinstance(command, Finish)
            call = handle.finish()
        return await call

    async def shutdown(self) -> None:
        """The server is stopping: close with 1001 and a reason that says so."""
        self._shutting_down = True
        try:
            async with asyncio.timeout(5):
                await self.ws.close(1001, SHUTDOWN_REASON)
        except Exception:
            self.ws.transport.abort()  # no answer in time: the server stops regardless

    async def release(self) -> None:
        """Give the recognizers back to the engine (idempotent)."""
        handles, self.handles = list(self.handles.values()), {}
        for handle in handles:
            with suppress(Exception):
                await handle.close()
        self.released.set()  # called when the session has ended or its client has gone
