"""Latency figures (ECDF, box) draw what they claim: checked on the artists, with Agg."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from smnb import plots
from tests.support.plots import new_ax, tables


def test_ecdf_has_final_and_partial_curves_and_bounds() -> None:
    t = tables()
    ax = plots.latency_ecdf(t.latency, partial="each", ax=new_ax())
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
    ax = plots.latency_ecdf(tables().latency)
    assert ax.figure is not None


def test_box_marks_bound_and_p95() -> None:
    t = tables()
    ax = plots.latency_box(t.latency, ax=new_ax())
    assert [tick.get_text() for tick in ax.get_xticklabels()] == ["max_delay=1", "max_delay=2"]
    segments = [c for c in ax.collections if c.get_linestyle()]
    hlines = [seg for c in segments for seg in c.get_segments()]
    assert sorted(seg[0][1] for seg in hlines) == [1.0, 2.0]
    p95 = [line for line in ax.get_lines() if line.get_marker() == "v"]
    values = t.latency[t.latency["counted"] & (t.latency["max_delay"] == 1.0)]["final_latency_s"]
    assert p95[0].get_ydata()[0] == pytest.approx(np.percentile(values, 95))


def test_empty_tables_draw_empty_axes() -> None:
    empty = pd.DataFrame(columns=["counted", "final_latency_s", "partial_latency_s", "max_delay"])
    ax = plots.latency_ecdf(empty, ax=new_ax())
    assert ax.get_lines() == [] and ax.get_legend() is None


def test_ecdf_pools_partials_and_explains_its_marks() -> None:
    t = tables()
    ax = plots.latency_ecdf(t.latency, ax=new_ax())
    dashed = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    counted = t.latency[t.latency["counted"]]
    n = int(counted["partial_latency_s"].notna().sum())
    assert [line.get_label() for line in dashed] == [f"first partial, all settings (n={n})"]
    finals = [line for line in ax.get_lines() if line.get_label().startswith("final")]
    assert len({line.get_color() for line in finals}) == len(finals) == 2
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert "dotted: max_delay" in legend and len(legend) == 4


def test_ecdf_explains_negative_partial_latency_only_when_there_is_some() -> None:
    t = tables()
    lat = t.latency.copy()
    shifted = lat.assign(partial_latency_s=lat["partial_latency_s"] - 5.0)
    assert not any("before the word ended" in a.get_text() for a in _ecdf_texts(lat))
    assert any("before the word ended" in a.get_text() for a in _ecdf_texts(shifted))


def _ecdf_texts(latency: pd.DataFrame) -> list[Any]:
    return list(plots.latency_ecdf(latency, ax=new_ax()).texts)


def test_ecdf_without_any_latency_warns_of_nothing() -> None:
    # pace "fast": counted words, every latency NaN; numpy's All-NaN warning would be an
    # error here (pytest turns warnings into errors, as the notebook tests read stderr).
    lat = tables().latency.assign(final_latency_s=np.nan, partial_latency_s=np.nan)
    ax = plots.latency_ecdf(lat, ax=new_ax())
    assert len(ax.texts) == 0
