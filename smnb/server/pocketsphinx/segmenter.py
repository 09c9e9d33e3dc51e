"""Voice-activity segmentation of a 16 kHz int16 stream into utterances, with no output delay.

Same decision rule as ``pocketsphinx.Endpointer`` (WebRTC VAD on 30 ms frames; an
utterance starts when ``ratio`` of the last ``window`` frames are speech and ends when
``ratio`` of them are not), but written so the decoder never waits: ``Endpointer``
returns speech one window (0.3 s) late, which would eat half of a 0.7 s ``max_delay``.
Here every frame of an open utterance is handed on as soon as it is classified, and an
utterance opens with a pre-roll of the audio before it, because pocketsphinx drops
first words that start with no leading silence.

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum

from pocketsphinx import Vad

FRAME_SAMPLES = 480
"""One VAD frame: 30 ms at 16 kHz."""
FRAME_BYTES = 2 * FRAME_SAMPLES


class Event(Enum):
    """What one frame did to the segmentation."""

    SILENCE = "silence"  # outside an utterance; nothing to decode
    START = "start"  # an utterance opened; decode ``audio`` (pre-roll up to this frame)
    SPEECH = "speech"  # inside an utterance; decode ``audio`` (this frame)
    END = "end"  # this frame closed the utterance; decode ``audio`` (this frame), then finish


@dataclass(frozen=True, slots=True)
class Step:
    """The segmenter's verdict on one frame.

    ``audio`` is what the decoder must consume now, starting at sample ``audio_start``
    of the stream (for ``START`` that is the beginning of the pre-roll).
    """

    event: Event
    audio: bytes = b""
    audio_start: int = 0


class SpeechSegmenter:
    """Feed it 30 ms frames; it says where utterances begin and end."""

    def __init__(
        self,
        *,
        window_frames: int = 10,
        ratio: float = 0.9,
        vad_mode: int = 3,
        preroll_frames: int = 10,
    ) -> None:
        self._vad = Vad(mode=vad_mode, sample_rate=16_000, frame_length=0.03)
        if self._vad.frame_bytes != FRAME_BYTES:  # pragma: no cover - pocketsphinx invariant
            raise RuntimeError(f"unexpected VAD frame size {self._vad.frame_bytes}")
        self._window: deque[bool] = deque(maxlen=window_frames)
        # Enough history for the decision window plus the pre-roll before it.
        self._history: deque[bytes] = deque(maxlen=window_frames + preroll_frames)
        self._needed = max(1, round(ratio * window_frames))
        self._frames_seen = 0
        self.in_speech = False

    @property
    def position(self) -> int:
        """Samples consumed so far."""
        return self._frames_seen * FRAME_SAMPLES

    def push(self, frame: bytes) -> Step:
        """Classify one frame of exactly :data:`FRAME_BYTES` bytes."""
        is_speech = bool(self._vad.is_speech(frame))
        self._frames_seen += 1
        self._window.append(is_speech)
        self._history.append(frame)
        frame_start = self.position - FRAME_SAMPLES
        if not self.in_speech:
            if sum(self._window) >= self._needed:
                self.in_speech = True
                self._window.clear()  # the end decision needs a fresh window
                audio = b"".join(self._history)
                self._history.clear()
                return Step(Event.START, audio, self.position - len(audio) // 2)
            return Step(Event.SILENCE)
        self._history.clear()
        if len(self._window) == self._window.maxlen and (
            len(self._window) - sum(self._window) >= self._needed
        ):
            self.in_speech = False
            self._window.clear()
            return Step(Event.END, frame, frame_start)
        return Step(Event.SPEECH, frame, frame_start)
