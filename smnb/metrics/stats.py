"""Quantiles and the file-level (cluster) bootstrap used by every summary.

Conventions, stated once and recorded in every summary table:

* One quantile convention across smnb: ``q`` is a fraction in 0–1, as in pandas
  (``Series.quantile``) and ``Result.final_latency(q)``; ``quantile(v, 0.5)`` is the
  median, reported in columns named ``p50``. A ``q`` outside 0–1 (``50``) is an error.
* Quantiles use numpy's ``method="linear"`` (Hyndman & Fan type 7, numpy's default),
  the estimator Pipecat, OpenBench and WhisperLiveKit also use. NaN values are dropped
  first; an empty sample gives NaN.
* Confidence intervals come from a percentile bootstrap that resamples **whole files**
  (clusters) with replacement, never single words: words of one file are correlated
  (Bisani & Ney 2004; Liu & Peng 2019). The RNG is ``numpy.random.default_rng(seed)``.

numpy only. Must not import asyncio, websockets, smnb.session.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

QUANTILE_METHOD: Final = "linear"
"""numpy ``quantile`` method used everywhere (type 7)."""

DEFAULT_RESAMPLES = 2000
DEFAULT_LEVEL = 0.95

FloatArray = npt.NDArray[np.float64]


def finite(values: Iterable[float] | npt.ArrayLike) -> FloatArray:
    """``values`` as a float array with NaN/inf removed."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    return arr[np.isfinite(arr)]


def check_q(q: float) -> float:
    """``q`` as a float, or ValueError naming the convention when it is not in 0–1."""
    if isinstance(q, bool) or not isinstance(q, int | float) or not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be a quantile between 0 and 1 (0.5 is the median), not {q!r}")
    return float(q)


def quantile(values: Iterable[float] | npt.ArrayLike, q: float) -> float:
    """The ``q``-quantile (0–1) of the finite values; NaN when there are none."""
    q = check_q(q)
    arr = finite(values)
    if arr.size == 0:
        return float("nan")
    return float(np.quantile(arr, q, method=QUANTILE_METHOD))


def column_name(q: float) -> str:
    """The column of a quantile: ``p50`` for 0.5, ``p99.9`` for 0.999."""
    return f"p{round(check_q(q) * 100, 6):g}"


def describe(
    values: Iterable[float] | npt.ArrayLike, qs: Sequence[float] = (0.5, 0.9, 0.95)
) -> dict[str, float]:
    """``n``, ``mean`` and ``p<100·q>`` (``p50`` …) for each quantile ``q`` (0–1)."""
    arr = finite(values)
    out: dict[str, float] = {"n": float(arr.size)}
    out["mean"] = float(arr.mean()) if arr.size else float("nan")
    for q in qs:
        out[column_name(q)] = quantile(arr, q)
    return out


def _interval(samples: FloatArray, level: float) -> tuple[float, float]:
    samples = samples[np.isfinite(samples)]
    if samples.size == 0:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2.0
    low, high = np.quantile(samples, [alpha, 1.0 - alpha], method=QUANTILE_METHOD)
    return float(low), float(high)


def bootstrap_ratio_ci(
    numerators: Sequence[float] | npt.ArrayLike,
    denominators: Sequence[float] | npt.ArrayLike,
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap CI of ``Σ numerators / Σ denominators`` over clusters.

    One entry per file (e.g. its word errors and reference words, summed over its
    sessions); each resample draws as many files as there are, with replacement.
    Fewer than two files give ``(nan, nan)``: one file has no between-file spread.
    """
    num = np.asarray(numerators, dtype=np.float64)
    den = np.asarray(denominators, dtype=np.float64)
    if num.shape != den.shape:
        raise ValueError("numerators and denominators must have the same length")
    if num.size < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, num.size, size=(n_resamples, num.size))
    totals = den[idx].sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(totals > 0, num[idx].sum(axis=1) / totals, np.nan)
    return _interval(ratios, level)


def bootstrap_ci(
    groups: Sequence[Sequence[float] | npt.ArrayLike],
    statistic: Callable[[FloatArray], float],
    *,
    n_resamples: int = DEFAULT_RESAMPLES,
    level: float = DEFAULT_LEVEL,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile-bootstrap CI of ``statistic(pooled values)``, resampling whole groups.

    ``groups`` holds one array of values per file; each resample pools the values of
    the drawn files and applies ``statistic`` (e.g. ``lambda v: quantile(v, 0.5)``).
    Fewer than two groups give ``(nan, nan)``.
    """
    arrays = [finite(g) for g in groups]
    if len(arrays) < 2:
        return float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, len(arrays), size=(n_resamples, len(arrays)))
    stats = np.empty(n_resamples, dtype=np.float64)
    for b, draw in enumerate(idx):
        pooled = np.concatenate([arrays[i] for i in draw])
        stats[b] = statistic(pooled) if pooled.size else np.nan
    return _interval(stats, level)
