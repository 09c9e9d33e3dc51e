"""What one pass over a session's records says about the session itself.

Not tables: the ``StartRecognition`` sent, the ``Session`` note, the server's
session id (the first, when the session reconnected), whether ``EndOfTranscript``
arrived, the problems the session survived (``Problem`` notes), its reconnections
(``Reconnect`` notes), and its one outcome: the error it ended with, rebuilt as the
same exception the transport raised (from the transport's single ``ClientError``
note; logs without one fall back to a server ``Error`` or an early close).

Stdlib only (plus smnb's recorder and exceptions).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smnb.exceptions import (
    AudioError,
    AuthError,
    ConfigError,
    ConnectionLost,
    DeviceError,
    ProtocolError,
    ServerError,
    SessionCancelled,
    SessionError,
    SessionTimeout,
    SmnbError,
)
from smnb.protocol.messages import Message
from smnb.recorder import META, OUTCOME, PROBLEM, RECEIVED, RECONNECT, SENT, Record
from smnb.recorder.sanitize import one_line

_CLIENT_ERRORS: dict[str, type[SmnbError]] = {
    cls.__name__: cls
    for cls in (
        AudioError,
        AuthError,
        ConfigError,
        ConnectionLost,
        DeviceError,
        ProtocolError,
        SessionCancelled,
        SessionError,
        SessionTimeout,
    )
}


@dataclass(slots=True)
class SessionFacts:
    """What one pass over the records tells about the session (not the tables)."""

    n: int = 0
    start: Message | None = None
    session: Message = field(default_factory=dict)
    session_id: str | None = None
    completed: bool = False
    server_error: Message | None = None
    client_error: Message | None = None
    problems: list[Message] = field(default_factory=list)
    reconnections: list[Message] = field(default_factory=list)
    closed: Message | None = None
    audio_seconds: float | None = None

    @classmethod
    def scan(cls, records: list[Record]) -> SessionFacts:
        facts = cls(n=len(records))
        for rec in records:
            payload = rec.payload if isinstance(rec.payload, dict) else {}
            if rec.direction == RECEIVED:
                if rec.type == "EndOfTranscript":
                    facts.completed = True
                elif rec.type == "RecognitionStarted" and isinstance(payload.get("id"), str):
                    facts.session_id = facts.session_id or payload["id"]  # the first one
                elif rec.type == "Error" and facts.server_error is None:
                    facts.server_error = payload
            elif rec.direction == SENT:
                if rec.type == "StartRecognition" and facts.start is None:
                    facts.start = payload
                elif rec.audio_end is not None:
                    facts.audio_seconds = max(facts.audio_seconds or 0.0, rec.audio_end)
            elif rec.direction == META:
                if rec.type == "Session":
                    facts.session = payload
                elif rec.type == "Closed":
                    facts.closed = payload
                elif rec.type == OUTCOME and facts.client_error is None:
                    facts.client_error = payload
                elif rec.type == PROBLEM:
                    facts.problems.append({"i": rec.i, "t": rec.t, **payload})
                elif rec.type == RECONNECT:
                    facts.reconnections.append({"i": rec.i, "t": rec.t, **payload})
        return facts


def error_from(facts: SessionFacts, *, result: Any = None) -> SmnbError | None:
    """The error a recorded session ended with, rebuilt from its log (None if none).

    The transport's ``ClientError`` note is the outcome (a ``ServerError`` there is
    rebuilt from the server's ``Error`` for its type, reason and code). Logs without
    that note: a server ``Error`` → :class:`ServerError`; a close before
    ``EndOfTranscript`` → :class:`ConnectionLost`. ``Problem`` notes never count.
    """
    exc: SmnbError | None = None
    outcome = facts.client_error
    if outcome is not None and not (
        outcome.get("error") == "ServerError" and facts.server_error is not None
    ):
        name = str(outcome.get("error", "SessionError"))
        message = one_line(outcome.get("message", ""), limit=1000)
        cls = _CLIENT_ERRORS.get(name)
        exc = cls(message) if cls is not None else SessionError(f"{name}: {message}")
    elif facts.server_error is not None:
        err = facts.server_error
        code = err.get("code")
        exc = ServerError(
            one_line(err.get("type", "unknown_error")),
            one_line(err.get("reason", "")),
            code=code if isinstance(code, int) else None,
        )
    elif facts.closed is not None and not facts.completed:
        code = facts.closed.get("code")
        reason = one_line(facts.closed.get("reason") or "")
        detail = f" (code {code}{': ' + reason if reason else ''})" if code is not None else ""
        exc = ConnectionLost(
            f"connection closed before EndOfTranscript{detail}",
            code=code if isinstance(code, int) else None,
            reason=reason,
        )
    if isinstance(exc, SessionError):
        exc.result = result
    return exc
