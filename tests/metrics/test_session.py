"""smnb.metrics.session: one session analysed against its reference (scenario A)."""

from __future__ import annotations

from importlib.metadata import version

import pytest

from smnb.metrics import analyse
from tests.support.scenarios import REF_A, scenario_a


def test_session_scores_against_the_reference() -> None:
    stats = analyse(scenario_a(), REF_A).stats
    assert (stats["substitutions"], stats["deletions"], stats["insertions"]) == (1, 1, 1)
    assert stats["n_ref_words"] == 6 and stats["wer"] == pytest.approx(0.5)
    assert stats["normaliser"] == f"whisper-english/{version('whisper-normalizer')}"
