"""smnb.session.connect: every handshake failure leaves as one of smnb's errors."""

from __future__ import annotations

import socket

import pytest

from smnb.exceptions import AuthError, ConfigError, ConnectionLost
from smnb.session.connect import open_connection
from tests.support.client import tone_server

KEY = "sk-CONNECT-never-in-a-message"


def free_port() -> int:
    with socket.socket() as sock:  # bound, then released: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_handshake_outcomes() -> None:
    async with tone_server(api_key=KEY) as url:
        ws = await open_connection(url, {"Authorization": f"Bearer {KEY}"}, timeout=10)
        await ws.close()
        with pytest.raises(AuthError, match="rejected the credentials") as denied:
            await open_connection(url + "?jwt=nope", {}, timeout=10)
    assert "nope" not in str(denied.value)  # the endpoint is named without its credentials
    with pytest.raises(ConnectionLost, match="cannot connect"):
        await open_connection(f"ws://127.0.0.1:{free_port()}/v2", {}, timeout=10)
    with pytest.raises(ConfigError, match="not a WebSocket URL"):
        await open_connection("http://127.0.0.1/v2", {}, timeout=10)
