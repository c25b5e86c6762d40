"""The intervals of bench.results.stats cover the true value as often as the level they state, shown by simulation.

For each number of rounds (3, 5, 10, 30) and each noise model, 20,000 data sets are drawn (seeded), the interval
of every set is formed from the ranks ``bench.results.stats`` chooses, and the share of sets whose interval contains the
true value must lie within 2 percentage points of the stated level (the standard error is at most 0.35 points).
A sample of the sets is checked against ``median_interval`` itself, so the vectorised form is the function's.

Noise models (per run): lognormal noise exp(sigma Z), sigma = 5%; and the same with 10% of runs 1.5x slower.
Speedups pair the sequential run and the strategy's run of the same round; a drift shared by the round cancels
in the ratio. Under both models log(sequential / strategy) is symmetric about log(s / g), so the true median
speedup is exactly s / g.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.results.stats import location_ratio, median_interval, median_rank, shift_rank, speedup_interval

SETS = 20_000
SIGMA = 0.05
SLOW_SHARE, SLOW_FACTOR = 0.10, 1.5
ROUNDS = (3, 5, 10, 30)
NOISES = ("lognormal", "slow rounds")


def _runs(rng: np.random.Generator, noise: str, shape: tuple[int, int]) -> np.ndarray:
    """Multiplicative noise of one run each: lognormal, and with ``noise == 'slow rounds'`` some runs 1.5x slower."""
    factor = np.exp(SIGMA * rng.standard_normal(shape))
    if noise == "slow rounds":
        factor *= np.where(rng.random(shape) < SLOW_SHARE, SLOW_FACTOR, 1.0)
    return factor


def _mixture_median() -> float:
    """The median of the 'slow rounds' run factor: solves 0.9 Phi(ln x / s) + 0.1 Phi(ln(x / 1.5) / s) = 1/2."""

    def cdf(x: float) -> float:
        phi = lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2)))  # noqa: E731
        return (1 - SLOW_SHARE) * phi(math.log(x) / SIGMA) + SLOW_SHARE * phi(math.log(x / SLOW_FACTOR) / SIGMA)

    low, high = 0.5, 2.0
    for _ in range(100):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) < 0.5 else (low, mid)
    return (low + high) / 2


def _coverage(data: np.ndarray, truth: float) -> tuple[float, float]:
    """Empirical coverage of the order-statistic interval over the rows of ``data``, and the level it states."""
    n = data.shape[1]
    k, level = median_rank(n, 0.95)
    ordered = np.sort(data, axis=1)
    low, high = ordered[:, k - 1], ordered[:, n - k]
    for row in data[:50]:  # the vectorised interval is the function's interval
        assert median_interval(row.tolist()) == median_interval(sorted(row.tolist()))
        interval = median_interval(row.tolist())
        assert (interval.low, interval.high) == (float(np.sort(row)[k - 1]), float(np.sort(row)[n - k]))
        assert interval.level == float(level)
    return float(np.mean((low <= truth) & (truth <= high))), float(level)


@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("n", ROUNDS)
def test_median_interval_covers_as_stated(n: int, noise: str) -> None:
    rng = np.random.default_rng(1000 + n + 7 * NOISES.index(noise))
    wall_s = 0.25
    data = wall_s * _runs(rng, noise, (SETS, n))
    truth = wall_s * (_mixture_median() if noise == "slow rounds" else 1.0)
    coverage, level = _coverage(data, truth)
    assert abs(coverage - level) <= 0.02, f"n={n}, {noise}: coverage {coverage:.4f}, stated {level:.4f}"


@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("n", ROUNDS)
def test_speedup_interval_covers_as_stated(n: int, noise: str) -> None:
    rng = np.random.default_rng(2000 + n + 7 * NOISES.index(noise))
    sequential_s, strategy_s = 1.0, 0.125
    drift = np.exp(0.2 * rng.standard_normal((SETS, n)))  # shared by both runs of a round: pairing removes it
    ratios = (sequential_s * drift * _runs(rng, noise, (SETS, n))) / (strategy_s * drift * _runs(rng, noise, (SETS, n)))
    coverage, level = _coverage(ratios, sequential_s / strategy_s)
    assert speedup_interval(ratios[0].tolist()).level == level
    assert abs(coverage - level) <= 0.02, f"n={n}, {noise}: coverage {coverage:.4f}, stated {level:.4f}"


def test_stated_levels_are_the_exact_binomial_levels() -> None:
    levels = {n: float(median_rank(n, 0.95)[1]) for n in ROUNDS}
    assert levels[3] == 0.75 and levels[5] == 0.9375 and levels[10] == 1 - 22 / 1024
    assert 0.95 <= levels[30] < 0.96


@pytest.mark.parametrize("noise", NOISES)
@pytest.mark.parametrize("n", ROUNDS)
def test_location_ratio_covers_as_stated(n: int, noise: str) -> None:
    """Baseline against new run: two independent samples of the same noise, locations 8 and 7.2 (a 10% drop)."""
    rng = np.random.default_rng(3000 + n + 7 * NOISES.index(noise))
    sets = 5000  # 5,000 x n^2 pairwise differences: enough, and quick
    new = 7.2 * _runs(rng, noise, (sets, n))
    baseline = 8.0 * _runs(rng, noise, (sets, n))
    k, level = shift_rank(n, n)
    differences = np.sort((np.log(new)[:, :, None] - np.log(baseline)[:, None, :]).reshape(sets, n * n), axis=1)
    low, high = np.exp(differences[:, k - 1]), np.exp(differences[:, n * n - k])
    for a, b, lo, hi in list(zip(new, baseline, low, high, strict=True))[:50]:  # the vectorised form is the function's
        interval = location_ratio(a.tolist(), b.tolist()).interval
        assert (interval.low, interval.high, interval.level) == pytest.approx((lo, hi, level), rel=1e-12)
    coverage = float(np.mean((low <= 0.9) & (high >= 0.9)))
    assert abs(coverage - level) <= 0.02, f"n={n}, {noise}: coverage {coverage:.4f}, stated {level:.4f}"
