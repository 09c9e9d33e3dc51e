"""Per-word latency, TTFP and end-of-utterance latency of scenario A, worked by hand.

With reference timings (anchor = reference word end):

====== ====== ========= ======= ========= ========= ====== =====
ref    op     anchor    end     partial   final     L_P    L_F
====== ====== ========= ======= ========= ========= ====== =====
he     equal  reference 0.30    0.50      1.40      0.20   1.10
was    equal  reference 0.55    0.80      1.40      0.25   0.85
not    subst. reference 1.00    1.20      2.00      0.20   1.00
a      delete reference 1.10    –         –         –      –
young  equal  reference 1.40    –         2.00      –      0.60
man    equal  reference 1.80    2.05      2.60      0.25   0.80
today  insert engine    2.20    2.30      2.60      0.10   0.40
====== ====== ========= ======= ========= ========= ====== =====

Counted (equal/substitute): final [1.1, 0.85, 1.0, 0.6, 0.8] → sorted 0.6 0.8 0.85 1.0 1.1:
p50 0.85, p90 at position 3.6 → 1.0 + 0.6·0.1 = 1.06. Partials [0.2, 0.25, 0.2, 0.25] → p50 0.225.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from smnb.metrics import LATENCY_COLUMNS, analyse
from smnb.metrics.reference import Reference
from tests.support.builder import SessionLog
from tests.support.scenarios import REF_A, scenario_a

NAN = math.nan


def _col(frame: pd.DataFrame, name: str) -> list[float]:
    return [round(v, 6) if not math.isnan(v) else v for v in frame[name].astype(float)]


def _same(actual: list[float], expected: list[float]) -> bool:
    return all(
        (math.isnan(a) and math.isnan(e)) or a == pytest.approx(e)
        for a, e in zip(actual, expected, strict=True)
    )


def test_columns_and_dtypes() -> None:
    lat = analyse(scenario_a(), REF_A).latency
    assert list(lat.columns) == list(LATENCY_COLUMNS)
    assert {c: str(t) for c, t in lat.dtypes.items()} == LATENCY_COLUMNS


def test_rows_with_reference_timings() -> None:
    lat = analyse(scenario_a(), REF_A).latency
    assert list(lat["ref_word"].fillna("-")) == ["he", "was", "not", "a", "young", "man", "-"]
    assert list(lat["hyp_word"].fillna("-")) == ["he", "was", "knot", "-", "young", "man", "today"]
    assert list(lat["op"].astype(str)) == [
        "equal", "equal", "substitute", "delete", "equal", "equal", "insert",
    ]  # fmt: skip
    assert list(lat["anchor"].astype(str)) == ["reference"] * 6 + ["engine"]
    assert _same(_col(lat, "word_end_s"), [0.3, 0.55, 1.0, 1.1, 1.4, 1.8, 2.2])
    assert _same(_col(lat, "partial_latency_s"), [0.2, 0.25, 0.2, NAN, NAN, 0.25, 0.1])
    assert _same(_col(lat, "final_latency_s"), [1.1, 0.85, 1.0, NAN, 0.6, 0.8, 0.4])
    # emission = min(partial, final) - end: "young" was first seen in its final.
    assert _same(_col(lat, "emission_latency_s"), [0.2, 0.25, 0.2, NAN, 0.6, 0.25, 0.1])
    assert _same(_col(lat, "finalisation_lag_s"), [0.9, 0.6, 0.8, NAN, NAN, 0.55, 0.3])
    assert list(lat["counted"]) == [True, True, True, False, True, True, False]
    # The last final came after EndOfStream (2.5): the end of the audio released it.
    assert list(lat["flushed"]) == [False] * 5 + [True, True]
    assert list(lat["revisions"].astype("float").fillna(-1)) == [0, 1, 1, -1, 0, 0, 0]


def test_session_percentiles_ttfp_and_coverage() -> None:
    stats = analyse(scenario_a(), REF_A).stats
    assert stats["n_words"] == 5
    assert stats["n_flushed"] == 1  # "man"; "today" is an insertion, not counted
    assert stats["final_p50"] == pytest.approx(0.85)
    assert stats["final_p95"] == pytest.approx(1.0 + 0.8 * 0.1)  # position 3.8
    assert stats["partial_p50"] == pytest.approx(0.225)
    assert stats["ttfp_s"] == pytest.approx(0.5)
    assert stats["ttfp_speech_s"] == pytest.approx(0.4)  # speech onset: "he" at 0.1
    assert stats["coverage"] == pytest.approx(5 / 6)
    assert stats["anchor"] == "reference"
    assert stats["max_delay"] == 1.0


def test_end_of_utterance_latency() -> None:
    # With reference anchors the last counted word before the EOU (2.9) is "man" (1.8).
    assert analyse(scenario_a(), REF_A).eou_latencies == [pytest.approx(1.1)]
    # On engine anchors every final word counts; the last is "today" (2.2).
    assert analyse(scenario_a()).eou_latencies == [pytest.approx(0.7)]


def test_an_eou_without_new_words_is_skipped() -> None:
    s = SessionLog(audio_seconds=2.0)
    s.final(1.0, ("hi", 0.2, 0.5))
    s.eou(1.2, 0.9)
    s.eou(1.9, 1.6)  # silence continues: no new word since the last EOU
    assert analyse(s.end(2.0)).eou_latencies == [pytest.approx(0.7)]


def test_engine_anchor_without_reference() -> None:
    m = analyse(scenario_a())
    lat = m.latency
    assert set(lat["op"].astype(str)) == {"unscored"}
    assert set(lat["anchor"].astype(str)) == {"engine"}
    # engine ends: 0.3 0.6 1.0 1.4 1.8 2.2; finals 1.4 1.4 2.0 2.0 2.6 2.6
    assert _same(_col(lat, "final_latency_s"), [1.1, 0.8, 1.0, 0.6, 0.8, 0.4])
    assert m.stats["final_p50"] == pytest.approx(0.8)
    assert "wer" not in m.stats


def test_text_only_reference_anchors_on_the_engine() -> None:
    lat = analyse(scenario_a(), Reference("he was not a young man")).latency
    counted = lat[lat["counted"]]
    assert set(counted["anchor"].astype(str)) == {"engine"}
    assert counted["final_latency_s"].tolist() == pytest.approx([1.1, 0.8, 1.0, 0.6, 0.8])
    assert lat.loc[3, "anchor"] is pd.NA or pd.isna(lat.loc[3, "anchor"])  # deleted, unplaced


def test_latency_is_relative_to_the_audio_origin() -> None:
    # Shift everything by 5 s of recorder time: t0 moves too, latencies do not.
    base = analyse(_shifted(0.0), None).latency["final_latency_s"].tolist()
    shifted = analyse(_shifted(5.0), None).latency["final_latency_s"].tolist()
    assert base == pytest.approx([0.5])  # received 0.9 s after sample 0; word ends at 0.4
    assert shifted == pytest.approx([0.5])


def _shifted(offset: float) -> object:
    from smnb.clock import ManualClock
    from smnb.recorder import Recorder

    rec = Recorder(ManualClock())
    rec.record_audio(1, 3200, 0.0, 0.1, scheduled_t=offset + 0.1, t=offset + 0.1)
    rec.record_received(
        {"message": "AddTranscript", "metadata": {"start_time": 0, "end_time": 0.4,
         "transcript": "hi"}, "results": [
            {"type": "word", "start_time": 0.2, "end_time": 0.4,
             "alternatives": [{"content": "hi", "confidence": 1.0}]}]},
        offset + 0.9,
    )  # fmt: skip
    return rec
