"""The local RT v2 server: WebSocket routes, auth, admission and limits around each session.

:func:`serve` binds a ``websockets`` server on the running loop and yields its
``ws://HOST:PORT/v2`` URL; :func:`run` is the long-running form the CLI uses. Each
connection is driven by a :class:`~smnb.server.connection.Connection`.

Handshake rules (what official clients need, rt-protocol §7):

* paths ``/v2``, ``/v2/`` and ``/v2/<lang>`` (the legacy client appends the
  language); anything else gets HTTP 404; a request that is not a WebSocket upgrade
  (a plain GET) gets HTTP 400;
* with ``api_key``: ``Authorization: Bearer KEY`` or ``?jwt=KEY``, else HTTP 401;
  without it any credential, or none, is accepted;
* ``sm-*`` query parameters identify the client and are logged; credentials
  never are (:class:`~smnb.recorder.sanitize.RedactingFilter`, the one scrubber).

Admission: beyond ``max_sessions`` connections, or when the engine has no recognizer
left (its real-time capacity, :mod:`smnb.server.engine.capacity`), a connection gets
``Error quota_exceeded`` and close 4005 at once. Limits: :class:`Limits` (the SaaS's
documented idle, no-traffic and session-length limits, shortened with ``idle_timeout``
and ``max_session_length``). Shutdown closes every session with 1001 and a reason
saying the server is shutting down.

Must not import the client (``smnb.session``).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import os
import re
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection
from websockets.asyncio.server import serve as ws_serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from smnb.exceptions import ConfigError
from smnb.protocol.messages import ErrorType, close_code_for, encode
from smnb.recorder.sanitize import RedactingFilter, register_secret
from smnb.server.connection import (
    CLOSE_GRACE,
    SHUTDOWN_REASON,
    Connection,
    Engine,
    RecognizerHandle,
    at_capacity,
    close_draining,
)
from smnb.server.protocol import start
from smnb.server.protocol.limits import (
    IDLE_TIMEOUT,
    MAX_SESSION_LENGTH,
    NO_TRAFFIC_TIMEOUT,
    Limits,
)
from smnb.server.protocol.session import ServerSession

if TYPE_CHECKING:
    from smnb.server.replay import ReplaySpec
    from smnb.server.replay.transport import ReplayConnection

__all__ = [
    "CLOSE_GRACE",
    "Engine",
    "EngineFactory",
    "Limits",
    "RecognizerHandle",
    "is_loopback",
    "run",
    "serve",
]

log = logging.getLogger("smnb.server")

MAX_FRAME_BYTES = 16 * 2**20
"""Largest client frame accepted (clients send 4 KiB; a whole file in one frame still fits)."""

MAX_QUEUED_FRAMES = 4
"""Frames websockets buffers per connection before it stops reading the socket, so a
client flooding 16 MiB frames is held back by TCP rather than by server memory."""

SHUTDOWN_GRACE = 5.0
"""Seconds sessions get to close when the server stops, before the engine stops."""

DEPARTURE_WAIT = 3.0
"""Seconds a new connection waits, at capacity, for sessions whose clients have just gone
to give their recognizers back (a feed in flight finishes first), before it is refused."""

_PATH = re.compile(r"^/v2(?:/(?P<lang>[A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)?)?/?$")

EngineFactory = Callable[[], AbstractAsyncContextManager[Engine]]


def default_engine_factory() -> AbstractAsyncContextManager[Engine]:
    """The pocketsphinx engine pool, admitting as many sessions as this machine decodes
    in real time, and refusing the rest at once."""
    from smnb.server.engine.pool import EnginePool

    pool: AbstractAsyncContextManager[Engine] = EnginePool(capacity="measure", queue_timeout=0)
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
    idle_timeout: float = IDLE_TIMEOUT,
    max_session_length: float = MAX_SESSION_LENGTH,
    no_traffic_timeout: float = NO_TRAFFIC_TIMEOUT,
    replay: ReplaySpec | None = None,
) -> AsyncIterator[str]:
    """Run the RT v2 server on the current loop; yields ``ws://HOST:PORT/v2``.

    ``port=0`` picks a free port. A host other than loopback without ``api_key``
    needs ``allow_remote=True`` (anyone who can reach it could use it). A session
    without audio for ``idle_timeout`` seconds, without any traffic (audio, messages,
    pongs) for ``no_traffic_timeout``, or lasting ``max_session_length`` is ended with
    the spec's ``Warning`` and ``Error`` (defaults: the SaaS's 1 h, 3 min and 48 h).
    ``replay`` (a recording's path, or a :class:`smnb.server.replay.Replay`)
    serves that recorded session to every client instead of recognizing
    (:mod:`smnb.server.replay`); no recognizer is started.

    Raises:
        ConfigError: a non-loopback host without ``api_key`` or ``allow_remote``,
            ``max_sessions`` below 1, a limit that is not a positive number, or the
            address cannot be listened on (port in use, no such address); the OSError
            is its ``__cause__``.
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
    try:
        limits = Limits(idle_timeout, no_traffic_timeout, max_session_length)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    register_secret(api_key)  # never logged, whatever characters it holds
    factory = engine_factory or default_engine_factory
    if replay is not None:  # a bad recording fails here, before anything listens
        from smnb.server.replay.transport import replay_server

        factory, connect = replay_server(replay)
    async with factory() as engine:
        server = _Server(engine, api_key=api_key, max_sessions=max_sessions, limits=limits)
        if replay is not None:
            server.connect = connect
        try:
            ws_server = await ws_serve(
                server.handle,
                host,
                port,
                process_request=server.check_request,
                max_size=MAX_FRAME_BYTES,
                max_queue=MAX_QUEUED_FRAMES,
                ping_interval=None,  # each connection pings itself and counts pongs as traffic
                logger=_wire_logger(),
            )
        except OSError as exc:  # busy port, no such address, no permission
            where = f"[{host}]" if ":" in host else host
            raise ConfigError(f"cannot listen on {where}:{port}: {_why(exc)}") from exc
        try:
            bound = ws_server.sockets[0].getsockname()[1]
            shown = "127.0.0.1" if host in ("", "0.0.0.0") else "::1" if host == "::" else host
            shown = f"[{shown}]" if ":" in shown else shown
            url = f"ws://{shown}:{bound}/v2"
            log.info("RT v2 server listening on %s", url)
            yield url
        finally:
            await server.shutdown()
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
    idle_timeout: float = IDLE_TIMEOUT,
    max_session_length: float = MAX_SESSION_LENGTH,
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
        idle_timeout=idle_timeout,
        max_session_length=max_session_length,
        replay=replay,
    ) as url:
        if ready is not None:
            ready(url)
        await (stop or asyncio.Event()).wait()


