"""Exact tests of bench.results.stats on hand-made inputs, and Hypothesis invariants."""

from __future__ import annotations

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.results.stats import (
    Distribution,
    Interval,
    StopRule,
    describe,
    format_level,
    location_ratio,
    mann_whitney_counts,
    mean,
    median,
    median_interval,
    median_rank,
    modified_z_scores,
    noise_warnings,
    order_statistic_level,
    outlier_cutoff,
    outliers,
    paired_ratios,
    percentiles,
    quantile,
    relative_halfwidth,
    shift_rank,
    should_stop,
    speedup_interval,
    stdev,
)
from tests.hypotheses import (
    confidence_levels,
    positive_float,
    quantile_levels,
    round_timings_s,
    samples,
    timings_s,
)

# --- empty and NaN inputs ------------------------------------------------------------------------------------

ONE_ARG = [
    (mean, "mean"),
    (stdev, "standard deviation"),
    (median, "median"),
    (lambda v: quantile(v, 0.5), "quantile"),
    (median_interval, "median interval"),
    (speedup_interval, "speedup interval"),
    (lambda v: location_ratio(v, [1.0]), "location ratio"),
    (lambda v: location_ratio([1.0], v), "location ratio"),
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


# --- order-statistic intervals -------------------------------------------------------------------------------


def test_median_interval_of_few_values_is_min_max_at_the_level_it_reaches():
    assert median_interval([3.0, 1.0, 2.0]) == Interval(1.0, 3.0, 0.75)
    assert median_interval([5.0, 1.0, 4.0, 2.0, 3.0]) == Interval(1.0, 5.0, 0.9375)
    assert median_interval([1.0, 2.0]) == Interval(1.0, 2.0, 0.5)
    assert median_interval([7.0]) == Interval(7.0, 7.0, 0.0)


def test_median_interval_of_ten_values_is_the_2nd_and_9th():
    # P(B <= 1) = 11/1024 for B ~ Binomial(10, 1/2): [x_(2), x_(9)] reaches 1 - 22/1024; [x_(3), x_(8)] only 0.89
    assert median_interval([float(v) for v in range(10, 0, -1)]) == Interval(2.0, 9.0, 1 - 22 / 1024)
    assert order_statistic_level(10, 3) == Fraction(912, 1024)


def test_median_interval_of_thirty_values_is_the_10th_and_21st():
    assert median_rank(30) == (10, Fraction(513906825, 536870912))  # 0.9572...
    assert order_statistic_level(30, 11) < Fraction(95, 100)
    assert median_interval([float(v) for v in range(1, 31)]) == Interval(10.0, 21.0, 513906825 / 536870912)


def test_median_interval_at_another_level():
    assert median_rank(5, 0.5) == (2, Fraction(5, 8))
    assert median_interval([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == Interval(2.0, 4.0, 0.625)


def test_order_statistic_level_bad_ranks():
    with pytest.raises(ValueError, match=r"^need n >= 1 and 1 <= k <= \(n \+ 1\) // 2, got n=5, k=4$"):
        order_statistic_level(5, 4)
    with pytest.raises(ValueError, match=r"^need at least 1 value, got 0$"):
        median_rank(0)


@pytest.mark.parametrize("level", [0.0, 1.0, -0.5, math.nan])
def test_median_interval_bad_level(level):
    with pytest.raises(ValueError, match=r"^level must be within \(0, 1\), got "):
        median_interval([1.0, 2.0], level)


def test_speedup_interval_is_the_median_interval_of_the_ratios():
    ratios = paired_ratios([8.0, 9.0, 8.5, 10.0, 7.0, 8.8], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    assert speedup_interval(ratios) == Interval(7.0, 10.0, 1 - 2 / 64)


def test_format_level():
    assert [format_level(v) for v in (0.75, 0.9375, 1 - 22 / 1024, 0.95, 0.99999)] == [
        "75%",
        "93%",
        "97%",
        "95%",
        "99%",
    ]


def test_relative_halfwidth_takes_the_longer_side():
    assert relative_halfwidth(Interval(0.75, 1.5, 0.9), 1.0) == 0.5
    assert relative_halfwidth(Interval(0.5, 1.25, 0.9), 1.0) == 0.5
    with pytest.raises(ValueError, match=r"^centre must be positive, got 0.0$"):
        relative_halfwidth(Interval(0.0, 1.0, 0.9), 0.0)


# --- adaptive repeats ----------------------------------------------------------------------------------------

TIGHT_6 = [8.0, 8.01, 7.99, 8.02, 7.98, 8.0]  # 6 rounds: [min, max] reaches 96.9% and lies within 0.25%
WIDE_6 = [8.0, 9.0, 7.0, 8.5, 7.5, 8.0]


def test_stop_when_every_series_is_precise():
    rule = StopRule(precision=0.02, min_rounds=3, max_rounds=30, budget_s=60.0)
    assert rule.check([TIGHT_6], rounds=6, elapsed_s=1.0) == "precision 2% reached"
    assert rule.check([TIGHT_6, WIDE_6], rounds=6, elapsed_s=1.0) is None
    assert StopRule(precision=0.005).check([TIGHT_6], rounds=6, elapsed_s=1.0) == "precision 0.5% reached"


def test_five_rounds_never_reach_95_percent_however_tight():
    rule = StopRule(precision=0.02, min_rounds=3, max_rounds=30)
    assert rule.check([TIGHT_6[:5]], rounds=5, elapsed_s=1.0) is None  # [min, max] of 5 reaches 93.75%
    assert StopRule(precision=0.02, min_rounds=3, level=0.9).check([TIGHT_6[:5]], 5, 1.0) == "precision 2% reached"


def test_stop_at_max_rounds_and_not_before_min_rounds():
    rule = StopRule(precision=0.02, min_rounds=5, max_rounds=6, budget_s=60.0)
    assert rule.check([WIDE_6[:4]], rounds=4, elapsed_s=100.0) is None  # min_rounds comes first, whatever the time
    assert rule.check([WIDE_6[:5]], rounds=5, elapsed_s=1.0) is None
    assert rule.check([WIDE_6], rounds=6, elapsed_s=1.0) == "max rounds"


def test_stop_before_a_round_would_overrun_the_budget():
    rule = StopRule(precision=0.02, min_rounds=3, max_rounds=30, budget_s=55.0)
    assert rule.check([WIDE_6], rounds=5, elapsed_s=40.0) is None  # 40 s / 5 rounds: a 6th ends at 48 s
    assert rule.check([WIDE_6], rounds=5, elapsed_s=50.0) == "time budget"  # a 6th would end at 60 s
    assert rule.check([TIGHT_6], rounds=6, elapsed_s=70.0) == "precision 2% reached"


def test_should_stop_is_the_rule():
    assert should_stop([TIGHT_6], 6, 1.0, precision=0.02) == "precision 2% reached"
    assert should_stop([WIDE_6], 6, 1.0, precision=0.02, max_rounds=6) == "max rounds"
    assert should_stop([WIDE_6], 6, 59.0, precision=0.02, budget_s=60.0) == "time budget"
    assert should_stop([[8.0, 0.0, 8.0, 8.0, 8.0, 8.0]], 6, 1.0, precision=0.02) is None  # no precision from zeros


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"precision": 0.0}, r"^precision must be positive, got 0.0$"),
        ({"precision": 0.02, "min_rounds": 0}, r"^need 1 <= min_rounds <= max_rounds, got 0 and 30$"),
        ({"precision": 0.02, "min_rounds": 8, "max_rounds": 6}, r"^need 1 <= min_rounds <= max_rounds, got 8 and 6$"),
        ({"precision": 0.02, "budget_s": 0.0}, r"^budget_s must be positive, got 0.0$"),
        ({"precision": 0.02, "level": 1.0}, r"^level must be within \(0, 1\), got 1.0$"),
    ],
)
def test_stop_rule_bad_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        StopRule(**kwargs)


