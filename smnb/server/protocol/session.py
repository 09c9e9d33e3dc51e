"""The server side of one RT v2 session as a state machine, with no I/O.

:class:`ServerSession` mirrors :class:`smnb.protocol.session.ClientSession`. The
transport hands it every client frame (:meth:`~ServerSession.receive_text`,
:meth:`~ServerSession.receive_binary`) and every engine outcome
(:meth:`~ServerSession.engine_done`); each call returns the
:mod:`~smnb.server.protocol.actions` to carry out, in order. Every protocol decision lives
here: ordering rules, which channel a message is for, errors and their close codes,
``Info``/``Warning`` timing, and when ``EndOfTranscript`` may go.

Each channel's audio and transcript pipeline is a
:class:`~smnb.server.protocol.channel.Channel`: audio is decoded and fed to the
recognizer as soon as it arrives (holding audio back would add latency), in pieces cut
on the partial cadence. A frame is acknowledged once its audio has been decoded: the
transport reads the next frame only after that, which is the backpressure a client
sending faster than real time meets.

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import base64
import binascii
from enum import Enum
from typing import Any

from smnb.exceptions import ProtocolError, Rejected, UndecodableAudio
from smnb.protocol import messages as m
from smnb.protocol.messages import ClientMessage, ErrorType, Message, ServerMessage
from smnb.server.audio.input import decoder_for
from smnb.server.protocol import control, options, start
from smnb.server.protocol.actions import (
    Action,
    Close,
    EngineCommand,
    Feed,
    ForceEnd,
    OpenChannels,
    QuerySpeakers,
    Reconfigure,
    Send,
)
from smnb.server.protocol.channel import PARTIAL_SAMPLES, Channel
from smnb.server.protocol.start import SessionPlan

__all__ = ["PARTIAL_SAMPLES", "ServerSession", "State"]

TIMESTAMP_SLACK = 0.1
"""Seconds a ``ForceEndOfUtterance.timestamp`` may be from the audio received and still be
where the forced end falls (the decoder and the volume gate hold a few ms back)."""


class State(Enum):
    """Where a session is in its life."""

    WAITING = "waiting"  # connected, no StartRecognition yet
    OPENING = "opening"  # StartRecognition accepted, recognizers being opened
    RUNNING = "running"  # RecognitionStarted sent; audio flows
    DONE = "done"  # EndOfTranscript sent
    FAILED = "failed"  # Error sent; the socket is being closed


class ServerSession:
    """Protocol state of one server-side session.

    Args:
        session_id: the ``id`` sent in ``RecognitionStarted``.
        path_language: the language in the URL path (``/v2/en``), if any.
        usage: sessions active, this one included (for ``Info concurrent_session_usage``).
        quota: the server's session limit, if any.
    """

    def __init__(
        self,
        session_id: str,
        *,
        path_language: str | None = None,
        usage: int = 1,
        quota: int | None = None,
    ) -> None:
        self.session_id = session_id
        self.path_language = path_language
        self.state = State.WAITING
        self.plan: SessionPlan | None = None
        self.error: tuple[str, str] | None = None
        """``(type, reason)`` of the Error this session sent, if any."""
        self._usage = usage
        self._quota = quota
        self._channels: dict[str | None, Channel] = {}
        self._speakers_at_end = False
        self._quality_sent = False
        self._field_warnings = control.FieldWarnings()

    # --- queries --------------------------------------------------------------

    @property
    def finished(self) -> bool:
        """True once ``EndOfTranscript`` or an ``Error`` was sent."""
        return self.state in (State.DONE, State.FAILED)

    @property
    def audio_frames(self) -> int:
        """Audio frames received so far, over all channels."""
        return sum(channel.frames for channel in self._channels.values())

    @property
    def stream_ended(self) -> bool:
        """True once every channel's audio has ended (``EndOfStream``/``EndOfChannel``)."""
        return bool(self._channels) and all(c.ended for c in self._channels.values())

    @property
    def file_audio(self) -> bool:
        """Whether audio arrives as a container (decoding it may take a while)."""
        return self.plan is not None and self.plan.audio_format.get("type") == "file"

    # --- inputs ---------------------------------------------------------------

    def opened(self) -> list[Action]:
        """The socket is open: the service greets with its session usage."""
        return [Send(start.session_usage(self._usage, self._quota))]

    def receive_text(self, text: str | bytes) -> list[Action]:
        """One text frame from the client."""
        if self.finished:
            return []
        try:
            msg = m.decode(text)
        except ProtocolError as exc:
            return self.fail(ErrorType.INVALID_MESSAGE, str(exc))
        kind = msg["message"]
        if kind == ClientMessage.START_RECOGNITION:
            return self._start(msg)
        if kind not in set(ClientMessage) or kind == ClientMessage.ADD_AUDIO:
            hint = " (audio goes in binary frames)" if kind == ClientMessage.ADD_AUDIO else ""
            return self.fail(ErrorType.INVALID_MESSAGE, f"unknown message type {kind!r}{hint}")
        if self.state is State.WAITING:
            return self.fail(ErrorType.PROTOCOL_ERROR, f"{kind} before StartRecognition")
        malformed = control.malformed(msg)
        if malformed is not None:
            return self.fail(ErrorType.INVALID_MESSAGE, malformed)
        warned: list[Action] = [Send(w) for w in self._field_warnings.check(msg)]
        handler = {
            ClientMessage.ADD_CHANNEL_AUDIO: self._channel_audio,
            ClientMessage.END_OF_STREAM: self._end_of_stream,
            ClientMessage.END_OF_CHANNEL: self._end_of_channel,
            ClientMessage.FORCE_END_OF_UTTERANCE: self._force_end_of_utterance,
            ClientMessage.SET_RECOGNITION_CONFIG: self._set_recognition_config,
            ClientMessage.GET_SPEAKERS: self._get_speakers,
        }[ClientMessage(kind)]
        try:
            return warned + handler(msg)
        except UndecodableAudio as exc:
            return self.fail(ErrorType.INVALID_AUDIO_TYPE, f"Invalid audio type: {exc}")

    def receive_binary(self, data: bytes) -> list[Action]:
        """One binary frame (``AddAudio``) from the client."""
        if self.finished:
            return []
        if self.state is State.WAITING:
            return self.fail(ErrorType.PROTOCOL_ERROR, "audio received before StartRecognition")
        assert self.plan is not None
        if self.plan.channels is not None:
            return self.fail(
                ErrorType.PROTOCOL_ERROR, "a multichannel session takes AddChannelAudio messages"
            )
        try:
            return self._audio(self._channels[None], data, ServerMessage.AUDIO_ADDED)
        except UndecodableAudio as exc:
            return self.fail(ErrorType.INVALID_AUDIO_TYPE, f"Invalid audio type: {exc}")

    def engine_done(self, command: EngineCommand, result: Any) -> list[Action]:
        """The outcome of an engine command (``None``, an ``Update`` or speakers)."""
        if self.finished:
            return []
        if isinstance(command, OpenChannels):
            return self._started()
        if isinstance(command, QuerySpeakers):
            out: list[Action] = [Send(start.speakers_result(result))]
            return out + self._end_of_transcript() if command.final else out
        if isinstance(command, Reconfigure):
            return []
        channel = self._channels[command.channel]
        if isinstance(command, Feed):
            return channel.fed_result(command, result)
        if isinstance(command, ForceEnd):
            return channel.utterance_ended(result, forced=command.forced)
        out = channel.finish(result)
        if all(c.finished for c in self._channels.values()):
            out += self._finale()
        return out

    def engine_failed(self, reason: str) -> list[Action]:
        """An engine command raised: the session cannot go on."""
        return self.fail(ErrorType.JOB_ERROR, f"the recognizer failed: {reason}")

    def fail(self, error_type: str, reason: str) -> list[Action]:
        """Send ``Error`` and close with the matching code."""
        if self.finished:
            return []
        self.state = State.FAILED
        self.error = (str(error_type), reason)
        return [
            Send(start.error(error_type, reason)),
            Close(*start.close_for(error_type)),
        ]

    # --- start ------------------------------------------------------------------

    def _start(self, msg: Message) -> list[Action]:
        if self.state is not State.WAITING:
            return self.fail(ErrorType.PROTOCOL_ERROR, "StartRecognition was already received")
        try:
            plan = start.plan_session(msg, path_language=self.path_language)
        except Rejected as exc:
            return self.fail(exc.error_type, exc.reason)
        try:
            decoder_for(plan.audio_format)  # a raw rate the decoders refuse, before any audio
        except UndecodableAudio as exc:
            return self.fail(ErrorType.INVALID_AUDIO_TYPE, f"Invalid audio type: {exc}")
        self.plan = plan
        self.state = State.OPENING
        for label in plan.channels or (None,):
            self._channels[label] = Channel.open(label, plan)
        self._speakers_at_end = plan.get_speakers_at_end
        notices = [Send(w) for w in plan.notices]  # the service sends them this early
        return [*notices, OpenChannels(tuple(self._channels), plan.settings)]

    def _started(self) -> list[Action]:
        assert self.plan is not None
        self.state = State.RUNNING
        return [
            Send(start.recognition_started(
                self.session_id, self.plan.transcription_config["language"], self.plan.channels
            )),
            *self._quality(),
            *(Send(w) for w in self.plan.warnings),
        ]  # fmt: skip

    def _quality(self, *, at_end: bool = False) -> list[Action]:
        """``Info recognition_quality`` once the input's sample rate is known: at once for
        raw audio, once a file's header is decoded (or at its end if it never is)."""
        if self._quality_sent:
            return []
        rates = [c.decoder.input_rate for c in self._channels.values() if c.decoder.input_rate]
        if not rates and not at_end:
            return []
        self._quality_sent = True
        return [Send(start.recognition_quality(rates[0] if rates else None))]

    # --- audio ----------------------------------------------------------------

    def _audio(self, channel: Channel, data: bytes, ack_type: ServerMessage) -> list[Action]:
        channel.frames += 1
        if channel.ended:
            return [Send(start.warning(
                "add_audio_after_eos",
                "audio received after the end of the stream was ignored",
                seq_no=channel.frames,
            ))]  # fmt: skip
        pieces = channel.push(data, ack_type)  # decoded first: the input's rate may be known now
        quality = self._quality() if self.state is State.RUNNING else []
        return [*quality, *pieces]

    def _channel_audio(self, msg: Message) -> list[Action]:
        channel = self._channel_named(msg.get("channel"))
        if isinstance(channel, list):
            return channel
        try:
            data = base64.b64decode(msg["data"], validate=True)  # a string: control.malformed
        except (binascii.Error, ValueError):
            return self.fail(ErrorType.INVALID_MESSAGE, "AddChannelAudio.data is not base64")
        return self._audio(channel, data, ServerMessage.CHANNEL_AUDIO_ADDED)

    def _channel_named(self, label: Any) -> Channel | list[Action]:
        """The channel a multichannel message names, or the actions that reject it."""
        assert self.plan is not None
        if self.plan.channels is None:
            return self.fail(
                ErrorType.PROTOCOL_ERROR, "channel messages need a channel-diarized session"
            )
        if label not in self.plan.channels:
            return self.fail(ErrorType.INVALID_MESSAGE, f"unknown channel {label!r}")
        return self._channels[label]

    # --- ending -----------------------------------------------------------------

    def _end_of_stream(self, msg: Message) -> list[Action]:
        # Any integer last_seq_no will do: official clients send 0, the last ack, or the count.
        out: list[Action] = []
        for channel in self._channels.values():
            out += self._end(channel)
        return out

    def _end_of_channel(self, msg: Message) -> list[Action]:
        channel = self._channel_named(msg.get("channel"))
        if isinstance(channel, list):
            return channel
        return self._end(channel)

    def _end(self, channel: Channel) -> list[Action]:
        if channel.ended:
            return []
        tail = channel.end()  # decoded first: a file's header may only now be complete
        quality = self._quality(at_end=True) if self.state is State.RUNNING else []
        return [*quality, *tail]

    def _finale(self) -> list[Action]:
        if self._speakers_at_end:
            return [QuerySpeakers(final=True)]
        return self._end_of_transcript()

    def _end_of_transcript(self) -> list[Action]:
        self.state = State.DONE
        return [Send({"message": ServerMessage.END_OF_TRANSCRIPT.value})]

    # --- mid-session requests ---------------------------------------------------

    def _force_end_of_utterance(self, msg: Message) -> list[Action]:
        label = msg.get("channel")
        if label is not None:  # as for EndOfChannel: refused in a single-stream session
            named = self._channel_named(label)
            if isinstance(named, list):
                return named
            targets = [named]
        else:
            targets = list(self._channels.values())
        stamp = msg.get("timestamp")
        out: list[Action] = []
        for channel in targets:
            if channel.ended:
                continue
            # Every frame read so far has been fed, so the forced end falls at the audio
            # received: that honours a timestamp pointing there, and no other one.
            if stamp is not None and abs(stamp - channel.received) > TIMESTAMP_SLACK:
                where = f" on channel {channel.label!r}" if channel.label is not None else ""
                out.append(Send(start.warning(
                    options.VALIDATION_WARNING,
                    f"ForceEndOfUtterance.timestamp {stamp:g} s is not applied: the utterance"
                    f"{where} ends at the {channel.received:.2f} s of audio received so far",
                )))  # fmt: skip
            out.append(ForceEnd(channel.label, forced=True))
        return out

    def _set_recognition_config(self, msg: Message) -> list[Action]:
        assert self.plan is not None
        try:
            changes = start.check_mid_session(self.plan.sent_config, msg)
        except Rejected as exc:
            return self.fail(exc.error_type, exc.reason)
        delay = start.commit_delay(self.plan.transcription_config)
        self.plan.transcription_config.update(changes)
        new_delay = start.commit_delay(self.plan.transcription_config)
        changed = new_delay if new_delay != delay else None  # for the words not final yet
        out: list[Action] = []
        for channel in self._channels.values():
            out += channel.reconfigure(changes, changed)
        return out

    def _get_speakers(self, msg: Message) -> list[Action]:
        if msg.get("final"):
            self._speakers_at_end = True
            return []
        return [QuerySpeakers(final=False)]
