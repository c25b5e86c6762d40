"""Results -> Summary rows: one per (scenario, task count, strategy), from the stats and the ideal model.

rows = summarise(results.scenarios[0])
rows[0].speedup        # median sequential wall time / median wall time of this strategy
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from bench.model import LIMITED, ideal_ms, overhead_ms
from bench.results import PointResult, ResultsFile, RunResult, ScenarioResult
from bench.stats import (
    Interval,
    describe,
    median,
    median_interval,
    noise_warnings,
    paired_ratios,
    percentiles,
    speedup_interval,
)
from bench.strategies import StrategySpec

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Summary:
    """What the table shows for one strategy at one task count."""

    scenario: str
    tasks: int
    strategy: str
    """Strategy label, e.g. 'bounded(limit=10)'."""
    name: str
    """Strategy name, e.g. 'bounded'."""
    params: dict[str, object]
    """Strategy parameters as the scenario gave them."""
    runs: int
    """Recorded runs (warm-up excluded)."""
    wall_median_s: float
    wall_ci_s: tuple[float, float]
    """Bootstrap 95% interval of the median wall time."""
    wall_min_s: float
    wall_max_s: float
    wall_mean_s: float
    wall_stdev_s: float
    """Sample standard deviation of the wall times (0 for one run)."""
    wall_q1_s: float
    wall_q3_s: float
    wall_iqr_s: float
    speedup: float | None
    """Median of the per-round speedups over sequential (paired by round); None without a sequential run."""
    speedup_ci: tuple[float, float] | None
    """Bootstrap 95% interval of that median."""
    ideal_s: float | None
    """Ideal wall time from the exact delays (see bench.model); None when the delays are unknown."""
    efficiency: float | None
    """ideal_s / wall_median_s; None when delays are unknown or a run stopped before running every task."""
    ideal_sequential_s: float | None
    """Sum of the delays: what a sequential run would ideally take (shown when none was measured)."""
    speedup_vs_ideal_sequential: float | None
    """ideal_sequential_s / wall_median_s."""
    failed_tasks: int
    """Tasks that ended with an error, over all runs."""
    cancelled_tasks: int
    """Tasks cancelled or never started, over all runs."""
    peak_inflight: int
    """Largest in-flight count seen in any run."""
    peak_queued: int
    """Most tasks waiting for a pooled connection at once, in any run."""
    bound_by: str | None
    """The concurrency limit that capped this strategy, e.g. 'connector limit 100', or None."""
    limits: dict[str, int | None]
    """Effective limits of the first run."""
    overhead_s: float | None
    """Zero-delay round trip x requests on the critical path (see bench.model); None without a calibration."""
    residual_s: float | None
    """Median wall time - ideal - overhead: queueing and contention."""
    latency_ms: dict[int, float]
    """Task latency percentiles (50, 90, 99) over all runs, in ms."""
    warnings: tuple[str, ...]
    """Noise warnings on the wall times (see bench.stats.noise_warnings)."""


def _ends(interval: Interval) -> tuple[float, float]:
    return interval.low, interval.high


def _limit(spec: StrategySpec) -> int | None:
    key = LIMITED.get(spec.name)
    value = spec.params.get(key) if key else None
    return int(value) if value is not None else None


def binding_limit(run: RunResult, tasks: int) -> str | None:
    """Which limit capped a run: tasks queued for a pooled connection, or a semaphore/pool full while work waited."""
    connector = run.limits.get("connector_limit")
    if connector and run.peak_queued > 0:
        return f"connector limit {connector}"
    for key, name in (("semaphore", "semaphore"), ("thread_workers", "thread pool")):
        limit = run.limits.get(key)
        if limit and limit < tasks and run.peak_inflight >= limit:
            return f"{name} {limit}"
    return None


def _paired_speedups(by_round: dict[tuple[str, int], float], label: str) -> tuple[float, ...]:
    """Sequential time / this strategy's time, for every round where both ran."""
    rounds = sorted(r for (lab, r) in by_round if lab == label and ("sequential", r) in by_round)
    return paired_ratios([by_round["sequential", r] for r in rounds], [by_round[label, r] for r in rounds])


