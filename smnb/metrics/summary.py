"""Many sessions → long tables → one summary row per setting.

:func:`tabulate` stacks per-session results (:class:`~smnb.metrics.session.SessionMetrics`)
into four long tables, each row tagged with the session's id, file, repeat and setting
columns: ``sessions`` (one row per session, failed ones included), ``latency`` (one row
per word per session), ``displayed`` (errors per lag per session) and ``eou``.
:func:`summarise` groups them by setting columns.

Summary conventions:

* Failed sessions are counted (``n_failed``) and excluded from every metric: a truncated
  transcript would read as deletions, and its words as on time.
* Latency percentiles pool the counted words of all sessions of a setting
  (numpy ``linear``); ``final_p99`` only when n ≥ 500. ``final_p50_ci_*`` and ``wer_ci_*``
  are 95% percentile-bootstrap intervals resampling files (seeded).
* **Bound violation**: a counted word with ``final_latency_s > bound_s``, where
  ``bound_s = max_delay + 0.05 s + ½ · fastest AudioAdded round trip`` of its session
  (the allowance for network and send overhead); an unset ``max_delay`` is the API's
  default (:data:`~smnb.protocol.config.DEFAULT_MAX_DELAY`). ``violation_rate`` =
  violations ÷ counted words with a known bound.
* WER is pooled ``ΣE / ΣN``; UPWR and revisions pool their counts the same way. The
  ``normaliser`` column names the text normaliser (and its version) the WER was scored
  under (:mod:`smnb.metrics.normalise`).
* ``flushed_share``: counted words finalised only because the audio ended (their final came
  after ``EndOfStream``). When it is large, final latency is capped by the clips' ends and
  understates what a longer stream would see at that ``max_delay``.

Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from smnb.metrics.accuracy import Score, wer_interval
from smnb.metrics.latency import LATENCY_COLUMNS
from smnb.metrics.session import SessionMetrics
from smnb.metrics.stats import QUANTILE_METHOD, bootstrap_ci, describe, quantile
from smnb.protocol.config import DEFAULT_MAX_DELAY

BOUND_OVERHEAD_S = 0.05
"""Fixed allowance on top of ``max_delay`` before a final counts as late."""
P99_MIN_N = 500

Entry = tuple[Mapping[str, Any], SessionMetrics | None]
"""(session info: ``session_id``, ``file``, ``repeat``, ``status``, settings…, metrics)."""


@dataclass
class Tables:
    """The long tables of an experiment."""

    sessions: pd.DataFrame
    latency: pd.DataFrame
    displayed: pd.DataFrame
    eou: pd.DataFrame


def _bound(stats: Mapping[str, Any]) -> float:
    max_delay = stats.get("max_delay", math.nan)
    if not (isinstance(max_delay, int | float) and math.isfinite(max_delay)):
        max_delay = DEFAULT_MAX_DELAY  # unset: the server applied the API's default
    # The minimum round trip estimates the network alone: servers may ack only after decoding
    # (smnb's does), so slower acks include processing, which the bound must not excuse.
    rtt = stats.get("ack_rtt_min_s", math.nan)
    half_rtt = rtt / 2 if isinstance(rtt, float) and math.isfinite(rtt) else 0.0
    return float(max_delay) + BOUND_OVERHEAD_S + half_rtt


def tabulate(entries: Sequence[Entry], keys: Sequence[str] = ()) -> Tables:
    """Stack per-session metrics; ``keys`` are info fields copied onto every row."""
    tag_cols = ["session_id", "file", "repeat", *[k for k in keys if k not in ("file", "repeat")]]
    session_rows: list[dict[str, Any]] = []
    latency: list[pd.DataFrame] = []
    displayed: list[pd.DataFrame] = []
    eou: list[dict[str, Any]] = []
    for info, metrics in entries:
        ok = info.get("status", "ok") == "ok" and metrics is not None
        tags = {k: info.get(k) for k in tag_cols}
        row = {**dict(info), "ok": ok}
        if metrics is not None:
            bound = _bound(metrics.stats)
            row.update({k: v for k, v in metrics.stats.items() if k not in info})
            row["bound_s"] = bound
            lat = metrics.latency.copy()
            lat.insert(0, "ok", ok)
            for pos, k in enumerate(tag_cols):
                lat.insert(pos, k, tags[k])
            lat["bound_s"] = bound
            lat["violation"] = (lat["final_latency_s"] > bound).where(
                np.isfinite(lat["final_latency_s"]) & math.isfinite(bound)
            )
            latency.append(lat)
            shown = metrics.displayed.copy()
            for pos, k in enumerate(tag_cols):
                shown.insert(pos, k, tags[k])
            shown.insert(len(tag_cols), "ok", ok)
            displayed.append(shown)
            eou.extend({**tags, "ok": ok, "eou_latency_s": v} for v in metrics.eou_latencies)
        session_rows.append(row)
    lat_cols = [*tag_cols, "ok", *LATENCY_COLUMNS, "bound_s", "violation"]
    return Tables(
        sessions=pd.DataFrame(session_rows),
        latency=_concat(latency, lat_cols),
        displayed=_concat(displayed, [*tag_cols, "ok", "lag_s", "errors", "n_ref"]),
        eou=pd.DataFrame(eou, columns=[*tag_cols, "ok", "eou_latency_s"]),
    )


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame(columns=columns)
    out = pd.concat(frames, ignore_index=True)
    if "violation" in out:
        out["violation"] = out["violation"].astype("boolean")
    return out[columns]


def _groups(frame: pd.DataFrame, by: Sequence[str]) -> dict[tuple[Any, ...], pd.DataFrame]:
    if frame.empty:
        return {}
    return {
        _key(key if isinstance(key, tuple) else (key,)): part
        for key, part in frame.groupby(list(by), dropna=False, sort=True, observed=True)
    }


def _key(values: tuple[Any, ...]) -> tuple[Any, ...]:
    """A group key whose unset values (NaN, None, NA) are all None: NaN != NaN would make
    an unset setting (``max_delay`` left to the API) miss itself in the other tables."""
    return tuple(None if _unset(v) else v for v in values)


def _unset(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def summarise(
    tables: Tables,
    by: Sequence[str] = ("max_delay",),
    *,
    seed: int = 0,
    n_resamples: int = 2000,
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per setting (unique combination of ``by`` columns)."""
    by = list(by)
    sessions = _groups(tables.sessions, by)
    latency = _groups(tables.latency, by)
    displayed = _groups(tables.displayed, by)
    eou = _groups(tables.eou, by)
    rows = []
    for key, ses in sessions.items():
        row: dict[str, Any] = {k: ses[k].iloc[0] for k in by}  # as given: NaN stays NaN
        ok = ses[ses["ok"]]
        row.update(
            n_sessions=len(ses),
            n_failed=int((~ses["ok"]).sum()),
            n_files=int(ses["file"].nunique()),
        )
        lat = latency.get(key, pd.DataFrame(columns=tables.latency.columns))
        row.update(_latency_row(lat[lat["ok"].astype(bool)], seed, n_resamples, level))
        row.update(_accuracy_row(ok, seed, n_resamples, level))
        row.update(_stability_row(ok))
        ev = eou.get(key)
        eou_values: Any = ev.loc[ev["ok"].astype(bool), "eou_latency_s"] if ev is not None else []
        row.update(
            ttfp_p50=quantile(ok["ttfp_s"], 0.5) if "ttfp_s" in ok else math.nan,
            n_eou=len(eou_values),
            eou_p50=quantile(eou_values, 0.5),
            eou_p95=quantile(eou_values, 0.95),
        )
        shown = displayed.get(key)
        if shown is not None and len(shown):
            row["displayed_wer_at_0s"] = _displayed_at(shown, 0.0)
        row["quantile_method"] = QUANTILE_METHOD
        rows.append(row)
    return pd.DataFrame(rows)