def test_stop_rule_needs_a_series():
    with pytest.raises(ValueError, match=r"^a stop rule needs at least one series of values$"):
        StopRule(precision=0.02).check([], rounds=6, elapsed_s=1.0)


# --- two independent samples ---------------------------------------------------------------------------------


def _brute_force_counts(n: int, m: int) -> tuple[int, ...]:
    """U of every placement of n x-values among n + m ranks: pairs (x, y) with y ranked below x."""
    counts = [0] * (n * m + 1)
    for xs in itertools.combinations(range(n + m), n):
        counts[sum(x - i for i, x in enumerate(xs))] += 1
    return tuple(counts)


@pytest.mark.parametrize(("n", "m"), [(1, 1), (1, 4), (2, 2), (3, 3), (3, 5), (5, 3), (5, 5), (6, 4)])
def test_mann_whitney_counts_match_enumeration(n, m):
    assert mann_whitney_counts(n, m) == _brute_force_counts(n, m)


def test_mann_whitney_counts_known_values():
    counts = mann_whitney_counts(5, 5)
    assert counts[:6] == (1, 1, 2, 3, 5, 7) and sum(counts) == 252 and counts == counts[::-1]
    assert sum(mann_whitney_counts(40, 25)) == math.comb(65, 25)
    with pytest.raises(ValueError, match=r"^need two non-empty samples, got sizes 0 and 3$"):
        mann_whitney_counts(0, 3)


