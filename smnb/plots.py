"""Matplotlib figures for latency and accuracy experiments.

Every function draws into ``ax`` (a new figure's axes when ``ax=None``), returns the
Axes, and never calls ``show()``: the notebook (or :meth:`Figure.savefig`) decides.
Inputs are the tables of :mod:`smnb.metrics` (``latency``, ``summary``, displayed-WER
curves) or one session's :class:`~smnb.metrics.session.SessionMetrics`.

* :func:`latency_ecdf` — ECDF of final (solid) and partial (dashed) latency per setting,
  with each configured ``max_delay`` marked.
* :func:`latency_box` — final latency per setting: box, the bound, and p95.
* :func:`tradeoff` — WER (with CI) against final latency p50 (whisker to p90).
* :func:`timeline` — one stream: audio time against wall time, with each word's first
  partial, revisions and final.
* :func:`displayed_wer` — displayed-text WER against lag τ per setting.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from smnb.metrics.session import SessionMetrics
from smnb.metrics.stats import quantile
from smnb.metrics.tracks import Tracks

MAX_WORD_LABELS = 40


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt  # only when we must create a figure

    _, new = plt.subplots()
    return new


def _by(by: str | Sequence[str]) -> list[str]:
    return [by] if isinstance(by, str) else list(by)


def _label(keys: Sequence[str], values: tuple[Any, ...]) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in zip(keys, values, strict=True))


def _fmt(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _settings(
    frame: pd.DataFrame, by: Sequence[str]
) -> list[tuple[tuple[Any, ...], pd.DataFrame, Any]]:
    """(key, rows, colour) per setting, in sorted order, on a sequential colour map."""
    if frame.empty:
        return []
    groups = list(frame.groupby(list(by), sort=True, dropna=False, observed=True))
    cmap = matplotlib.colormaps["viridis"]
    n = len(groups)
    out = []
    for k, (key, part) in enumerate(groups):
        colour = cmap(0.85 * k / max(n - 1, 1))
        out.append((key if isinstance(key, tuple) else (key,), part, colour))
    return out


def _counted(latency: pd.DataFrame) -> pd.DataFrame:
    mask = latency["counted"].astype(bool)
    if "ok" in latency:
        mask &= latency["ok"].astype(bool)
    return latency[mask]


def _ecdf(values: pd.Series) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    x = np.sort(values.to_numpy(dtype=np.float64)[np.isfinite(values.to_numpy(np.float64))])
    return x, np.arange(1, x.size + 1) / max(x.size, 1)


def latency_ecdf(
    latency: pd.DataFrame,
    *,
    by: str | Sequence[str] = "max_delay",
    partial: bool = True,
    bounds: bool = True,
    ax: Axes | None = None,
) -> Axes:
    """ECDF of per-word final latency (solid) and first-partial latency (dashed)."""
    ax = _axes(ax)
    keys = _by(by)
    for key, part, colour in _settings(_counted(latency), keys):
        label = _label(keys, key)
        x, y = _ecdf(part["final_latency_s"])
        ax.step(x, y, where="post", color=colour, label=f"final, {label} (n={x.size})")
        if partial:
            xp, yp = _ecdf(part["partial_latency_s"])
            if xp.size:
                ax.step(xp, yp, where="post", color=colour, ls="--", label=f"partial, {label}")
        bound = dict(zip(keys, key, strict=True)).get("max_delay")
        if bounds and isinstance(bound, int | float) and math.isfinite(bound):
            ax.axvline(float(bound), color=colour, ls=":", lw=1)
    ax.set_xlabel("latency after the word's end (s)")
    ax.set_ylabel("fraction of words")
    ax.set_ylim(0, 1.02)
    ax.set_title("Per-word latency (dotted: max_delay)")
    ax.grid(True, alpha=0.3)
    if ax.lines:
        ax.legend(fontsize="small")
    return ax


def latency_box(
    latency: pd.DataFrame, *, by: str | Sequence[str] = "max_delay", ax: Axes | None = None
) -> Axes:
    """Final latency per setting: box (whiskers 1.5 IQR), the bound (red dash) and p95 (▼)."""
    ax = _axes(ax)
    keys = _by(by)
    settings = _settings(_counted(latency), keys)
    data = [part["final_latency_s"].dropna().to_numpy(np.float64) for _, part, _ in settings]
    if settings:
        ax.boxplot(data, positions=range(1, len(data) + 1), widths=0.5)
    for pos, ((key, _, _), values) in enumerate(zip(settings, data, strict=True), start=1):
        bound = dict(zip(keys, key, strict=True)).get("max_delay")
        if isinstance(bound, int | float) and math.isfinite(bound):
            ax.hlines(float(bound), pos - 0.35, pos + 0.35, colors="tab:red", linestyles="--")
        if values.size:
            p95 = quantile(values, 0.95)
            ax.plot([pos], [p95], marker="v", color="black", ls="none")
    ax.set_xticks(range(1, len(settings) + 1))
    ax.set_xticklabels([_label(keys, key) for key, _, _ in settings], rotation=0)
    ax.set_ylabel("final latency (s)")
    ax.set_title("Final latency per setting (red: bound, ▼: p95)")
    ax.grid(True, axis="y", alpha=0.3)
    return ax


def tradeoff(
    summary: pd.DataFrame,
    *,
    by: str | Sequence[str] = "max_delay",
    x: str = "final_p50",
    whisker: str = "final_p90",
    batch_wer: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """WER (with CI) against final latency ``x`` (whisker to ``whisker``), a point per setting."""
    ax = _axes(ax)
    keys = _by(by)
    rows = summary.sort_values(keys).reset_index(drop=True)
    xs = rows[x].to_numpy(np.float64)
    wer = rows["wer"].to_numpy(np.float64)
    xerr = np.vstack([np.zeros_like(xs), np.clip(rows[whisker].to_numpy(np.float64) - xs, 0, None)])
    yerr = np.vstack(
        [
            np.clip(wer - rows["wer_ci_low"].to_numpy(np.float64), 0, None),
            np.clip(rows["wer_ci_high"].to_numpy(np.float64) - wer, 0, None),
        ]
    )
    yerr = np.nan_to_num(yerr)
    ax.plot(xs, wer, color="tab:blue", lw=1, alpha=0.6)
    ax.errorbar(xs, wer, xerr=xerr, yerr=yerr, fmt="o", color="tab:blue", capsize=3, label="final")
    for k in range(len(rows)):
        key = tuple(rows.loc[k, keys])
        ax.annotate(_label(keys, key), (xs[k], wer[k]), textcoords="offset points", xytext=(5, 5))
    if batch_wer is not None:
        ax.axhline(batch_wer, color="gray", ls="--", label="batch / offline WER")
    ax.set_xlabel(f"{x.replace('_', ' ')} latency (s), whisker to {whisker.split('_')[-1]}")
    ax.set_ylabel("WER (pooled, 95% file-bootstrap CI)")
    ax.set_title("Latency–accuracy trade-off")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def timeline(
    session: SessionMetrics | Tracks,
    *,
    max_delay: float | None = None,
    channel: int = 0,
    ax: Axes | None = None,
) -> Axes:
    """One stream: audio time (y) against wall time since ``t0`` (x).

    Each final word is a bar from its start to its end at the height of its end (on the
    diagonal ``y = x``); ○ first partial, × each revision, ● the final. The horizontal
    distance from the diagonal is the latency. Dashed: ``y = x − max_delay`` (drawn when the
    stream lasts longer than ``max_delay``); dotted: when ``EndOfStream`` was sent.
    """
    ax = _axes(ax)
    tracks = session if isinstance(session, Tracks) else session.tracks[channel]
    eous = [] if isinstance(session, Tracks) else session.eou_times
    eos = (
        math.nan if isinstance(session, Tracks) else session.stats.get("end_of_stream_s", math.nan)
    )
    if max_delay is None and isinstance(session, SessionMetrics):
        value = session.stats.get("max_delay")
        max_delay = value if isinstance(value, float) and math.isfinite(value) else None
    finals = tracks.finals
    for slot, tok in enumerate(finals):
        ax.plot([tok.start, tok.end], [tok.end, tok.end], color="0.6", lw=3, solid_capstyle="butt")
        first = tracks.first_partial_s(slot)
        if math.isfinite(first):
            ax.plot([first], [tok.end], "o", mfc="none", color="tab:blue", ms=5)
        revs = tracks.revision_times(slot)
        if revs:
            ax.plot(revs, [tok.end] * len(revs), "x", color="tab:orange", ms=5)
        ax.plot([tok.received_s], [tok.end], "o", color="tab:green", ms=5)
        if len(finals) <= MAX_WORD_LABELS:
            ax.annotate(
                tok.text,
                (tok.start, tok.end),
                fontsize=7,
                xytext=(0, 3),
                textcoords="offset points",
            )
    for received, at in eous:
        ax.plot([received], [at], marker="|", color="tab:purple", ms=12, ls="none")
    top = max([tok.received_s for tok in finals] + [tok.end for tok in finals] + [1.0])
    ax.plot([0, top], [0, top], color="0.3", lw=0.8, label="y = x (spoken)")
    if max_delay is not None and max_delay < top:
        ax.plot(
            [max_delay, top],
            [0, top - max_delay],
            "--",
            color="tab:red",
            lw=0.8,
            label=f"y = x − max_delay ({_fmt(max_delay)} s)",
        )
    if isinstance(eos, float) and math.isfinite(eos):
        # Finals right of this line were released by the end of the audio, not by max_delay.
        ax.axvline(eos, color="0.5", ls=":", lw=1, label="EndOfStream sent")
    # Proxy artists so the legend explains the markers once.
    ax.plot([], [], "o", mfc="none", color="tab:blue", label="first partial")
    ax.plot([], [], "x", color="tab:orange", label="revision")
    ax.plot([], [], "o", color="tab:green", label="final")
    if eous:
        ax.plot([], [], "|", color="tab:purple", ms=12, label="EndOfUtterance")
    ax.set_xlabel("wall time since t0 (s)")
    ax.set_ylabel("audio time (s)")
    ax.set_title("Timeline of one stream")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="upper left")
    return ax


def displayed_wer(
    curves: pd.DataFrame,
    *,
    by: str | Sequence[str] = "max_delay",
    ax: Axes | None = None,
) -> Axes:
    """Displayed-text WER against lag τ after each word's end, one curve per setting."""
    ax = _axes(ax)
    keys = _by(by)
    for key, part, colour in _settings(curves, keys):
        part = part.sort_values("lag_s")
        ax.plot(part["lag_s"], part["wer"], marker="o", ms=3, color=colour, label=_label(keys, key))
    ax.set_xlabel("lag τ after the word's end (s)")
    ax.set_ylabel("displayed-text WER")
    ax.set_title("What the viewer saw, τ seconds after each word")
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    if ax.lines:
        ax.legend(fontsize="small")
    return ax