def _latency_row(lat: pd.DataFrame, seed: int, n_resamples: int, level: float) -> dict[str, Any]:
    counted = lat[lat["counted"].astype(bool)]
    final = counted["final_latency_s"].astype("float64")
    d = describe(final, (0.5, 0.9, 0.95, 0.99))
    per_file = [g["final_latency_s"].to_numpy(np.float64) for _, g in counted.groupby("file")]
    low, high = bootstrap_ci(
        per_file, lambda v: quantile(v, 0.5), n_resamples=n_resamples, level=level, seed=seed
    )
    partial = describe(counted["partial_latency_s"].astype("float64"), (0.5, 0.9, 0.95))
    known = counted["violation"].dropna()
    anchors = sorted(set(counted["anchor"].dropna().astype(str)))
    return {
        "n_words": len(counted),
        "final_mean": d["mean"],
        "final_p50": d["p50"],
        "final_p90": d["p90"],
        "final_p95": d["p95"],
        "final_p99": d["p99"] if d["n"] >= P99_MIN_N else math.nan,
        "final_max": float(final.max()) if len(final) else math.nan,
        "final_p50_ci_low": low,
        "final_p50_ci_high": high,
        "partial_n": int(partial["n"]),
        "partial_p50": partial["p50"],
        "partial_p90": partial["p90"],
        "partial_p95": partial["p95"],
        "emission_p50": quantile(counted["emission_latency_s"], 0.5),
        "finalisation_lag_p50": quantile(counted["finalisation_lag_s"], 0.5),
        "violation_rate": float(known.astype(bool).mean()) if len(known) else math.nan,
        "flushed_share": float(counted["flushed"].astype(bool).mean())
        if d["n"]  # NaN when no latency was measured (pace "fast")
        else math.nan,
        "anchor": "/".join(anchors) if anchors else None,
    }


