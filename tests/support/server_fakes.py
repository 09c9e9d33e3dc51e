"""A small, real recognizer for protocol tests: tones in, named words out.

:class:`ToneRecognizer` implements :class:`smnb.server.recognizer.Recognizer`
without pocketsphinx, so session and transport tests are fast and exact. A run
of loud 30 ms frames is a word; its content names the tone's pitch (200 Hz →
``alpha``, 400 Hz → ``bravo``…). Words are committed ``max_delay − 0.2`` s of
audio after they end, or when 0.3 s of silence ends the utterance, or on
``force_end_of_utterance`` / ``finish``. :func:`speech` builds matching audio.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace

import numpy as np

from smnb.server.recognizer import (
    SAMPLE_RATE,
    MaxDelayMode,
    RecognizerSettings,
    Samples,
    Update,
    Word,
)

NAMES = ("", "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel")
FRAME = SAMPLE_RATE * 30 // 1000
UTTERANCE_GAP = 0.3


def tone(name: str, seconds: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A word: a tone whose pitch names it, as float32 in [-1, 1]."""
    freq = 200.0 * NAMES.index(name)
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def silence(seconds: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    return np.zeros(round(seconds * rate), dtype=np.float32)


def speech(script: Sequence[str | float], rate: int = SAMPLE_RATE) -> np.ndarray:
    """Audio for ``script``: names are 0.3 s words, numbers are seconds of silence."""
    parts = [silence(x, rate) if isinstance(x, float) else tone(x, 0.3, rate) for x in script]
    return np.concatenate(parts)


def s16(x: np.ndarray) -> bytes:
    return np.clip(np.rint(x * 32767), -32768, 32767).astype("<i2").tobytes()


class ToneRecognizer:
    """See the module docstring."""

    def __init__(
        self, settings: RecognizerSettings, *, utterance_gap: float = UTTERANCE_GAP
    ) -> None:
        self.settings = settings
        self.utterance_gap = utterance_gap
        self._leftover = np.zeros(0, dtype=np.int16)
        self._pos = 0  # samples consumed
        self._word_start: int | None = None
        self._word_audio: list[np.ndarray] = []
        self._pending: list[Word] = []
        self._last_end: float | None = None
        self._finals: list[Word] = []
        self._ends: list[float] = []
        self.fed: list[int] = []  # sizes of every feed, for tests

    def feed(self, samples: Samples) -> Update:
        self.fed.append(len(samples))
        data = np.concatenate([self._leftover, samples.astype(np.int16)])
        whole = len(data) - len(data) % FRAME
        self._leftover = data[whole:]
        for i in range(0, whole, FRAME):
            self._frame(data[i : i + FRAME])
        return self._update()

    def force_end_of_utterance(self) -> Update:
        self._close_word()
        self._commit(len(self._pending))
        return self._update()

    def finish(self) -> Update:
        if len(self._leftover):
            self._frame(
                np.concatenate([self._leftover, np.zeros(FRAME - len(self._leftover), np.int16)])
            )
            self._leftover = np.zeros(0, dtype=np.int16)
        return self.force_end_of_utterance()

    def speakers(self) -> dict[str, list[str]]:
        return {"S1": ["spk-1"]} if self.settings.speaker_diarization and self._last_end else {}

    def reconfigure(self, max_delay: float, max_delay_mode: MaxDelayMode) -> None:
        self.settings = replace(self.settings, max_delay=max_delay, max_delay_mode=max_delay_mode)

    def close(self) -> None:
        pass

    # --- internals

    def _frame(self, frame: np.ndarray) -> None:
        x = frame.astype(np.float64)
        loud = np.sqrt(np.mean(x * x)) > 500
        if loud:
            if self._word_start is None:
                self._word_start, self._word_audio = self._pos, []
            self._word_audio.append(x)
        elif self._word_start is not None:
            self._close_word()
        self._pos += FRAME
        now = self._pos / SAMPLE_RATE
        due = sum(1 for w in self._pending if now - w.end_time >= self.settings.max_delay - 0.2)
        self._commit(due)
        if (
            self._pending
            and self._word_start is None
            and now - self._pending[-1].end_time >= self.utterance_gap
        ):
            self._commit(len(self._pending))

    def _close_word(self) -> None:
        if self._word_start is None:
            return
        audio = np.concatenate(self._word_audio)
        spectrum = np.abs(np.fft.rfft(audio))
        freq = float(np.argmax(spectrum)) * SAMPLE_RATE / len(audio)  # the tone's pitch
        name = NAMES[min(len(NAMES) - 1, max(1, round(freq / 200)))]
        speaker = "S1" if self.settings.speaker_diarization else None
        self._pending.append(
            Word(name, self._word_start / SAMPLE_RATE, self._pos / SAMPLE_RATE, 0.9, speaker)
        )
        self._word_start = None

    def _commit(self, n: int) -> None:
        if n <= 0:
            return
        words, self._pending = self._pending[:n], self._pending[n:]
        self._finals.extend(words)
        self._last_end = words[-1].end_time
        if not self._pending and self._word_start is None:
            self._ends.append(self._last_end)

    def _update(self) -> Update:
        partial = list(self._pending)
        if self._word_start is not None:
            partial.append(Word("…", self._word_start / SAMPLE_RATE, self._pos / SAMPLE_RATE))
        finals, self._finals = tuple(self._finals), []
        ends, self._ends = tuple(self._ends), []
        return Update(finals, tuple(partial), self._pos / SAMPLE_RATE, ends)


class _InlineHandle:
    """A recognizer run on the event loop (fine for tones; the real engine uses processes)."""

    def __init__(self, recognizer: ToneRecognizer) -> None:
        self.recognizer = recognizer

    async def feed(self, pcm: bytes) -> Update:
        return self.recognizer.feed(np.frombuffer(pcm, dtype="<i2"))

    async def force_end_of_utterance(self) -> Update:
        return self.recognizer.force_end_of_utterance()

    async def finish(self) -> Update:
        return self.recognizer.finish()

    async def speakers(self) -> dict[str, list[str]]:
        return self.recognizer.speakers()

    async def reconfigure(self, max_delay: float, max_delay_mode: MaxDelayMode) -> None:
        self.recognizer.reconfigure(max_delay, max_delay_mode)

    async def close(self) -> None:
        self.recognizer.close()


class InlineEngine:
    """An :class:`smnb.server.app.Engine` hosting :class:`ToneRecognizer` in-process."""

    def __init__(self) -> None:
        self.opened: list[ToneRecognizer] = []

    async def open(self, settings: RecognizerSettings) -> _InlineHandle:
        recognizer = ToneRecognizer(settings)
        self.opened.append(recognizer)
        return _InlineHandle(recognizer)


def inline_engine_factory(engine: InlineEngine | None = None) -> Callable[[], object]:
    """An ``engine_factory`` for :func:`smnb.server.serve` yielding ``engine``."""
    the_engine = engine or InlineEngine()

    @asynccontextmanager
    async def factory() -> AsyncIterator[InlineEngine]:
        yield the_engine

    return factory
