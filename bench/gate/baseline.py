"""Baseline -> verdicts: each speedup of a results file against the same row of a baseline results file, and the
baseline rows the results lack.

    judge_baseline(results, read_results("results/baseline.json"), tolerance=parse_tolerance("5%"))

The figure is the ratio new / baseline of the per-round speedups of two independent runs: the Hodges-Lehmann ratio of
locations with its Mann-Whitney interval (``bench.results.stats.location_ratio``), so the baseline's own noise is
counted, not taken for a fixed bound. It must stay ``>= 1 - tolerance`` by the interval rule (``bench.gate.rule``). Runs
with failed tasks fail the check; a baseline comparison is inconclusive when the scenario's definition or the
environment (CPU model, Python, aiohttp, uvloop) differs from the baseline's (``bench.gate.comparable``)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.errors import ResultsError, UsageError
from bench.gate.comparable import definition_mismatch, environment_mismatch
from bench.gate.expect import failed_runs
from bench.gate.rule import Interval, Verdict, make_verdict
from bench.results.records import ResultsFile, ScenarioResult
from bench.results.stats import location_ratio
from bench.results.summary import Summaries, Summary, summarise_file
from bench.scenario.expectations import Threshold

DEFAULT_TOLERANCE = 0.05
"""How far below the baseline's speedup (as a ratio of locations) a run may fall before its check fails (5%)."""


def parse_tolerance(text: str) -> float:
    """``'10%'`` or ``'0.1'`` -> 0.1; a UsageError unless 0 <= tolerance < 1.

    >>> parse_tolerance("10%")
    0.1
    """
    raw = text.strip()
    try:
        if not raw.isascii():  # float() also reads other scripts' digits
            raise ValueError(raw)
        value = float(raw.removesuffix("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        raise UsageError(f"--tolerance {text!r}: expected a fraction such as '10%' or '0.1'") from None
    if not 0.0 <= value < 1.0:
        raise UsageError(f"--tolerance {text!r}: must be at least 0% and below 100%")
    return value


def _scenario_names(results: ResultsFile, baseline: ResultsFile) -> dict[str, ScenarioResult]:
    """The baseline's scenarios by name; a ResultsError when it shares none with the results."""
    theirs = {s.scenario.name: s for s in baseline.scenarios}
    ours = [s.scenario.name for s in results.scenarios]
    if ours and theirs and not theirs.keys() & set(ours):
        raise ResultsError(
            f"the baseline shares no scenario with the results (baseline: {', '.join(theirs)}; "
            f"results: {', '.join(ours)})"
        )
    return theirs


def baseline_ratio(row: Summary, base: Summary) -> tuple[float, tuple[Interval, float]]:
    """New / baseline speedup of two independent runs: the ratio of locations of their per-round speedups, with its
    distribution-free interval and the level it reaches (``bench.results.stats.location_ratio``)."""
    estimate = location_ratio(row.speedup_values, base.speedup_values)
    interval = estimate.interval
    return estimate.ratio, ((interval.low, interval.high), interval.level)


def judge_baseline(
    results: ResultsFile,
    baseline: ResultsFile,
    tolerance: float = DEFAULT_TOLERANCE,
    *,
    summaries: Summaries | None = None,
    baseline_summaries: Summaries | None = None,
) -> list[Verdict]:
    """Every (scenario, tasks, strategy) with a speedup in both files: new / baseline speedup ``>= 1 - tolerance``,
    by the interval rule on ``baseline_ratio`` (the baseline's noise counts as well as the new run's).

    Sequential itself (speedup 1 by definition) is not checked. Runs with failed tasks fail the check; another
    environment or scenario definition (``environment_mismatch``, ``definition_mismatch``) makes it inconclusive.
    """
    if not 0.0 <= tolerance < 1.0:
        raise UsageError(f"tolerance {tolerance:g} must be at least 0 and below 1")
    theirs = _scenario_names(results, baseline)
    environment = environment_mismatch(results, baseline)
    verdicts = []
    ours = summaries or summarise_file(results)
    theirs_rows = (baseline_summaries or summarise_file(baseline)).scenarios
    base_summary = {r.scenario.name: rows for r, rows in zip(baseline.scenarios, theirs_rows, strict=True)}
    for result, rows in zip(results.scenarios, ours.scenarios, strict=True):
        base_result = theirs.get(result.scenario.name)
        if base_result is None:
            continue
        why = environment or definition_mismatch(result, base_result) or ""
        base_rows = {(row.tasks, row.strategy): row for row in base_summary[result.scenario.name]}
        points = {p.tasks: p for p in result.points}
        base_points = {p.tasks: p for p in base_result.points}
        for row in rows:
            base = base_rows.get((row.tasks, row.strategy))
            if row.name == "sequential" or base is None:
                continue
            failed = failed_runs(points[row.tasks], row.strategy, with_sequential=True)
            base_failed = failed_runs(base_points[row.tasks], row.strategy, with_sequential=True)
            if base_failed and not failed:
                text = f"against the baseline ({base_failed} there)"
                threshold = Threshold(op=">=", value=0.0, text=text)
                verdicts.append(
                    make_verdict(
                        row.scenario, row.tasks, "baseline", row.strategy, threshold, None, None, "not comparable"
                    )
                )
                continue
            if not base.speedup_values and not failed:
                continue  # the baseline has no sequential run at this task count: nothing to compare with
            floor = 1 - tolerance
            if not base.speedup_values or base.speedup is None or base_failed:
                threshold = Threshold(op=">=", value=floor, text="against the baseline")
            else:
                now = f", now {row.speedup:.2f}x" if row.speedup is not None and not failed else ""
                text = f">= {floor:.3g} ({tolerance * 100:g}% tolerance; baseline {base.speedup:.2f}x{now})"
                threshold = Threshold(op=">=", value=floor, text=text)
            ratio, interval = (None, None) if failed or not row.speedup_values else baseline_ratio(row, base)
            verdicts.append(
                make_verdict(
                    row.scenario, row.tasks, "baseline", row.strategy, threshold, ratio, interval,
                    failed or "not measured", failed=bool(failed), inconclusive_because=why,
                )
            )  # fmt: skip
    return verdicts


@dataclass(frozen=True)
class Missing:
    """A baseline row the results lack: a whole scenario (tasks None) or one strategy at one task count."""

    scenario: str
    tasks: int | None
    strategy: str

    def __str__(self) -> str:
        if self.tasks is None:
            return f"scenario {self.scenario} is in the baseline but not in the results"
        return f"{self.scenario}, {self.tasks} tasks: {self.strategy} is in the baseline but not in the results"


def missing_rows(results: ResultsFile, baseline: ResultsFile) -> list[Missing]:
    """Every baseline row (scenario, task count, strategy) the results lack."""
    ours = {(s.scenario.name, p.tasks, r.strategy) for s in results.scenarios for p in s.points for r in p.runs}
    scenarios = {s.scenario.name for s in results.scenarios}
    missing = []
    for base in baseline.scenarios:
        name = base.scenario.name
        if name not in scenarios:
            missing.append(Missing(name, None, "all"))
            continue
        for point in base.points:
            for label in dict.fromkeys(r.strategy for r in point.runs):
                if (name, point.tasks, label) not in ours:
                    missing.append(Missing(name, point.tasks, label))
    return missing
