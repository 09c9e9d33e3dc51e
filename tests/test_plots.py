"""Plots draw what they claim: checked on the artists, with the Agg backend."""

from __future__ import annotations

from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from smnb import plots
from smnb.metrics import analyse, displayed_wer, summarise, tabulate
from smnb.metrics.summary import Tables
from tests.support.scenarios import REF_A, REF_B, scenario_a, scenario_b


@pytest.fixture(autouse=True)
def _close_figures() -> object:
    yield
    plt.close("all")


def _tables() -> Tables:
    entries = []
    for md in (1.0, 2.0):
        for sid, rec, ref in (("a", scenario_a(md), REF_A), ("b", scenario_b(md), REF_B)):
            info = {"session_id": f"{sid}{md}", "file": sid, "repeat": 0, "max_delay": md}
            entries.append((info, analyse(rec, ref)))
    return tabulate(entries, ["max_delay"])


def _ax() -> object:
    return Figure().subplots()


def test_ecdf_has_final_and_partial_curves_and_bounds() -> None:
    t = _tables()
    ax = plots.latency_ecdf(t.latency, partial="each", ax=_ax())
    labels = [line.get_label() for line in ax.get_lines()]
    finals = [lb for lb in labels if lb.startswith("final")]
    partials = [lb for lb in labels if lb.startswith("partial")]
    assert finals == ["final, max_delay=1 (n=7)", "final, max_delay=2 (n=7)"]
    assert partials == ["partial, max_delay=1", "partial, max_delay=2"]
    bounds = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert sorted(line.get_xdata()[0] for line in bounds) == [1.0, 2.0]
    # The final ECDF ends at 1 and steps through the 7 counted words.
    final_line = ax.get_lines()[0]
    assert final_line.get_ydata()[-1] == pytest.approx(1.0)
    assert len(final_line.get_xdata()) == 7
    assert ax.get_xlabel().startswith("latency")


def test_ecdf_returns_new_axes_when_none_given() -> None:
    ax = plots.latency_ecdf(_tables().latency)
    assert ax.figure is not None


def test_box_marks_bound_and_p95() -> None:
    t = _tables()
    ax = plots.latency_box(t.latency, ax=_ax())
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["max_delay=1", "max_delay=2"]
    segments = [c for c in ax.collections if c.get_linestyle()]
    hlines = [seg for c in segments for seg in c.get_segments()]
    assert sorted(seg[0][1] for seg in hlines) == [1.0, 2.0]
    p95 = [line for line in ax.get_lines() if line.get_marker() == "v"]
    values = t.latency[t.latency["counted"] & (t.latency["max_delay"] == 1.0)]["final_latency_s"]
    assert p95[0].get_ydata()[0] == pytest.approx(np.percentile(values, 95))


def test_tradeoff_points_whiskers_and_labels() -> None:
    t = _tables()
    s = summarise(t, ["max_delay"], n_resamples=50)
    ax = plots.tradeoff(s, batch_wer=0.2, ax=_ax())
    texts = [a.get_text() for a in ax.texts]
    assert texts == ["max_delay=1", "max_delay=2"]
    points = ax.get_lines()[0]
    assert list(points.get_xdata()) == pytest.approx(s["final_p50"].tolist())
    assert list(points.get_ydata()) == pytest.approx(s["wer"].tolist())
    assert any(line.get_label() == "batch / offline WER" for line in ax.get_lines())
    assert "WER" in ax.get_ylabel()


