"""Latency figures: how long after its end each word was shown, per setting.

* :func:`latency_ecdf` — ECDF of final latency per setting (solid) and of first-partial
  latency (dashed; pooled over settings by default), with each ``max_delay`` marked.
* :func:`latency_box` — final latency per setting: box, ``max_delay``, and p95.

Input: the ``latency`` table of :mod:`smnb.metrics` (one row per reference word and
session); only its counted words (of sessions that ended well) are drawn.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from smnb.metrics.stats import quantile
from smnb.plots.style import (
    LABEL_SIZE,
    PARTIAL_COLOUR,
    axes_or_new,
    by_setting,
    setting_keys,
    setting_label,
)


def _counted(latency: pd.DataFrame) -> pd.DataFrame:
    mask = latency["counted"].astype(bool)
    if "ok" in latency:
        mask &= latency["ok"].astype(bool)
    return latency[mask]


def _ecdf(values: pd.Series) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    v = values.to_numpy(dtype=np.float64)
    x = np.sort(v[np.isfinite(v)])
    return x, np.arange(1, x.size + 1) / max(x.size, 1)


def _max_delay(keys: Sequence[str], key: tuple[Any, ...]) -> float | None:
    bound = dict(zip(keys, key, strict=True)).get("max_delay")
    if isinstance(bound, int | float) and math.isfinite(bound):
        return float(bound)
    return None


def latency_ecdf(
    latency: pd.DataFrame,
    *,
    by: str | Sequence[str] = "max_delay",
    partial: bool | str = "pooled",
    bounds: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """ECDF of per-word final latency (solid, per setting) and first-partial latency (dashed).

    ``partial``: ``"pooled"`` (default) draws one dashed curve over every setting —
    partials do not wait for ``max_delay``, so per-setting curves would lie on top of each
    other; ``"each"`` (or ``True``) draws one per setting; ``False`` none. Latencies below
    zero are words a partial showed before their (reference) end: the recognizer guessed
    them from the first part of their audio.
    """
    ax = axes_or_new(ax)
    keys = setting_keys(by)
    counted = _counted(latency)
    settings = by_setting(counted, keys)
    each = partial is True or partial == "each"
    for key, part, hue in settings:
        label = setting_label(keys, key)
        x, y = _ecdf(part["final_latency_s"])
        ax.step(x, y, where="post", color=hue, lw=2, label=f"final, {label} (n={x.size})")
        if each:
            xp, yp = _ecdf(part["partial_latency_s"])
            if xp.size:
                ax.step(xp, yp, where="post", color=hue, ls="--", label=f"partial, {label}")
        bound = _max_delay(keys, key)
        if bounds and bound is not None:
            ax.axvline(bound, color=hue, ls=":", lw=1.2)
    if partial == "pooled" and settings:
        xp, yp = _ecdf(counted["partial_latency_s"])
        if xp.size:
            ax.step(
                xp, yp, where="post", color=PARTIAL_COLOUR, ls="--", lw=1.5,
                label=f"first partial, all settings (n={xp.size})",
            )  # fmt: skip
    shown = counted["partial_latency_s"].to_numpy(np.float64)
    shown = shown[np.isfinite(shown)]  # none at pace "fast": no all-NaN warning
    if partial and shown.size and shown.min() < 0:
        ax.axvline(0, color="0.6", lw=0.8)
        ax.annotate(
            "< 0: shown in a partial\nbefore the word ended",
            (0, 0.97), xycoords=("data", "axes fraction"), xytext=(-4, 0),
            textcoords="offset points", ha="right", va="top", fontsize=LABEL_SIZE, color="0.3",
        )  # fmt: skip
    ax.set_xlabel("latency after the end of the word (s)")
    ax.set_ylabel("share of words")
    ax.set_ylim(0, 1.02)
    ax.set_title("Per-word latency: finals (solid), first partials (dashed)")
    ax.grid(True, alpha=0.3)
    if ax.lines:
        handles = ax.get_legend_handles_labels()[0]
        if bounds and any(_max_delay(keys, key) is not None for key, _, _ in settings):
            handles.append(Line2D([], [], color="0.3", ls=":", lw=1.2, label="dotted: max_delay"))
        ax.legend(handles=handles, fontsize="small", loc="lower right")
    return ax


def latency_box(
    latency: pd.DataFrame, *, by: str | Sequence[str] = "max_delay", ax: Axes | None = None
) -> Axes:
    """Final latency per setting: box (quartiles, whiskers 1.5 IQR), ``max_delay`` and p95."""
    ax = axes_or_new(ax)
    keys = setting_keys(by)
    settings = by_setting(_counted(latency), keys)
    data = [part["final_latency_s"].dropna().to_numpy(np.float64) for _, part, _ in settings]
    if settings:
        boxes = ax.boxplot(
            data, positions=range(1, len(data) + 1), widths=0.5, patch_artist=True,
            medianprops={"color": "black", "lw": 1.5}, flierprops={"ms": 4},
        )  # fmt: skip
        for patch, (_, _, hue) in zip(boxes["boxes"], settings, strict=True):
            patch.set(facecolor=hue, alpha=0.25, edgecolor=hue)
    for pos, ((key, _, hue), values) in enumerate(zip(settings, data, strict=True), start=1):
        bound = _max_delay(keys, key)
        if bound is not None:
            ax.hlines(bound, pos - 0.35, pos + 0.35, colors=hue, linestyles="--", lw=1.5)
        if values.size:
            ax.plot([pos], [quantile(values, 0.95)], marker="v", color="black", ls="none")
    ax.set_xticks(range(1, len(settings) + 1))
    ax.set_xticklabels([setting_label(keys, key) for key, _, _ in settings], rotation=0)
    ax.set_ylabel("final latency (s)")
    ax.set_title("Final latency per setting")
    if settings:
        ax.legend(
            handles=[
                Line2D([], [], color="black", lw=1.5, label="median (box: middle 50%)"),
                Line2D([], [], color="0.3", ls="--", lw=1.5, label="max_delay"),
                Line2D([], [], color="black", marker="v", ls="none", label="95th percentile"),
            ],
            fontsize="small", loc="upper left",
        )  # fmt: skip
    ax.grid(True, axis="y", alpha=0.3)
    return ax
