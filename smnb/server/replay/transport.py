"""The WebSocket side of a replay: one :class:`ReplaySession` per connection.

The loop waits for the next client frame or for the session's next release
time, whichever comes first, and carries out what the session returns. The
server around it (routes, auth, session limit) is :mod:`smnb.server.app`'s;
a replay server opens no recognizer (:func:`no_engine`).

Must not import: ``smnb.session``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import NoReturn

from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from smnb.clock import Clock, monotonic
from smnb.protocol.messages import encode
from smnb.server.app import CLOSE_GRACE, Engine, EngineFactory
from smnb.server.protocol.actions import Action, Close, Send
from smnb.server.recognizer import RecognizerSettings
from smnb.server.replay.prepare import Replay, ReplaySpec, prepare_replay
from smnb.server.replay.session import ReplaySession

log = logging.getLogger("smnb.server.replay")


class _NoEngine:
    async def open(self, settings: RecognizerSettings) -> NoReturn:
        raise RuntimeError("a replay server has no recognizer")


@asynccontextmanager
async def no_engine() -> AsyncIterator[Engine]:
    """The engine of a replay server: none (no worker processes are started)."""
    yield _NoEngine()


def replay_server(
    spec: ReplaySpec,
) -> tuple[EngineFactory, Callable[[ServerConnection], ReplayConnection]]:
    """What :func:`smnb.server.app.serve` needs to replay ``spec``: its engine factory
    (none) and the driver of each connection.

    Raises:
        ConfigError: the recording (or its audio) cannot be replayed.
    """
    replay = prepare_replay(spec)
    return no_engine, lambda ws: ReplayConnection(ws, replay)


class ReplayConnection:
    """Drives one :class:`ReplaySession` over one WebSocket."""

    def __init__(self, ws: ServerConnection, replay: Replay, *, clock: Clock = monotonic) -> None:
        self.ws = ws
        self.session = ReplaySession(replay)
        self.clock = clock

    async def run(self) -> None:
        session = self.session
        try:
            if not await self.execute(session.opened()):
                return
            while True:
                try:
                    async with asyncio.timeout(self._wait()):
                        frame = await self.ws.recv()
                except TimeoutError:
                    if session.finished:
                        await self.ws.close(1000, "EndOfTranscript sent")
                        return
                    actions = session.tick(self.clock())
                else:
                    actions = await self._receive(frame)
                if not await self.execute(actions):
                    return
        except ConnectionClosed as exc:
            if not session.finished:
                log.info("replay of %s: client left (%s)", session.recording.name, exc)

    def _wait(self) -> float | None:
        """Seconds until something is due without a client frame (None: nothing is)."""
        if self.session.finished:
            return CLOSE_GRACE
        due = self.session.next_release()
        return None if due is None else max(due - self.clock(), 0.0)

    async def _receive(self, frame: str | bytes) -> list[Action]:
        try:
            if isinstance(frame, bytes):
                return self.session.receive_binary(frame, self.clock())
            return self.session.receive_text(frame, self.clock())
        except Exception as exc:  # a bug here must cost this session only
            log.exception("replay of %s: internal error", self.session.recording.name)
            return self.session.fail("unknown_error", f"internal error: {exc}")

    async def execute(self, actions: list[Action]) -> bool:
        """Carry out ``actions`` in order; False once the socket is closed."""
        for action in actions:
            if isinstance(action, Send):
                await self.ws.send(encode(action.message))
            elif isinstance(action, Close):
                if self.session.error is not None:
                    log.info(
                        "replay of %s: %s: %s", self.session.recording.name, *self.session.error
                    )
                await self.ws.close(action.code, action.reason)
                return False
        return True

    async def release(self) -> None:
        """Nothing to release: a replay holds no recognizer."""
