"""Matplotlib figures for latency and accuracy experiments.

Every function draws into ``ax`` (a new figure's axes when ``ax=None``), returns the
Axes, and never calls ``show()``: the notebook (or :meth:`Figure.savefig`) decides.
Inputs are the tables of :mod:`smnb.metrics` (``latency``, ``summary``, displayed-WER
curves) or one session's :class:`~smnb.metrics.session.SessionMetrics`.

* :func:`latency_ecdf` — ECDF of final latency per setting (solid) and of first-partial
  latency (dashed; pooled over settings by default), with each ``max_delay`` marked.
* :func:`latency_box` — final latency per setting: box, ``max_delay``, and p95.
* :func:`tradeoff` — WER (with CI) against final latency p50 (whisker to p90).
* :func:`timeline` — one stream: audio time against arrival time, with each word's first
  partial, revisions and final.
* :func:`displayed_wer` — displayed-text WER against lag τ per setting.

Colours: the Okabe–Ito palette (safe for the common colour-vision deficiencies), in an
order whose first four colours keep at least 3:1 contrast on white; every setting keeps
its colour across the figures of one sweep. Time axes are on the audio clock: ``t0`` is
the moment the first audio sample was (as if) spoken, so a word "is spoken" at its end
time (see ``docs/reading-the-numbers.md``).

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

from smnb.metrics.session import SessionMetrics
from smnb.metrics.stats import quantile
from smnb.metrics.tracks import Tracks

MAX_WORD_LABELS = 40
PALETTE = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#000000",  # black
    "#E69F00",  # orange (low contrast on white: only from the sixth setting on)
    "#56B4E9",  # sky blue
)
"""Okabe & Ito (2008), "Color Universal Design": one colour per setting, in this order."""
PARTIAL_COLOUR = "0.35"
LABEL_SIZE = 9
"""Word labels and annotations: readable when a two-panel figure fills a notebook column."""


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


def colour(k: int) -> str:
    """The colour of the ``k``-th setting (0-based), cycling through :data:`PALETTE`."""
    return PALETTE[k % len(PALETTE)]


def _settings(
    frame: pd.DataFrame, by: Sequence[str]
) -> list[tuple[tuple[Any, ...], pd.DataFrame, str]]:
    """(key, rows, colour) per setting, in sorted order."""
    if frame.empty:
        return []
    groups = list(frame.groupby(list(by), sort=True, dropna=False, observed=True))
    return [
        (key if isinstance(key, tuple) else (key,), part, colour(k))
        for k, (key, part) in enumerate(groups)
    ]


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
    ax = _axes(ax)
    keys = _by(by)
    counted = _counted(latency)
    settings = _settings(counted, keys)
    each = partial is True or partial == "each"
    for key, part, hue in settings:
        label = _label(keys, key)
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
    low = np.nanmin(counted["partial_latency_s"].to_numpy(np.float64)) if len(counted) else 0.0
    if partial and np.isfinite(low) and low < 0:
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
    ax = _axes(ax)
    keys = _by(by)
    settings = _settings(_counted(latency), keys)
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
    ax.set_xticklabels([_label(keys, key) for key, _, _ in settings], rotation=0)
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
    whisker to ``whisker``), or ``"max_delay"`` itself for sweeps that measured no latency
    (``pace="fast"``); pass ``whisker=None`` for none.
    """
    ax = _axes(ax)
    keys = _by(by)
    rows = summary.sort_values(keys).reset_index(drop=True)
    xs = rows[x].to_numpy(np.float64)
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
        if x != "max_delay":  # against max_delay itself the axis already says which point
            ax.annotate(
                _label(keys, tuple(rows.loc[k, keys])), (xs[k], wer[k]),
                textcoords="offset points", xytext=(7, 7), fontsize=LABEL_SIZE,
            )  # fmt: skip
    latency = x != "max_delay"
    if not latency:
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
    ax.set_xlabel(f"final latency, {x.split('_')[-1]} (s)" if latency else "max_delay (s)")
    ax.set_ylabel("WER (pooled over words)")
    ax.set_ylim(bottom=0)  # differences in proportion to the WER itself
    ax.set_title("Latency–accuracy trade-off" if latency else "WER against max_delay")
    ax.grid(True, alpha=0.3)
    ax.legend(handles=handles, fontsize="small", loc="best")
    return ax