def test_shift_rank_exact_levels():
    assert shift_rank(3, 3) == (1, 0.9)  # 1 - 2/20
    assert shift_rank(5, 5) == (3, 244 / 252)  # P(U <= 2) = 4/252; k = 4 would give 1 - 14/252 < 0.95
    assert shift_rank(1, 1) == (1, 0.0)


def test_shift_rank_normal_approximation_beyond_the_exact_table():
    k, level = shift_rank(60, 60)
    assert 0.95 <= level < 0.951 and k == 1427


def test_location_ratio_of_three_and_three():
    estimate = location_ratio([2.0, 2.2, 1.8], [1.0, 1.1, 0.9])
    assert estimate.ratio == pytest.approx(2.0)
    assert (estimate.interval.low, estimate.interval.high) == pytest.approx((1.8 / 1.1, 2.2 / 0.9))
    assert estimate.interval.level == 0.9


def test_location_ratio_is_scale_free_and_inverts():
    a, b = [7.1, 7.4, 6.9, 7.3, 7.0], [8.0, 8.3, 7.9, 8.1, 8.4]
    forward, backward = location_ratio(a, b), location_ratio(b, a)
    assert forward.ratio == pytest.approx(1 / backward.ratio)
    assert forward.interval.low == pytest.approx(1 / backward.interval.high)
    scaled = location_ratio([v * 3 for v in a], [v * 3 for v in b])
    assert scaled.ratio == pytest.approx(forward.ratio) and scaled.interval.level == forward.interval.level


def test_location_ratio_needs_positive_values():
    with pytest.raises(ValueError, match=r"^a location ratio needs positive values$"):
        location_ratio([1.0, 0.0], [1.0])


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
    assert noise_warnings([1.0, 1.02, 0.98]) == ()


def test_few_repeats_are_no_warning():
    """The interval's stated level already says how little 1 to 3 rounds tell."""
    assert noise_warnings([1.0]) == ()
    assert noise_warnings([1.0, 1.01]) == ()


def test_slow_first_run():
    message = "the first run took {}x the median of the others; the warm-up was too short: raise warmup in the scenario"
    assert noise_warnings([1.5, 1.0, 1.02]) == (message.format("1.5"),)
    assert noise_warnings([2.3, 1.0, 1.02, 0.98, 1.01, 0.99, 1.0]) == (message.format("2.3"),)
    assert noise_warnings([1.25, 1.0, 1.02]) == ()  # under 1.3x: within what noise does


def test_a_fast_first_run_is_an_outlier_not_a_warm_up_problem():
    assert noise_warnings([0.2, 1.0, 1.02, 0.98, 1.01, 0.99, 1.0]) == (
        "run 1 took 0.2x the median; something else may have used the machine: rerun on a quiet machine "
        "or run more rounds (repeats: 14)",
    )


def test_outlier_at_five_rounds():
    assert noise_warnings([1.0, 1.02, 0.98, 1.01, 3.0]) == (
        "run 5 took 3.0x the median; something else may have used the machine: rerun on a quiet machine "
        "or run more rounds (repeats: 10)",
    )


def test_outliers_later_on():
    assert noise_warnings([1.0, 1.02, 3.0, 0.98, 1.01, 0.99, 1.0, 1.0, 1.01, 0.99, 4.0]) == (
        "run 3 took 3.0x, run 11 took 4.0x the median; something else may have used the machine: "
        "rerun on a quiet machine or run more rounds (repeats: 22)",
    )


def test_a_slow_round_among_thirty_quiet_ones_is_caught():
    rng = np.random.default_rng(5)
    values = np.exp(0.02 * rng.standard_normal(30))
    values[17] *= 1.5
    (warning,) = noise_warnings(values.tolist())
    assert warning.startswith("run 18 took 1.5x the median")


