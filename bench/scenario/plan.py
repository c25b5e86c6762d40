"""Scenario -> Plan: the exact per-task delays, the failing tasks and the balanced order of strategies. Pure.

>>> from pathlib import Path
>>> from bench.scenario import load_file
>>> plan = make_plan(load_file(Path("scenarios/seed.yaml")))
>>> plan.points[0].delays_ms[:3]        # the same for every strategy and every repeat
(184.262, 214.968, 102.908)
>>> plan.points[0].round(7).order       # any round, for adaptive repeats that ask one at a time
('sequential', 'gather')

Delays are drawn once per scenario from ``random.Random(seed)``, one value per task index, rounded to the
microsecond (the precision sent to the server), clipped to [0, MAX_DELAY_MS]. A sweep uses prefixes of the same
draw, so task ``i`` has the same delay at every task count.

Orders follow a Williams design (E. J. Williams, "Experimental designs balanced for the estimation of residual
effects of treatments", Australian Journal of Scientific Research A 2 (1949) 149-168), relabelled and row-shuffled
from the seed: see ``round_order``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bench.limits import MAX_DELAY_MS
from bench.scenario.latency import Latency
from bench.scenario.model import Scenario


@dataclass(frozen=True)
class Round:
    """One pass over every strategy, in a balanced seeded order."""

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
    """Indices of the tasks the server is told to fail (target.error_rate): exactly round(rate x tasks)."""
    rounds: tuple[Round, ...]
    """The warm-up rounds, then the rounds certain to run (``repeats``, or ``min_repeats`` under ``auto``)."""
    labels: tuple[str, ...] = ()
    """The scenario's strategy labels, as listed."""
    seed: int = 0
    """The scenario's seed."""

    def round(self, repeat: int) -> Round:
        """Round ``repeat`` (0, 1, 2, ... measured; -warmup .. -1 warm-up), however far adaptive repeats go."""
        return plan_round(self.labels, self.seed, self.tasks, repeat)


@dataclass(frozen=True)
class Plan:
    """Everything a scenario will run, decided before the first request."""

    scenario: Scenario
    points: tuple[Point, ...]

    @property
    def total_runs(self) -> int:
        """Number of runs including warm-up, for progress bars (under ``repeats: auto``, the fewest it can be)."""
        return sum(len(r.order) for p in self.points for r in p.rounds)


def draw_one(latency: Latency, rng: random.Random) -> float:
    """One delay in ms from the distribution (its own ``draw``), clipped to [0, MAX_DELAY_MS] and rounded to 1 us."""
    return round(min(max(latency.draw(rng), 0.0), MAX_DELAY_MS), 3)


def draw_delays(latency: Latency, n: int, seed: int) -> tuple[float, ...]:
    """The delays of tasks 0..n-1 for this seed: a pure function of its arguments."""
    rng = random.Random(seed)
    return tuple(draw_one(latency, rng) for _ in range(n))


def failing_count(rate: float, n: int) -> int:
    """round(rate x n), halves rounded up, computed on the rate as written (0.35 x 10 is 4, not 3)."""
    return int((Decimal(repr(rate)) * n).to_integral_value(rounding=ROUND_HALF_UP))


def draw_errors(rate: float, n: int, seed: int) -> tuple[int, ...]:
    """Exactly ``failing_count(rate, n)`` distinct indices among 0..n-1, sorted, chosen from the seed alone.

    Each index gets a seeded random key from a stream of its own (key i does not depend on n); the tasks with the
    smallest keys fail. So every task count of a sweep fails exactly its share, from the same keys.
    """
    count = failing_count(rate, n)
    if count <= 0:
        return ()
    rng = random.Random(f"{seed}:errors")
    keys = [rng.random() for _ in range(n)]
    return tuple(sorted(sorted(range(n), key=keys.__getitem__)[:count]))


def williams_rows(n: int) -> tuple[tuple[int, ...], ...]:
    """The rows of a Williams design for n treatments (0..n-1): n rows for even n, 2n for odd n.

    The first n rows form a Latin square in which every treatment follows every other exactly once; for odd n that
    needs the n mirrored rows as well, which form a Latin square of their own.
    """
    first = [0]
    low, high = 1, n - 1
    while len(first) < n:
        first.append(low if len(first) % 2 else high)
        low, high = (low + 1, high) if len(first) % 2 == 0 else (low, high - 1)
    rows = [tuple((x + shift) % n for x in first) for shift in range(n)]
    if n % 2:
        rows += [row[::-1] for row in rows]
    return tuple(rows)


def round_order(labels: tuple[str, ...], stream: str, k: int) -> tuple[str, ...]:
    """The order of round ``k`` (k = 0, 1, 2, ...): balanced over the rounds, seeded by ``stream``. Pure.

    Rounds come in blocks of ``len(labels)``; each block is a Latin square of the Williams design (for an odd count
    blocks alternate between the square and its mirror), its rows shuffled and its labels relabelled per period
    (one period: the whole design) from ``stream``. So:

    - whenever the number of rounds is a multiple of the number of labels, every label has run in every position
      equally often; at any other number of rounds each label's count in each position is within one of every
      other's (a partial block holds each label at most once per position);
    - over each whole period every label directly follows every other label equally often (carry-over balance).
    """
    n = len(labels)
    if n == 0:
        return ()
    rows = williams_rows(n)
    period, j = divmod(k, len(rows))
    rng = random.Random(f"{stream}:{period}")
    relabel = list(labels)
    rng.shuffle(relabel)
    shuffles = [rng.sample(range(n), n) for _ in range(len(rows) // n)]
    half, index = divmod(j, n)
    row = rows[half * n + shuffles[half][index]]
    return tuple(relabel[x] for x in row)


def plan_round(labels: tuple[str, ...], seed: int, tasks: int, repeat: int) -> Round:
    """Round ``repeat`` at ``tasks`` tasks: measured rounds (repeat >= 0) and warm-ups (< 0) use streams of their own,
    so the warm-ups do not count towards the balance of the measured rounds. Pure."""
    if repeat < 0:
        return Round(repeat, round_order(labels, f"{seed}:{tasks}:warmup", -repeat - 1))
    return Round(repeat, round_order(labels, f"{seed}:{tasks}:rounds", repeat))


def make_plan(scenario: Scenario) -> Plan:
    """Draw the delays and failing tasks, and lay out the warm-up rounds and the rounds certain to run."""
    most = max(scenario.tasks)
    latency = scenario.latency
    all_delays = draw_delays(latency, most, scenario.seed) if latency is not None else ()
    rate = float(getattr(scenario.target, "error_rate", 0.0))
    labels = tuple(s.label for s in scenario.strategies)
    points = []
    for n in scenario.tasks:
        rounds = tuple(
            plan_round(labels, scenario.seed, n, k) for k in range(-scenario.warmup, scenario.planned_repeats)
        )
        points.append(
            Point(
                tasks=n,
                delays_ms=all_delays[:n],
                error_tasks=draw_errors(rate, n, scenario.seed),
                rounds=rounds,
                labels=labels,
                seed=scenario.seed,
            )
        )
    return Plan(scenario=scenario, points=tuple(points))
