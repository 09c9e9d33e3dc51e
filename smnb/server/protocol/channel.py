"""One audio channel of a server session: its audio in, its transcript out. No I/O.

A :class:`Channel` is the pipeline behind one channel label (``None`` for a
single-channel session). Audio in: a frame is decoded to 16 kHz
(:mod:`~smnb.server.audio.input`), volume-gated (:mod:`~smnb.server.audio.volume`) and cut
into :class:`~smnb.server.protocol.actions.Feed` pieces for the recognizer, the last
piece carrying the frame's acknowledgement. Transcript out: each recognizer result goes
through the :class:`~smnb.server.protocol.transcript.TranscriptWriter` and the
:class:`~smnb.server.protocol.postprocess.TranscriptPostprocessor` into messages to send.

Pieces are cut on the partial cadence, so partials come every
:data:`~smnb.server.protocol.transcript.PARTIAL_INTERVAL` of audio however the client
chunks its frames. Protocol decisions (ordering, errors, when ``EndOfTranscript`` may go)
belong to :class:`~smnb.server.protocol.session.ServerSession`, which routes frames and
engine outcomes to its channels.

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from smnb.protocol.messages import Message, ServerMessage
from smnb.server.audio.input import AudioDecoder, decoder_for
from smnb.server.audio.volume import VolumeGate
from smnb.server.protocol import start
from smnb.server.protocol.actions import Action, Feed, Finish, ForceEnd, Reconfigure, Send
from smnb.server.protocol.postprocess import TranscriptPostprocessor
from smnb.server.protocol.start import SessionPlan
from smnb.server.protocol.transcript import PARTIAL_INTERVAL, TranscriptWriter
from smnb.server.recognizer import SAMPLE_RATE, MaxDelayMode, Samples, Update

PARTIAL_SAMPLES = round(PARTIAL_INTERVAL * SAMPLE_RATE)
"""Recognizer pieces never cross a multiple of this many samples (the partial cadence)."""


@dataclass(slots=True, eq=False)
class Channel:
    """The audio and transcript state of one channel (``label`` ``None``: the only one)."""

    label: str | None
    decoder: AudioDecoder
    writer: TranscriptWriter
    gate: VolumeGate
    post: TranscriptPostprocessor
    frames: int = 0  # audio frames received: the next ack's seq_no
    fed: int = 0  # samples handed to the recognizer
    ended: bool = False  # EndOfChannel / EndOfStream received
    finished: bool = False  # the recognizer's finish() came back

    @classmethod
    def open(cls, label: str | None, plan: SessionPlan) -> Channel:
        """A new channel set up as the session's checked plan says."""
        writer = TranscriptWriter(
            language=plan.transcription_config["language"],
            channel=label,
            partials=plan.enable_partials,
            eou_trigger=plan.eou_trigger,
            speakers=plan.speakers,
            settle_delay=plan.settings.max_delay,
        )
        gate = VolumeGate(plan.volume_threshold)
        post = TranscriptPostprocessor(plan.postprocess, gate.volume_between)
        return cls(label, decoder_for(plan.audio_format), writer, gate, post)

    @property
    def received(self) -> float:
        """Seconds of audio handed to the recognizer so far (where a forced end falls)."""
        return self.fed / SAMPLE_RATE

    # --- audio in ---------------------------------------------------------------

    def push(self, data: bytes, ack_type: ServerMessage) -> list[Action]:
        """One received frame (already counted in :attr:`frames`): the recognizer pieces
        it makes, the last carrying its ack, or the ack alone if it makes none yet.

        Raises:
            UndecodableAudio: the frame is not audio of the session's format.
        """
        ack: Message = {"message": ack_type.value, "seq_no": self.frames}
        if self.label is not None:
            ack["channel"] = self.label
        feeds = self.pieces(self.gate.push(self.decoder.push(data)))
        if not feeds:
            return [Send(ack)]
        last = feeds[-1]
        feeds[-1] = Feed(last.channel, last.samples, ack=ack)
        return list(feeds)

    def end(self) -> list[Action]:
        """The channel's audio has ended: the decoder's tail, then ``Finish``."""
        self.ended = True
        tail = self.gate.finish(self.decoder.finish())
        return [*self.pieces(tail), Finish(self.label)]

    def pieces(self, samples: Samples) -> list[Feed]:
        """Cut decoded audio into recognizer pieces that never cross a partial-cadence
        boundary (the recognizer keeps any part of a frame for the next piece)."""
        feeds: list[Feed] = []
        pos = 0
        while pos < len(samples):
            boundary = (self.fed // PARTIAL_SAMPLES + 1) * PARTIAL_SAMPLES
            step = min(len(samples) - pos, boundary - self.fed)
            feeds.append(Feed(self.label, samples[pos : pos + step]))
            pos += step
            self.fed += step
        return feeds

    # --- transcript out ---------------------------------------------------------

    def fed_result(self, command: Feed, result: Update) -> list[Action]:
        """What a piece's recognizer update makes: its ack first, then transcripts; and,
        when the silence trigger is due, the end of the utterance (or the ask for it)."""
        writer = self.writer
        sends = [command.ack] if command.ack is not None else []
        made = self.post.process(writer.update(result))
        out: list[Action] = [Send(msg) for msg in (*sends, *made)]
        if writer.eou_due():
            if writer.pending_words:  # commit them first, then the final and the EOU
                out.append(ForceEnd(self.label, forced=False))
            else:  # all committed already: nothing to ask the recognizer
                idle = Update(processed_until=writer.processed)
                ended = writer.end_of_utterance(idle, forced=False)
                out += [Send(msg) for msg in self.post.process(ended)]
        return out

    def utterance_ended(self, result: Update, *, forced: bool) -> list[Action]:
        """The recognizer committed the utterance: its final and ``EndOfUtterance``."""
        ended = self.writer.end_of_utterance(result, forced=forced)
        return [Send(msg) for msg in self.post.process(ended)]

    def finish(self, result: Update) -> list[Action]:
        """The recognizer's last update: the channel's last transcripts."""
        self.finished = True
        return [Send(msg) for msg in self.post.process(self.writer.finish(result))]

    # --- mid-session changes ----------------------------------------------------

    def reconfigure(
        self, changes: Mapping[str, Any], delay: tuple[float, MaxDelayMode] | None
    ) -> list[Action]:
        """Apply checked ``SetRecognitionConfig`` changes; ``delay``: the new
        ``(max_delay, max_delay_mode)`` if it changed, for the words not final yet."""
        out: list[Action] = []
        if delay is not None and not self.ended:
            self.writer.settle_delay = delay[0]
            out.append(Reconfigure(self.label, *delay))
        if "enable_partials" in changes:
            self.writer.partials = bool(changes["enable_partials"])
        if "audio_filtering_config" in changes:
            self.gate.threshold = start.volume_threshold(changes)
        conversation = changes.get("conversation_config")
        if conversation is not None:
            trigger = conversation.get("end_of_utterance_silence_trigger", 0.0)
            self.writer.eou_trigger = float(trigger)
        return out
