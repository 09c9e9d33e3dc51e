"""Opening the session's WebSocket: where websockets and OSError errors become smnb's.

:func:`open_connection` is the client's one handshake boundary: a refused or failed
handshake, a bad URL, a timeout or a socket error leaves it as an
:class:`~smnb.exceptions.AuthError`, :class:`~smnb.exceptions.ConfigError`,
:class:`~smnb.exceptions.ConnectionLost` or :class:`~smnb.exceptions.SessionTimeout`
with a one-line message naming the endpoint without its credentials. The library's
handshake logs (headers at DEBUG) pass through the one scrubber.

Must not import: pandas, widgets, :mod:`smnb.tables`, :mod:`smnb.result`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, InvalidURI, WebSocketException

from smnb._version import __version__
from smnb.exceptions import AuthError, ConfigError, ConnectionLost, SessionTimeout
from smnb.recorder.sanitize import RedactingFilter, redact_url, scrub_text

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
    shown = redact_url(url)
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
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise AuthError(f"{shown} rejected the credentials (HTTP {status})") from exc
        raise ConnectionLost(f"{shown} refused the connection (HTTP {status})") from exc
    except InvalidURI as exc:
        raise ConfigError(f"not a WebSocket URL: {shown}") from exc
    except WebSocketException as exc:
        raise ConnectionLost(f"{shown}: handshake failed ({scrub_text(str(exc))})") from exc
    except TimeoutError as exc:
        raise SessionTimeout(f"{shown}: no connection within {timeout:g} s") from exc
    except OSError as exc:
        raise ConnectionLost(f"cannot connect to {shown}: {exc.strerror or exc}") from exc
