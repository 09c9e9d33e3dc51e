"""Word error rate: per-session counts, corpus pooling, and a file-bootstrap interval.

* Both sides go through the pinned normaliser (:mod:`smnb.metrics.normalise`, Whisper's
  English normaliser; its name and version are recorded with every score) before jiwer
  aligns them; hits, substitutions, deletions and insertions are jiwer's own counts.
* WER is **pooled**: ``(S + D + I) / N`` with counts summed over every session of a
  setting, never an average of per-file WERs (which over-weights short clips).
* Its interval is a percentile bootstrap over **files** (all sessions of a drawn file
  move together, repeats included), seeded (:func:`smnb.metrics.stats.bootstrap_ratio_ci`).

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import jiwer

from smnb.metrics import normalise
from smnb.metrics.stats import DEFAULT_LEVEL, DEFAULT_RESAMPLES, bootstrap_ratio_ci


@dataclass(frozen=True, slots=True)
class Score:
    """Alignment counts of one hypothesis against one reference (or a pooled sum)."""

    n_ref: int
    hits: int
    substitutions: int
    deletions: int
    insertions: int

    @property
    def errors(self) -> int:
        """``S + D + I``."""
        return self.substitutions + self.deletions + self.insertions

    @property
    def wer(self) -> float:
        """``(S + D + I) / N``; NaN for an empty reference."""
        return self.errors / self.n_ref if self.n_ref else float("nan")

    def __add__(self, other: Score) -> Score:
        return Score(
            self.n_ref + other.n_ref,
            self.hits + other.hits,
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
        )


ZERO = Score(0, 0, 0, 0, 0)


def score_words(ref: Sequence[str], hyp: Sequence[str]) -> Score:
    """jiwer's counts for already-normalised word lists."""
    if not ref:  # jiwer refuses an empty reference: every word said is an insertion
        return Score(0, 0, 0, 0, len(hyp))
    if not hyp:
        return Score(len(ref), 0, 0, len(ref), 0)
    out = jiwer.process_words(" ".join(ref), " ".join(hyp))
    return Score(len(ref), out.hits, out.substitutions, out.deletions, out.insertions)


def score(reference: str, hypothesis: str) -> Score:
    """Counts for raw texts, both normalised with the pinned normaliser."""
    return score_words(normalise.tokens(reference), normalise.tokens(hypothesis))


def pooled(scores: Iterable[Score]) -> Score:
    """The sum of several scores (corpus-level counts)."""
    total = ZERO
    for s in scores:
        total = total + s
    return total


def wer_interval(
    per_file: Sequence[Score],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Bootstrap CI of pooled WER, resampling files; pass one pooled score per file."""
    return bootstrap_ratio_ci(
        [s.errors for s in per_file],
        [s.n_ref for s in per_file],
        n_resamples=n_resamples,
        level=level,
        seed=seed,
    )
