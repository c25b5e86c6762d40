"""Scenario -> Plan: the exact per-task delays and the seeded order of strategies in every round. Pure.

    >>> plan = make_plan(scenario)
    >>> plan.points[0].delays_ms[:3]        # the same for every strategy and every repeat
    (181.204, 97.55, 263.018)

Delays are drawn once per scenario from ``random.Random(seed)``, one value per task index, rounded to the
microsecond (the precision sent to the server), clipped to [0, 60 000] ms. A sweep uses prefixes of the same
draw, so task ``i`` has the same delay at every task count.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bench.scenario import (
    MAX_DELAY_MS,
    Exponential,
    Fixed,
    Latency,
    LocalTarget,
    LogNormal,
    Normal,
    Scenario,
    Uniform,
)


@dataclass(frozen=True)
class Round:
    """One pass over every strategy, in a seeded shuffled order."""

    repeat: int
    """Repeat index; warm-up rounds are negative (-warmup .. -1) and are not recorded."""
    order: tuple[str, ...]
    """Strategy labels in the order they run in this round."""

    @property
    def warmup(self) -> bool:
        """True for a warm-up round."""
        return self.repeat < 0


@dataclass(frozen=True)
class Point:
    """One task count of a scenario, with its delays and rounds."""

    tasks: int
    delays_ms: tuple[float, ...]
    """Delay of task i in milliseconds, exactly as sent to the server (empty for a callable target)."""
    error_tasks: tuple[int, ...]
    """Indices of the tasks the server is told to fail (target.error_rate)."""
    rounds: tuple[Round, ...]


@dataclass(frozen=True)
class Plan:
    """Everything a scenario will run, decided before the first request."""

    scenario: Scenario
    points: tuple[Point, ...]

    @property
    def total_runs(self) -> int:
        """Number of runs including warm-up, for progress bars."""
        return sum(len(r.order) for p in self.points for r in p.rounds)


def draw_one(latency: Latency, rng: random.Random) -> float:
    """One delay in ms from the distribution, clipped to [0, MAX_DELAY_MS] and rounded to 1 us."""
    match latency:
        case Fixed(ms=ms):
            value = ms
        case Uniform(low_ms=low, high_ms=high):
            value = rng.uniform(low, high)
        case Normal(mean_ms=mean, sd_ms=sd):
            value = rng.gauss(mean, sd)
        case LogNormal(median_ms=median, sigma=sigma):
            value = median * rng.lognormvariate(0.0, sigma)
        case Exponential(mean_ms=mean):
            value = rng.expovariate(1.0 / mean)
    return round(min(max(value, 0.0), MAX_DELAY_MS), 3)


def draw_delays(latency: Latency, n: int, seed: int) -> tuple[float, ...]:
    """The delays of tasks 0..n-1 for this seed: a pure function of its arguments."""
    rng = random.Random(seed)
    return tuple(draw_one(latency, rng) for _ in range(n))


def draw_errors(rate: float, n: int, seed: int) -> tuple[int, ...]:
    """Indices among 0..n-1 chosen to fail, each with probability ``rate``, from a stream of its own."""
    if rate <= 0:
        return ()
    rng = random.Random(f"{seed}:errors")
    return tuple(i for i in range(n) if rng.random() < rate)


def make_plan(scenario: Scenario) -> Plan:
    """Draw the delays and failing tasks, and shuffle the strategy order of every round."""
    most = max(scenario.tasks)
    latency = scenario.latency
    all_delays = draw_delays(latency, most, scenario.seed) if latency is not None else ()
    rate = scenario.target.error_rate if isinstance(scenario.target, LocalTarget) else 0.0
    all_errors = draw_errors(rate, most, scenario.seed)
    labels = [s.label for s in scenario.strategies]
    points = []
    for n in scenario.tasks:
        order_rng = random.Random(f"{scenario.seed}:{n}")
        rounds = []
        for repeat in range(-scenario.warmup, scenario.repeats):
            order = labels[:]
            order_rng.shuffle(order)
            rounds.append(Round(repeat=repeat, order=tuple(order)))
        errors = tuple(i for i in all_errors if i < n)
        points.append(Point(tasks=n, delays_ms=all_delays[:n], error_tasks=errors, rounds=tuple(rounds)))
    return Plan(scenario=scenario, points=tuple(points))
