"""smnb's one exception tree.

::

    SmnbError
    ├── ConfigError (ValueError)   bad config or audio_format values, before connecting
    ├── AudioError (ValueError)    missing, empty, corrupt or undecodable audio
    │   └── UndecodableAudio       (local server) received bytes are not the declared format
    │       └── UnsupportedAudio   (local server) a declared rate/channels/size it refuses
    ├── AuthError                  no usable credentials; 401 handshake; temp key refused
    ├── ProtocolError              an unparseable message, a wire field of the wrong type,
    │                              or a message out of protocol order
    ├── SessionError               ended without EndOfTranscript; carries ``.result``
    │   ├── ServerError            the server sent ``Error`` (``.type``, ``.reason``)
    │   ├── ConnectionLost         the socket closed or failed before EndOfTranscript
    │   ├── SessionTimeout (TimeoutError)   no progress within the allowed time
    │   └── SessionCancelled       the user interrupted (Ctrl-C, cancel, stop button)
    ├── DeviceError                no microphone, or PortAudio missing
    ├── LogError (ValueError)      a file given as a session log is not one (not UTF-8 text,
    │   │                          or its first line is not a JSON record)
    │   └── LogNotFound (FileNotFoundError)   nothing to load at the path given
    └── LocalServerError           inside smnb's own server (answered to clients as ``Error``)
        ├── Rejected               a session or config change refused (``.error_type``, ``.reason``)
        ├── SessionClosed (RuntimeError)   an in-process server session sent ``Error``
        └── EngineWorkerError (RuntimeError)   a recognizer worker died or its recognizer raised
            └── EngineAtCapacity   every recognizer the server may run is in use (quota_exceeded)

A :class:`SessionError` always carries the partial :class:`smnb.Result` in
``.result``: every message received before the failure is still there.
Third-party errors (websockets, OSError, soundfile, PyAV …) become these at one
boundary each: the client transport, audio decoding, the server's audio input.

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


class LogError(SmnbError, ValueError):
    """A file given as a session log is not an smnb log or a SaaS recording."""


class LogNotFound(LogError, FileNotFoundError):
    """There is no session log at the path given (nor, for a directory, under it)."""


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


class UndecodableAudio(AudioError):
    """The bytes received cannot be decoded as audio of the declared format (local server)."""


class UnsupportedAudio(UndecodableAudio):
    """The audio declares a format the local server refuses (rate, channels, size)."""


class LocalServerError(SmnbError):
    """Raised inside smnb's local server; clients see an ``Error`` message instead."""


class Rejected(LocalServerError):
    """The session cannot start (or a config change cannot apply): send ``Error``."""

    def __init__(self, error_type: str, reason: str) -> None:
        super().__init__(f"{error_type}: {reason}")
        self.error_type = error_type
        self.reason = reason


class SessionClosed(LocalServerError, RuntimeError):
    """A server session driven in-process sent ``Error`` and closed (the message is the error)."""


class EngineWorkerError(LocalServerError, RuntimeError):
    """A recognizer worker process died, could not start, or its recognizer raised."""


class EngineAtCapacity(EngineWorkerError):
    """Every recognizer the local server may run at once is in use: the session is refused."""
