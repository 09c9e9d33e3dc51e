"""smnb's one exception tree.

::

    SmnbError
    ├── ConfigError (ValueError)   bad config or audio_format values, before connecting
    ├── AudioError (ValueError)    missing, empty, corrupt or undecodable audio
    ├── AuthError                  no usable credentials; 401 handshake; temp key refused
    ├── ProtocolError              an unparseable message, or one out of protocol order
    ├── SessionError               ended without EndOfTranscript; carries ``.result``
    │   ├── ServerError            the server sent ``Error`` (``.type``, ``.reason``)
    │   ├── ConnectionLost         the socket closed or failed before EndOfTranscript
    │   ├── SessionTimeout (TimeoutError)   no progress within the allowed time
    │   └── SessionCancelled       the user interrupted (Ctrl-C, cancel, stop button)
    └── DeviceError                no microphone, or PortAudio missing

A :class:`SessionError` always carries the partial :class:`smnb.Result` in
``.result``: every message received before the failure is still there.

This module imports nothing from smnb.
"""

from __future__ import annotations

from typing import Any


class SmnbError(Exception):
    """Base class of every error smnb raises on purpose."""


class ConfigError(SmnbError, ValueError):
    """A configuration value is invalid; raised before any connection is made."""


class AudioError(SmnbError, ValueError):
    """The audio source cannot be used (missing, empty, corrupt, not audio)."""


class AuthError(SmnbError):
    """Credentials are missing or were rejected."""


class ProtocolError(SmnbError):
    """A message could not be parsed, or arrived where the protocol forbids it."""


class DeviceError(SmnbError):
    """An audio device (microphone) is not available."""


class SessionError(SmnbError):
    """A session ended without ``EndOfTranscript``.

    ``result`` holds everything recorded until the failure (a
    :class:`smnb.Result`), so nothing already received is lost.
    """

    def __init__(self, message: str, *, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


class ServerError(SessionError):
    """The server sent an ``Error`` message."""

    def __init__(
        self,
        type: str,
        reason: str,
        *,
        code: int | None = None,
        result: Any = None,
    ) -> None:
        super().__init__(f"server error {type}: {reason}", result=result)
        self.type = type
        self.reason = reason
        self.code = code


class ConnectionLost(SessionError):
    """The connection closed or failed before the session finished."""

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        reason: str = "",
        result: Any = None,
    ) -> None:
        super().__init__(message, result=result)
        self.code = code
        self.reason = reason


class SessionTimeout(SessionError, TimeoutError):
    """The server made no progress within the allowed time."""


class SessionCancelled(SessionError):
    """The session was interrupted by the user."""
