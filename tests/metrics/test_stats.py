"""Percentiles (numpy linear, type 7) and the file bootstrap, against hand arithmetic."""

from __future__ import annotations

import math

import pytest

from smnb.metrics.stats import (
    QUANTILE_METHOD,
    bootstrap_ci,
    bootstrap_ratio_ci,
    describe,
    quantile,
)


def test_method_is_linear() -> None:
    assert QUANTILE_METHOD == "linear"


def test_linear_percentiles_by_hand() -> None:
    # Type 7, q in 0–1: position (n - 1) * q. For [1, 2, 3, 4]: p50 at 1.5 -> 2.5;
    # p90 at 2.7 -> 3.7;
    # p95 at 2.85 -> 3.85.
    values = [4.0, 1.0, 3.0, 2.0]
    assert quantile(values, 0.5) == pytest.approx(2.5)
    assert quantile(values, 0.9) == pytest.approx(3.7)
    assert quantile(values, 0.95) == pytest.approx(3.85)


def test_nan_is_dropped_and_empty_is_nan() -> None:
    assert quantile([1.0, math.nan, 3.0], 0.5) == pytest.approx(2.0)
    assert math.isnan(quantile([], 0.5))
    assert math.isnan(quantile([math.nan], 0.5))


def test_describe() -> None:
    d = describe([1.0, 2.0, 3.0, 10.0], (0.5,))
    assert d == {"n": 4.0, "mean": 4.0, "p50": 2.5}
    assert list(describe([1.0], (0.5, 0.999))) == ["n", "mean", "p50", "p99.9"]


def test_one_quantile_convention_q_in_0_to_1() -> None:
    assert quantile([1.0, 2.0], 0) == 1.0 and quantile([1.0, 2.0], 1) == 2.0
    for q in (50, -0.1, 1.5, True):
        with pytest.raises(ValueError, match="between 0 and 1"):
            quantile([1.0], q)


def test_ratio_ci_needs_two_files() -> None:
    assert all(math.isnan(v) for v in bootstrap_ratio_ci([1], [10]))


def test_ratio_ci_of_identical_files_is_a_point() -> None:
    # Every resample has ratio 2/10: the interval collapses.
    low, high = bootstrap_ratio_ci([2, 2, 2], [10, 10, 10], seed=1)
    assert low == pytest.approx(0.2) and high == pytest.approx(0.2)


def test_ratio_ci_spans_the_possible_resamples() -> None:
    # Two files of 10 words: 0 errors and 10 errors. A resample draws both from one file
    # with probability 1/2 (ratio 0 or 1), so the 2.5/97.5 percentiles are exactly 0 and 1.
    low, high = bootstrap_ratio_ci([0, 10], [10, 10], seed=0)
    assert (low, high) == (0.0, 1.0)


def test_ratio_ci_is_seeded() -> None:
    # With 20 resamples the interval depends on which files were drawn, hence on the seed.
    args = ([1, 3, 0, 5, 2, 7], [10, 12, 9, 20, 8, 15])
    first = bootstrap_ratio_ci(*args, seed=7, n_resamples=20)
    assert first == bootstrap_ratio_ci(*args, seed=7, n_resamples=20)
    assert first != bootstrap_ratio_ci(*args, seed=8, n_resamples=20)


def test_ratio_ci_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match="same length"):
        bootstrap_ratio_ci([1, 2], [3])


def test_group_bootstrap_resamples_whole_groups() -> None:
    # Groups [1, 1] and [5, 5]: pooled medians can only be 1, 3 or 5.
    low, high = bootstrap_ci([[1.0, 1.0], [5.0, 5.0]], lambda v: quantile(v, 0.5), seed=0)
    assert (low, high) == (1.0, 5.0)
    assert all(math.isnan(v) for v in bootstrap_ci([[1.0]], lambda v: quantile(v, 0.5)))