def _accuracy_row(ok: pd.DataFrame, seed: int, n_resamples: int, level: float) -> dict[str, Any]:
    cols = ["n_ref_words", "hits", "substitutions", "deletions", "insertions"]
    names = sorted({str(n) for n in ok["normaliser"].dropna()}) if "normaliser" in ok else []
    normaliser = " + ".join(names) if names else None
    if not set(cols) <= set(ok.columns):
        return {
            "wer": math.nan,
            "wer_ci_low": math.nan,
            "wer_ci_high": math.nan,
            "normaliser": normaliser,
        }
    scored = ok.dropna(subset=["n_ref_words"])
    per_file = [
        Score(*(int(g[c].sum()) for c in cols)) for _, g in scored.groupby("file", sort=True)
    ]
    total = sum(per_file, Score(0, 0, 0, 0, 0))
    low, high = wer_interval(per_file, n_resamples=n_resamples, level=level, seed=seed)
    coverage = (scored["coverage"] * scored["n_ref_words"]).sum() / max(total.n_ref, 1)
    return {
        "wer": total.wer,
        "wer_ci_low": low,
        "wer_ci_high": high,
        "n_ref_words": total.n_ref,
        "substitutions": total.substitutions,
        "deletions": total.deletions,
        "insertions": total.insertions,
        "coverage": float(coverage) if total.n_ref else math.nan,
        "normaliser": normaliser,
    }


def _stability_row(ok: pd.DataFrame) -> dict[str, float]:
    if "n_final_words" not in ok or not ok["n_final_words"].sum():
        return {"upwr": math.nan, "revisions_per_word": math.nan}
    n = float(ok["n_final_words"].sum())
    return {
        "upwr": float(ok["n_unstable"].sum()) / n,
        "revisions_per_word": float(ok["n_revisions"].sum()) / n,
    }


def _displayed_at(shown: pd.DataFrame, lag: float) -> float:
    at = shown[shown["ok"].astype(bool) & np.isclose(shown["lag_s"].astype(float), lag)]
    n = at["n_ref"].sum()
    return float(at["errors"].sum() / n) if n else math.nan


def displayed_wer(tables: Tables, by: Sequence[str] = ("max_delay",)) -> pd.DataFrame:
    """Pooled displayed-text WER per setting and lag: ``*by, lag_s, errors, n_ref, wer``."""
    shown = tables.displayed
    shown = shown[shown["ok"].astype(bool)] if len(shown) else shown
    cols = [*by, "lag_s", "errors", "n_ref", "wer"]
    if shown.empty:
        return pd.DataFrame(columns=cols)
    out = shown.groupby([*by, "lag_s"], dropna=False, observed=True)[["errors", "n_ref"]].sum()
    out = out.reset_index()
    out["wer"] = out["errors"] / out["n_ref"].where(out["n_ref"] > 0)
    return out[cols]
