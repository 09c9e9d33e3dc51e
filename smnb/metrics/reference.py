"""Reference transcripts and reference word timings, and aligning hypotheses to them.

A :class:`Reference` is the text a session should have produced, optionally with
per-word timings from a forced alignment (``<audio>.words.json``: a list of
``{"word", "start", "end"}`` in seconds from the start of the file). The text is
what WER is scored against; the timings, when present, are the "spoken" anchor for
latency (a word is spoken at ``t0 + end``). Timings are attached to the normalised
reference words by aligning the normalised timing words to the normalised text with
jiwer, so the two files need not tokenise identically.

:func:`sourced_tokens` is how per-word timings survive a context-dependent normaliser
(``thirty five`` → ``35``): a run of words is normalised as one text and each
normalised word is traced back to the words it came from.

By convention :meth:`Reference.for_audio` looks next to the audio file for
``<stem>.txt`` and ``<stem>.words.json``.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jiwer

from smnb.metrics.normalise import Normaliser
from smnb.metrics.normalise import tokens as default_normaliser

Pair = tuple[str, int | None, int | None]
"""(op, reference index, hypothesis index); op is equal/substitute/delete/insert."""


@dataclass(frozen=True, slots=True)
class RefWord:
    """One word of a forced alignment, in seconds from the start of the audio."""

    word: str
    start: float
    end: float


@dataclass(frozen=True)
class Reference:
    """What a session should have produced.

    Args:
        text: the reference transcript (any casing/punctuation; it is normalised).
        timings: reference word timings, or None (latency then anchors on the
            engine's own ``end_time`` and says so in the ``anchor`` column).
        name: where it came from, for reports.
    """

    text: str
    timings: tuple[RefWord, ...] | None = None
    name: str | None = None

    @classmethod
    def from_files(
        cls, text: str | Path | None = None, timings: str | Path | None = None
    ) -> Reference:
        """Read a ``.txt`` transcript and/or a ``.words.json`` timing file.

        With only timings, the text is their words joined by spaces.
        """
        if text is None and timings is None:
            raise ValueError("a reference needs a text file, a timings file, or both")
        words = read_timings(timings) if timings is not None else None
        if text is not None:
            body = Path(text).read_text(encoding="utf-8").strip()
        else:
            body = " ".join(w.word for w in words or ())
        name = str(text if text is not None else timings)
        return cls(body, words, name)

    @classmethod
    def for_audio(cls, audio: str | Path) -> Reference | None:
        """``<stem>.txt`` / ``<stem>.words.json`` next to ``audio``, or None if neither exists."""
        path = Path(audio)
        text = path.with_suffix(".txt")
        timings = path.with_suffix(".words.json")
        if not text.is_file() and not timings.is_file():
            return None
        return cls.from_files(
            text if text.is_file() else None, timings if timings.is_file() else None
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dict (stored in sweep directories so metrics can be recomputed)."""
        timings = None
        if self.timings is not None:
            timings = [{"word": w.word, "start": w.start, "end": w.end} for w in self.timings]
        return {"text": self.text, "timings": timings, "name": self.name}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> Reference:
        """Inverse of :meth:`to_json`."""
        raw = obj.get("timings")
        timings = None if raw is None else tuple(_ref_word(w) for w in raw)
        return cls(str(obj["text"]), timings, obj.get("name"))

    def words(self, normaliser: Normaliser = default_normaliser) -> list[str]:
        """The normalised reference words."""
        return normaliser(self.text)

    def spans(self, normaliser: Normaliser = default_normaliser) -> list[tuple[float, float]]:
        """(start, end) per normalised reference word; NaN where no timing aligned."""
        words = self.words(normaliser)
        nan = (math.nan, math.nan)
        if self.timings is None:
            return [nan] * len(words)
        timings = self.timings
        timed = [
            (tok, timings[first].start, timings[last].end)
            for tok, first, last in sourced_tokens([w.word for w in timings], normaliser)
        ]
        spans = [nan] * len(words)
        for op, i, j in align(words, [t[0] for t in timed]):
            if op in ("equal", "substitute") and i is not None and j is not None:
                spans[i] = (timed[j][1], timed[j][2])
        return spans


def read_timings(path: str | Path) -> tuple[RefWord, ...]:
    """A ``.words.json`` file: a list of ``{"word", "start", "end"}``."""
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(raw, list):
        raise ValueError(f"{path}: expected a list of {{word, start, end}} objects")
    return tuple(_ref_word(w) for w in raw)


def _ref_word(obj: Any) -> RefWord:
    return RefWord(str(obj["word"]), float(obj["start"]), float(obj["end"]))


def align(ref: Sequence[str], hyp: Sequence[str]) -> list[Pair]:
    """Word alignment of ``hyp`` to ``ref`` (jiwer ``process_words``), one entry per word.

    Every reference word appears once (equal/substitute/delete) and every hypothesis
    word once (equal/substitute/insert), in order.
    """
    if not ref:
        return [("insert", None, j) for j in range(len(hyp))]
    if not hyp:
        return [("delete", i, None) for i in range(len(ref))]
    out = jiwer.process_words(" ".join(ref), " ".join(hyp))
    pairs: list[Pair] = []
    for chunk in out.alignments[0]:
        kind = str(chunk.type)
        if kind in ("equal", "substitute"):
            span = range(chunk.ref_end_idx - chunk.ref_start_idx)
            pairs.extend((kind, chunk.ref_start_idx + k, chunk.hyp_start_idx + k) for k in span)
        elif kind == "delete":
            pairs.extend(("delete", i, None) for i in range(chunk.ref_start_idx, chunk.ref_end_idx))
        else:
            pairs.extend(("insert", None, j) for j in range(chunk.hyp_start_idx, chunk.hyp_end_idx))
    return pairs


def sourced_tokens(
    words: Sequence[str], normaliser: Normaliser = default_normaliser
) -> list[tuple[str, int, int]]:
    """Normalise ``words`` as one text: each normalised word with the indices of the first
    and last of ``words`` it came from.

    The words normalised one by one are aligned to the text normalised as a whole. A
    normalised word takes the source of the word it aligned with, and of the words only
    the one-by-one pass produced just before it (jiwer puts ``30`` of ``thirty five``
    before the ``5``/``35`` pair); words left over at the end join the last normalised
    word; a normalised word that aligned with nothing sits where the word before it ended.
    """
    alone = [(tok, k) for k, word in enumerate(words) for tok in normaliser(word)]
    joined = normaliser(" ".join(words))
    if [tok for tok, _ in alone] == joined:
        return [(tok, k, k) for tok, k in alone]  # the usual case: no context mattered
    spans: list[tuple[int, int] | None] = [None] * len(joined)
    pending: list[int] = []  # sources of one-by-one words not aligned yet
    previous: int | None = None  # the last normalised word that got a source
    for _op, i, j in align(joined, [tok for tok, _ in alone]):
        if j is not None:
            pending.append(alone[j][1])
        if i is None or not pending:
            continue
        spans[i] = (min(pending), max(pending))
        pending, previous = [], i
    if pending and previous is not None:
        begin, end = spans[previous] or (pending[0], pending[0])
        spans[previous] = (begin, max(end, *pending))
    out: list[tuple[str, int, int]] = []
    fallback = next((span[0] for span in spans if span is not None), 0)
    for tok, span in zip(joined, spans, strict=True):
        if span is None:
            at = out[-1][2] if out else fallback
            span = (at, at)
        out.append((tok, *span))
    return out