def test_timeline_markers() -> None:
    m = analyse(scenario_a(), REF_A)
    ax = plots.timeline(m, ax=_ax())
    lines = ax.get_lines()
    hollow = [ln for ln in lines if ln.get_marker() == "o" and ln.get_markerfacecolor() == "none"]
    crosses = [ln for ln in lines if ln.get_marker() == "x" and len(ln.get_xdata())]
    # five words had a first partial ("young" never did); one partial revision (wash -> was).
    assert len([ln for ln in hollow if len(ln.get_xdata())]) == 5
    assert [list(ln.get_xdata()) for ln in crosses] == [[1.2]]
    assert [t.get_text() for t in ax.texts] == ["he", "was", "knot", "young", "man", "today"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "y = x − max_delay (1 s)" in legend and "EndOfUtterance" in legend


def test_displayed_wer_curves() -> None:
    curves = displayed_wer(_tables(), ["max_delay"])
    ax = plots.displayed_wer(curves, ax=_ax())
    assert [line.get_label() for line in ax.get_lines()] == ["max_delay=1", "max_delay=2"]
    assert ax.get_xlabel().startswith("lag")


def test_empty_tables_draw_empty_axes() -> None:
    empty = pd.DataFrame(columns=["counted", "final_latency_s", "partial_latency_s", "max_delay"])
    ax = plots.latency_ecdf(empty, ax=_ax())
    assert ax.get_lines() == [] and ax.get_legend() is None


def test_plots_never_show(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plt, "show", lambda *a, **k: pytest.fail("show() was called"))
    t = _tables()
    plots.latency_ecdf(t.latency)
    plots.latency_box(t.latency)
    plots.timeline(analyse(scenario_b(), REF_B))


def _contrast_on_white(hex_colour: str) -> float:
    """WCAG 2 contrast ratio of a colour against white."""
    from matplotlib.colors import to_rgb

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in to_rgb(hex_colour))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def test_palette_keeps_contrast_for_the_first_settings() -> None:
    # The first four settings (every notebook sweep) draw in colours of ≥ 3:1 contrast
    # on white (WCAG's threshold for graphics), all distinct.
    first = [plots.colour(k) for k in range(4)]
    assert len(set(first)) == 4
    assert all(_contrast_on_white(c) >= 3.0 for c in first), [
        (c, round(_contrast_on_white(c), 2)) for c in first
    ]


def test_ecdf_pools_partials_and_explains_its_marks() -> None:
    t = _tables()
    ax = plots.latency_ecdf(t.latency, ax=_ax())
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    counted = t.latency[t.latency["counted"]]
    n = int(counted["partial_latency_s"].notna().sum())
    assert [line.get_label() for line in dashed] == [f"first partial, all settings (n={n})"]
    finals = [line for line in ax.get_lines() if line.get_label().startswith("final")]
    assert len({line.get_color() for line in finals}) == len(finals) == 2
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "dotted: max_delay" in legend and len(legend) == 4


def test_ecdf_explains_negative_partial_latency_only_when_there_is_some() -> None:
    t = _tables()
    lat = t.latency.copy()
    shifted = lat.assign(partial_latency_s=lat["partial_latency_s"] - 5.0)
    assert not any("before the word ended" in a.get_text() for a in _ecdf_texts(lat))
    assert any("before the word ended" in a.get_text() for a in _ecdf_texts(shifted))


def _ecdf_texts(latency: pd.DataFrame) -> list[Any]:
    return list(plots.latency_ecdf(latency, ax=_ax()).texts)


def test_timeline_until_keeps_what_is_drawn_in_view_and_defines_t0() -> None:
    m = analyse(scenario_a(), REF_A)
    ax = plots.timeline(m, ax=_ax(), until=1.0)
    assert [t.get_text() for t in ax.texts] == ["he", "was", "knot"]
    right = ax.get_xlim()[1]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # EndOfStream (2.5 s) and the EndOfUtterance (2.9 s) lie beyond the last shown final.
    assert right < 2.5 and "EndOfStream sent" not in legend and "EndOfUtterance" not in legend
    assert "t0" in ax.get_xlabel()
    assert all(t.get_fontsize() >= 9 for t in ax.texts)


def test_tradeoff_legend_explains_points_whiskers_and_bars() -> None:
    s = summarise(_tables(), ["max_delay"], n_resamples=50)
    ax = plots.tradeoff(s, ax=_ax())
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert len(legend) == 3 and any("CI" in text for text in legend), legend


def test_tradeoff_against_max_delay_when_no_latency_was_measured() -> None:
    s = summarise(_tables(), ["max_delay"], n_resamples=50)
    s = s.assign(final_p50=float("nan"), final_p90=float("nan"))
    ax = plots.tradeoff(s, x="max_delay", whisker=None, ax=_ax())
    assert list(ax.get_lines()[0].get_xdata()) == [1.0, 2.0]
    assert ax.get_xlabel() == "max_delay (s)"
    assert not any("latency" in t.get_text() for t in ax.get_legend().get_texts())


def test_displayed_wer_marks_the_final_wer_it_converges_to() -> None:
    t = _tables()
    s = summarise(t, ["max_delay"], n_resamples=50)
    ax = plots.displayed_wer(displayed_wer(t, ["max_delay"]), final=s, ax=_ax())
    dotted = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert sorted(line.get_ydata()[0] for line in dotted) == sorted(s["wer"].tolist())
    assert "dotted: final WER" in [t.get_text() for t in ax.get_legend().get_texts()]
