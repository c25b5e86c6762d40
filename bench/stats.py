"""Pure statistics over sequences of numbers. No state, no I/O; exact unit tests in tests/test_stats.py.

    >>> median([3, 1, 2])
    2.0
    >>> bootstrap_ci([1.0, 2.0, 3.0, 4.0, 5.0], seed=1)      # percentile bootstrap of the median
    (2.0, 4.0)

Bootstrap: the percentile interval of B. Efron and R. Tibshirani, "An Introduction to the Bootstrap"
(Chapman & Hall, 1993), ch. 13: resample with replacement, take the statistic of each resample, report the
(1-c)/2 and (1+c)/2 quantiles of those statistics. Seeded, so the same inputs always give the same interval.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence


def median(values: Sequence[float]) -> float:
    """The middle value (mean of the two middle values for an even count)."""
    if not values:
        raise ValueError("median of no values")
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def quantile(values: Sequence[float], q: float) -> float:
    """The q-quantile (0 <= q <= 1) by linear interpolation between order statistics (numpy's default)."""
    if not values:
        raise ValueError("quantile of no values")
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be within [0, 1], got {q}")
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return float(ordered[low] + (ordered[high] - ordered[low]) * fraction)


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> tuple[float, ...]:
    """Element-wise ``numerators[i] / denominators[i]``: the speedup of each round from runs of that round."""
    if len(numerators) != len(denominators):
        raise ValueError(f"paired ratios need equal lengths, got {len(numerators)} and {len(denominators)}")
    if any(d <= 0 for d in denominators):
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
    if not values:
        raise ValueError("bootstrap of no values")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be within (0, 1), got {confidence}")
    if len(values) == 1:
        point = float(statistic(values))
        return point, point
    rng = random.Random(seed)
    n = len(values)
    data = list(values)
    estimates = [statistic([data[rng.randrange(n)] for _ in range(n)]) for _ in range(resamples)]
    alpha = (1.0 - confidence) / 2.0
    low, high = quantile(estimates, alpha), quantile(estimates, 1.0 - alpha)
    point = float(statistic(values))
    return min(low, point), max(high, point)
