"""WER counts after normalisation, corpus pooling, and reference handling."""

from __future__ import annotations

import json
import math
from importlib.metadata import version
from pathlib import Path

import pytest

from smnb.metrics import Reference, RefWord, analyse, pooled, score, score_words, wer_interval
from smnb.metrics.accuracy import Score
from tests.support.scenarios import REF_A, scenario_a


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


def test_session_scores_against_the_reference() -> None:
    stats = analyse(scenario_a(), REF_A).stats
    assert (stats["substitutions"], stats["deletions"], stats["insertions"]) == (1, 1, 1)
    assert stats["n_ref_words"] == 6 and stats["wer"] == pytest.approx(0.5)
    assert stats["normaliser"] == f"whisper-english/{version('whisper-normalizer')}"


def test_reference_files_and_timing_alignment(tmp_path: Path) -> None:
    audio = tmp_path / "clip.wav"
    audio.write_bytes(b"")
    (tmp_path / "clip.txt").write_text("Mr. Dashwood was ill-disposed\n")
    timings = [
        {"word": "mister", "start": 0.0, "end": 0.3},
        {"word": "dashwood", "start": 0.3, "end": 0.8},
        {"word": "was", "start": 0.8, "end": 1.0},
        {"word": "ill-disposed", "start": 1.0, "end": 1.6},
    ]
    (tmp_path / "clip.words.json").write_text(json.dumps(timings))
    ref = Reference.for_audio(audio)
    assert ref is not None
    assert ref.words() == ["mister", "dashwood", "was", "ill", "disposed"]
    # "ill-disposed" splits into two words sharing the timing of the one entry.
    assert ref.spans() == [(0.0, 0.3), (0.3, 0.8), (0.8, 1.0), (1.0, 1.6), (1.0, 1.6)]
    assert Reference.from_json(ref.to_json()) == ref


def test_no_reference_next_to_audio(tmp_path: Path) -> None:
    assert Reference.for_audio(tmp_path / "nothing.wav") is None


def test_text_without_timings_has_nan_spans() -> None:
    ref = Reference("a b")
    assert all(math.isnan(x) for span in ref.spans() for x in span)
    assert Reference.from_files  # the class method exists for files
    assert ref.timings is None
    assert RefWord("a", 0.0, 1.0).end == 1.0