def _why(exc: OSError) -> str:
    """The reason of a failed bind, without asyncio's "error while attempting to bind"."""
    if isinstance(exc, socket.gaierror) or not exc.errno:
        return str(exc.strerror or exc).lower()
    return os.strerror(exc.errno).lower()


class _Server:
    """Shared state of one listening server: the engine, credentials, live connections."""

    def __init__(
        self, engine: Engine, *, api_key: str | None, max_sessions: int | None, limits: Limits
    ) -> None:
        self.engine = engine
        self.api_key = api_key
        self.max_sessions = max_sessions
        self.limits = limits
        self.connections: set[Connection | ReplayConnection] = set()
        self.closing = False
        self.connect: Callable[[ServerConnection], ReplayConnection] | None = None
        """Set by a replay server: makes each connection's driver instead of a session."""

    def check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Route and authenticate the upgrade request (404 / 400 / 401, or go ahead)."""
        url = urlsplit(request.path)
        if _PATH.match(url.path) is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found: use /v2\n")
        if "websocket" not in request.headers.get("Upgrade", "").lower():
            return connection.respond(
                HTTPStatus.BAD_REQUEST, "Bad Request: this is a WebSocket endpoint (RT v2)\n"
            )
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

    def _live(self) -> int:
        """Connections whose session goes on: one that sent ``EndOfTranscript`` (or an
        ``Error``) has given its recognizers back and waits only for the client to close."""
        return sum(not getattr(c.session, "finished", False) for c in self.connections)

    def _refusal(self) -> str | None:
        if self.closing:
            return "the server is shutting down"
        active = self._live()
        if self.max_sessions is not None and active >= self.max_sessions:
            return (
                f"the server is at capacity: {active} concurrent sessions active out of "
                f"quota {self.max_sessions}"
            )
        return at_capacity(self.engine)

    async def _admission(self) -> str | None:
        """Why a new connection is refused (None if it is not).

        At capacity, a session whose client has just dropped its socket still holds its
        recognizers until the command in flight is done. A client that reconnects at once
        (the usual answer to a dropped connection) waits for that, briefly, rather than be
        refused for a session that no longer exists.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEPARTURE_WAIT
        while (refusal := self._refusal()) is not None and not self.closing:
            departing = [c for c in self.connections if isinstance(c, Connection) and c.departing]
            if not departing or loop.time() >= deadline:
                break
            waits = [asyncio.ensure_future(c.released.wait()) for c in departing]
            await asyncio.wait(
                waits, timeout=deadline - loop.time(), return_when=asyncio.FIRST_COMPLETED
            )
            for wait in waits:
                wait.cancel()
        return refusal

    async def handle(self, ws: ServerConnection) -> None:
        """One connection, from handshake to close."""
        refusal = await self._admission()
        if refusal is not None:
            log.info("refused a connection: %s", refusal)
            with suppress(ConnectionClosed, TimeoutError):
                async with asyncio.timeout(SHUTDOWN_GRACE):
                    await ws.send(encode(start.error(ErrorType.QUOTA_EXCEEDED, refusal)))
                    code = close_code_for(ErrorType.QUOTA_EXCEEDED)
                    await close_draining(ws, code, "quota_exceeded")
            return
        match = _PATH.match(urlsplit(ws.request.path if ws.request else "").path)
        capacity = getattr(self.engine, "capacity", None)
        session = ServerSession(
            str(uuid.uuid4()),
            path_language=match.group("lang") if match else None,
            usage=self._live() + 1,
            quota=self.max_sessions or (capacity if isinstance(capacity, int) else None),
        )
        connection: Connection | ReplayConnection = (
            Connection(ws, session, self.engine, self.limits)
            if self.connect is None
            else self.connect(ws)
        )
        self.connections.add(connection)
        try:
            await connection.run()
        finally:
            self.connections.discard(connection)
            await connection.release()

    async def shutdown(self) -> None:
        """Close every session with a reason saying why; give them a moment to end."""
        self.closing = True
        live = list(self.connections)
        if live:
            log.info("shutting down: closing %d session(s)", len(live))
        await asyncio.gather(*(_shut(c) for c in live))
        deadline = asyncio.get_running_loop().time() + SHUTDOWN_GRACE
        while self.connections and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)


async def _shut(connection: Connection | ReplayConnection) -> None:
    if isinstance(connection, Connection):
        await connection.shutdown()
        return
    with suppress(Exception):  # a replay: nothing to stop but the socket
        async with asyncio.timeout(SHUTDOWN_GRACE):
            await connection.ws.close(1001, SHUTDOWN_REASON)


def _wire_logger() -> logging.Logger:
    logger = logging.getLogger("smnb.server.websockets")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
