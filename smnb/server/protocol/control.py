"""The shape of the client's control messages (all but ``StartRecognition`` and audio).

:func:`malformed` says why a field the spec types breaks that type (the session answers
``Error invalid_message`` naming it); :class:`FieldWarnings` names the fields the spec does
not define, with the ``Warning validation_warning`` that unknown ``StartRecognition``
fields get (:mod:`~smnb.server.protocol.options`): they are ignored, but not silently.

The fields are those of the RT v2 AsyncAPI spec, written here: nothing reads the spec at
run time. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from math import inf
from typing import Any

from smnb.protocol.messages import ClientMessage, Message
from smnb.server.protocol import options

CONTROL_FIELDS: Mapping[str, frozenset[str]] = {
    ClientMessage.ADD_CHANNEL_AUDIO: frozenset({"message", "channel", "data"}),
    ClientMessage.END_OF_STREAM: frozenset({"message", "last_seq_no"}),
    ClientMessage.END_OF_CHANNEL: frozenset({"message", "channel", "last_seq_no"}),
    ClientMessage.FORCE_END_OF_UTTERANCE: frozenset({"message", "channel", "timestamp"}),
    ClientMessage.SET_RECOGNITION_CONFIG: frozenset({"message", "transcription_config"}),
    ClientMessage.GET_SPEAKERS: frozenset({"message", "final"}),
}
"""The fields each control message has in the spec (``components.schemas``)."""


def malformed(msg: Mapping[str, Any]) -> str | None:
    """Why a field of a control message breaks the spec, or None.

    ``AddChannelAudio.data`` is required and a string; ``last_seq_no`` an integer,
    ``ForceEndOfUtterance.timestamp`` a number of seconds ≥ 0 and ``GetSpeakers.final`` a
    boolean, each optional (absent or null they need nothing)."""
    kind = msg["message"]
    if kind == ClientMessage.ADD_CHANNEL_AUDIO:
        data = msg.get("data")
        if data is None:
            return f"{kind}.data is required (the audio, base64-encoded)"
        if not isinstance(data, str):
            return f"{kind}.data must be a base64 string, not {_shown(data)}"
    seq = msg.get("last_seq_no")
    ends = (ClientMessage.END_OF_STREAM, ClientMessage.END_OF_CHANNEL)
    if kind in ends and seq is not None and (isinstance(seq, bool) or not isinstance(seq, int)):
        return f"{kind}.last_seq_no must be an integer, not {seq!r}"
    stamp = msg.get("timestamp")
    if kind == ClientMessage.FORCE_END_OF_UTTERANCE and not _seconds(stamp):
        return f"{kind}.timestamp must be a number of seconds ≥ 0, not {stamp!r}"
    final = msg.get("final")
    if kind == ClientMessage.GET_SPEAKERS and final is not None and not isinstance(final, bool):
        return f"{kind}.final must be true or false, not {final!r}"
    return None


def _seconds(stamp: Any) -> bool:
    """Whether ``stamp`` is absent (None) or a finite number of seconds ≥ 0."""
    if stamp is None:
        return True
    return not isinstance(stamp, bool) and isinstance(stamp, int | float) and 0 <= stamp < inf


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"a {type(value).__name__}"


class FieldWarnings:
    """``Warning validation_warning`` for fields a control message does not have; each
    message type's field is named once per session (audio frames would repeat it)."""

    def __init__(self) -> None:
        self._named: set[tuple[str, str]] = set()

    def check(self, msg: Mapping[str, Any]) -> list[Message]:
        kind = str(msg["message"])
        known = CONTROL_FIELDS.get(kind)
        if known is None:
            return []
        fresh = sorted(key for key in set(msg) - known if (kind, key) not in self._named)
        self._named.update((kind, key) for key in fresh)
        return [
            options.warning(
                options.VALIDATION_WARNING, f"{kind}.{key} is not part of the RT v2 API; ignored"
            )
            for key in fresh
        ]
