"""Pure statistics over sequences of numbers. No state, no I/O; exact unit tests in tests/test_stats.py.

    >>> median([3, 1, 2])
    2.0
    >>> bootstrap_ci([1.0, 2.0, 3.0, 4.0, 5.0], seed=1)      # percentile bootstrap of the median
    (1.0, 5.0)
    >>> outliers([10.0, 10.2, 9.9, 10.1, 30.0])               # indices, by the modified z-score
    (4,)

Every function raises ValueError on no values or on a NaN among them (except ``paired_ratios``, where no pairs
give no ratios).

Bootstrap: the percentile interval of B. Efron and R. Tibshirani, "An Introduction to the Bootstrap"
(Chapman & Hall, 1993), ch. 13: resample with replacement, take the statistic of each resample, report the
(1-c)/2 and (1+c)/2 quantiles of those statistics. Seeded, so the same inputs always give the same interval.

Outliers: the modified z-score of B. Iglewicz and D. C. Hoaglin, "How to Detect and Handle Outliers"
(ASQC Quality Press, 1993), ch. 3: M_i = 0.6745 (x_i - median) / MAD, where MAD is the median of the absolute
deviations from the median; x_i is an outlier when |M_i| > 3.5. Medians, not means, so one wild run cannot
mask itself. Noise warnings follow pyperf (``pyperf check``) and hyperfine (outlier warnings) in spirit.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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


def bootstrap_ci(
    values: Sequence[float],
    statistic: Callable[[Sequence[float]], float] = median,
    *,
    confidence: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``statistic`` over ``values`` (Efron & Tibshirani 1993, ch. 13)."""
    _check(values, "bootstrap")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be within (0, 1), got {confidence}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    point = float(statistic(values))
    if len(values) == 1:
        return point, point
    rng = random.Random(seed)
    n = len(values)
    data = list(values)
    estimates = [statistic([data[rng.randrange(n)] for _ in range(n)]) for _ in range(resamples)]
    alpha = (1.0 - confidence) / 2.0
    low, high = quantile(estimates, alpha), quantile(estimates, 1.0 - alpha)
    return min(low, point), max(high, point)


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


SLOW_FIRST_RATIO = 1.2
"""A first run counts as slow when it is an outlier and at least this many times the median."""


def noise_warnings(values: Sequence[float], *, min_repeats: int = 3, max_spread: float = 0.10) -> tuple[str, ...]:
    """Sentences on why timings ``values`` (in run order) may be too noisy to trust; empty if they look fine.

    Spread is IQR / median; it and the first-run ratio are judged only when the median is positive.

        >>> noise_warnings([2.0, 1.0, 1.0, 1.0, 1.0])
        ('the first run was 2.0x the median; consider more warm-up', '1 outlier by the modified z-score')
    """
    _check(values, "noise warnings")
    if min_repeats < 1:
        raise ValueError(f"min_repeats must be at least 1, got {min_repeats}")
    if not max_spread >= 0:
        raise ValueError(f"max_spread must be non-negative, got {max_spread}")
    warnings: list[str] = []
    n = len(values)
    if n < min_repeats:
        warnings.append(f"only {n} repeat{'' if n == 1 else 's'}; use at least {min_repeats} for an interval")
    centre = median(values)
    if centre > 0:
        spread = (quantile(values, 0.75) - quantile(values, 0.25)) / centre
        if spread > max_spread:
            warnings.append(f"spread (IQR) is {spread:.0%} of the median; the machine may be busy")
    flagged = outliers(values)
    if centre > 0 and 0 in flagged and values[0] >= SLOW_FIRST_RATIO * centre:
        warnings.append(f"the first run was {values[0] / centre:.1f}x the median; consider more warm-up")
    if flagged:
        count = len(flagged)
        warnings.append(f"{count} outlier{'' if count == 1 else 's'} by the modified z-score")
    return tuple(warnings)
