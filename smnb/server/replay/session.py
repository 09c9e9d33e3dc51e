"""One client's replay of a recording, as a state machine with no I/O.

:class:`ReplaySession` speaks the server side of RT v2 like
:class:`~smnb.server.protocol.session.ServerSession`, but its transcripts come
from a :class:`~smnb.server.replay.prepare.Replay`: the transport hands it
every client frame and, when asked, the time; it answers with the
:class:`~smnb.server.protocol.actions.Send` / ``Close`` actions to carry out.

When a recorded message goes out: once the client's audio clock reaches the
audio time at which the message originally arrived. The clock is the audio
received so far, and between two frames it keeps running with the injected
monotonic clock for at most the length of the last frame: a client streaming
in real time sends the frame for ``[a, b)`` at ``b``, so its clock really is
there. Without that, every message would wait for the next frame and a replay
measured by the client would be up to one frame later than the recording
(0.1 s with smnb's frames). A client that stops sending stops the clock.
``EndOfStream`` releases everything left, then ``EndOfTranscript``.

Checks: a different audio format gets ``Error invalid_audio_type``; a
different ``transcription_config`` (after ``RecognitionStarted``), audio
that departs from the reference audio (as it happens) or a different
length of audio (at ``EndOfStream``) get a ``Warning`` of type
:data:`MISMATCH` saying how. The transcripts are still the recording's.

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

import hashlib
from collections import deque
from enum import Enum

from smnb.exceptions import ProtocolError
from smnb.protocol import messages as m
from smnb.protocol.messages import ClientMessage, ErrorType, Message, ServerMessage
from smnb.server.protocol import start
from smnb.server.protocol.actions import Action, Close, Send
from smnb.server.replay.compare import config_differences, format_difference
from smnb.server.replay.prepare import Replay
from smnb.server.replay.recording import Timed

MISMATCH = "replay_mismatch"
"""``Warning.type`` for a client whose audio or config is not the recording's."""

LENGTH_TOLERANCE = 0.001
"""Seconds of audio by which two lengths may differ and still count as equal."""


class State(Enum):
    WAITING = "waiting"  # no StartRecognition yet
    RUNNING = "running"
    DONE = "done"  # EndOfTranscript sent
    FAILED = "failed"  # Error sent


