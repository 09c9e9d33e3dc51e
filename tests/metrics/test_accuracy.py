"""WER counts after normalisation (jiwer's S/D/I), corpus pooling and the file interval."""

from __future__ import annotations

import math

import pytest

from smnb.metrics import pooled, score, score_words, wer_interval
from smnb.metrics.accuracy import Score


def test_score_by_hand() -> None:
    # ref: he was not an ill disposed man (7); hyp: he was a ill disposed young man.
    # "not an" -> "a": one substitution + one deletion; "young" inserted.
    s = score("He was NOT an ill-disposed man.", "he was a ill disposed young man")
    assert (s.n_ref, s.substitutions, s.deletions, s.insertions) == (7, 1, 1, 1)
    assert s.hits == 5  # he, was, ill, disposed, man
    assert s.wer == pytest.approx(3 / 7)


def test_normalisation_makes_formatting_free() -> None:
    assert score("mister smith paid twenty dollars", "Mr. Smith paid $20.").wer == 0.0


def test_empty_reference() -> None:
    s = score_words([], ["a", "b"])
    assert s.insertions == 2 and math.isnan(s.wer)
    assert score_words(["a"], []).deletions == 1


def test_pooled_wer_is_not_the_mean_of_file_wers() -> None:
    a = Score(10, 9, 1, 0, 0)  # 10 %
    b = Score(2, 1, 0, 1, 0)  # 50 %
    total = pooled([a, b])
    assert total.wer == pytest.approx(2 / 12)
    assert (a.wer + b.wer) / 2 == pytest.approx(0.3)


def test_wer_interval_over_files() -> None:
    low, high = wer_interval([Score(10, 10, 0, 0, 0), Score(10, 0, 10, 0, 0)], seed=0)
    assert (low, high) == (0.0, 1.0)
