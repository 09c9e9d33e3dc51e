"""Opening the session's WebSocket: where websockets and OSError errors become smnb's.

:func:`open_connection` is the client's one handshake boundary: a refused or failed
handshake, a bad URL, a timeout or a socket error leaves it as an
:class:`~smnb.exceptions.AuthError`, :class:`~smnb.exceptions.ConfigError`,
:class:`~smnb.exceptions.ConnectionLost` or :class:`~smnb.exceptions.SessionTimeout`
with a one-line message naming the endpoint without its credentials and what to do
(:mod:`smnb.session.failures`). The library's handshake logs (headers at DEBUG) pass
through the one scrubber.

Must not import: pandas, widgets, :mod:`smnb.tables`, :mod:`smnb.result`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from smnb._version import __version__
from smnb.recorder.sanitize import RedactingFilter
from smnb.session.failures import handshake_error

__all__ = ["CLOSE_TIMEOUT", "PING_TIMEOUT", "open_connection"]

# The WebSocket library logs handshake headers at DEBUG; they pass through this filter.
_ws_logger = logging.getLogger("smnb.session.websocket")
_ws_logger.addFilter(RedactingFilter())

PING_TIMEOUT = 60.0
"""Speechmatics recommends at least 60 s before giving up on a pong."""

CLOSE_TIMEOUT = 2.0
"""Seconds to wait for the closing handshake. Everything was received by then; a
server that stopped reading (it closes after an ``Error`` while our frames are
still queued) must not hold the caller for the library's default 10 s."""


async def open_connection(
    url: str, headers: Mapping[str, str], *, timeout: float | None
) -> ClientConnection:
    """Open the WebSocket to ``url`` (``timeout`` seconds, or forever with None).

    Raises:
        AuthError: HTTP 401/403.
        ConfigError: not a WebSocket URL.
        ConnectionLost: any other refusal, a failed handshake, a socket error.
        SessionTimeout: no connection within ``timeout``.
    """
    try:
        return await connect(
            url,
            additional_headers=dict(headers),
            user_agent_header=f"smnb/{__version__}",
            open_timeout=timeout,
            ping_timeout=PING_TIMEOUT,
            close_timeout=CLOSE_TIMEOUT,
            max_size=None,  # transcripts of long utterances may exceed 1 MiB
            compression=None,  # deflating PCM costs CPU per frame and saves ~nothing
            logger=_ws_logger,
        )
    except (WebSocketException, OSError) as exc:  # TimeoutError and ssl errors are OSErrors
        raise handshake_error(exc, url, timeout=timeout) from exc