class ReplaySession:
    """The replay of one recording to one client."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self.recording = replay.recording
        self.state = State.WAITING
        self.error: tuple[str, str] | None = None
        self._pending: deque[Timed] = deque(self.recording.timed)
        self._frames = 0
        self._bytes = 0
        self._heard = 0.0  # audio seconds received
        self._heard_at = 0.0  # clock reading when the last frame arrived
        self._span = 0.0  # seconds of audio in the last frame
        self._ended = False
        self._diverged = False
        self._hash = hashlib.sha256()

    @property
    def finished(self) -> bool:
        return self.state in (State.DONE, State.FAILED)

    # --- the audio clock --------------------------------------------------------

    def audio_clock(self, now: float) -> float:
        """The client's audio time at clock reading ``now``."""
        if self._frames == 0:
            return 0.0
        return self._heard + min(max(now - self._heard_at, 0.0), self._span)

    def next_release(self) -> float | None:
        """Clock reading at which :meth:`tick` will release the next message, if one is
        due without more audio (None: wait for a frame or the end of the stream)."""
        if self.state is not State.RUNNING or not self._pending or self._frames == 0:
            return None
        head = self._pending[0]
        if head.after_end or head.audio_s > self._heard + self._span:
            return None
        return self._heard_at + max(head.audio_s - self._heard, 0.0)

    def tick(self, now: float) -> list[Action]:
        """Release every recorded message due by ``now``."""
        if self.state is not State.RUNNING:
            return []
        clock = self.audio_clock(now) + 1e-9  # a deadline met to the float is met
        out: list[Action] = []
        while self._pending and not self._pending[0].after_end:
            if self._pending[0].audio_s > clock:
                break
            out += self._release(self._pending.popleft())
            if self.finished:
                break
        return out

    # --- client frames ----------------------------------------------------------

    def opened(self) -> list[Action]:
        """The socket is open: what the recorded service said before StartRecognition."""
        return [Send(dict(msg)) for msg in self.recording.on_open]

    def receive_text(self, text: str | bytes, now: float) -> list[Action]:
        if self.finished:
            return []
        try:
            msg = m.decode(text)
        except ProtocolError as exc:
            return self.fail(ErrorType.INVALID_MESSAGE, str(exc))
        kind = msg["message"]
        if kind == ClientMessage.START_RECOGNITION:
            return self._start(msg, now)
        if kind not in set(ClientMessage) or kind == ClientMessage.ADD_AUDIO:
            return self.fail(ErrorType.INVALID_MESSAGE, f"unknown message type {kind!r}")
        if self.state is State.WAITING:
            return self.fail(ErrorType.PROTOCOL_ERROR, f"{kind} before StartRecognition")
        if kind in (ClientMessage.ADD_CHANNEL_AUDIO, ClientMessage.END_OF_CHANNEL):
            return self.fail(
                ErrorType.PROTOCOL_ERROR, f"{self.recording.name} is a single-stream recording"
            )
        if kind == ClientMessage.END_OF_STREAM:
            return self._end_of_stream()
        if kind in (ClientMessage.FORCE_END_OF_UTTERANCE, ClientMessage.SET_RECOGNITION_CONFIG):
            return [self._warning(f"{kind} cannot change a recorded session; it was ignored")]
        return []  # GetSpeakers: a recorded SpeakersResult goes out at its own time

    def receive_binary(self, data: bytes, now: float) -> list[Action]:
        if self.finished:
            return []
        if self.state is State.WAITING:
            return self.fail(ErrorType.PROTOCOL_ERROR, "audio received before StartRecognition")
        self._frames += 1
        if self._ended:
            return [Send(start.warning(
                "add_audio_after_eos",
                "audio received after the end of the stream was ignored",
                seq_no=self._frames,
            ))]  # fmt: skip
        out: list[Action] = [
            Send({"message": ServerMessage.AUDIO_ADDED.value, "seq_no": self._frames})
        ]
        out += self._compare(data)
        self._bytes += len(data)
        self._hash.update(data)
        heard = self.recording.seconds_for(self._bytes)
        self._heard, self._span, self._heard_at = heard, heard - self._heard, now
        return out + self.tick(now)

    def fail(self, error_type: str, reason: str) -> list[Action]:
        """Send ``Error`` and close with the matching code."""
        if self.finished:
            return []
        self.state = State.FAILED
        self.error = (str(error_type), reason)
        return [
            Send(start.error(error_type, reason)),
            Close(m.close_code_for(error_type), str(error_type)),
        ]

    # --- steps --------------------------------------------------------------------

    def _start(self, msg: Message, now: float) -> list[Action]:
        if self.state is not State.WAITING:
            return self.fail(ErrorType.PROTOCOL_ERROR, "StartRecognition was already received")
        config = msg.get("transcription_config")
        if not isinstance(config, dict):
            return self.fail(
                ErrorType.INVALID_MESSAGE, "StartRecognition has no transcription_config"
            )
        wrong = format_difference(self.recording.audio_format, msg.get("audio_format"))
        if wrong is not None:
            return self.fail(
                ErrorType.INVALID_AUDIO_TYPE, f"replay of {self.recording.name}: {wrong}"
            )
        self.state = State.RUNNING
        out: list[Action] = [Send(dict(said)) for said in self.recording.on_start]
        differences = config_differences(self.recording.transcription_config, config)
        if differences:
            out.append(self._warning(
                "transcription_config differs from the recording's: " + "; ".join(differences)
            ))  # fmt: skip
        return out + self.tick(now)

    def _end_of_stream(self) -> list[Action]:
        if self._ended:
            return []
        self._ended = True
        out: list[Action] = []
        length = self._length_mismatch()
        if length is not None:
            out.append(self._warning(length))
        while self._pending and not self.finished:
            out += self._release(self._pending.popleft())
        if not self.finished:
            self.state = State.DONE
            out.append(Send({"message": ServerMessage.END_OF_TRANSCRIPT.value}))
        return out

    def _release(self, timed: Timed) -> list[Action]:
        msg = dict(timed.message)
        if msg.get("message") != ServerMessage.ERROR.value:
            return [Send(msg)]
        # The recorded session ended in an Error: so does its replay.
        self.state = State.FAILED
        kind = str(msg.get("type", ErrorType.UNKNOWN_ERROR))
        self.error = (kind, str(msg.get("reason", "")))
        return [Send(msg), Close(m.close_code_for(kind), kind)]

    # --- checks -------------------------------------------------------------------

    def _warning(self, what: str) -> Action:
        return Send(start.warning(MISMATCH, f"replay of {self.recording.name}: {what}"))

    def _compare(self, data: bytes) -> list[Action]:
        """A Warning the first time the client's audio departs from the reference."""
        ref = self.replay.reference
        if ref is None or self._diverged:
            return []
        expected = ref.data[self._bytes : self._bytes + len(data)]
        if data[: len(expected)] == expected:
            return []
        self._diverged = True
        first = next(i for i, (a, b) in enumerate(zip(data, expected, strict=False)) if a != b)
        at = self.recording.seconds_for(self._bytes + first)
        return [self._warning(
            f"the audio differs from the recording's from {at:.2f} s on; the transcripts "
            f"replayed are of the recording's audio ({ref.path.name})"
        )]  # fmt: skip

    def _length_mismatch(self) -> str | None:
        """Why the client's audio is not the recording's length (None if it is)."""
        ref = self.replay.reference
        got = self.recording.seconds_for(self._bytes)
        if ref is not None:
            if self._bytes == len(ref.data):
                return None  # a different content was reported as it arrived
            want = ref.seconds
            digest = f" (sha256 {self._hash.hexdigest()[:12]}, the recording's {ref.sha256[:12]})"
        elif self.recording.audio_seconds is not None:
            want, digest = self.recording.audio_seconds, ""
            if abs(got - want) <= LENGTH_TOLERANCE:
                return None
        else:
            return None  # a SaaS recording without its audio file: its length is not known
        return f"{got:.2f} s of audio received, the recording's audio is {want:.2f} s{digest}"
