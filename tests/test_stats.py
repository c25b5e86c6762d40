"""Exact tests of bench.stats on hand-made inputs, and Hypothesis invariants."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.stats import (
    Distribution,
    bootstrap_ci,
    describe,
    mean,
    median,
    modified_z_scores,
    noise_warnings,
    outliers,
    paired_ratios,
    percentiles,
    quantile,
    stdev,
)
from tests.strategies import (
    positive_float,
    quantile_levels,
    samples,
    timings_s,
)

# --- empty and NaN inputs ------------------------------------------------------------------------------------

ONE_ARG = [
    (mean, "mean"),
    (stdev, "standard deviation"),
    (median, "median"),
    (lambda v: quantile(v, 0.5), "quantile"),
    (bootstrap_ci, "bootstrap"),
    (describe, "describe"),
    (percentiles, "percentiles"),
    (modified_z_scores, "modified z-scores"),
    (outliers, "outliers"),
    (noise_warnings, "noise warnings"),
]


@pytest.mark.parametrize(("function", "what"), ONE_ARG)
def test_no_values_is_an_error(function, what):
    with pytest.raises(ValueError, match=rf"^{what} of no values$"):
        function([])


@pytest.mark.parametrize(("function", "what"), ONE_ARG)
def test_nan_is_an_error(function, what):
    with pytest.raises(ValueError, match=rf"^{what} of values containing NaN$"):
        function([1.0, math.nan, 2.0])


# --- mean and stdev ------------------------------------------------------------------------------------------


def test_mean():
    assert mean([2, 4, 4, 4, 5, 5, 7, 9]) == 5.0
    assert mean([1.5, 2.5, 3.5]) == 2.5
    assert mean([0.1, 0.2, 0.3]) == 0.2  # correctly rounded, unlike sum(...) / 3
    assert mean([0.1, 0.1, 0.1]) == 0.1
    assert mean([7]) == 7.0


def test_stdev_is_the_sample_standard_deviation():
    assert stdev([2, 4, 4, 4, 5, 5, 7, 9]) == pytest.approx(math.sqrt(32 / 7))  # 2.138...
    assert stdev([1.0, 3.0]) == pytest.approx(math.sqrt(2))


def test_stdev_of_one_value_and_of_constant_values_is_zero():
    assert stdev([3.5]) == 0.0
    assert stdev([0.1, 0.1, 0.1]) == 0.0


# --- median and quantile -------------------------------------------------------------------------------------


def test_median():
    assert median([3, 1, 2]) == 2.0
    assert median([4, 1, 3, 2]) == 2.5
    assert median([5]) == 5.0
    assert isinstance(median([1, 2, 3]), float)


def test_median_does_not_overflow():
    assert median([1e308, 1.5e308]) == 1.25e308


def test_quantile_interpolates_linearly():
    assert quantile([1, 2, 3, 4], 0.25) == 1.75
    assert quantile([1, 2, 3, 4], 0.5) == 2.5
    assert quantile([1, 2, 3, 4], 0.75) == 3.25
    assert quantile([4, 3, 2, 1], 0.0) == 1.0
    assert quantile([4, 3, 2, 1], 1.0) == 4.0
    assert quantile([7], 0.3) == 7.0


def test_quantile_of_extreme_values_stays_finite():
    assert quantile([-1e308, 1e308], 0.0) == -1e308
    assert quantile([-1e308, 1e308], 0.5) == 0.0
    assert quantile([-1e308, 1e308], 0.75) == 5e307


@pytest.mark.parametrize("q", [-0.1, 1.5, math.nan])
def test_quantile_outside_0_1_is_an_error(q):
    with pytest.raises(ValueError, match=r"^q must be within \[0, 1\], got "):
        quantile([1.0], q)


# --- describe and percentiles --------------------------------------------------------------------------------


def test_describe():
    assert describe([2, 4, 4, 4, 5, 5, 7, 9]) == Distribution(
        n=8,
        mean=5.0,
        stdev=pytest.approx(math.sqrt(32 / 7)),
        min=2.0,
        q1=4.0,
        median=4.5,
        q3=5.5,
        max=9.0,
        iqr=1.5,
    )


def test_describe_one_value():
    assert describe([3]) == Distribution(n=1, mean=3, stdev=0, min=3, q1=3, median=3, q3=3, max=3, iqr=0)


def test_distribution_is_frozen_and_documented():
    d = describe([1.0])
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.n = 2  # type: ignore[misc]
    names = [f.name for f in dataclasses.fields(Distribution)]
    assert names == ["n", "mean", "stdev", "min", "q1", "median", "q3", "max", "iqr"]


def test_percentiles_default_to_p50_p90_p99():
    assert percentiles(list(range(101))) == {50: 50.0, 90: 90.0, 99: 99.0}


def test_percentiles_keyed_as_given():
    assert percentiles([1.0, 2.0, 3.0, 4.0, 5.0], (0, 25, 100)) == {0: 1.0, 25: 2.0, 100: 5.0}
    assert percentiles([1, 2, 3, 4], [12.5]) == {12.5: 1.375}
    assert percentiles(list(range(1, 11))) == {50: 5.5, 90: pytest.approx(9.1), 99: pytest.approx(9.91)}


@pytest.mark.parametrize("q", [-1, 101])
def test_percentiles_outside_0_100_is_an_error(q):
    with pytest.raises(ValueError, match=rf"^percentiles must be within \[0, 100\], got {q}$"):
        percentiles([1.0], (50, q))


# --- paired ratios -------------------------------------------------------------------------------------------


def test_paired_ratios():
    assert paired_ratios([4.0, 9.0, 1.0], [2.0, 3.0, 4.0]) == (2.0, 3.0, 0.25)
    assert paired_ratios([], []) == ()  # no pairs, no ratios: summary.py relies on this


def test_paired_ratios_of_unequal_lengths_is_an_error():
    with pytest.raises(ValueError, match=r"^paired ratios need equal lengths, got 2 and 1$"):
        paired_ratios([1.0, 2.0], [1.0])


@pytest.mark.parametrize("bad", [0.0, -1.0, math.nan])
def test_paired_ratios_need_positive_denominators(bad):
    with pytest.raises(ValueError, match=r"^denominators must be positive$"):
        paired_ratios([1.0, 1.0], [1.0, bad])


# --- bootstrap -----------------------------------------------------------------------------------------------


def test_bootstrap_is_deterministic_for_a_seed():
    values = [1.2, 0.9, 1.1, 1.0, 1.3, 0.95, 1.05, 1.4]
    assert bootstrap_ci(values) == bootstrap_ci(values)
    assert bootstrap_ci(values, seed=7) == bootstrap_ci(list(values), seed=7)


def test_bootstrap_contains_the_point_estimate():
    values = [1.2, 0.9, 1.1, 1.0, 1.3, 0.95, 1.05, 1.4]
    low, high = bootstrap_ci(values)
    assert low <= median(values) <= high
    low, high = bootstrap_ci(values, mean)
    assert low <= mean(values) <= high


def test_bootstrap_known_intervals():
    assert bootstrap_ci([1.0, 2.0, 3.0, 4.0, 5.0], seed=1) == (1.0, 5.0)
    assert bootstrap_ci([float(i) for i in range(1, 11)], mean) == pytest.approx((3.7, 7.3))


def test_bootstrap_of_one_value_is_that_value():
    assert bootstrap_ci([2.5]) == (2.5, 2.5)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"confidence": 1.0}, r"^confidence must be within \(0, 1\), got 1.0$"),
        ({"confidence": 0.0}, r"^confidence must be within \(0, 1\), got 0.0$"),
        ({"resamples": 0}, r"^resamples must be at least 1, got 0$"),
    ],
)
def test_bootstrap_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_ci([1.0, 2.0], **kwargs)


# --- outliers ------------------------------------------------------------------------------------------------


def test_modified_z_scores():
    # median 3, absolute deviations 2, 1, 0, 1, 97 -> MAD 1
    assert modified_z_scores([1, 2, 3, 4, 100]) == pytest.approx((-1.349, -0.6745, 0.0, 0.6745, 65.4265))


def test_modified_z_scores_with_zero_mad():
    assert modified_z_scores([5, 5, 5, 7, 3]) == (0.0, 0.0, 0.0, math.inf, -math.inf)
    assert modified_z_scores([2.0, 2.0]) == (0.0, 0.0)


def test_outliers():
    assert outliers([1, 2, 3, 4, 100]) == (4,)
    assert outliers([10.0, 10.2, 9.9, 10.1, 30.0]) == (4,)
    assert outliers([-50.0, 10.2, 9.9, 10.1, 10.0]) == (0,)
    assert outliers([5, 5, 5, 7, 3]) == (3, 4)
    assert outliers([1.0, 2.0, 3.0, 4.0, 5.0]) == ()


def test_outliers_threshold():
    # |M| = 1.349 for the first and last values
    assert outliers([1, 2, 3, 4, 5], threshold=1.3) == (0, 4)
    assert outliers([1, 2, 3, 4, 5], threshold=1.35) == ()
    with pytest.raises(ValueError, match=r"^threshold must be positive, got 0$"):
        outliers([1.0], threshold=0)


# --- noise warnings ------------------------------------------------------------------------------------------


def test_no_warnings_for_steady_runs():
    assert noise_warnings([1.0, 1.02, 0.98, 1.01, 0.99]) == ()


def test_too_few_repeats():
    assert noise_warnings([1.0, 1.0]) == ("only 2 repeats; use at least 3 for an interval",)
    assert noise_warnings([1.0]) == ("only 1 repeat; use at least 3 for an interval",)
    assert noise_warnings([1.0, 1.0], min_repeats=2) == ()


def test_spread_above_the_limit():
    # q1 0.9, median 1.0, q3 1.1: IQR / median = 20%
    assert noise_warnings([0.8, 0.9, 1.0, 1.1, 1.2]) == ("spread (IQR) is 20% of the median; the machine may be busy",)
    assert noise_warnings([0.8, 0.9, 1.0, 1.1, 1.2], max_spread=0.25) == ()


def test_slow_first_run():
    assert noise_warnings([2.3, 1.0, 1.02, 0.98, 1.01, 0.99, 1.0]) == (
        "the first run was 2.3x the median; consider more warm-up",
        "1 outlier by the modified z-score",
    )


def test_fast_first_run_is_only_an_outlier():
    assert noise_warnings([0.2, 1.0, 1.02, 0.98, 1.01, 0.99, 1.0]) == ("1 outlier by the modified z-score",)


def test_outliers_later_on():
    assert noise_warnings([1.0, 1.02, 3.0, 0.98, 1.01, 0.99, 1.0, 1.0, 1.01, 0.99, 4.0]) == (
        "2 outliers by the modified z-score",
    )


def test_every_warning_at_once():
    assert noise_warnings([2.3, 1.0, 1.0, 1.01, 0.99, 1.0, 5.0], min_repeats=10) == (
        "only 7 repeats; use at least 10 for an interval",
        "spread (IQR) is 65% of the median; the machine may be busy",
        "the first run was 2.3x the median; consider more warm-up",
        "2 outliers by the modified z-score",
    )


def test_spread_and_first_run_need_a_positive_median():
    assert noise_warnings([5.0, 0.0, 0.0, 0.0, 0.0]) == ("1 outlier by the modified z-score",)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"min_repeats": 0}, r"^min_repeats must be at least 1, got 0$"),
        ({"max_spread": -0.1}, r"^max_spread must be non-negative, got -0.1$"),
    ],
)
def test_noise_warnings_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        noise_warnings([1.0, 1.0, 1.0], **kwargs)


# --- properties ----------------------------------------------------------------------------------------------


@given(samples)
def test_median_lies_within_the_data(values):
    assert min(values) <= median(values) <= max(values)


@given(samples, quantile_levels, quantile_levels)
def test_quantile_is_monotone_in_q(values, a, b):
    low, high = sorted((a, b))
    assert min(values) <= quantile(values, low) <= quantile(values, high) <= max(values)


@given(samples)
def test_quartiles_are_ordered(values):
    d = describe(values)
    assert d.min <= d.q1 <= d.median <= d.q3 <= d.max
    assert d.min <= d.mean <= d.max
    assert d.iqr >= 0 and d.stdev >= 0


@given(samples, st.integers(min_value=0, max_value=2**32))
def test_bootstrap_contains_the_point_and_lies_within_the_data(values, seed):
    low, high = bootstrap_ci(values, resamples=200, seed=seed)
    assert min(values) <= low <= median(values) <= high <= max(values)


@given(timings_s)
def test_paired_ratios_of_equal_lists_are_one(values):
    assert paired_ratios(values, values) == (1.0,) * len(values)


@given(positive_float, st.integers(min_value=1, max_value=40))
def test_constant_data_has_no_spread_and_no_outliers(value, n):
    values = [value] * n
    assert not any("spread" in w or "outlier" in w for w in noise_warnings(values))
    assert modified_z_scores(values) == (0.0,) * n
    assert stdev(values) == 0.0


@given(samples)
def test_outliers_are_the_scores_beyond_the_threshold(values):
    scores = modified_z_scores(values)
    assert len(scores) == len(values)
    assert outliers(values) == tuple(i for i, m in enumerate(scores) if abs(m) > 3.5)
