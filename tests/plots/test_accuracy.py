"""Accuracy figures (trade-off, displayed WER) draw what they claim: checked on the artists."""

from __future__ import annotations

import pytest

from smnb import plots
from smnb.metrics import displayed_wer, summarise
from tests.support.plots import new_ax, tables


def test_tradeoff_points_whiskers_and_labels() -> None:
    t = tables()
    s = summarise(t, ["max_delay"], n_resamples=50)
    ax = plots.tradeoff(s, batch_wer=0.2, ax=new_ax())
    texts = [a.get_text() for a in ax.texts]
    assert texts == ["max_delay=1", "max_delay=2"]
    points = ax.get_lines()[0]
    assert list(points.get_xdata()) == pytest.approx(s["final_p50"].tolist())
    assert list(points.get_ydata()) == pytest.approx(s["wer"].tolist())
    assert any(line.get_label() == "batch / offline WER" for line in ax.get_lines())
    assert "WER" in ax.get_ylabel()


def test_displayed_wer_curves() -> None:
    curves = displayed_wer(tables(), ["max_delay"])
    ax = plots.displayed_wer(curves, ax=new_ax())
    assert [line.get_label() for line in ax.get_lines()] == ["max_delay=1", "max_delay=2"]
    assert ax.get_xlabel().startswith("lag")


def test_tradeoff_legend_explains_points_whiskers_and_bars() -> None:
    s = summarise(tables(), ["max_delay"], n_resamples=50)
    ax = plots.tradeoff(s, ax=new_ax())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 3 and any("CI" in text for text in legend), legend


def test_tradeoff_against_max_delay_when_no_latency_was_measured() -> None:
    s = summarise(tables(), ["max_delay"], n_resamples=50)
    s = s.assign(final_p50=float("nan"), final_p90=float("nan"))
    ax = plots.tradeoff(s, x="max_delay", whisker=None, ax=new_ax())
    assert list(ax.get_lines()[0].get_xdata()) == [1.0, 2.0]
    assert ax.get_xlabel() == "max_delay (s)"
    assert not any("latency" in t.get_text() for t in ax.get_legend().get_texts())


def test_displayed_wer_marks_the_final_wer_it_converges_to() -> None:
    t = tables()
    s = summarise(t, ["max_delay"], n_resamples=50)
    ax = plots.displayed_wer(displayed_wer(t, ["max_delay"]), final=s, ax=new_ax())
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert sorted(line.get_ydata()[0] for line in dotted) == sorted(s["wer"].tolist())
    assert "dotted: final WER" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_tradeoff_against_a_swept_category_when_no_latency_was_measured() -> None:
    # A fast sweep of max_delay_mode alone: max_delay is unset (NaN) in every row, so the
    # points sit at one tick per mode, not at x = NaN.
    s = summarise(tables(), ["max_delay"], n_resamples=50).assign(
        max_delay=float("nan"), max_delay_mode=["fixed", "flexible"], final_p50=float("nan")
    )
    ax = plots.tradeoff(s, by=["max_delay", "max_delay_mode"], x="max_delay_mode",
                        whisker=None, ax=new_ax())  # fmt: skip
    assert list(ax.get_lines()[0].get_xdata()) == [0.0, 1.0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["fixed", "flexible"]
    assert (ax.get_xlabel(), ax.get_title()) == ("max_delay_mode", "WER against max_delay_mode")
    assert len(ax.texts) == 0  # the axis already names each point
