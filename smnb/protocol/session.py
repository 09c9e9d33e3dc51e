"""The client side of one RT v2 session as a state machine, with no I/O.

The transport calls a method for every step (``start``, ``audio_sent``,
``end_stream``, ``receive_text``, ``receive_closed``) and sends whatever message
the method returns. Every protocol decision lives here: ordering rules,
sequence numbers, acknowledgements, when the session is over and why it
failed. That keeps the asyncio layer a thin loop and makes the rules testable
with plain strings.

Stdlib only.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

from smnb.exceptions import ConnectionLost, ProtocolError, ServerError, SessionError
from smnb.protocol import messages as m
from smnb.protocol.codec import decode_server
from smnb.protocol.messages import Message, ServerMessage
from smnb.recorder.sanitize import one_line


class SessionState(Enum):
    """Where a session is in its life."""

    IDLE = "idle"  # nothing sent yet
    STARTING = "starting"  # StartRecognition sent, waiting for RecognitionStarted
    STREAMING = "streaming"  # audio may be sent
    ENDING = "ending"  # EndOfStream sent, waiting for EndOfTranscript
    DONE = "done"  # EndOfTranscript received
    FAILED = "failed"  # Error received, or the connection ended early


class ClientSession:
    """Protocol state of one session, fed by the transport.

    Args:
        start_message: the complete ``StartRecognition`` message to send.
        channels: channel labels for a multichannel session
            (``AddChannelAudio``/``EndOfChannel``); ``None`` for a single stream.
    """

    def __init__(self, start_message: Message, *, channels: list[str] | None = None) -> None:
        self.start_message = start_message
        self.channels = channels
        self.state = SessionState.IDLE
        self.error: SessionError | None = None
        self.session_id: str | None = None
        self.language_pack_info: dict[str, Any] = {}
        self.frames_sent = 0
        self.frames_acked = 0
        self.channel_frames_sent: dict[str, int] = dict.fromkeys(channels or [], 0)
        self.channel_frames_acked: dict[str, int] = dict.fromkeys(channels or [], 0)
        self._open_channels = set(channels or [])

    # --- commands -----------------------------------------------------------

    def start(self) -> Message:
        """Return ``StartRecognition`` to send first."""
        self._require(SessionState.IDLE, "start")
        self.state = SessionState.STARTING
        return self.start_message

    def audio_sent(self) -> int:
        """Count one binary ``AddAudio`` frame; returns its sequence number (from 1)."""
        self._require(SessionState.STREAMING, "send audio")
        self.frames_sent += 1
        return self.frames_sent

    def channel_audio(self, channel: str, data_b64: str) -> tuple[Message, int]:
        """Build ``AddChannelAudio`` for ``channel``; returns the message and its seq_no."""
        self._require(SessionState.STREAMING, "send channel audio")
        if channel not in self._open_channels:
            raise ProtocolError(f"channel {channel!r} is not open")
        self.channel_frames_sent[channel] += 1
        return m.add_channel_audio(channel, data_b64), self.channel_frames_sent[channel]

    def end_stream(self) -> Message:
        """Return ``EndOfStream`` (single stream) after the last audio frame."""
        self._require(SessionState.STREAMING, "end the stream")
        self.state = SessionState.ENDING
        return m.end_of_stream(self.frames_sent)

    def end_channel(self, channel: str) -> Message:
        """Return ``EndOfChannel`` for ``channel``; the session ends when all are closed."""
        self._require(SessionState.STREAMING, "end a channel")
        self._open_channels.discard(channel)
        if not self._open_channels:
            self.state = SessionState.ENDING
        return m.end_of_channel(channel, self.channel_frames_sent.get(channel, 0))

    # --- input from the network ---------------------------------------------

    def receive_text(self, text: str | bytes) -> Message:
        """Decode one server frame and advance the state; returns the message.

        An ``Error`` moves the session to FAILED and sets :attr:`error`; the
        message is still returned so the caller records it before raising.

        Raises:
            ProtocolError: the frame is not a JSON message, or a field the client
                reads has the wrong type (:mod:`smnb.protocol.codec`); the state is
                unchanged then.
        """
        msg = decode_server(text)
        kind = msg["message"]
        if kind == ServerMessage.AUDIO_ADDED:
            self.frames_acked = max(self.frames_acked, msg["seq_no"])
        elif kind == ServerMessage.CHANNEL_AUDIO_ADDED:
            channel = msg["channel"]
            acked = self.channel_frames_acked.get(channel, 0)
            self.channel_frames_acked[channel] = max(acked, msg["seq_no"])
        elif kind == ServerMessage.RECOGNITION_STARTED:
            if self.state is SessionState.STARTING:
                self.state = SessionState.STREAMING
            self.session_id = msg.get("id")
            self.language_pack_info = dict(msg.get("language_pack_info") or {})
        elif kind == ServerMessage.ERROR:
            # Server text: it may echo the key, hold newlines or terminal escapes.
            self._fail(
                ServerError(
                    one_line(msg.get("type", "unknown_error")),
                    one_line(msg.get("reason", "")),
                    code=msg.get("code"),  # an int or None (codec)
                )
            )
        elif kind == ServerMessage.END_OF_TRANSCRIPT and self.state is not SessionState.FAILED:
            self.state = SessionState.DONE
        return msg

    def receive_closed(self, code: int | None, reason: str) -> None:
        """The connection closed; a session that was not finished has failed."""
        if self.state in (SessionState.DONE, SessionState.FAILED):
            return
        where = {
            SessionState.IDLE: "before the session started",
            SessionState.STARTING: "before RecognitionStarted",
            SessionState.STREAMING: "while streaming audio",
            SessionState.ENDING: "before EndOfTranscript",
        }[self.state]
        reason = one_line(reason)  # the server's close reason is its free text too
        detail = f" (code {code}{': ' + reason if reason else ''})" if code is not None else ""
        self._fail(ConnectionLost(f"connection closed {where}{detail}", code=code, reason=reason))

    # --- queries --------------------------------------------------------------

    @property
    def unacked(self) -> int:
        """Frames sent and not yet acknowledged (all channels)."""
        single = self.frames_sent - self.frames_acked
        multi = sum(self.channel_frames_sent.values()) - sum(self.channel_frames_acked.values())
        return single + multi

    @property
    def finished(self) -> bool:
        """True once the session is DONE or FAILED."""
        return self.state in (SessionState.DONE, SessionState.FAILED)

    # --- internals ------------------------------------------------------------

    def _fail(self, error: SessionError) -> None:
        if self.error is None:
            self.error = error
        self.state = SessionState.FAILED

    def _require(self, state: SessionState, action: str) -> None:
        if self.state is not state:
            raise ProtocolError(f"cannot {action} in state {self.state.value}")
