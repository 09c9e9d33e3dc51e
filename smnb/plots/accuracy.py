"""Accuracy figures: WER against latency, and the WER of the text on screen over time.

* :func:`tradeoff` — WER (with CI) against final latency p50 (whisker to p90), one point
  per setting, from the ``summary`` table of :mod:`smnb.metrics`.
* :func:`displayed_wer` — displayed-text WER against lag τ per setting, from
  :func:`smnb.metrics.displayed_wer`'s curves.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from smnb.plots.style import (
    LABEL_SIZE,
    axes_or_new,
    by_setting,
    colour,
    setting_keys,
    setting_label,
    value_text,
)


def tradeoff(
    summary: pd.DataFrame,
    *,
    by: str | Sequence[str] = "max_delay",
    x: str = "final_p50",
    whisker: str | None = "final_p90",
    batch_wer: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """WER (with its CI) against ``x``, one point per setting.

    ``x`` is a latency column of the summary (default the median final latency, with a
    whisker to ``whisker``), or one of the ``by`` settings itself (``"max_delay"``, or a
    category such as ``"max_delay_mode"``, one tick per value) for sweeps that measured no
    latency (``pace="fast"``); pass ``whisker=None`` for none.
    """
    ax = axes_or_new(ax)
    keys = setting_keys(by)
    rows = summary.sort_values(keys).reset_index(drop=True)
    latency = x not in keys
    ticks: list[str] = []
    if latency or pd.api.types.is_numeric_dtype(rows[x]):
        xs = rows[x].to_numpy(np.float64)
    else:  # a category: one position per value, in sorted order
        ticks = sorted({value_text(v) for v in rows[x]})
        xs = np.array([ticks.index(value_text(v)) for v in rows[x]], dtype=np.float64)
    # Against a setting the axis names that one; the label names the others that vary.
    named = [k for k in keys if latency or (k != x and rows[k].nunique(dropna=False) > 1)]
    wer = rows["wer"].to_numpy(np.float64)
    ends = rows[whisker].to_numpy(np.float64) if whisker in rows else np.full_like(xs, np.nan)
    lows = rows["wer_ci_low"].to_numpy(np.float64)
    highs = rows["wer_ci_high"].to_numpy(np.float64)
    ax.plot(xs, wer, color="0.6", lw=1, zorder=1)
    for k in range(len(rows)):
        low, high = lows[k], highs[k]
        xerr = [[0.0], [max(ends[k] - xs[k], 0.0) if math.isfinite(ends[k]) else 0.0]]
        yerr = [
            [max(wer[k] - low, 0.0) if math.isfinite(low) else 0.0],
            [max(high - wer[k], 0.0) if math.isfinite(high) else 0.0],
        ]
        ax.errorbar(
            [xs[k]], [wer[k]], xerr=xerr, yerr=yerr, fmt="o", ms=7, color=colour(k),
            capsize=4, lw=1.5, zorder=2,
        )  # fmt: skip
        if named:
            ax.annotate(
                setting_label(named, tuple(rows.loc[k, named])), (xs[k], wer[k]),
                textcoords="offset points", xytext=(7, 7), fontsize=LABEL_SIZE,
            )  # fmt: skip
    if ticks:
        ax.set_xticks(range(len(ticks)), ticks)
        ax.set_xlim(-0.5, len(ticks) - 0.5)
    elif not latency:
        ax.set_xticks(sorted(set(xs[np.isfinite(xs)].tolist())))
    point = "pooled WER at the median latency" if latency else "pooled WER of the setting"
    handles = [Line2D([], [], color="0.3", marker="o", ls="none", label=point)]
    if whisker is not None and np.isfinite(ends).any():
        handles.append(
            Line2D([], [], color="0.3", lw=1.5, label=f"→ to the {whisker.split('_')[-1]} latency")
        )
    handles.append(
        Line2D(
            [],
            [],
            color="0.3",
            lw=1.5,
            marker="_",
            ms=10,
            label="↕ 95% CI of WER (files resampled)",
        )
    )
    if batch_wer is not None:
        handles.append(ax.axhline(batch_wer, color="0.3", ls="--", label="batch / offline WER"))
    setting = f"{x} (s)" if x == "max_delay" else x
    ax.set_xlabel(f"final latency, {x.split('_')[-1]} (s)" if latency else setting)
    ax.set_ylabel("WER (pooled over words)")
    ax.set_ylim(bottom=0)  # differences in proportion to the WER itself
    ax.set_title("Latency–accuracy trade-off" if latency else f"WER against {x}")
    ax.grid(True, alpha=0.3)
    ax.legend(handles=handles, fontsize="small", loc="best")
    return ax


def displayed_wer(
    curves: pd.DataFrame,
    *,
    by: str | Sequence[str] = "max_delay",
    final: pd.DataFrame | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Displayed-text WER against lag τ after each word's end, one curve per setting.

    ``final`` (a summary with the ``by`` columns and ``wer``) adds each setting's final WER
    as a dotted line: the level its curve reaches once every final has arrived.
    """
    ax = axes_or_new(ax)
    keys = setting_keys(by)
    finals = {}
    if final is not None and "wer" in final:
        finals = {(tuple(row[k] for k in keys)): float(row["wer"]) for _, row in final.iterrows()}
    for key, part, hue in by_setting(curves, keys):
        part = part.sort_values("lag_s")
        ax.plot(
            part["lag_s"],
            part["wer"],
            marker="o",
            ms=3,
            lw=2,
            color=hue,
            label=setting_label(keys, key),
        )
        level = finals.get(key)
        if level is not None and math.isfinite(level):
            ax.axhline(level, color=hue, ls=":", lw=1.2)
    ax.set_xlabel("lag τ after the end of the word (s)")
    ax.set_ylabel("WER of the text on screen")
    ax.set_title("What a viewer saw, τ seconds after each word")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if ax.lines:
        handles = ax.get_legend_handles_labels()[0]
        if finals:
            handles.append(Line2D([], [], color="0.3", ls=":", lw=1.2, label="dotted: final WER"))
        ax.legend(handles=handles, fontsize="small")
    return ax
