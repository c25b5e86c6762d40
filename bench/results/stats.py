"""Pure statistics over sequences of numbers. No state, no I/O; exact unit tests in tests/test_stats.py.

    >>> median([3, 1, 2])
    2.0
    >>> median_interval([1.0, 2.0, 3.0, 4.0, 5.0])   # [min, max] of 5 values covers the median 93.75% of the time
    Interval(low=1.0, high=5.0, level=0.9375)
    >>> outliers([10.0, 10.2, 9.9, 10.1, 30.0])       # indices, by the modified z-score
    (4,)

Every function raises ValueError on no values or on a NaN among them (except ``paired_ratios``, where no pairs
give no ratios).

Intervals state the confidence they reach, never a nominal one. The median's interval is the distribution-free
order-statistic interval: for n independent values of any continuous distribution, the number below the true
median is Binomial(n, 1/2), so [x_(k), x_(n+1-k)] covers it with probability exactly 1 - 2 P(B <= k - 1)
(W. J. Conover, "Practical Nonparametric Statistics", 3rd ed., Wiley 1999, sec. 3.2; G. J. Hahn and
W. Q. Meeker, "Statistical Intervals", Wiley 1991, sec. 5.2). With 3 values the widest such interval, [min, max],
reaches 75%, with 5 values 93.75%: that is the level reported. Speedups are per-round paired ratios and get the
same interval (the estimand: the median of the per-round speedup distribution).

Two independent samples (a baseline and a new run) compare by the Hodges-Lehmann estimate of the shift between
their logarithms, with the interval obtained by inverting the Mann-Whitney test: the k-th smallest and k-th largest
of the n*m pairwise differences, k from the exact null distribution of U (J. L. Hodges and E. L. Lehmann,
"Estimates of location based on rank tests", Ann. Math. Statist. 34, 1963; M. Hollander, D. A. Wolfe and
E. Chicken, "Nonparametric Statistical Methods", 3rd ed., Wiley 2014, sec. 4.3). Back on the original scale it
is a ratio of locations with an interval whose level is exact under the shift model.

Outliers: the modified z-score of B. Iglewicz and D. C. Hoaglin, "How to Detect and Handle Outliers"
(ASQC Quality Press, 1993), ch. 3: M_i = 0.6745 (x_i - median) / MAD, where MAD is the median of the absolute
deviations from the median. Iglewicz and Hoaglin's fixed cut-off 3.5 assumes many values: with 5 normal values
the largest |M_i| exceeds it in about 1 set in 5, because the MAD of 5 values is often tiny. ``noise_warnings``
therefore applies the score to log timings with a cut-off that depends on n (``outlier_cutoff``): the 99th
percentile of the largest |M_i| in n standard normal values, found by a seeded simulation. Noise warnings follow
pyperf (``pyperf check``) and hyperfine (outlier warnings) in spirit, and each says what to do.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

MODIFIED_Z_FACTOR = 0.6745
"""Iglewicz & Hoaglin's constant, the 0.75 quantile of N(0, 1): M_i is about N(0, 1) for normal data."""
OUTLIER_THRESHOLD = 3.5
"""|M_i| above this marks an outlier (Iglewicz & Hoaglin's recommendation)."""


def _check(values: Sequence[float], what: str) -> None:
    """Raise ValueError when ``values`` is empty or holds a NaN (which would make sorting meaningless)."""
    if not values:
        raise ValueError(f"{what} of no values")
    if any(math.isnan(v) for v in values):
        raise ValueError(f"{what} of values containing NaN")


def mean(values: Sequence[float]) -> float:
    """The arithmetic mean, correctly rounded (exact arithmetic, so the mean of constant values is that value)."""
    _check(values, "mean")
    return float(statistics.mean(values))


def stdev(values: Sequence[float]) -> float:
    """The sample standard deviation (n - 1 in the denominator); 0.0 for a single value."""
    _check(values, "standard deviation")
    if len(values) == 1:
        return 0.0
    return float(statistics.stdev(values))


