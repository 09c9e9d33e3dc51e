"""The local RT v2 server: WebSocket routes, auth and limits around :class:`ServerSession`.

:func:`serve` binds a ``websockets`` server on the running loop and yields its
``ws://HOST:PORT/v2`` URL; :func:`run` is the long-running form the CLI uses.
Each connection is a thin loop: read a frame, give it to the session, carry out
the actions it returns (sending messages, running recognizer commands in the
engine's worker processes), repeat. Reading the next frame only after the last
one is decoded is the backpressure a client sending faster than real time meets.

Handshake rules (what official clients need, rt-protocol §7):

* paths ``/v2``, ``/v2/`` and ``/v2/<lang>`` (the legacy client appends the
  language); anything else gets HTTP 404, and a plain HTTP request (no WebSocket upgrade)
  gets 400, as the API reference lists for a malformed handshake;
* with ``api_key``: ``Authorization: Bearer KEY`` or ``?jwt=KEY``, else HTTP 401;
  without it any credential, or none, is accepted;
* ``sm-*`` query parameters identify the client and are logged; credentials
  never are (:class:`~smnb.recorder.sanitize.RedactingFilter`, the one scrubber).

Must not import the client (``smnb.session``).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import re
import uuid
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from smnb.exceptions import ConfigError
from smnb.protocol.messages import ErrorType, close_code_for, encode
from smnb.recorder.sanitize import RedactingFilter, register_secret
from smnb.server.protocol import start
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
from smnb.server.protocol.session import ServerSession
from smnb.server.recognizer import MaxDelayMode, RecognizerSettings, Update

if TYPE_CHECKING:
    from smnb.server.replay import ReplaySpec
    from smnb.server.replay.transport import ReplayConnection

log = logging.getLogger("smnb.server")

MAX_FRAME_BYTES = 16 * 2**20
"""Largest client frame accepted (clients send 4 KiB; a whole file in one frame still fits)."""

CLOSE_GRACE = 10.0
"""Seconds the client gets to close after ``EndOfTranscript`` before the server does."""

OPEN_TIMEOUT = 60.0
"""Seconds to wait for the engine to open a recognizer before failing with ``job_error``."""

_PATH = re.compile(r"^/v2(?:/(?P<lang>[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)?)?/?$")


class RecognizerHandle(Protocol):
    """One recognizer living in the engine (a worker process)."""

    async def feed(self, pcm: bytes) -> Update: ...
    async def force_end_of_utterance(self) -> Update: ...
    async def finish(self) -> Update: ...
    async def speakers(self) -> dict[str, list[str]]: ...
    async def reconfigure(self, max_delay: float, max_delay_mode: MaxDelayMode) -> None: ...
    async def close(self) -> None: ...


class Engine(Protocol):
    """Opens recognizers (:class:`smnb.server.engine.pool.EnginePool`)."""

    async def open(self, settings: RecognizerSettings) -> RecognizerHandle: ...


EngineFactory = Callable[[], AbstractAsyncContextManager[Engine]]


def default_engine_factory() -> AbstractAsyncContextManager[Engine]:
    """The pocketsphinx engine pool with its default worker count."""
    from smnb.server.engine.pool import EnginePool

    pool: AbstractAsyncContextManager[Engine] = EnginePool()
    return pool


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@asynccontextmanager
async def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    api_key: str | None = None,
    max_sessions: int | None = None,
    allow_remote: bool = False,
    engine_factory: EngineFactory | None = None,
    replay: ReplaySpec | None = None,
) -> AsyncIterator[str]:
    """Run the RT v2 server on the current loop; yields ``ws://HOST:PORT/v2``.

    ``port=0`` picks a free port. A host other than loopback without ``api_key``
    needs ``allow_remote=True`` (anyone who can reach it could use it).
    ``replay`` (a recording's path, or a :class:`smnb.server.replay.Replay`)
    serves that recorded session to every client instead of recognizing
    (:mod:`smnb.server.replay`); no recognizer is started.

    Raises:
        ConfigError: a non-loopback host without ``api_key`` or ``allow_remote``,
            or ``max_sessions`` below 1.
    """
    if not is_loopback(host) and api_key is None:
        if not allow_remote:
            raise ConfigError(
                f"host {host!r} is reachable from other machines; set an api_key "
                "or allow_remote=True (--allow-remote) to serve it without one"
            )
        log.warning("serving on %s without an API key: anyone who can reach it may use it", host)
    if max_sessions is not None and max_sessions < 1:
        raise ConfigError(f"max_sessions must be at least 1, not {max_sessions}")
    register_secret(api_key)  # never logged, whatever characters it holds
    factory = engine_factory or default_engine_factory
    if replay is not None:  # a bad recording fails here, before anything listens
        from smnb.server.replay.transport import replay_server

        factory, connect = replay_server(replay)
    async with factory() as engine:
        server = _Server(engine, api_key=api_key, max_sessions=max_sessions)
        if replay is not None:
            server.connect = connect
        async with ws_serve(
            server.handle,
            host,
            port,
            process_request=server.check_request,
            max_size=MAX_FRAME_BYTES,
            ping_interval=20,
            ping_timeout=60,  # as the official clients: a busy peer is not a dead one
            logger=_wire_logger(),
        ) as ws_server:
            bound = ws_server.sockets[0].getsockname()[1]
            shown = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host
            shown = f"[{shown}]" if ":" in shown else shown
            url = f"ws://{shown}:{bound}/v2"
            log.info("RT v2 server listening on %s", url)
            try:
                yield url
            finally:
                ws_server.close()
                await ws_server.wait_closed()


async def run(
    host: str = "127.0.0.1",
    port: int = 9000,
    *,
    api_key: str | None = None,
    max_sessions: int | None = None,
    allow_remote: bool = False,
    ready: Callable[[str], None] | None = None,
    stop: asyncio.Event | None = None,
    engine_factory: EngineFactory | None = None,
    replay: ReplaySpec | None = None,
) -> None:
    """Serve until ``stop`` is set (forever without one); ``ready(url)`` once listening."""
    async with serve(
        host,
        port,
        api_key=api_key,
        max_sessions=max_sessions,
        allow_remote=allow_remote,
        engine_factory=engine_factory,
        replay=replay,
    ) as url:
        if ready is not None:
            ready(url)
        await (stop or asyncio.Event()).wait()


class _Server:
    """Shared state of one listening server: the engine, credentials, session count."""

    def __init__(self, engine: Engine, *, api_key: str | None, max_sessions: int | None) -> None:
        self.engine = engine
        self.api_key = api_key
        self.max_sessions = max_sessions
        self.active = 0
        self.connect: Callable[[ServerConnection], ReplayConnection] | None = None
        """Set by a replay server: makes each connection's driver instead of a session."""

    def check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Route and authenticate the upgrade request (404 / 401, or go ahead)."""
        url = urlsplit(request.path)
        if _PATH.match(url.path) is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found: use /v2\n")
        if "websocket" not in request.headers.get("Upgrade", "").lower():  # docs: malformed → 400
            return connection.respond(HTTPStatus.BAD_REQUEST, "Bad Request: RT v2 is a WebSocket\n")
        query = dict(parse_qsl(url.query))
        client = {k: v for k, v in query.items() if k.startswith("sm-")}
        if client:
            log.info("client %s", " ".join(f"{k}={v}" for k, v in sorted(client.items())))
        if self.api_key is None:
            return None  # anything goes, including "Bearer None" from speechmatics-rt
        header = request.headers.get("Authorization", "")
        offered = header[7:] if header.startswith("Bearer ") else query.get("jwt", "")
        if offered and hmac.compare_digest(offered.encode(), self.api_key.encode()):
            return None
        return connection.respond(HTTPStatus.UNAUTHORIZED, "Unauthorized: API key required\n")

    async def handle(self, ws: ServerConnection) -> None:
        """One connection, from handshake to close."""
        if self.max_sessions is not None and self.active >= self.max_sessions:
            reason = f"{self.active} concurrent sessions active out of quota {self.max_sessions}"
            with suppress(ConnectionClosed):
                await ws.send(encode(start.error(ErrorType.QUOTA_EXCEEDED, reason)))
                await ws.close(close_code_for(ErrorType.QUOTA_EXCEEDED), "quota_exceeded")
            return
        self.active += 1
        match = _PATH.match(urlsplit(ws.request.path if ws.request else "").path)
        session = ServerSession(
            str(uuid.uuid4()),
            path_language=match.group("lang") if match else None,
            usage=self.active,
            quota=self.max_sessions,
        )
        connection: _Connection | ReplayConnection = (
            _Connection(ws, session, self.engine) if self.connect is None else self.connect(ws)
        )
        try:
            await connection.run()
        finally:
            self.active -= 1
            await connection.release()


class _Connection:
    """Drives one :class:`ServerSession` over one WebSocket."""

    def __init__(self, ws: ServerConnection, session: ServerSession, engine: Engine) -> None:
        self.ws = ws
        self.session = session
        self.engine = engine
        self.handles: dict[str | None, RecognizerHandle] = {}

    async def run(self) -> None:
        try:
            if not await self.execute(self.session.opened()):
                return
            while True:
                try:
                    async with asyncio.timeout(CLOSE_GRACE if self.session.finished else None):
                        frame = await self.ws.recv()
                except TimeoutError:
                    await self.ws.close(1000, "EndOfTranscript sent")
                    return
                if not await self.execute(await self.receive(frame)):
                    return
        except ConnectionClosed as exc:
            if not self.session.finished:
                log.info("session %s: client left (%s)", self.session.session_id, exc)

    async def receive(self, frame: str | bytes) -> list[Action]:
        session = self.session
        step: Callable[[Any], list[Action]] = (
            session.receive_binary if isinstance(frame, bytes) else session.receive_text
        )
        if session.file_audio:  # container decoding can take a while: keep the loop free
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
            if isinstance(action, Send):
                await self.ws.send(encode(action.message))
                continue
            if isinstance(action, Close):
                if self.session.error is not None:
                    log.info("session %s: %s: %s", self.session.session_id, *self.session.error)
                await self.ws.close(action.code, action.reason)
                return False
            try:
                result = await self.command(action)
            except Exception as exc:
                log.exception("session %s: engine command failed", self.session.session_id)
                follow = self.session.engine_failed(f"{type(exc).__name__}: {exc}")
            else:
                follow = self._guard(self.session.engine_done, action, result)
            queue.extendleft(reversed(follow))
        return True

    async def command(self, command: EngineCommand) -> Any:
        if isinstance(command, OpenChannels):
            async with asyncio.timeout(OPEN_TIMEOUT):
                for label in command.channels:
                    self.handles[label] = await self.engine.open(command.settings)
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

    async def release(self) -> None:
        for handle in self.handles.values():
            with suppress(Exception):
                await handle.close()
        self.handles.clear()


def _wire_logger() -> logging.Logger:
    logger = logging.getLogger("smnb.server.websockets")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
