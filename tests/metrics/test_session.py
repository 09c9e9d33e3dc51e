"""smnb.metrics.session: one session analysed against its reference (scenario A)."""

from __future__ import annotations

import math
from importlib.metadata import version

import pytest

from smnb.metrics import analyse
from tests.support.builder import SessionLog
from tests.support.scenarios import REF_A, scenario_a


def test_session_scores_against_the_reference() -> None:
    stats = analyse(scenario_a(), REF_A).stats
    assert (stats["substitutions"], stats["deletions"], stats["insertions"]) == (1, 1, 1)
    assert stats["n_ref_words"] == 6 and stats["wer"] == pytest.approx(0.5)
    assert stats["normaliser"] == f"whisper-english/{version('whisper-normalizer')}"


def test_a_session_sent_faster_than_real_time_has_accuracy_but_no_latency() -> None:
    # pace="fast": the same words and errors, but no word was spoken at any moment, so no
    # latency, flush, TTFP or displayed-text curve is reported (NaN / empty, never a number).
    timed, fast = (
        analyse(scenario_a(pace="realtime"), REF_A),
        analyse(scenario_a(pace="fast"), REF_A),
    )
    assert timed.stats["timed"] and not fast.stats["timed"]
    for key in ("wer", "substitutions", "deletions", "insertions", "n_words", "upwr"):
        assert fast.stats[key] == timed.stats[key], key
    assert timed.latency["final_latency_s"].notna().any()
    for column in ("final_latency_s", "partial_latency_s", "emission_latency_s"):
        assert fast.latency[column].isna().all(), column
    assert not fast.latency["flushed"].any() and timed.latency["flushed"].any()
    assert fast.latency["counted"].tolist() == timed.latency["counted"].tolist()
    assert fast.displayed.empty and len(timed.displayed)
    assert math.isnan(fast.stats["ttfp_s"]) and math.isnan(fast.stats["final_p50"])
    assert fast.eou_latencies == [] and timed.eou_latencies


def test_a_reference_is_refused_for_a_channel_diarized_session() -> None:
    # One transcript per channel: scoring any of them against one reference would be a
    # guess, and a silent "no score" would read as if the reference had been used.
    log = SessionLog(audio_seconds=1.0, diarization="channel")
    log.final(1.0, ("hello", 0.2, 0.5))
    with pytest.raises(ValueError, match=r"^a reference scores one transcript, but this session"
                       r" is channel-diarized \(diarization='channel'"):  # fmt: skip
        analyse(log.end(1.1), REF_A)
