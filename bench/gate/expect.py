"""Expectations -> verdicts: each scenario's ``expect:`` block (speedups, efficiencies, the error rate) judged by
the interval rule (``bench.gate.rule``) at the task count it names.

    judge_expectations(results, summarise_file(results))   # [Verdict(...), ...] in the file's order

Speedups and efficiencies come only from runs in which every task finished ok: a check over runs with failed,
cancelled or never-started tasks fails and says how many (``failed_runs``).
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.gate.rule import Interval, Verdict, make_verdict
from bench.results.records import PointResult, ResultsFile, ScenarioResult
from bench.results.summary import Summaries, Summary, summarise_file


def speedup_interval(row: Summary) -> tuple[Interval, float] | None:
    """The speedup's interval and its confidence: the one source the gate and ``compare`` use."""
    if row.speedup_ci is None or row.speedup_ci_level is None:
        return None
    return row.speedup_ci, row.speedup_ci_level


def wall_interval(row: Summary) -> tuple[Interval, float]:
    """The median wall time's interval and its confidence."""
    return row.wall_ci_s, row.wall_ci_level


def efficiency_interval(row: Summary) -> Interval | None:
    """ideal / wall over the wall time's interval: the ends swap, since a longer wall time means a lower efficiency."""
    if row.ideal_s is None:
        return None
    (low, high), _ = wall_interval(row)
    return row.ideal_s / high, row.ideal_s / low


def error_rate(point: PointResult) -> float | None:
    """Tasks that did not finish ok (failed, cancelled, never started) / all tasks, over every run; None: no runs."""
    total = sum(run.tasks for run in point.runs)
    return sum(run.not_ok for run in point.runs) / total if total else None


def failed_runs(point: PointResult, label: str, *, with_sequential: bool = False) -> str | None:
    """``'3 of 5 runs had failed tasks'`` when a run of ``label`` (or, for a speedup, of sequential) did not complete.

    Speedups and efficiencies come only from complete runs (every task finished ok); None when all were complete.
    """
    checked = [(label, "")] + ([("sequential", "sequential ")] if with_sequential and label != "sequential" else [])
    for who, prefix in checked:
        runs = [r for r in point.runs if r.strategy == who]
        bad = sum(not r.complete for r in runs)
        if bad:
            return f"{bad} of {len(runs)} {prefix}runs had failed tasks"
    return None


def expectation_tasks(result: ScenarioResult) -> int:
    """The task count a scenario's expectations apply to: ``expect.tasks``, or the largest."""
    return result.scenario.expect.tasks or max(result.scenario.tasks)


def judge_scenario(result: ScenarioResult, summary_rows: Sequence[Summary]) -> list[Verdict]:
    """Verdicts on one scenario's expectations: speedups, efficiencies, then the error rate."""
    expect = result.scenario.expect
    name, tasks = result.scenario.name, expectation_tasks(result)
    point = next((p for p in result.points if p.tasks == tasks), None)
    rows = {row.strategy: row for row in summary_rows if row.tasks == tasks}
    verdicts = []
    for label, threshold in expect.speedup.items():
        row = rows.get(label)
        failed = failed_runs(point, label, with_sequential=True) if point and row else None
        speedup = row.speedup if row and not failed else None
        interval = speedup_interval(row) if row else None
        verdicts.append(
            make_verdict(
                name,
                tasks,
                "speedup",
                label,
                threshold,
                speedup,
                interval,
                failed or "not measured",
                failed=bool(failed),
            )
        )
    for label, threshold in expect.efficiency.items():
        row = rows.get(label)
        failed = failed_runs(point, label) if point and row else None
        efficiency = row.efficiency if row and not failed else None
        ci = efficiency_interval(row) if row else None
        interval = (ci, wall_interval(row)[1]) if row and ci else None
        why = failed or ("has no ideal time (the target's delays are unknown)" if row else "not measured")
        verdicts.append(
            make_verdict(name, tasks, "efficiency", label, threshold, efficiency, interval, why, failed=bool(failed))
        )
    if expect.error_rate is not None:
        rate = error_rate(point) if point else None
        verdicts.append(make_verdict(name, tasks, "error_rate", "all", expect.error_rate, rate, None))
    return verdicts


def judge_expectations(results: ResultsFile, summaries: Summaries | None = None) -> list[Verdict]:
    """Verdicts on the ``expect:`` block of every scenario that has one, in the file's order."""
    pairs = zip(results.scenarios, (summaries or summarise_file(results)).scenarios, strict=True)
    return [verdict for result, rows in pairs for verdict in judge_scenario(result, rows)]