def timeline(
    session: SessionMetrics | Tracks,
    *,
    max_delay: float | None = None,
    channel: int = 0,
    until: float | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One stream: audio time (y) against arrival time since ``t0`` (x).

    ``t0`` is when the first audio sample was (as if) spoken, so a word is spoken at
    ``x = y =`` its end. Each final word is a grey bar from its start to its end at the
    height of its end (on the diagonal ``y = x``); ○ first partial, × each revision, ● the
    final. The horizontal distance from the diagonal is the latency. Dashed:
    ``y = x − max_delay``; dotted: when ``EndOfStream`` was sent (finals right of it came
    from the end-of-stream flush). ``until``: show only the words spoken in the first
    ``until`` seconds of audio.
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
    slots = [
        (slot, tok) for slot, tok in enumerate(tracks.finals) if until is None or tok.end <= until
    ]
    top_y = until if until is not None else max([tok.end for _, tok in slots] + [1.0])
    right = max([tok.received_s for _, tok in slots] + [top_y])
    if until is None:  # the whole stream: its last events too
        right = max([right, *(r for r, _ in eous), *([eos] if math.isfinite(eos) else [])])
    label_gap = top_y / 40  # labels closer than this (in audio time) would overlap
    last_label = -math.inf
    labelled: list[tuple[str, float]] = []  # (text, where its label ends on the x axis)
    for slot, tok in slots:
        ax.plot([tok.start, tok.end], [tok.end, tok.end], color="0.6", lw=3, solid_capstyle="butt")
        first = tracks.first_partial_s(slot)
        if math.isfinite(first):
            ax.plot([first], [tok.end], "o", mfc="none", color=PALETTE[0], ms=6, mew=1.3)
        revs = tracks.revision_times(slot)
        if revs:
            ax.plot(revs, [tok.end] * len(revs), "x", color=PALETTE[3], ms=6, mew=1.5)
        ax.plot([tok.received_s], [tok.end], "o", color="black", ms=5)
        if len(slots) <= MAX_WORD_LABELS and tok.end - last_label >= label_gap:
            # Left of the bar: above the diagonal, where no marker of a later word falls.
            ax.annotate(
                tok.text, (tok.start, tok.end), xytext=(-3, 0), textcoords="offset points",
                ha="right", va="center", fontsize=LABEL_SIZE,
            )  # fmt: skip
            last_label = tok.end
            labelled.append((tok.text, tok.start))
    for received, at in eous:
        if received <= right:
            ax.plot([received], [at], marker="|", color=PALETTE[2], ms=12, mew=2, ls="none")
    ax.plot([0, right], [0, right], color="0.3", lw=0.8, label="y = x (spoken)")
    if max_delay is not None and max_delay < right:
        ax.plot(
            [max_delay, right], [0, right - max_delay], "--", color=PALETTE[1], lw=1,
            label=f"y = x − max_delay ({_fmt(max_delay)} s)",
        )  # fmt: skip
    if isinstance(eos, float) and math.isfinite(eos) and eos <= right + 0.3:  # inside the view
        # Finals right of this line were released by the end of the audio, not by max_delay.
        ax.axvline(eos, color="0.4", ls=":", lw=1.2, label="EndOfStream sent")
    # Proxy artists so the legend explains the markers once.
    ax.plot([], [], "o", mfc="none", color=PALETTE[0], mew=1.3, label="first partial")
    if any(tracks.revision_times(slot) for slot, _ in slots):
        ax.plot([], [], "x", color=PALETTE[3], mew=1.5, label="revision")
    ax.plot([], [], "o", color="black", ms=5, label="final")
    if any(received <= right for received, _ in eous):
        ax.plot([], [], "|", color=PALETTE[2], ms=12, mew=2, label="EndOfUtterance")
    xmax = right + 0.3
    room = _label_room(ax, labelled, xmax)
    ax.set_xlim(-room, xmax)
    if room:  # the room is for the first words' labels: no negative arrival times on the axis
        ax.set_xticks([t for t in ax.get_xticks() if 0 <= t <= xmax])
    ax.set_ylim(0, top_y + 0.2)
    ax.set_xlabel("arrival time (s after t0, the start of the audio)")
    ax.set_ylabel("audio time of the word's end (s)")
    ax.set_title("Timeline of one stream")
    ax.grid(True, alpha=0.3)
    # Lower right: below the diagonal and left of late finals, away from the word labels.
    ax.legend(fontsize="small", loc="lower right")
    return ax


def _label_room(ax: Axes, labelled: Sequence[tuple[str, float]], xmax: float) -> float:
    """How far left of 0 the x axis must start for right-aligned labels to fit (data units).

    A label of ``w`` points ending at ``x`` needs ``x − w · span / width ≥ xmin``, where
    ``span = xmax − xmin`` and ``width`` is the axes' width in points; solved for ``xmin``.
    The width of a character is estimated (0.6 em), so the room is generous, not exact.
    """
    width = ax.get_window_extent().width * 72 / ax.figure.dpi  # points
    room = 0.0
    for text, end in labelled:
        w = (0.6 * LABEL_SIZE * len(text) + 6) / width  # the label as a fraction of the axes
        if w < 1:
            room = max(room, (w * xmax - end) / (1 - w))
    return room


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
    ax = _axes(ax)
    keys = _by(by)
    finals = {}
    if final is not None and "wer" in final:
        finals = {(tuple(row[k] for k in keys)): float(row["wer"]) for _, row in final.iterrows()}
    for key, part, hue in _settings(curves, keys):
        part = part.sort_values("lag_s")
        ax.plot(
            part["lag_s"], part["wer"], marker="o", ms=3, lw=2, color=hue, label=_label(keys, key)
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
