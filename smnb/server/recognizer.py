"""The recognizer interface the local server drives.

A recognizer turns 16 kHz mono int16 audio into *committed* words (finals, never
revised) and a *provisional* tail (the partial). It owns the ``max_delay``
commit policy, because only the engine knows how stable its hypotheses are.

It is sans-I/O and synchronous: the server runs each recognizer inside a worker
process (pocketsphinx never releases the GIL) and talks to it through
:mod:`smnb.server.engine.pool`. Times are seconds of audio since the first
sample of the stream, so the same recognizer behaves identically whether audio
arrives at real-time pace or as fast as possible.

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

from smnb.protocol.config import SAMPLE_RATE as SAMPLE_RATE  # the engine's rate, defined once

MaxDelayMode = Literal["fixed", "flexible"]


@dataclass(frozen=True, slots=True)
class VocabEntry:
    """An ``additional_vocab`` item: the word or phrase to output and how it may sound.

    ``sounds_like`` spellings are made of ordinary English words (e.g. ``"speech matics"``).
    """

    content: str
    sounds_like: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RecognizerSettings:
    """What a recognizer needs from ``StartRecognition``, already validated."""

    max_delay: float = 4.0
    max_delay_mode: MaxDelayMode = "flexible"
    enable_partials: bool = False
    speaker_diarization: bool = False
    max_speakers: int | None = None
    speaker_sensitivity: float = 0.5
    prefer_current_speaker: bool = False
    known_speakers: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Enrolled speakers: ``(label, identifiers)`` pairs from ``speaker_diarization_config
    .speakers``, identifiers already checked by :func:`smnb.server.voiceprint.decode`."""
    additional_vocab: tuple[str | VocabEntry, ...] = ()
    """Plain strings or :class:`VocabEntry` items (to carry ``sounds_like``)."""


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word, timed in audio seconds from the start of the stream."""

    content: str
    start_time: float
    end_time: float
    confidence: float = 1.0
    speaker: str | None = None


@dataclass(frozen=True, slots=True)
class Update:
    """What changed after a call into the recognizer.

    ``finals`` are newly committed words, in time order; they are never revised.
    ``partial`` is the whole provisional tail after the last committed word (it
    replaces any earlier partial). ``processed_until`` is how much audio has
    been decoded. ``utterance_ends`` lists the audio times at which the engine
    closed an utterance (its endpointer saw a pause, or ``force_end_of_utterance``
    or ``finish`` closed it) since the last call: the end time of that
    utterance's last final word, never an utterance without words. The server
    puts sentence-end punctuation there.
    """

    finals: tuple[Word, ...] = ()
    partial: tuple[Word, ...] = ()
    processed_until: float = 0.0
    utterance_ends: tuple[float, ...] = field(default_factory=tuple)


Samples = npt.NDArray[np.int16]


class Recognizer(Protocol):
    """A streaming recognizer for one audio stream (one session or one channel).

    An implementation may also define ``close()``, which the engine pool calls when the
    session ends (e.g. to hand its decoder back for the next session).
    """

    def feed(self, samples: Samples) -> Update:
        """Decode more audio (any length, 16 kHz mono int16)."""
        ...

    def force_end_of_utterance(self) -> Update:
        """Commit every pending word now (``ForceEndOfUtterance``, EOU trigger)."""
        ...

    def finish(self) -> Update:
        """Commit everything left; the stream has ended (``EndOfStream``)."""
        ...

    def speakers(self) -> dict[str, list[str]]:
        """Speaker labels seen so far mapped to opaque identifiers (``GetSpeakers``)."""
        ...

    def reconfigure(self, max_delay: float, max_delay_mode: MaxDelayMode) -> None:
        """Apply a new ``max_delay`` (``SetRecognitionConfig``) to every word not yet final."""
        ...
