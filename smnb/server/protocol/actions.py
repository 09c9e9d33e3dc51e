"""What a :class:`~smnb.server.protocol.session.ServerSession` asks its transport to do.

The session is sans-I/O: every input returns a list of actions, and the
transport (:mod:`smnb.server.app`) carries them out **in order**. Two kinds:

* wire actions: :class:`Send` one message as a text frame, :class:`Close` the socket;
* engine commands (:class:`OpenChannels`, :class:`Feed`, :class:`ForceEnd`,
  :class:`Finish`, :class:`QuerySpeakers`, :class:`Reconfigure`): the transport runs
  the command on the recognizer of ``channel`` and hands the outcome straight back with
  :meth:`ServerSession.engine_done`, running the actions *that* returns before
  the rest of the list. So the messages that follow from a decode come out
  exactly where the decode sits in the sequence.

Stdlib only (plus the recognizer's settings type).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smnb.server.recognizer import MaxDelayMode, RecognizerSettings, Samples


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``message`` as one JSON text frame."""

    message: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Close:
    """Close the WebSocket with ``code`` and ``reason`` (after any earlier Send)."""

    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class OpenChannels:
    """Open one recognizer per label in ``channels`` (``None`` is the single stream)."""

    channels: tuple[str | None, ...]
    settings: RecognizerSettings


@dataclass(frozen=True, slots=True, eq=False)
class Feed:
    """Decode ``samples`` (16 kHz mono int16) on ``channel``'s recognizer → an ``Update``."""

    channel: str | None
    samples: Samples
    ack: dict[str, Any] | None = None
    """The ``AudioAdded``/``ChannelAudioAdded`` to send once this piece is decoded."""


@dataclass(frozen=True, slots=True)
class ForceEnd:
    """Commit every pending word on ``channel`` now → an ``Update``."""

    channel: str | None
    forced: bool
    """True for the client's ``ForceEndOfUtterance``; False for the silence trigger."""


@dataclass(frozen=True, slots=True)
class Finish:
    """The channel's audio has ended: commit everything → an ``Update``."""

    channel: str | None


@dataclass(frozen=True, slots=True)
class QuerySpeakers:
    """Ask every recognizer for its speakers → ``dict[label, list[identifier]]``."""

    final: bool


@dataclass(frozen=True, slots=True)
class Reconfigure:
    """Apply a new ``max_delay`` / ``max_delay_mode`` on ``channel``'s recognizer → ``None``."""

    channel: str | None
    max_delay: float
    max_delay_mode: MaxDelayMode


EngineCommand = OpenChannels | Feed | ForceEnd | Finish | QuerySpeakers | Reconfigure
Action = Send | Close | EngineCommand
