"""UPWR, revisions and displayed-text WER of scenario A, worked by hand.

Stability: of the six final words, "was" (wash → was) and "knot" (partial not → final
knot) changed, once each: UPWR = 2/6, revisions per word = 2/6.

Displayed text at a_i + τ for each reference word (a = reference end):

===== ===== ========================= =========================== ==========================
word  a     τ = 0                     τ = 0.5                      τ = 1.0
===== ===== ========================= =========================== ==========================
he    0.30  nothing yet ✗             partial "he" (0.8) ✓         partial "he" (1.2) ✓
was   0.55  partial @0.5: none ✗      partial "wash" (0.8) ✗       final "was" ✓
not   1.00  partial @0.8: none ✗      partial "not" (1.45) ✓       final "knot" ✗
a     1.10  deleted ✗                 ✗                            ✗
young 1.40  partial @1.2: none ✗      partial @1.45: none ✗        final "young" ✓
man   1.80  partial @1.45: none ✗     partial "man" (2.3) ✓        final "man" ✓
today inserted, r_F − end = 0.4:      counted ✗ (τ ≥ 0.4)           counted ✗
===== ===== ========================= =========================== ==========================

Errors: 6, 4, 3 of N = 6; at τ = 1.0 that is the final WER (3/6).
"""

from __future__ import annotations

import pytest

from smnb.metrics import analyse
from smnb.metrics.stability import displayed_errors, stability
from tests.support.scenarios import REF_A, scenario_a


def test_upwr_and_revisions_per_word() -> None:
    s = stability(analyse(scenario_a()).tracks)
    assert s["n_final_words"] == 6
    assert s["n_unstable"] == 2
    assert s["upwr"] == pytest.approx(2 / 6)
    assert s["revisions_per_word"] == pytest.approx(2 / 6)


def test_stability_ignores_the_reference() -> None:
    with_ref = analyse(scenario_a(), REF_A).stats
    without = analyse(scenario_a()).stats
    assert with_ref["upwr"] == without["upwr"] == pytest.approx(2 / 6)


def test_displayed_errors_by_hand() -> None:
    m = analyse(scenario_a(), REF_A)
    words, spans = REF_A.words(), REF_A.spans()
    shown = displayed_errors(m.tracks[0], words, spans, lags=(0.0, 0.5, 1.0))
    assert shown["errors"].tolist() == [6, 4, 3]
    assert shown["n_ref"].tolist() == [6, 6, 6]


def test_displayed_errors_converge_to_final_wer() -> None:
    m = analyse(scenario_a(), REF_A)
    last = m.displayed.iloc[-1]
    assert last["errors"] / last["n_ref"] == pytest.approx(m.stats["wer"]) == pytest.approx(0.5)
