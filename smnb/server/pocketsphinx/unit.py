"""One *unit* at a time: a stretch of speech decoded as one pocketsphinx utterance.

:class:`UnitDecoder` owns every call into the recognizer's pocketsphinx decoder. A unit
starts with a fresh front end (no noise estimate from earlier audio) normalised by the
session's cepstral mean so far (:class:`~smnb.server.pocketsphinx.cmn.SessionCmn`); the
``fwdtree`` first pass runs as audio arrives. :meth:`UnitDecoder.retune` re-decodes the
unit (from an anchor, at most the whole unit) with a better mean once the unit's own audio
has moved the estimate; :meth:`UnitDecoder.finish` ends the unit with ``bestpath`` and
lattice posteriors.

Confidence: a ``bestpath`` word carries its lattice posterior. A first-pass word (one
committed before its unit ends) has none, so it carries the share of its right context
(the audio heard since it ended) during which the first pass already held it as the best
hypothesis: a word the search keeps changing its mind about scores low. Measured on the
bundled clips, both tell right from wrong words about equally well (AUC ≈ 0.65–0.7).

Must not import: asyncio, websockets, pandas, anything from ``smnb.session``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from smnb.server.pocketsphinx.cmn import SessionCmn, Vector, as_string
from smnb.server.recognizer import SAMPLE_RATE, Word

FRAME_RATE = 100
"""pocketsphinx feature frames per second."""

END_PADDING = 0.2
"""Seconds of digital silence decoded before ending a unit, so the search can reach the
end-of-sentence node: without it, ending in mid-speech makes bestpath fail now and then
("Failed to find DAG node corresponding to </s>", 5 of 104 random cut points measured)."""

REPLAY_CHUNK = 3200
"""Bytes per ``process_raw`` call when re-decoding audio already heard (100 ms)."""

SAME_WORD = 0.05
"""Two first-pass hypotheses of a word whose starts differ by at most this are one word."""


def is_word(token: str) -> bool:
    """False for pocketsphinx fillers: ``<s>``, ``</s>``, ``<sil>``, ``[NOISE]``, ``++UH++``."""
    return bool(token) and token[0] not in "<[+"


def base_word(token: str) -> str:
    """``read(2)`` → ``read``: drop the alternative-pronunciation suffix."""
    cut = token.find("(")
    return token[:cut] if cut > 0 else token


def _clamp01(value: float) -> float:
    return min(1.0, max(0.0, float(value)))


class UnitDecoder:
    """The decoder side of a recognizer: units, re-decoding, words with confidences."""

    def __init__(self, decoder: Any, cmn: SessionCmn, tokens: Mapping[str, str]) -> None:
        self._decoder = decoder
        self._cmn = cmn
        self._tokens = tokens  # additional_vocab decoder token → output text
        self.in_unit = False
        self.start_sample = 0  # stream sample where the unit's audio starts
        self.audio = bytearray()  # the unit's audio, for re-decoding
        self._replay = b""  # unit audio still to be decoded (deferred after a cut)
        self._mean: Vector = cmn.estimate()  # the mean the unit is being decoded with
        self._seen: list[tuple[str, float, float]] = []  # first-pass (word, start, first seen)
        self.redecoded = 0.0
        """Seconds of audio decoded a second time (cost accounting)."""
        self.search_failures = 0
        """Units whose bestpath search failed (their words fell back to the first pass)."""

    # ------------------------------------------------------------------ units

    def start(self, start_sample: int, audio: bytes = b"") -> None:
        """Open a unit at ``start_sample``; ``audio`` (heard already) is decoded with the next
        feed."""
        self.start_sample = start_sample
        self.audio = bytearray(audio)
        self._replay = audio
        self._seen = []
        self._begin(self._cmn.estimate())
        self.in_unit = True

    def feed(self, audio: bytes) -> None:
        """Decode more of the unit."""
        if self._replay:
            replay, self._replay = self._replay, b""
            self._process(replay)
        if audio:
            self._decoder.process_raw(audio)
            self.audio += audio

    def estimate(self) -> Vector:
        """The session's mean including this unit's audio so far."""
        return self._cmn.estimate(bytes(self.audio))

    @property
    def mean(self) -> Vector:
        """The mean the unit is being decoded with."""
        return self._mean

    def retune(self, mean: Vector, from_sample: int) -> None:
        """Decode the unit again from ``from_sample`` with ``mean``.

        Audio before ``from_sample`` (whose words are all final) leaves the unit and joins
        the session's closed speech.
        """
        self.feed(b"")
        self._decoder.end_utt()
        cut = max(0, min(len(self.audio), 2 * (from_sample - self.start_sample)))
        if cut:
            self._cmn.close(bytes(self.audio[:cut]))
            del self.audio[:cut]
            self.start_sample += cut // 2
        self._begin(mean)
        self._process(bytes(self.audio))

    def finish(self) -> tuple[Word, ...]:
        """End the unit: its ``bestpath`` words with posteriors.

        If bestpath finds no path, the first-pass words are returned instead.
        """
        self.feed(b"")
        first_pass = self.first_pass(self.start_sample / SAMPLE_RATE + len(self.audio) / 32000)
        self._decoder.process_raw(bytes(2 * round(END_PADDING * SAMPLE_RATE)))
        self._decoder.end_utt()
        self.in_unit = False
        words = self._words(self._decoder.seg(), posteriors=True)
        if not words and first_pass and self._decoder.hyp() is None:
            self.search_failures += 1
            words = first_pass
        return words

    def abandon(self) -> None:
        """End the pocketsphinx utterance without using it (the session is closing)."""
        if self.in_unit:
            self._decoder.end_utt()
            self.in_unit = False

    def _begin(self, mean: Vector) -> None:
        # A fresh front end per (re)decoding: no noise estimate and no cepstral mean from
        # anything but this session's audio, so the words depend on that audio alone.
        self._decoder.reinit_feat()
        self._decoder.set_cmn(as_string(mean))
        self._mean = mean
        self._decoder.start_utt()

    def _process(self, audio: bytes) -> None:
        self.redecoded += len(audio) / (2 * SAMPLE_RATE)
        for offset in range(0, len(audio), REPLAY_CHUNK):
            self._decoder.process_raw(audio[offset : offset + REPLAY_CHUNK])

    # ------------------------------------------------------------------ words

    def first_pass(self, now: float) -> tuple[Word, ...]:
        """The unit's current first-pass words, each with its stability as confidence."""
        words = self._words(self._decoder.seg(), posteriors=False)
        before: dict[str, list[tuple[float, float]]] = {}
        for content, start, t in self._seen:
            before.setdefault(content, []).append((start, t))
        seen: list[tuple[str, float, float]] = []
        out: list[Word] = []
        for word in words:
            candidates = before.get(word.content, ())
            first = next(
                (t for start, t in candidates if abs(start - word.start_time) <= SAME_WORD), now
            )
            seen.append((word.content, word.start_time, first))
            context = now - word.end_time
            held = now - max(first, word.end_time)
            stability = 1.0 if context <= 0 else _clamp01(held / context)
            out.append(Word(word.content, word.start_time, word.end_time, round(stability, 3)))
        self._seen = seen
        return tuple(out)

    def _words(self, segments: Iterable[Any] | None, *, posteriors: bool) -> tuple[Word, ...]:
        offset = self.start_sample / SAMPLE_RATE
        out: list[Word] = []
        for seg in segments or ():
            if not is_word(seg.word):
                continue
            token = base_word(seg.word)
            out.append(
                Word(
                    content=self._tokens.get(token, token),
                    start_time=round(offset + seg.start_frame / FRAME_RATE, 3),
                    end_time=round(offset + (seg.end_frame + 1) / FRAME_RATE, 3),
                    confidence=round(_clamp01(seg.prob), 4) if posteriors else 1.0,
                )
            )
        return tuple(out)
