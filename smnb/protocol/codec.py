"""Wire-field coercion for received messages: a bad field is a ProtocolError, never a TypeError.

:func:`decode_server` parses a server text frame (:func:`smnb.protocol.messages.decode`)
and checks the fields a client acts on, by message type, before the session state
machine reads them: ``seq_no`` must be a non-negative integer, ``channel`` and ``id``
strings, transcripts must carry a ``results`` list of objects, and so on. Integral
floats (``3.0``) are accepted as integers, as JSON does not tell them apart; anything
else (``"seq_no": null``, ``"results": {}``) raises :class:`ProtocolError` naming the
message and the field, so the transport can record it as a survived problem.

The returned message is the frame's own dict with integral floats made ints: what
is recorded is what arrived. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Callable

from smnb.exceptions import ProtocolError
from smnb.protocol.messages import Message, ServerMessage, decode

__all__ = ["coerce_server", "decode_server"]

_Check = Callable[[Message, str], None]


def decode_server(frame: str | bytes) -> Message:
    """Parse one server frame and coerce its fields (see the module docstring).

    Raises:
        ProtocolError: not a JSON message, or a field of the wrong type.
    """
    return coerce_server(decode(frame))


def coerce_server(msg: Message) -> Message:
    """Check and coerce the fields of a decoded server message, in place; returns it.

    Raises:
        ProtocolError: a field has the wrong type or value.
    """
    kind = msg["message"]
    for key, check in _FIELDS.get(kind, ()):
        if key in msg:
            check(msg, key)
        elif key in _REQUIRED.get(kind, ()):
            raise ProtocolError(f"{kind} without {key!r}")
    return msg


def _fail(msg: Message, key: str, wanted: str) -> ProtocolError:
    value = repr(msg[key])
    shown = value if len(value) <= 40 else value[:40] + "…"
    return ProtocolError(f"{msg['message']}.{key} must be {wanted}, not {shown}")


def _count(msg: Message, key: str) -> None:
    value = msg[key]
    if isinstance(value, float) and value.is_integer():
        value = msg[key] = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _fail(msg, key, "a non-negative integer")


def _optional_int(msg: Message, key: str) -> None:
    value = msg[key]
    if value is None:
        return
    if isinstance(value, float) and value.is_integer():
        value = msg[key] = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(msg, key, "an integer")


def _string(msg: Message, key: str) -> None:
    if not isinstance(msg[key], str):
        raise _fail(msg, key, "a string")


def _optional_string(msg: Message, key: str) -> None:
    if msg[key] is not None and not isinstance(msg[key], str):
        raise _fail(msg, key, "a string")


def _optional_object(msg: Message, key: str) -> None:
    if msg[key] is not None and not isinstance(msg[key], dict):
        raise _fail(msg, key, "an object")


def _objects(msg: Message, key: str) -> None:
    value = msg[key]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise _fail(msg, key, "a list of objects")


_NOTICE: tuple[tuple[str, _Check], ...] = (
    ("type", _optional_string),
    ("reason", _optional_string),
    ("code", _optional_int),
)
_TRANSCRIPT: tuple[tuple[str, _Check], ...] = (
    ("results", _objects),
    ("metadata", _optional_object),
    ("channel", _optional_string),
)

_FIELDS: dict[str, tuple[tuple[str, _Check], ...]] = {
    ServerMessage.AUDIO_ADDED: (("seq_no", _count),),
    ServerMessage.CHANNEL_AUDIO_ADDED: (("channel", _string), ("seq_no", _count)),
    ServerMessage.RECOGNITION_STARTED: (
        ("id", _optional_string),
        ("language_pack_info", _optional_object),
    ),
    ServerMessage.ADD_TRANSCRIPT: _TRANSCRIPT,
    ServerMessage.ADD_PARTIAL_TRANSCRIPT: _TRANSCRIPT,
    ServerMessage.END_OF_UTTERANCE: (("metadata", _optional_object), ("channel", _optional_string)),
    ServerMessage.ERROR: _NOTICE,
    ServerMessage.WARNING: _NOTICE,
    ServerMessage.INFO: _NOTICE,
    ServerMessage.END_OF_TRANSCRIPT: (),
}
"""Per message type: the fields a client reads and how each is checked (when present)."""

_REQUIRED: dict[str, frozenset[str]] = {
    ServerMessage.AUDIO_ADDED: frozenset({"seq_no"}),
    ServerMessage.CHANNEL_AUDIO_ADDED: frozenset({"channel", "seq_no"}),
    ServerMessage.ADD_TRANSCRIPT: frozenset({"results"}),
    ServerMessage.ADD_PARTIAL_TRANSCRIPT: frozenset({"results"}),
}
"""Fields the spec requires and the client cannot do without."""
