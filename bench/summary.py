"""Results -> Summary rows: one per (scenario, task count, strategy), from the stats and the ideal model.

    rows = summarise(results.scenarios[0])
    rows[0].speedup        # median sequential wall time / median wall time of this strategy
"""

from __future__ import annotations

from dataclasses import dataclass

from bench.model import LIMITED, ideal_ms
from bench.results import PointResult, ScenarioResult
from bench.stats import median
from bench.strategies import StrategySpec


@dataclass(frozen=True)
class Summary:
    """What the table shows for one strategy at one task count."""

    scenario: str
    tasks: int
    strategy: str
    """Strategy label, e.g. 'bounded(limit=10)'."""
    name: str
    """Strategy name, e.g. 'bounded'."""
    runs: int
    """Recorded runs (warm-up excluded)."""
    wall_median_s: float
    wall_min_s: float
    wall_max_s: float
    speedup: float | None
    """Median sequential time / median time of this strategy; None without a sequential run."""
    ideal_s: float
    """Ideal wall time from the exact delays (see bench.model)."""
    efficiency: float
    """ideal_s / wall_median_s."""
    failed_tasks: int
    """Tasks that ended with an error, over all runs."""
    cancelled_tasks: int
    """Tasks cancelled or never started, over all runs."""
    peak_inflight: int
    """Largest in-flight count seen in any run."""
    limits: dict[str, int | None]
    """Effective limits of the first run."""


def _limit(spec: StrategySpec) -> int | None:
    key = LIMITED.get(spec.name)
    value = spec.params.get(key) if key else None
    return int(value) if value is not None else None


def summarise_point(scenario: str, specs: tuple[StrategySpec, ...], point: PointResult) -> list[Summary]:
    """Summaries of every strategy at one task count, in the scenario's order."""
    walls: dict[str, list[float]] = {}
    for run in point.runs:
        walls.setdefault(run.strategy, []).append(run.wall_ns / 1e9)
    sequential = median(walls["sequential"]) if walls.get("sequential") else None
    rows = []
    for spec in specs:
        runs = [r for r in point.runs if r.strategy == spec.label]
        if not runs:
            continue
        wall = median(walls[spec.label])
        ideal = ideal_ms(spec.name, _limit(spec), point.delays_ms) / 1000
        rows.append(
            Summary(
                scenario=scenario,
                tasks=point.tasks,
                strategy=spec.label,
                name=spec.name,
                runs=len(runs),
                wall_median_s=wall,
                wall_min_s=min(walls[spec.label]),
                wall_max_s=max(walls[spec.label]),
                speedup=sequential / wall if sequential is not None else None,
                ideal_s=ideal,
                efficiency=ideal / wall,
                failed_tasks=sum(r.failed for r in runs),
                cancelled_tasks=sum(r.cancelled for r in runs),
                peak_inflight=max(r.peak_inflight for r in runs),
                limits=dict(runs[0].limits),
            )
        )
    return rows


def summarise(result: ScenarioResult) -> list[Summary]:
    """Summaries of every task count and strategy of one scenario."""
    specs = result.scenario.strategies
    return [row for point in result.points for row in summarise_point(result.scenario.name, specs, point)]
