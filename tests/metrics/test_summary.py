"""Pooling sessions into one row per setting, worked by hand.

Setting max_delay = 1.0 holds: A (file f1, scenario A), B (file f2, scenario B) and a
failed session C (file f1, a copy of B's log) that must not count. Setting 2.0 holds D
(file f2, scenario B with max_delay 2).

Counted final latencies at 1.0: A [1.1, 0.85, 1.0, 0.6, 0.8] + B [0.5, 0.1]
→ sorted 0.1 0.5 0.6 0.8 0.85 1.0 1.1 (n 7): p50 0.8; p90 at position 5.4 → 1.04.
Bound 1.0 + 0.05 (no acks recorded, so no RTT allowance) = 1.05: only 1.1 violates → 1/7.
WER: errors 3 + 0 over 6 + 2 words = 0.375. UPWR: 2 unstable of 6 + 2 final words = 0.25.
"""

from __future__ import annotations

import math

import pytest

from smnb.metrics import analyse, displayed_wer, normalise, summarise, tabulate
from smnb.metrics.summary import Tables
from smnb.protocol.config import DEFAULT_MAX_DELAY
from tests.support.scenarios import REF_A, REF_B, scenario_a, scenario_b


def _tables() -> Tables:
    def info(sid: str, file: str, md: float, status: str = "ok") -> dict[str, object]:
        return {"session_id": sid, "file": file, "repeat": 0, "status": status, "max_delay": md}

    return tabulate(
        [
            (info("A", "f1", 1.0), analyse(scenario_a(), REF_A)),
            (info("B", "f2", 1.0), analyse(scenario_b(), REF_B)),
            (info("C", "f1", 1.0, "failed"), analyse(scenario_b(), REF_A)),
            (info("D", "f2", 2.0), analyse(scenario_b(2.0), REF_B)),
            (info("E", "f1", 2.0, "failed"), None),  # failed before anything was recorded
        ],
        keys=["max_delay"],
    )


def test_long_tables_keep_every_session() -> None:
    t = _tables()
    assert t.sessions["session_id"].tolist() == ["A", "B", "C", "D", "E"]
    assert t.sessions["ok"].tolist() == [True, True, False, True, False]
    assert set(t.latency["session_id"]) == {"A", "B", "C", "D"}  # E has no words at all
    assert t.latency.columns[:6].tolist() == [
        "session_id",
        "file",
        "repeat",
        "max_delay",
        "ok",
        "channel",
    ]


def test_summary_by_hand() -> None:
    s = summarise(_tables(), ["max_delay"], seed=0, n_resamples=200)
    assert s["max_delay"].tolist() == [1.0, 2.0]
    one = s.iloc[0]
    assert (one["n_sessions"], one["n_failed"], one["n_files"]) == (3, 1, 2)
    assert one["n_words"] == 7
    assert one["final_p50"] == pytest.approx(0.8)
    assert one["final_p90"] == pytest.approx(1.04)
    assert math.isnan(one["final_p99"])  # n < 500
    assert one["violation_rate"] == pytest.approx(1 / 7)
    assert one["flushed_share"] == pytest.approx(1 / 7)  # A's "man" came after EndOfStream
    assert one["wer"] == pytest.approx(0.375)
    assert (one["substitutions"], one["deletions"], one["insertions"]) == (1, 1, 1)
    assert one["upwr"] == pytest.approx(0.25)
    assert one["n_eou"] == 1 and one["eou_p50"] == pytest.approx(1.1)
    assert one["quantile_method"] == "linear"
    assert one["normaliser"] == normalise.label()  # every WER says what it was scored under
    # Two files: the WER interval spans file f2 alone (0.0) to file f1 alone (0.5).
    assert one["wer_ci_low"] == pytest.approx(0.0) and one["wer_ci_high"] == pytest.approx(0.5)


def test_failed_sessions_only_count_as_failed() -> None:
    two = summarise(_tables(), ["max_delay"], n_resamples=50).iloc[1]
    assert (two["n_sessions"], two["n_failed"]) == (2, 1)
    assert two["n_words"] == 2  # D only
    assert two["final_p50"] == pytest.approx(0.3)  # median of 0.5 and 0.1
    assert two["violation_rate"] == 0.0


def test_displayed_wer_curves_pool_errors() -> None:
    curves = displayed_wer(_tables(), ["max_delay"])
    at = curves[(curves["max_delay"] == 1.0) & (curves["lag_s"] == 1.0)].iloc[0]
    # A has 3 errors at τ = 1 (see test_stability); B's words are final by then (0).
    assert (at["errors"], at["n_ref"]) == (3, 8)
    assert at["wer"] == pytest.approx(0.375)


def test_bound_uses_half_the_fastest_ack_round_trip() -> None:
    rec = scenario_b()
    # Acks 0.2 s after the first frame and 0.6 s after the others: the fastest round trip
    # (0.2) stands for the network, so bound = 1.0 + 0.05 + 0.1.
    frames = [r for r in rec.records if r.type == "AddAudio"]
    for k, r in enumerate(frames):
        rec.record_received(
            {"message": "AudioAdded", "seq_no": r.seq_no}, r.t + (0.2 if k == 0 else 0.6)
        )
    t = tabulate([({"session_id": "x", "file": "f", "repeat": 0, "max_delay": 1.0}, analyse(rec))])
    assert t.latency["bound_s"].iloc[0] == pytest.approx(1.15)


def test_an_unset_max_delay_keeps_its_latency_and_the_default_bound() -> None:
    # A sweep that leaves max_delay to the API tags its sessions with NaN: every table's
    # group must still find the others (NaN != NaN), and the bound is the default's.
    info = {"session_id": "A", "file": "f1", "repeat": 0, "max_delay": math.nan}
    t = tabulate([(info, analyse(scenario_a(None), REF_A))], keys=["max_delay"])
    assert t.latency["bound_s"].iloc[0] == pytest.approx(DEFAULT_MAX_DELAY + 0.05)
    row = summarise(t, ["max_delay"], n_resamples=50).iloc[0]
    assert math.isnan(row["max_delay"])  # unset stays unset in the summary
    assert row["n_words"] == 5
    assert row["final_p50"] == pytest.approx(0.85)
    assert row["violation_rate"] == 0.0  # all under 4.05 s
    assert row["n_eou"] == 1 and row["eou_p50"] == pytest.approx(1.1)
    assert math.isfinite(row["displayed_wer_at_0s"])