def median(values: Sequence[float]) -> float:
    """The middle value (mean of the two middle values for an even count)."""
    _check(values, "median")
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    low, high = ordered[mid - 1], ordered[mid]
    middle = (low + high) / 2
    return float(middle if math.isfinite(middle) else low / 2 + high / 2)  # low + high may overflow


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) by linear interpolation between order statistics (numpy's default)."""
    _check(values, "quantile")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be within [0, 1], got {q}")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    below, above = ordered[low], ordered[high]
    if fraction == 0 or below == above:
        return float(below)
    value = below + (above - below) * fraction
    if not math.isfinite(value):  # above - below overflowed
        value = below * (1 - fraction) + above * fraction
    # Rounding may step just past a neighbour; clamping keeps the result monotone in q and within the data.
    return float(min(max(value, below), above))


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> tuple[float, ...]:
    """Element-wise ``numerators[i] / denominators[i]``: the speedup of each round from runs of that round."""
    if len(numerators) != len(denominators):
        raise ValueError(f"paired ratios need equal lengths, got {len(numerators)} and {len(denominators)}")
    if any(not d > 0 for d in denominators):
        raise ValueError("denominators must be positive")
    return tuple(n / d for n, d in zip(numerators, denominators, strict=True))


@dataclass(frozen=True)
class Distribution:
    """Summary of a sample; every figure except ``n`` is in the unit of the values (e.g. seconds)."""

    n: int
    """Number of values."""
    mean: float
    """Arithmetic mean."""
    stdev: float
    """Sample standard deviation (n - 1); 0.0 for a single value."""
    min: float
    """Smallest value."""
    q1: float
    """First quartile: the 0.25 quantile."""
    median: float
    """Middle value: the 0.5 quantile."""
    q3: float
    """Third quartile: the 0.75 quantile."""
    max: float
    """Largest value."""
    iqr: float
    """Interquartile range: q3 - q1, the spread of the middle half."""


def describe(values: Sequence[float]) -> Distribution:
    """Count, mean, standard deviation and five-number summary (quartiles by ``quantile``) of ``values``."""
    _check(values, "describe")
    q1, q3 = quantile(values, 0.25), quantile(values, 0.75)
    return Distribution(
        n=len(values),
        mean=mean(values),
        stdev=stdev(values),
        min=float(min(values)),
        q1=q1,
        median=median(values),
        q3=q3,
        max=float(max(values)),
        iqr=q3 - q1,
    )


def percentiles(values: Sequence[float], qs: Sequence[int | float] = (50, 90, 99)) -> dict[int | float, float]:
    """Percentiles (0 <= q <= 100) of ``values`` keyed by q as given: ``percentiles(lat)[99]`` is p99."""
    _check(values, "percentiles")
    for q in qs:
        if not 0 <= q <= 100:
            raise ValueError(f"percentiles must be within [0, 100], got {q}")
    return {q: quantile(values, q / 100) for q in qs}


def modified_z_scores(values: Sequence[float]) -> tuple[float, ...]:
    """Iglewicz & Hoaglin's M_i = 0.6745 (x_i - median) / MAD; with MAD 0: +/-inf off the median, else 0."""
    _check(values, "modified z-scores")
    centre = median(values)
    mad = median([abs(v - centre) for v in values])
    if mad == 0:
        return tuple(0.0 if v == centre else math.copysign(math.inf, v - centre) for v in values)
    return tuple(MODIFIED_Z_FACTOR * (v - centre) / mad for v in values)


def outliers(values: Sequence[float], threshold: float = OUTLIER_THRESHOLD) -> tuple[int, ...]:
    """Indices of the values whose modified z-score exceeds ``threshold`` in absolute value."""
    _check(values, "outliers")
    if not threshold > 0:
        raise ValueError(f"threshold must be positive, got {threshold}")
    return tuple(i for i, score in enumerate(modified_z_scores(values)) if abs(score) > threshold)


# --- intervals -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A confidence interval and the confidence it reaches (not a nominal one)."""

    low: float
    """Lower end, in the unit of the values."""
    high: float
    """Upper end, in the unit of the values."""
    level: float
    """Coverage probability this interval reaches, e.g. 0.9375 for [min, max] of 5 values."""


def format_level(level: float) -> str:
    """A confidence level as every report, chart and verdict prints it: whole percent, rounded down so it never
    claims more than it has (``format_level(0.9375)`` is '93%', ``format_level(0.75)`` is '75%')."""
    return f"{math.floor(level * 100 + 1e-9)}%"


def _check_level(level: float) -> None:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be within (0, 1), got {level}")


@lru_cache(maxsize=4096)
def order_statistic_level(n: int, k: int) -> Fraction:
    """Exact coverage of [x_(k), x_(n+1-k)] for the median of n continuous values: 1 - 2 P(Binomial(n, 1/2) < k)."""
    if n < 1 or not 1 <= k <= (n + 1) // 2:
        raise ValueError(f"need n >= 1 and 1 <= k <= (n + 1) // 2, got n={n}, k={k}")
    return 1 - Fraction(2 * sum(math.comb(n, i) for i in range(k)), 2**n)


@lru_cache(maxsize=4096)
def median_rank(n: int, level: float = 0.95) -> tuple[int, Fraction]:
    """The largest k (1-based) whose interval [x_(k), x_(n+1-k)] reaches ``level``, and its exact level.

    When even [min, max] falls short (n <= 5 at 95%), k is 1 and the level is what [min, max] reaches.
    """
    _check_level(level)
    if n < 1:
        raise ValueError(f"need at least 1 value, got {n}")
    k, reached = 1, order_statistic_level(n, 1)
    while k + 1 <= (n + 1) // 2:
        wider = order_statistic_level(n, k + 1)
        if wider < level:
            break
        k, reached = k + 1, wider
    return k, reached


def median_interval(values: Sequence[float], level: float = 0.95) -> Interval:
    """Distribution-free interval for the median (Conover 1999, sec. 3.2), with the level it actually reaches.

    >>> median_interval([3.0, 1.0, 2.0])
    Interval(low=1.0, high=3.0, level=0.75)
    """
    _check(values, "median interval")
    ordered = sorted(values)
    k, reached = median_rank(len(ordered), level)
    return Interval(float(ordered[k - 1]), float(ordered[len(ordered) - k]), float(reached))


def speedup_interval(ratios: Sequence[float], level: float = 0.95) -> Interval:
    """Interval for the median per-round speedup, from per-round paired ratios (see ``paired_ratios``)."""
    _check(ratios, "speedup interval")
    return median_interval(ratios, level)


def relative_halfwidth(interval: Interval, centre: float) -> float:
    """The larger distance from ``centre`` to an end of ``interval``, relative to ``centre`` (0.02 is +/-2%)."""
    if not centre > 0:
        raise ValueError(f"centre must be positive, got {centre}")
    return max(interval.high - centre, centre - interval.low) / centre


# --- adaptive repeats ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StopRule:
    """When adaptive repeats stop: every series' interval within ``precision``, or a count or time limit.

    rule = StopRule(precision=0.02, min_rounds=5, max_rounds=30, budget_s=20.0)
    reason = rule.check([speedups_gather, speedups_threads], rounds=6, elapsed_s=4.1)   # None: go on
    """

    precision: float
    """Largest relative half-width of the interval (see ``relative_halfwidth``) that counts as precise enough."""
    min_rounds: int = 5
    """Rounds always run, whatever the interval or the time spent."""
    max_rounds: int = 30
    """Rounds never exceeded."""
    budget_s: float = 60.0
    """Time after which no round starts, in seconds; a round that would end beyond it is not started either."""
    level: float = 0.95
    """Confidence the interval must reach before its precision counts."""

    def __post_init__(self) -> None:
        if not self.precision > 0:
            raise ValueError(f"precision must be positive, got {self.precision}")
        if not 1 <= self.min_rounds <= self.max_rounds:
            raise ValueError(f"need 1 <= min_rounds <= max_rounds, got {self.min_rounds} and {self.max_rounds}")
        if not self.budget_s > 0:
            raise ValueError(f"budget_s must be positive, got {self.budget_s}")
        _check_level(self.level)

    def precise(self, values: Sequence[float]) -> bool:
        """Whether the median interval of ``values`` reaches the level and lies within the precision."""
        if not values or any(not v > 0 for v in values):
            return False
        interval = median_interval(values, self.level)
        return interval.level >= self.level and relative_halfwidth(interval, median(values)) <= self.precision

    def check(self, series: Sequence[Sequence[float]], rounds: int, elapsed_s: float) -> str | None:
        """Why to stop after ``rounds`` rounds taking ``elapsed_s`` seconds, or None to run another round.

        ``series``: one sequence per figure that must be precise (each strategy's per-round speedups, or walls).
        Precision is judged first, then the round limit, then the budget; nothing stops before ``min_rounds``.
        """
        if not series:
            raise ValueError("a stop rule needs at least one series of values")
        if rounds < self.min_rounds:
            return None
        if all(self.precise(values) for values in series):
            return f"precision {self.precision * 100:g}% reached"
        if rounds >= self.max_rounds:
            return "max rounds"
        if elapsed_s * (rounds + 1) / rounds > self.budget_s:  # one more round of average length would overrun
            return "time budget"
        return None


def should_stop(
    series: Sequence[Sequence[float]],
    rounds: int,
    elapsed_s: float,
    *,
    precision: float,
    min_rounds: int = 5,
    max_rounds: int = 30,
    budget_s: float = 60.0,
    level: float = 0.95,
) -> str | None:
    """``StopRule(...).check(series, rounds, elapsed_s)``: the stop reason ('precision 2% reached', 'max rounds',
    'time budget') or None."""
    rule = StopRule(precision, min_rounds, max_rounds, budget_s, level)
    return rule.check(series, rounds, elapsed_s)


# --- two independent samples ---------------------------------------------------------------------------------

EXACT_PAIRS = 2500
"""Up to this many pairs (n * m) the Mann-Whitney null distribution is counted exactly; beyond, its normal
approximation with continuity correction gives k and the level."""


def mann_whitney_counts(n: int, m: int) -> tuple[int, ...]:
    """How many of the C(n+m, n) orderings give U = 0, 1, ..., n*m (the Gaussian binomial coefficient's terms).

    >>> mann_whitney_counts(2, 2)
    (1, 1, 2, 1, 1)
    """
    if n < 1 or m < 1:
        raise ValueError(f"need two non-empty samples, got sizes {n} and {m}")
    top = n * m
    counts = [1] + [0] * top  # prod_{i=1..n} (1 - q^(m+i)) / (1 - q^i), as a power series cut at q^top
    for i in range(1, n + 1):
        step = m + i
        if step <= top:
            counts = counts[:step] + [a - b for a, b in zip(counts[step:], counts[: top + 1 - step], strict=True)]
        for residue in range(i):  # dividing by (1 - q^i): running sums along each residue class mod i
            counts[residue::i] = itertools.accumulate(counts[residue::i])
    return tuple(counts)


@lru_cache(maxsize=256)
def shift_rank(n: int, m: int, level: float = 0.95) -> tuple[int, float]:
    """For ``location_ratio``: the largest k >= 1 with 1 - 2 P(U < k) >= level, and that level (exact up to
    EXACT_PAIRS pairs)."""
    pairs = n * m
    if pairs <= EXACT_PAIRS:
        counts = mann_whitney_counts(n, m)
        total = math.comb(n + m, n)
        k, below = 1, counts[0]
        reached = 1 - Fraction(2 * below, total)
        while k + 1 <= (pairs + 1) // 2:
            wider = 1 - Fraction(2 * (below + counts[k]), total)
            if wider < level:
                break
            below += counts[k]
            k, reached = k + 1, wider
        return k, float(reached)
    sd = math.sqrt(pairs * (n + m + 1) / 12)
    z = statistics.NormalDist().inv_cdf((1 + level) / 2)
    k = max(1, math.floor(pairs / 2 - z * sd + 0.5))  # P(U <= k - 1) ~ Phi((k - 1 + 0.5 - nm/2) / sd)
    return k, 1 - 2 * statistics.NormalDist().cdf((k - 0.5 - pairs / 2) / sd)


@dataclass(frozen=True)
class RatioEstimate:
    """How many times larger one sample's location is than another's, with an interval (see ``location_ratio``)."""

    ratio: float
    """exp of the Hodges-Lehmann shift between the log values: 1.1 means the first sample is 10% larger."""
    interval: Interval
    """Interval of that ratio, from the Mann-Whitney inversion, with the level it reaches."""


def location_ratio(values: Sequence[float], reference: Sequence[float], level: float = 0.95) -> RatioEstimate:
    """Ratio of ``values``' location to ``reference``'s: Hodges-Lehmann on logs, Mann-Whitney inversion interval.

    >>> location_ratio([2.0, 2.2, 1.8], [1.0, 1.1, 0.9]).interval.level    # 1 - 2/20 with 3 and 3 values
    0.9
    """
    _check(values, "location ratio")
    _check(reference, "location ratio")
    _check_level(level)
    if any(not v > 0 for v in (*values, *reference)):
        raise ValueError("a location ratio needs positive values")
    import numpy as np

    differences = np.sort(np.subtract.outer(np.log(values), np.log(reference)).ravel())
    k, reached = shift_rank(len(values), len(reference), level)
    low, high = float(np.exp(differences[k - 1])), float(np.exp(differences[differences.size - k]))
    shift = float(np.median(differences))
    return RatioEstimate(float(np.exp(shift)), Interval(low, high, reached))


# --- noise warnings ------------------------------------------------------------------------------------------

OUTLIER_COVERAGE = 0.99
"""Share of sets of n normal values whose largest |M_i| stays within ``outlier_cutoff(n)``."""
OUTLIER_MIN_RATIO = 1.1
"""An outlier must also lie at least this factor from the median: a 3% blip on a very quiet machine is no problem."""
SLOW_FIRST_RATIO = 1.3
"""A first run counts as slow when it is the slowest and at least this many times the median of the others."""
WIDE_RATIO = 1.6
"""An interval whose high end exceeds its low end by this factor is too wide to tell strategies apart."""


@lru_cache(maxsize=256)
def outlier_cutoff(n: int) -> float:
    """The 99th percentile of max |M_i| over sets of n standard normal values (seeded simulation, 10,000 sets).

    With n = 5 it is about 17, with n = 30 about 4.7: Iglewicz and Hoaglin's 3.5 suits only large n.
    """
    if n < 3:
        raise ValueError(f"an outlier cut-off needs at least 3 values, got {n}")
    import numpy as np

    sets = max(2000, min(10_000, 2_000_000 // n))
    draws = np.random.default_rng(20_240_601).standard_normal((sets, n))
    centre = np.median(draws, axis=1, keepdims=True)
    mad = np.median(np.abs(draws - centre), axis=1, keepdims=True)
    largest = np.max(np.abs(draws - centre), axis=1, keepdims=True) * MODIFIED_Z_FACTOR / mad
    return float(np.quantile(largest, OUTLIER_COVERAGE))


def _more_rounds(n: int) -> str:
    return f"run more rounds (repeats: {max(10, 2 * n)})"


def noise_warnings(values: Sequence[float], *, level: float = 0.95) -> tuple[str, ...]:
    """Sentences on what looks wrong with timings ``values`` (in run order), each saying what to do; empty if fine.

    Judged on positive timings only: a slow first run (n >= 3), outliers by the modified z-score of the log
    timings with the cut-off ``outlier_cutoff(n)`` (n >= 5), and a median interval too wide to be useful (judged
    without the runs already flagged, when at least two remain). On lognormal noise of up to 10% per run, a row
    gets a warning at most 1 time in 20 (tests/test_stats.py); a handful of rounds is no warning by itself, since
    the interval's stated level already says how little they tell.

        >>> noise_warnings([2.0, 1.0, 1.02, 0.98, 1.01])[0]
        'the first run took 2.0x the median of the others; the warm-up was too short: raise warmup in the scenario'
    """
    _check(values, "noise warnings")
    _check_level(level)
    n = len(values)
    if n < 2 or any(not 0 < v < math.inf for v in values):
        return ()
    warnings: list[str] = []
    first_slow = n >= 3 and values[0] == max(values) and values[0] >= SLOW_FIRST_RATIO * median(values[1:])
    if first_slow:
        warnings.append(
            f"the first run took {values[0] / median(values[1:]):.1f}x the median of the others; "
            "the warm-up was too short: raise warmup in the scenario"
        )
    flagged: list[int] = [0] if first_slow else []
    if n >= 5:
        logs = [math.log(v) for v in values]
        centre = median(logs)
        cutoff, floor = outlier_cutoff(n), math.log(OUTLIER_MIN_RATIO)
        flagged += [
            i
            for i, score in enumerate(modified_z_scores(logs))
            if abs(score) > cutoff and abs(logs[i] - centre) >= floor and not (i == 0 and first_slow)
        ]
        outlying = flagged[1:] if first_slow else flagged
        if outlying:
            runs = ", ".join(f"run {i + 1} took {math.exp(logs[i] - centre):.1f}x" for i in outlying)
            warnings.append(
                f"{runs} the median; something else may have used the machine: rerun on a quiet machine "
                f"or {_more_rounds(n)}"
            )
    rest = [v for i, v in enumerate(values) if i not in flagged]  # a wide interval those runs explain is no news
    interval = median_interval(rest if len(rest) >= 2 else values, level)
    if interval.high > WIDE_RATIO * interval.low:
        warnings.append(
            f"the {format_level(interval.level)} interval spans a factor {interval.high / interval.low:.1f} "
            f"({interval.low:.3g} to {interval.high:.3g}), too wide to tell strategies apart; "
            f"{_more_rounds(n)} on a quieter machine"
        )
    return tuple(warnings)
