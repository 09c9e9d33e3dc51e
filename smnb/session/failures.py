"""One clear line for every way a connection can fail, naming the URL and what to do.

:func:`handshake_error` turns what ``websockets`` or the socket layer raised while
opening a connection into one of smnb's errors; :func:`with_hint` adds the advice
to a server ``Error`` that is about the endpoint rather than the audio (a server at
capacity, a refused key). Every message names the endpoint without its credentials
(:func:`smnb.recorder.sanitize.redact_url`) and fits on one line.

Must not import: pandas, widgets, :mod:`smnb.tables`, :mod:`smnb.result`.
"""

from __future__ import annotations

import errno
import socket
import ssl
from urllib.parse import urlsplit

from websockets.exceptions import InvalidMessage, InvalidStatus, InvalidURI, WebSocketException

from smnb.exceptions import (
    AuthError,
    ConfigError,
    ConnectionLost,
    ServerError,
    SessionTimeout,
    SmnbError,
)
from smnb.recorder.sanitize import one_line, redact_url

__all__ = ["handshake_error", "is_transient", "with_hint"]

_KEY_HINT = "check the API key (SPEECHMATICS_API_KEY or api_key=)"
_CAPACITY_HINT = "the server is at capacity: retry later, or run fewer sessions at once"

SERVER_HINTS = {
    "quota_exceeded": _CAPACITY_HINT,
    "not_authorised": _KEY_HINT,
    "insufficient_funds": "the account has no credit left for real-time transcription",
}
"""Advice for a server ``Error`` whose cause is the endpoint, not the audio."""


def handshake_error(exc: BaseException, url: str, *, timeout: float | None) -> SmnbError:
    """The one-line error for a failure to open ``url`` (``exc`` as raised).

    Returns:
        AuthError (HTTP 401/403), ConfigError (not a WebSocket URL), SessionTimeout
        (no answer within ``timeout``) or ConnectionLost (everything else).
    """
    shown = redact_url(url)
    secure = shown.startswith("wss://")
    if isinstance(exc, InvalidStatus):
        return _status_error(exc.response.status_code, shown)
    if isinstance(exc, InvalidURI):
        why = one_line(getattr(exc, "msg", "") or "not a valid URI")
        return ConfigError(
            f"not a WebSocket URL: {shown} ({why}; percent-encode '#', '@', '/' or '?' "
            "in a user name or password)"
        )
    if isinstance(exc, TimeoutError):
        waited = f"{timeout:g} s" if timeout is not None else "the time allowed"
        return SessionTimeout(
            f"{shown}: no connection within {waited}: the host did not answer; "
            "check the URL and the network, or allow longer (timeout=, --timeout)"
        )
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = one_line(exc.verify_message or exc.reason or str(exc))
        return ConnectionLost(
            f"cannot connect to {shown}: its TLS certificate was not accepted ({reason}); "
            "check the host name, or the system's certificate store"
        )
    if isinstance(exc, ssl.SSLError) or (secure and _reset_or_eof(exc)):
        return ConnectionLost(
            f"cannot connect to {shown}: the TLS handshake failed "
            f"({_reason(exc) or 'the connection was reset'}); "
            f"if the server does not use TLS, use {_swap_scheme(shown)}"
        )
    if isinstance(exc, InvalidMessage):
        hint = (
            f"if the server uses TLS, use {_swap_scheme(shown)}"
            if not secure
            else "is it an RT v2 endpoint?"
        )
        return ConnectionLost(
            f"cannot connect to {shown}: the server did not answer the WebSocket handshake "
            f"({_reason(exc.__cause__ or exc) or 'no HTTP response'}); {hint}"
        )
    if isinstance(exc, WebSocketException):
        return ConnectionLost(f"{shown}: handshake failed ({_reason(exc)})")
    if isinstance(exc, socket.gaierror):
        host = urlsplit(shown).hostname or shown
        return ConnectionLost(
            f"cannot connect to {shown}: unknown host {host!r} ({_reason(exc)}); "
            "check the URL (and the network or DNS)"
        )
    if isinstance(exc, ConnectionRefusedError):
        where = urlsplit(shown).netloc or shown
        return ConnectionLost(
            f"cannot connect to {shown}: connection refused (nothing listens on {where}); "
            "is the server running? (`smnb serve` starts a local one)"
        )
    if isinstance(exc, OSError):
        return ConnectionLost(
            f"cannot connect to {shown}: {_reason(exc) or type(exc).__name__}; "
            "check the URL and the network"
        )
    return ConnectionLost(f"cannot connect to {shown}: {type(exc).__name__}: {_reason(exc)}")


def with_hint(error: ServerError, url: str | None) -> ServerError:
    """``error`` with the endpoint and the advice for its type (unchanged if none)."""
    hint = SERVER_HINTS.get(error.type)
    if hint is None:
        return error
    where = f" from {redact_url(url)}" if url else ""
    better = ServerError(error.type, error.reason, code=error.code, result=error.result)
    better.args = (f"{error}{where}; {hint}",)
    return better


def is_transient(exc: BaseException) -> bool:
    """Whether a failed connection attempt is worth retrying (the network, not the URL)."""
    if isinstance(exc, ConnectionLost):
        cause = exc.__cause__
        if cause is None:
            return True
        if isinstance(cause, InvalidStatus):
            return cause.response.status_code in (408, 429, 500, 502, 503, 504)
        if isinstance(cause, socket.gaierror):  # only "try again": the network, not the name
            return cause.errno == socket.EAI_AGAIN
        if isinstance(cause, ssl.SSLCertVerificationError):
            return False
        return isinstance(cause, OSError | InvalidMessage | EOFError)
    return isinstance(exc, SessionTimeout)


def _status_error(status: int, shown: str) -> SmnbError:
    if status in (401, 403):
        return AuthError(f"{shown} rejected the credentials (HTTP {status}): {_KEY_HINT}")
    if status == 404:
        return ConnectionLost(
            f"{shown} refused the connection (HTTP 404): no RT v2 endpoint at this path; "
            "the URL usually ends in /v2"
        )
    if status in (429, 503):
        return ConnectionLost(f"{shown} refused the connection (HTTP {status}): {_CAPACITY_HINT}")
    if 200 <= status < 300:
        return ConnectionLost(f"{shown} is not a WebSocket endpoint (HTTP {status}): check the URL")
    return ConnectionLost(f"{shown} refused the connection (HTTP {status})")


def _reset_or_eof(exc: BaseException) -> bool:
    if isinstance(exc, ConnectionResetError | EOFError | ConnectionAbortedError):
        return True
    return isinstance(exc, OSError) and exc.errno in (errno.ECONNRESET, errno.EPIPE)


def _reason(exc: BaseException) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return one_line(text)


def _swap_scheme(shown: str) -> str:
    if shown.startswith("wss://"):
        return "ws://" + shown[len("wss://") :]
    return "wss://" + shown[len("ws://") :] if shown.startswith("ws://") else shown