def summarise_point(
    scenario: str, specs: tuple[StrategySpec, ...], point: PointResult, rtt_ms: float | None = None
) -> list[Summary]:
    """Summaries of every strategy at one task count, in the scenario's order."""
    walls: dict[str, list[float]] = {}
    by_round: dict[tuple[str, int], float] = {}
    for run in point.runs:
        walls.setdefault(run.strategy, []).append(run.wall_ns / 1e9)
        by_round[run.strategy, run.repeat] = run.wall_ns / 1e9
    rows = []
    for spec in specs:
        runs = [r for r in point.runs if r.strategy == spec.label]
        if not runs:
            continue
        wall = median(walls[spec.label])
        spread = describe(walls[spec.label])
        speedups = _paired_speedups(by_round, spec.label)
        known = bool(point.delays_ms)
        ideal = ideal_ms(spec.name, _limit(spec), point.delays_ms) / 1000 if known else None
        overhead = overhead_ms(spec.name, _limit(spec), point.tasks, rtt_ms) / 1000 if rtt_ms is not None else None
        complete = all(r.cancelled == 0 and r.not_started == 0 for r in runs)  # stopped early: ideal would mislead
        in_order = [r.wall_ns / 1e9 for r in sorted(runs, key=lambda r: r.repeat)]
        latencies = [ns / 1e6 for r in runs for ns in r.samples.latencies_ns()]
        ideal_seq = sum(point.delays_ms) / 1000 if known else None
        rows.append(
            Summary(
                scenario=scenario,
                tasks=point.tasks,
                strategy=spec.label,
                name=spec.name,
                params=dict(spec.params),
                runs=len(runs),
                wall_median_s=wall,
                wall_ci_s=_ends(median_interval(walls[spec.label])),
                wall_min_s=spread.min,
                wall_max_s=spread.max,
                wall_mean_s=spread.mean,
                wall_stdev_s=spread.stdev,
                wall_q1_s=spread.q1,
                wall_q3_s=spread.q3,
                wall_iqr_s=spread.iqr,
                speedup=median(speedups) if speedups else None,
                speedup_ci=_ends(speedup_interval(speedups)) if speedups else None,
                ideal_s=ideal,
                efficiency=ideal / wall if ideal is not None and complete else None,
                ideal_sequential_s=ideal_seq,
                speedup_vs_ideal_sequential=ideal_seq / wall if ideal_seq is not None else None,
                failed_tasks=sum(r.failed for r in runs),
                cancelled_tasks=sum(r.cancelled + r.not_started for r in runs),
                peak_inflight=max(r.peak_inflight for r in runs),
                peak_queued=max(r.peak_queued for r in runs),
                bound_by=next((b for b in (binding_limit(r, point.tasks) for r in runs) if b), None),
                limits=dict(runs[0].limits),
                overhead_s=overhead,
                residual_s=wall - ideal - overhead if ideal is not None and overhead is not None and complete else None,
                latency_ms={int(q): v for q, v in percentiles(latencies).items()} if latencies else {},
                warnings=noise_warnings(in_order),
            )
        )
    return rows


def summarise(result: ScenarioResult) -> list[Summary]:
    """Summaries of every task count and strategy of one scenario."""
    specs = result.scenario.strategies
    rtt = result.calibration_rtt_ms
    return [row for point in result.points for row in summarise_point(result.scenario.name, specs, point, rtt)]


def summary_frame(results: ResultsFile) -> pd.DataFrame:
    """Every summary row of every scenario as a DataFrame (interval ends and percentiles as their own columns)."""
    import pandas as pd

    records = []
    for scenario in results.scenarios:
        for row in summarise(scenario):
            record = {k: v for k, v in asdict(row).items() if k not in ("limits", "latency_ms", "warnings", "params")}
            record["wall_ci_low_s"], record["wall_ci_high_s"] = record.pop("wall_ci_s")
            ci = record.pop("speedup_ci")
            record["speedup_ci_low"], record["speedup_ci_high"] = ci if ci else (None, None)
            for q, value in row.latency_ms.items():
                record[f"latency_p{q}_ms"] = value
            record["warnings"] = "; ".join(row.warnings)
            records.append(record)
    return pd.DataFrame(records)