def test_tiny_deviations_are_no_outliers_however_quiet_the_machine():
    assert noise_warnings([1.0, 1.0, 1.0, 1.0, 1.05, 1.0]) == ()  # MAD 0, but 5% is no problem


def test_an_interval_too_wide_to_use():
    assert noise_warnings([1.0, 2.0, 1.5]) == (
        "the 75% interval spans a factor 2.0 (1 to 2), too wide to tell strategies apart; "
        "run more rounds (repeats: 10) on a quieter machine",
    )
    assert noise_warnings([1.0, 1.5, 1.2]) == ()  # a factor 1.5: wide, but still says something


def test_a_slow_first_run_explains_the_width_it_causes():
    assert len(noise_warnings([2.0, 1.0, 1.02, 0.98, 1.01])) == 1


def test_warnings_need_positive_finite_timings():
    assert noise_warnings([5.0, 0.0, 0.0, 0.0, 0.0]) == ()
    assert noise_warnings([1.0, math.inf, 1.0]) == ()


def test_outlier_cutoff_depends_on_the_count():
    cutoffs = [outlier_cutoff(n) for n in (5, 10, 30)]
    assert cutoffs == sorted(cutoffs, reverse=True) and cutoffs[-1] > 3.5
    assert outlier_cutoff(10) == outlier_cutoff(10)  # seeded
    with pytest.raises(ValueError, match=r"^an outlier cut-off needs at least 3 values, got 2$"):
        outlier_cutoff(2)


@pytest.mark.parametrize("sigma", [0.02, 0.05, 0.10])
@pytest.mark.parametrize("n", [3, 5, 10, 30])
def test_noise_alone_warns_at_most_one_row_in_twenty(n, sigma):
    """2,000 rows of lognormal noise per cell (no slow rounds): the old rules warned on 21-29% of them."""
    rng = np.random.default_rng(n * 100 + round(sigma * 100))
    rows = np.exp(sigma * rng.standard_normal((2000, n)))
    warned = sum(bool(noise_warnings(row.tolist())) for row in rows)
    assert warned / len(rows) <= 0.05, f"{warned} of {len(rows)} rows warned"


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


@given(samples, confidence_levels)
def test_median_interval_holds_the_median_and_lies_within_the_data(values, level):
    interval = median_interval(values, level)
    assert min(values) <= interval.low <= median(values) <= interval.high <= max(values)
    assert 0.0 <= interval.level < 1.0
    assert (interval.level >= level) == (float(order_statistic_level(len(values), 1)) >= level)


@given(round_timings_s, st.floats(min_value=0.001, max_value=0.2), st.integers(min_value=1, max_value=60))
def test_stop_rule_never_stops_before_min_rounds_and_always_at_max(values, precision, rounds):
    rule = StopRule(precision=precision, min_rounds=5, max_rounds=20, budget_s=1e9)
    reason = rule.check([values], rounds=rounds, elapsed_s=1.0)
    assert (reason is None) if rounds < 5 else (reason is not None or rounds < 20)
    if reason is not None and reason.startswith("precision"):
        interval = median_interval(values)
        assert interval.level >= 0.95 and relative_halfwidth(interval, median(values)) <= precision


@given(timings_s, timings_s)
def test_location_ratio_interval_holds_the_ratio(values, reference):
    estimate = location_ratio(values, reference)
    assert estimate.interval.low <= estimate.ratio * (1 + 1e-12)
    assert estimate.ratio <= estimate.interval.high * (1 + 1e-12)


@given(timings_s)
def test_paired_ratios_of_equal_lists_are_one(values):
    assert paired_ratios(values, values) == (1.0,) * len(values)


@given(positive_float, st.integers(min_value=1, max_value=40))
def test_constant_data_has_no_spread_and_no_outliers(value, n):
    values = [value] * n
    assert noise_warnings(values) == ()
    assert modified_z_scores(values) == (0.0,) * n
    assert stdev(values) == 0.0


@given(samples)
def test_outliers_are_the_scores_beyond_the_threshold(values):
    scores = modified_z_scores(values)
    assert len(scores) == len(values)
    assert outliers(values) == tuple(i for i, m in enumerate(scores) if abs(m) > 3.5)
