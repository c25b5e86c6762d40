"""Results -> Summary rows: one per (scenario, task count, strategy), from the stats and the ideal model.

    summaries = summarise_file(results)              # once per results file; report, charts, HTML, CSV, check take it
    rows = summaries.scenarios[0]                    # the rows of one scenario (``summarise`` computes just those)
    rows[0].speedup                                  # median of the per-round ratios sequential / this strategy
    summary_record(rows[0])                          # the row as flat JSON values: the CSV's and --json's columns

Intervals are the distribution-free ones of bench.results.stats, with the level they reach (``wall_ci_level``,
``speedup_ci_level``). Speedup, efficiency, the ideal-derived figures, queueing and throughput come only from runs in
which every task finished ok; a row with other runs has them as None and says why in ``missing_reason``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from bench.results.records import PointResult, ResultsFile, RunResult, ScenarioResult
from bench.results.service import failure_groups, mean_inflight, service_times
from bench.results.stats import (
    Interval,
    describe,
    format_level,
    median,
    median_interval,
    noise_warnings,
    paired_ratios,
    percentiles,
    speedup_interval,
)
from bench.strategies import REFERENCE, Strategy, StrategySpec

BASELINE = REFERENCE
"""The strategy every speedup is relative to."""


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
    complete_runs: int
    """Runs in which every task finished ok (RunResult.complete)."""
    wall_median_s: float
    """Median wall time over every run (a failed run's wall time is when the strategy returned or raised)."""
    wall_ci_s: tuple[float, float]
    """Distribution-free interval of the median wall time (bench.results.stats.median_interval)."""
    wall_ci_level: float
    """Confidence ``wall_ci_s`` reaches, e.g. 0.75 with 3 runs."""
    wall_min_s: float
    wall_max_s: float
    wall_mean_s: float
    wall_stdev_s: float
    """Sample standard deviation of the wall times (0 for one run)."""
    wall_q1_s: float
    wall_q3_s: float
    wall_iqr_s: float
    speedup: float | None
    """Median of the per-round ratios sequential wall / this strategy's wall (runs of the same round, both complete);
    None without a sequential run or when a run had failed tasks (see ``missing_reason``)."""
    speedup_ci: tuple[float, float] | None
    """Distribution-free interval of the median per-round speedup (bench.results.stats.speedup_interval)."""
    speedup_ci_level: float | None
    """Confidence ``speedup_ci`` reaches."""
    ideal_s: float | None
    """Ideal wall time from the delays (see bench.strategies.model); None when the delays are unknown."""
    efficiency: float | None
    """ideal_s / wall_median_s; None when delays are unknown or a run had tasks that did not finish ok."""
    ideal_sequential_s: float | None
    """Sum of the delays: what a sequential run would ideally take (shown when none was measured)."""
    speedup_vs_ideal_sequential: float | None
    """ideal_sequential_s / wall_median_s; None like ``efficiency``."""
    failed_tasks: int
    """Tasks that ended with an error, over all runs."""
    cancelled_tasks: int
    """Tasks cancelled after they started, or never started, over all runs."""
    not_started_tasks: int
    """Of ``cancelled_tasks``, those never started (the strategy stopped first)."""
    error_rate: float
    """Tasks that did not finish ok (failed, cancelled, never started) over all tasks of all runs."""
    missing_reason: str | None
    """Why speedup, efficiency, queueing and throughput are None, e.g. '3 of 5 runs had failed tasks'; None if shown."""
    peak_inflight: int
    """Largest in-flight count seen in any run."""
    peak_queued: int
    """Most tasks waiting for a pooled connection at once, in any run."""
    bound_by: str | None
    """The concurrency limit that capped this strategy, e.g. 'connector limit 100', or None."""
    limits: dict[str, int | None]
    """Effective limits of the first run."""
    overhead_s: float | None
    """Zero-delay round trip x requests on the critical path (bench.strategies.model); None without a calibration."""
    residual_s: float | None
    """Median wall time - ideal - overhead: queueing and contention; None like ``efficiency``."""
    residual_kind: str
    """What ``residual_s`` is: 'queueing' when several tasks compete, 'unexplained' (model error) when one runs at a
    time (see Strategy.remainder_label)."""
    ideal_source: str
    """Where the service times of the ideal came from: 'delivered' (the local server's Server-Timing), 'reported'
    (another server's Server-Timing), 'requested' (the delays asked for), 'sequential' (each task alone in the
    sequential runs), 'estimate' (an uncontended sample before the rounds), or '' (none)."""
    unexplained: str | None
    """What the model cannot explain over the whole wall-time interval (efficiency above 100%, negative queueing);
    None when it can."""
    requests_per_s: float | None
    """Tasks / median wall time, when every run completed."""
    latency_ms: dict[int, float]
    """Percentiles (50, 90, 99) of end - created over tasks that finished ok, in ms (version 1 files: end - start)."""
    wait_ms: dict[int, float]
    """Percentiles (50, 90, 99) of start - created (semaphore, pool, connection waits) over tasks that finished ok,
    in ms; empty when no wait was recorded (version 1 files)."""
    warnings: tuple[str, ...]
    """Noise warnings on the wall times, each saying what to do (see bench.results.stats.noise_warnings)."""
    wall_values_s: tuple[float, ...] = ()
    """Every recorded run's wall time, in round order: what two-sample comparisons (compare, baselines) use."""
    speedup_values: tuple[float, ...] = ()
    """Every paired per-round speedup the median and interval come from (empty without a speedup)."""
    gc_ms: float | None = None
    """Median time per run in garbage-collector passes during the timed region (the client process that spent the
    most), ms; None when not recorded (older results)."""
    gc_full_passes: float | None = None
    """Median number of full (generation 2) collector passes per run, summed over client processes."""
    mean_inflight: float | None = None
    """Tasks doing I/O at the same time, on average over the run (the sum of their I/O times / wall time), median
    over the complete runs."""
    achieved_concurrency: float | None = None
    """Sum of the tasks' uncontended service times / median wall time: how many tasks the run behaved as if it ran
    at once. None without service times."""
    expected_concurrency: float | None = None
    """The same for the ideal time: sum of the service times / ideal; what the caps iobench knows allow."""
    failures: tuple[tuple[str, int], ...] = ()
    """Failed tasks over every run, grouped by message in the exception's own words, most frequent first."""
    connections_opened: int | None = None
    """Most connections opened in one run (warm-up and reconnects), when the client counts them."""
    planned_connections: int = 0
    """The connections the run meant to hold: its effective concurrency."""
    cpu_busy: float | None = None
    """This process's CPU time / wall time, median over the complete runs (1.0: one core busy throughout; above it,
    threads on several cores); None when not recorded. Near 1: the client's own work, not the I/O, bound the run."""

    def failure_text(self, most: int | None = None) -> str:
        """The failures as one line, ``most`` messages at most: 'MaxConnectionsError: Too many connections ×450'."""
        return "; ".join(f"{text} ×{count}" for text, count in self.failures[:most])


@dataclass(frozen=True)
class Summaries:
    """Every summary row of one results file, computed once; report, CSV, charts and check all take this."""

    scenarios: tuple[tuple[Summary, ...], ...]
    """Rows of each scenario, aligned with ``ResultsFile.scenarios``."""

    @property
    def rows(self) -> tuple[Summary, ...]:
        """Every row of every scenario, in file order."""
        return tuple(row for rows in self.scenarios for row in rows)

    def point(self, index: int, tasks: int) -> tuple[Summary, ...]:
        """Rows of scenario ``index`` at one task count, in the scenario's strategy order."""
        return tuple(row for row in self.scenarios[index] if row.tasks == tasks)

    def get(self, scenario: str, tasks: int, strategy: str) -> Summary | None:
        """The row of (scenario name, task count, strategy label), or None."""
        return next((r for r in self.rows if (r.scenario, r.tasks, r.strategy) == (scenario, tasks, strategy)), None)


def _ends(interval: Interval) -> tuple[float, float]:
    return interval.low, interval.high


def caps(run: RunResult) -> tuple[int | None, ...]:
    """The caps on concurrency a run worked under (its strategy's own, the client's, the target's)."""
    return tuple(run.limits.get(key) for key in run.cap_names)


def processes(run: RunResult) -> int:
    """Client processes the run was spread over."""
    return run.limits.get("processes") or 1


def _ideal_s(
    strategy: Strategy, services: list[list[float]], runs: Sequence[RunResult]
) -> tuple[float | None, float | None]:
    """The ideal wall time (median over the service-time lists) and the sum of the service times, in seconds."""
    if not services:
        return None, None
    ideals = [strategy.ideal_ms(times, caps(runs[0]), processes(runs[0])) / 1000 for times in services]
    return median(ideals), median([sum(times) / 1000 for times in services])


def binding_limit(run: RunResult, tasks: int) -> str | None:
    """Which cap bound a run: one that held fewer tasks than each process had while as many were in flight (so the
    others waited), named as the strategy, client or target that set it names it ('semaphore 10')."""
    share = -(-tasks // processes(run))
    for key, name in run.cap_names.items():
        limit = run.limits.get(key)
        if limit and limit < share and run.peak_inflight >= limit:
            return f"{name} {limit}"
    return None


def missing_reason(runs: Sequence[RunResult], label: str = "") -> str | None:
    """'3 of 5 runs had failed tasks' (prefixed by ``label``) when some runs did not complete, else None."""
    bad = sum(not run.complete for run in runs)
    if not bad:
        return None
    return f"{label + ': ' if label else ''}{bad} of {len(runs)} run{'' if len(runs) == 1 else 's'} had failed tasks"


def complete_walls(runs: Iterable[RunResult]) -> dict[tuple[str, int], float]:
    """(label, round) -> wall time in s of every run in which every task finished: what speedups pair."""
    return {(run.strategy, run.repeat): run.wall_ns / 1e9 for run in runs if run.complete}


def paired_speedups(by_round: dict[tuple[str, int], float], label: str) -> tuple[float, ...]:
    """Sequential time / this strategy's time, for every round where both ran; ``by_round`` maps (label, round)
    to the wall time of a complete run (see ``complete_walls``)."""
    rounds = sorted(r for (lab, r) in by_round if lab == label and (BASELINE, r) in by_round)
    return paired_ratios([by_round[BASELINE, r] for r in rounds], [by_round[label, r] for r in rounds])


def _task_times_ms(runs: Sequence[RunResult]) -> tuple[list[float], list[float], bool]:
    """Latencies (end - created) and waits (start - created) of the tasks that finished ok, in ms, and whether any
    wait was recorded at all (a version 1 file has created = start everywhere)."""
    latencies: list[float] = []
    waits: list[float] = []
    recorded = False
    for run in runs:
        s = run.samples
        for created, start, end, error in zip(s.created_ns, s.start_ns, s.end_ns, s.error, strict=True):
            if error == "" and min(created, start, end) >= 0:
                latencies.append((end - created) / 1e6)
                waits.append((start - created) / 1e6)
                recorded = recorded or start != created
    return latencies, waits, recorded


def _p50_90_99(values: Sequence[float]) -> dict[int, float]:
    return {int(q): v for q, v in percentiles(values).items()} if values else {}


TICK_REASONS = (
    "requests ending on the same server tick or timer, a cache warmed by an earlier task, or a sequential run slowed "
    "by something the others skip"
)
"""Why tasks may finish faster together than their service times allow (the model assumes independent tasks)."""


def unexplained(
    ideal_s: float | None,
    overhead_s: float | None,
    wall: Interval,
    source: str = "delivered",
    speedup: Interval | None = None,
    tasks: int = 0,
    other_code: str = "",
) -> str | None:
    """What the model cannot explain over the whole interval, or None: a speedup above the task count, efficiency
    above 100% (the run beat its ideal), or a negative remainder once the overhead is added. ``other_code``: how the
    row's tasks differ from the runs its service times came from (another client stack), the likeliest reason."""
    level = format_level(wall.level)
    if ideal_s is not None and wall.high > 0 and ideal_s / wall.high > 1:
        why = (
            "the delays delivered were shorter than modelled"
            if source in ("delivered", "requested")
            else f"the tasks needed less than their service times from {_SOURCES.get(source, source)}: "
            + (f"{other_code}; or {TICK_REASONS}" if other_code else TICK_REASONS)
        )
        best = ideal_s / wall.high
        return f"faster than the ideal over its whole {level} interval (efficiency {best:.0%} at best): {why}"
    if ideal_s is not None and overhead_s is not None and wall.high - ideal_s - overhead_s < 0:
        return (
            f"negative queueing over its whole {level} interval ({(wall.high - ideal_s - overhead_s) * 1e3:.3g} ms "
            "at most): the model overstates the per-request overhead"
        )
    if speedup is not None and tasks and speedup.low > tasks:
        return (
            f"a speedup above the task count ({tasks}) over its whole {format_level(speedup.level)} interval "
            f"({speedup.low:.3g}x at least): no schedule of {tasks} independent tasks does that; {TICK_REASONS}"
        )
    return None


def _other_code(runs: Sequence[RunResult], baseline: Sequence[RunResult], source: str) -> str:
    """How a row's tasks differ from the sequential runs its service times came from ('' when they do not)."""
    if source != "sequential" or not baseline or not runs or baseline[0].stack == runs[0].stack:
        return ""
    return (
        f"its tasks run as {runs[0].stack}, the sequential runs as {baseline[0].stack} "
        "(other code, such as another client or a sync callable, may need less time per task)"
    )


_SOURCES = {"reported": "the server's answers", "sequential": "the sequential runs", "estimate": "a sample"}


def _speedup(
    by_round: dict[tuple[str, int], float], label: str, runs: Sequence[RunResult], baseline: Sequence[RunResult]
) -> tuple[Interval | None, float | None, str | None]:
    """(interval, median) of the paired speedup from complete rounds, or why there is none."""
    own = missing_reason(runs)
    if own:
        return None, None, own
    if not baseline:
        return None, None, None
    if missing_reason(baseline):
        return None, None, f"no speedup: {missing_reason(baseline, BASELINE)}"
    ratios = paired_speedups(by_round, label)
    if not ratios:
        return None, None, f"no round ran both {BASELINE} and {label}"
    return (speedup_interval(ratios) if len(ratios) > 1 else None), median(ratios), None


def _summarise_strategy(
    scenario: str,
    spec: StrategySpec,
    point: PointResult,
    calibration: dict[str, float],
    by_round: dict[tuple[str, int], float],
    local: bool = True,
) -> Summary | None:
    """One row; None when the strategy has no runs at this task count."""
    runs = sorted((r for r in point.runs if r.strategy == spec.label), key=lambda r: r.repeat)
    if not runs:
        return None
    walls = [r.wall_ns / 1e9 for r in runs]  # in round order: the first run is the first
    wall, spread, wall_ci = median(walls), describe(walls), median_interval(walls)
    baseline = [r for r in point.runs if r.strategy == BASELINE]
    speedup_ci, speedup, reason = _speedup(by_round, spec.label, runs, baseline)
    complete = missing_reason(runs) is None
    strategy = spec.build()
    bounds, k = caps(runs[0]), processes(runs[0])
    services, ideal_source = service_times(point, runs, calibration, local)
    ideal, service_sum = _ideal_s(strategy, services, runs)
    rtt = calibration.get(runs[0].stack)
    path = strategy.critical_path(point.tasks, bounds, k)
    overhead = path * rtt / 1000 if rtt is not None else None
    ideal_seq = service_sum
    latencies, waits, waits_recorded = _task_times_ms(runs)
    tasks_run = sum(r.tasks for r in runs)
    complete_runs = [r for r in runs if r.complete]
    inflight = [m for m in map(mean_inflight, complete_runs) if m is not None]
    busy = [r.cpu_ns / r.wall_ns for r in complete_runs if r.cpu_ns is not None and r.wall_ns > 0]
    opened = [r.connections_opened for r in runs if r.connections_opened is not None]
    return Summary(
        scenario=scenario,
        tasks=point.tasks,
        strategy=spec.label,
        name=spec.name,
        params=dict(spec.params),
        runs=len(runs),
        complete_runs=sum(r.complete for r in runs),
        wall_median_s=wall,
        wall_ci_s=(wall_ci.low, wall_ci.high),
        wall_ci_level=wall_ci.level,
        wall_min_s=spread.min,
        wall_max_s=spread.max,
        wall_mean_s=spread.mean,
        wall_stdev_s=spread.stdev,
        wall_q1_s=spread.q1,
        wall_q3_s=spread.q3,
        wall_iqr_s=spread.iqr,
        speedup=speedup,
        speedup_ci=(speedup_ci.low, speedup_ci.high) if speedup_ci else None,
        speedup_ci_level=speedup_ci.level if speedup_ci else None,
        ideal_s=ideal,
        efficiency=ideal / wall if ideal is not None and complete else None,
        ideal_sequential_s=ideal_seq,
        speedup_vs_ideal_sequential=ideal_seq / wall if ideal_seq is not None and complete else None,
        failed_tasks=sum(r.failed for r in runs),
        cancelled_tasks=sum(r.cancelled + r.not_started for r in runs),
        not_started_tasks=sum(r.not_started for r in runs),
        error_rate=sum(r.not_ok for r in runs) / tasks_run if tasks_run else 0.0,
        missing_reason=reason,
        peak_inflight=max(r.peak_inflight for r in runs),
        peak_queued=max(r.peak_queued for r in runs),
        bound_by=next((b for b in (binding_limit(r, point.tasks) for r in runs) if b), None),
        limits=dict(runs[0].limits),
        overhead_s=overhead,
        residual_s=wall - ideal - overhead if ideal is not None and overhead is not None and complete else None,
        residual_kind=strategy.remainder_label(point.tasks, bounds, k),
        ideal_source=ideal_source,
        unexplained=unexplained(
            ideal, overhead, wall_ci, ideal_source, speedup_ci, point.tasks, _other_code(runs, baseline, ideal_source)
        )
        if complete
        else None,
        requests_per_s=point.tasks / wall if complete and wall > 0 else None,
        latency_ms=_p50_90_99(latencies),
        wait_ms=_p50_90_99(waits) if waits_recorded else {},
        warnings=noise_warnings(walls),
        wall_values_s=tuple(walls),
        speedup_values=paired_speedups(by_round, spec.label) if speedup is not None else (),
        **_gc_figures(runs),
        mean_inflight=median(inflight) if inflight else None,
        cpu_busy=median(busy) if busy else None,
        achieved_concurrency=service_sum / wall if service_sum is not None and complete and wall > 0 else None,
        expected_concurrency=service_sum / ideal if service_sum is not None and ideal else None,
        failures=failure_groups(runs),
        connections_opened=max(opened) if opened else None,
        planned_connections=strategy.effective_concurrency(-(-point.tasks // k), bounds) * k,
    )


def _gc_figures(runs: Sequence[RunResult]) -> dict[str, float | None]:
    """Median collector time and full passes per run, over the runs that recorded them."""
    recorded = [(r.gc_ms, r.gc_passes) for r in runs if r.gc_ms is not None and r.gc_passes]
    if not recorded:
        return {"gc_ms": None, "gc_full_passes": None}
    return {
        "gc_ms": median([ms for ms, _ in recorded]),
        "gc_full_passes": median([float(passes[-1]) for _, passes in recorded]),
    }


def summarise_point(
    scenario: str,
    specs: tuple[StrategySpec, ...],
    point: PointResult,
    calibration: dict[str, float] | None = None,
    local: bool = True,
) -> list[Summary]:
    """Summaries of every strategy at one task count, in the scenario's order; ``calibration``: the per-request
    overhead in ms of each client stack (a run's ``stack`` picks its own); ``local``: service times in the answers
    come from the local server (else from the target's own server)."""
    by_round = complete_walls(point.runs)
    rows = (_summarise_strategy(scenario, spec, point, calibration or {}, by_round, local) for spec in specs)
    return [row for row in rows if row is not None]


def summarise(result: ScenarioResult) -> list[Summary]:
    """Summaries of every task count and strategy of one scenario (``summarise_file`` does it once per file)."""
    specs, calibration = result.scenario.strategies, overheads(result)
    local = result.driver is None or result.driver.service_source == "the local server"
    name = result.scenario.name
    return [row for point in result.points for row in summarise_point(name, specs, point, calibration, local)]


def overheads(result: ScenarioResult) -> dict[str, float]:
    """Per-request overhead in ms of each calibrated client stack (a version 1 file has one figure, which it used
    for every stack: all it knew)."""
    found = {stack: calibration.median_ms for stack, calibration in result.calibration.items()}
    if not found and result.calibration_rtt_ms is not None:
        stacks = {run.stack for point in result.points for run in point.runs}
        found = dict.fromkeys(stacks, result.calibration_rtt_ms)
    return found


def summarise_file(results: ResultsFile) -> Summaries:
    """Every row of every scenario of a results file, aligned with ``results.scenarios``: computed once, then handed
    to every report, chart, export and check."""
    return Summaries(tuple(tuple(summarise(result)) for result in results.scenarios))


_SKIPPED = (
    "limits", "latency_ms", "wait_ms", "warnings", "params", "wall_values_s", "speedup_values", "failures",
)  # fmt: skip
"""Summary fields that are not one flat value; their figures get columns of their own (or none)."""


def summary_record(row: Summary) -> dict[str, Any]:
    """One summary row as flat JSON values: what the summary CSV has in its columns and ``--json`` in its rows.

    Interval ends get their own fields (``wall_ci_low_s``, ``speedup_ci_high``), percentiles one each
    (``latency_p99_ms``, ``wait_p50_ms``), warnings are joined with '; '.
    """
    record = {k: v for k, v in asdict(row).items() if k not in _SKIPPED}
    record["wall_ci_low_s"], record["wall_ci_high_s"] = record.pop("wall_ci_s")
    ci = record.pop("speedup_ci")
    record["speedup_ci_low"], record["speedup_ci_high"] = ci if ci else (None, None)
    for q, value in row.latency_ms.items():
        record[f"latency_p{q}_ms"] = value
    for q, value in row.wait_ms.items():
        record[f"wait_p{q}_ms"] = value
    record["warnings"] = "; ".join(row.warnings)
    record["failures"] = row.failure_text()
    return record
