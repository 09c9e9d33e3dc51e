"""One clear line for every connection failure (smnb.session.failures), against loopback
servers: TLS vs plain, refused, unknown host, HTTP 401/403/404/503, no answer, and a
server at capacity. Each line names the URL without its credentials and says what to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from collections.abc import AsyncIterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.server import ServerConnection, serve

import smnb
from smnb.exceptions import AuthError, ConnectionLost, ServerError, SessionTimeout, SmnbError
from smnb.session.connect import open_connection
from tests.support.client import StallingEngine, tone_server, tone_wav

TLS = Path(__file__).resolve().parents[1] / "support" / "tls"
SECRET = "sk-failure-line-Q7!x"


def free_port() -> int:
    with socket.socket() as sock:  # bound, then released: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def with_credentials(url: str) -> str:
    """``url`` carrying a password and a ``?jwt=``: neither may appear in the message."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://user:{SECRET}@{rest}?jwt={SECRET}"


async def failure(url: str, *, timeout: float = 5, **headers: str) -> SmnbError:
    with pytest.raises(SmnbError) as info:
        ws = await open_connection(with_credentials(url), headers, timeout=timeout)
        await ws.close()
    return info.value


def one_line(error: BaseException, url: str) -> str:
    message = str(error)
    assert "\n" not in message and SECRET not in message and "user:" not in message
    assert url in message, message  # the endpoint, named without its credentials
    return message


@contextlib.asynccontextmanager
async def tls_server() -> AsyncIterator[int]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(TLS / "localhost.crt", TLS / "localhost.key")

    async def idle(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async with serve(idle, "127.0.0.1", 0, ssl=context) as server:
        yield server.sockets[0].getsockname()[1]


@contextlib.asynccontextmanager
async def status_server(status: HTTPStatus) -> AsyncIterator[str]:
    def refuse(connection: ServerConnection, request: Any) -> Any:
        return connection.respond(status, f"{status.phrase}\n")

    async def never(ws: ServerConnection) -> None:
        await ws.wait_closed()

    async with serve(never, "127.0.0.1", 0, process_request=refuse) as server:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/v2"


@contextlib.asynccontextmanager
async def silent_server() -> AsyncIterator[str]:
    """Accepts TCP and never answers the upgrade."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    try:
        yield f"ws://127.0.0.1:{server.sockets[0].getsockname()[1]}/v2"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def test_tls_against_a_plain_server_and_plain_against_tls() -> None:
    async with tone_server() as url:
        secure = url.replace("ws://", "wss://")
        error = await failure(secure)
    assert isinstance(error, ConnectionLost)
    message = one_line(error, secure)
    assert "the TLS handshake failed" in message and f"use {url}" in message
    async with tls_server() as port:
        plain = f"ws://127.0.0.1:{port}/v2"
        error = await failure(plain)
        assert isinstance(error, ConnectionLost)
        message = one_line(error, plain)
        assert "did not answer the WebSocket handshake" in message
        assert f"if the server uses TLS, use wss://127.0.0.1:{port}/v2" in message
        untrusted = f"wss://127.0.0.1:{port}/v2"
        error = await failure(untrusted)
    message = one_line(error, untrusted)
    assert "TLS certificate was not accepted (self-signed certificate)" in message


async def test_refused_and_unknown_host() -> None:
    refused = f"ws://127.0.0.1:{free_port()}/v2"
    message = one_line(await failure(refused), refused)
    assert "connection refused" in message and "is the server running?" in message
    unknown = "ws://nonexistent.invalid/v2"
    message = one_line(await failure(unknown), unknown)
    assert "unknown host 'nonexistent.invalid'" in message and "check the URL" in message


async def test_http_refusals_say_what_to_do() -> None:
    async with tone_server(api_key=SECRET + "-server") as url:
        error = await failure(url)  # a ?jwt= the server does not accept
        assert isinstance(error, AuthError)
        assert "rejected the credentials (HTTP 401): check the API key" in one_line(error, url)
        wrong_path = url.replace("/v2", "/v3")
        error = await failure(wrong_path)
        assert "(HTTP 404): no RT v2 endpoint at this path" in one_line(error, wrong_path)
    async with status_server(HTTPStatus.FORBIDDEN) as url:
        error = await failure(url)
        assert isinstance(error, AuthError) and "(HTTP 403)" in one_line(error, url)
    async with status_server(HTTPStatus.SERVICE_UNAVAILABLE) as url:
        error = await failure(url)
        assert "(HTTP 503): the server is at capacity: retry later" in one_line(error, url)
    async with status_server(HTTPStatus.OK) as url:
        error = await failure(url)
        assert "not a WebSocket endpoint (HTTP 200)" in one_line(error, url)


async def test_no_answer_is_a_timeout_naming_the_url() -> None:
    async with silent_server() as url:
        error = await failure(url, timeout=0.5)
    assert isinstance(error, SessionTimeout)
    message = one_line(error, url)
    assert "no connection within 0.5 s" in message and "--timeout" in message


async def test_a_server_at_capacity_says_so(tmp_path: Path) -> None:
    tones = tone_wav(tmp_path / "tones.wav")
    engine = StallingEngine()  # the first session holds the only place
    async with tone_server(engine, max_sessions=1) as url:
        first = smnb.start(tones, url=url, pace="fast")
        await asyncio.sleep(0.5)
        with pytest.raises(ServerError) as info:
            await smnb.atranscribe(tones, url=url, pace="fast")
        first.cancel()
        engine.release()
        with contextlib.suppress(smnb.SessionCancelled):
            await first
    error = info.value
    assert error.type == "quota_exceeded"
    message = one_line(error, url)
    assert "the server is at capacity: retry later, or run fewer sessions at once" in message
    assert error.result.error is error and "at capacity" in repr(error.result)
