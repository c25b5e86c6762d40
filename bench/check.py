"""Expectations and baselines -> verdicts (pass / fail / inconclusive) -> exit code; pure functions, no printing.

    gate = judge(results, read_results(baseline_path), tolerance=0.05)   # verdicts, warnings, problems, code
    format_lines(gate.verdicts)   # ['✓ seed  10 tasks  gather  speedup 6.31x [6.12, 6.40]  >= 4  pass', ...]

(``bench.compare`` puts two results files side by side with the same rule.)

Exit codes of ``iobench check`` (``Gate.code``):
    0  every check passed
    1  a check failed (with strict: or was inconclusive, or a baseline row is missing from the results)
    2  bad usage or input (unreadable results file, a baseline sharing no scenario with the results)
    3  the run itself failed (a scenario's outcome is not 'ok', or the results file is incomplete)
    4  no check failed, but one was inconclusive: the gate could not decide (see its message)

The interval rule: a check is decided on an interval of its figure, not on the point estimate, so a noisy run
rarely passes or fails by luck. For a lower bound (``>=``, ``>``) it passes when every value of the interval
satisfies the bound, fails when none does, and is inconclusive when the interval straddles it; upper bounds
(``<``, ``<=``) mirror that. A figure without an interval (the error rate, a count) is judged on its point.
This is the test-by-confidence-interval duality of J. Neyman, "Outline of a Theory of Statistical Estimation Based
on the Classical Theory of Probability" (Phil. Trans. R. Soc. A 236, 1937): a bound outside an interval of level
1 - a is one the dual two-sided test rejects at level a; inside it, neither side is shown, so the verdict says so
instead of guessing. Every interval is distribution-free and printed with the level it reaches (``bench.stats``).

Against a baseline, the figure is the ratio new / baseline of the per-round speedups of two independent runs:
the Hodges-Lehmann ratio of locations with its Mann-Whitney interval (``bench.stats.location_ratio``), so the
baseline's own noise is counted, not taken for a fixed bound. It must stay ``>= 1 - tolerance``.

Speedups and efficiencies come only from runs in which every task finished ok: a check over runs with failed,
cancelled or never-started tasks fails and says how many. A baseline comparison is inconclusive when the scenario's
definition or the environment (CPU model, Python, aiohttp, uvloop) differs from the baseline's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bench.comparable import definition_mismatch as definition_mismatch  # re-exported: the gate's vocabulary
from bench.comparable import definition_note as definition_note
from bench.comparable import environment_mismatch as environment_mismatch
from bench.comparable import environment_note as environment_note
from bench.errors import ResultsError, UsageError
from bench.results import PointResult, ResultsFile, ScenarioResult
from bench.scenario import Threshold
from bench.stats import location_ratio
from bench.summary import Summary, summarise

Kind = Literal["speedup", "efficiency", "error_rate", "baseline"]
Outcome = Literal["pass", "fail", "inconclusive"]
Interval = tuple[float, float]

MARKS: dict[Outcome, str] = {"pass": "✓", "fail": "✗", "inconclusive": "?"}
"""The mark in front of each formatted line."""
DEFAULT_TOLERANCE = 0.05
"""How far below the baseline's speedup (as a ratio of locations) a run may fall before its check fails (5%)."""
INCONCLUSIVE = 4
"""Exit code when no check failed but one could not be decided."""


@dataclass(frozen=True)
class Verdict:
    """One check of one figure against one bound."""

    scenario: str
    tasks: int
    """The task count the check applies to."""
    kind: Kind
    """What is checked: an expectation ('speedup', 'efficiency', 'error_rate') or the speedup against a baseline."""
    subject: str
    """Strategy label, or 'all' for the error rate over every strategy."""
    figure: float | None
    """Point estimate: speedup (x), efficiency (ideal / measured), error rate (fraction) or, for a baseline, the
    ratio of speedups new / baseline; None when not measured."""
    interval: Interval | None
    """Interval (low, high) of the figure at ``level``; None for a figure judged on its point."""
    bound: str
    """The bound as written, e.g. '>= 5', or for a baseline '>= 0.95 (5% tolerance; baseline 9.80x, now 9.12x)'."""
    verdict: Outcome
    message: str
    """One line naming the figure, its value and the bound."""
    level: float | None = None
    """The confidence the interval reaches (e.g. 0.95); None without an interval."""
    missing: str = "not measured"
    """What stands in the line for a figure that is None, e.g. '5 of 5 runs had failed tasks'."""


def speedup_interval(row: Summary) -> tuple[Interval, float] | None:
    """The speedup's interval and its confidence: the one source the gate and ``compare`` use."""
    if row.speedup_ci is None or row.speedup_ci_level is None:
        return None
    return row.speedup_ci, row.speedup_ci_level


def wall_interval(row: Summary) -> tuple[Interval, float]:
    """The median wall time's interval and its confidence."""
    return row.wall_ci_s, row.wall_ci_level


def decide(threshold: Threshold, figure: float, interval: Interval | None = None) -> Outcome:
    """The interval rule (module docstring): pass when all of ``interval`` holds, fail when none does.

    >>> decide(Threshold.model_validate(">= 3"), 3.4, (2.9, 3.8))
    'inconclusive'
    """
    if interval is None:
        return "pass" if threshold.holds(figure) else "fail"
    low, high = min(interval), max(interval)
    worst, best = (low, high) if threshold.op in (">=", ">") else (high, low)
    if threshold.holds(worst):
        return "pass"
    if not threshold.holds(best):
        return "fail"
    return "inconclusive"


def _format_figure(kind: Kind, value: float) -> str:
    match kind:
        case "speedup":
            return f"{value:.2f}x"
        case "baseline":
            return f"{value:.3f}"
        case "efficiency":
            return f"{value:.2f}"
        case "error_rate":
            return f"{value:.2%}"


def _format_interval(interval: Interval | None, kind: Kind = "speedup") -> str:
    digits = 3 if kind == "baseline" else 2
    return "" if interval is None else f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def format_level(level: float) -> str:
    """``0.95`` -> ``'95%'``, ``0.9375`` -> ``'93.8%'``: the confidence as printed."""
    return f"{level * 100:.3g}%"


def _describe(kind: Kind) -> str:
    names = {"speedup": "speedup", "efficiency": "efficiency", "error_rate": "error rate"}
    return names.get(kind, "speedup vs baseline")


def _message(v: Verdict, why: str = "") -> str:
    """``tiny, 10 tasks: gather speedup 8.97x, whole 95% interval [8.57, 9.27] meets >= 3``."""
    what = _describe(v.kind) if v.subject == "all" else f"{v.subject} {_describe(v.kind)}"
    head = f"{v.scenario}, {v.tasks} tasks: {what}"
    if v.figure is None:
        if v.verdict == "fail":
            return f"{head}: {v.missing}; no {_describe(v.kind)} is computed from them"
        return f"{head} {v.missing}; cannot check {v.bound}"
    head = f"{head} {_format_figure(v.kind, v.figure)}"
    if why:
        return f"{head}; not compared with {v.bound}: {why}"
    if v.interval is None:
        return f"{head} {'meets' if v.verdict == 'pass' else 'misses'} {v.bound}"
    span = f"{format_level(v.level or 0.0)} interval {_format_interval(v.interval, v.kind)}"
    match v.verdict:
        case "pass":
            return f"{head}, whole {span} meets {v.bound}"
        case "fail":
            return f"{head}, whole {span} misses {v.bound}"
        case "inconclusive":
            return f"{head}, {span} straddles {v.bound}; more repeats would decide"


def _verdict(
    scenario: str,
    tasks: int,
    kind: Kind,
    subject: str,
    threshold: Threshold,
    figure: float | None,
    interval: tuple[Interval, float] | None,
    missing: str = "not measured",
    *,
    failed: bool = False,
    inconclusive_because: str = "",
) -> Verdict:
    """Apply the interval rule. A figure that is None fails when ``failed`` (its runs failed), else is inconclusive;
    ``inconclusive_because`` makes the verdict inconclusive whatever the figure (the comparison is not valid)."""
    ci, level = interval if interval is not None and figure is not None else (None, None)
    outcome: Outcome
    if figure is None:
        outcome = "fail" if failed else "inconclusive"
    elif inconclusive_because:
        outcome = "inconclusive"
    else:
        outcome = decide(threshold, figure, ci)
    verdict = Verdict(scenario, tasks, kind, subject, figure, ci, threshold.text, outcome, "", level, missing)
    return replace(verdict, message=_message(verdict, inconclusive_because))


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


def judge_scenario(result: ScenarioResult) -> list[Verdict]:
    """Verdicts on one scenario's expectations: speedups, efficiencies, then the error rate."""
    expect = result.scenario.expect
    name, tasks = result.scenario.name, expectation_tasks(result)
    point = next((p for p in result.points if p.tasks == tasks), None)
    rows = {row.strategy: row for row in summarise(result) if row.tasks == tasks}
    verdicts = []
    for label, threshold in expect.speedup.items():
        row = rows.get(label)
        failed = failed_runs(point, label, with_sequential=True) if point and row else None
        speedup = row.speedup if row and not failed else None
        interval = speedup_interval(row) if row else None
        verdicts.append(
            _verdict(
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
            _verdict(name, tasks, "efficiency", label, threshold, efficiency, interval, why, failed=bool(failed))
        )
    if expect.error_rate is not None:
        rate = error_rate(point) if point else None
        verdicts.append(_verdict(name, tasks, "error_rate", "all", expect.error_rate, rate, None))
    return verdicts


def judge_expectations(results: ResultsFile) -> list[Verdict]:
    """Verdicts on the ``expect:`` block of every scenario that has one, in the file's order."""
    return [verdict for result in results.scenarios for verdict in judge_scenario(result)]


def parse_tolerance(text: str) -> float:
    """``'10%'`` or ``'0.1'`` -> 0.1; a UsageError unless 0 <= tolerance < 1.

    >>> parse_tolerance("10%")
    0.1
    """
    raw = text.strip()
    try:
        value = float(raw.removesuffix("%")) / (100 if raw.endswith("%") else 1)
    except ValueError:
        raise UsageError(f"--tolerance {text!r}: expected a fraction such as '10%' or '0.1'") from None
    if not 0.0 <= value < 1.0:
        raise UsageError(f"--tolerance {text!r}: must be at least 0% and below 100%")
    return value


# --- the baseline -------------------------------------------------------------------------------------


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
    distribution-free interval and the level it reaches (``bench.stats.location_ratio``)."""
    estimate = location_ratio(row.speedup_values, base.speedup_values)
    interval = estimate.interval
    return estimate.ratio, ((interval.low, interval.high), interval.level)


def judge_baseline(results: ResultsFile, baseline: ResultsFile, tolerance: float = DEFAULT_TOLERANCE) -> list[Verdict]:
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
    for result in results.scenarios:
        base_result = theirs.get(result.scenario.name)
        if base_result is None:
            continue
        why = environment or definition_mismatch(result, base_result) or ""
        base_rows = {(row.tasks, row.strategy): row for row in summarise(base_result)}
        points = {p.tasks: p for p in result.points}
        base_points = {p.tasks: p for p in base_result.points}
        for row in summarise(result):
            base = base_rows.get((row.tasks, row.strategy))
            if row.name == "sequential" or base is None:
                continue
            failed = failed_runs(points[row.tasks], row.strategy, with_sequential=True)
            base_failed = failed_runs(base_points[row.tasks], row.strategy, with_sequential=True)
            if base_failed and not failed:
                text = f"against the baseline ({base_failed} there)"
                threshold = Threshold(op=">=", value=0.0, text=text)
                verdicts.append(
                    _verdict(row.scenario, row.tasks, "baseline", row.strategy, threshold, None, None, "not comparable")
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
                _verdict(
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


# --- the whole gate -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gate:
    """What ``iobench check`` prints and returns: verdicts on stdout, warnings and problems on stderr, the code."""

    verdicts: tuple[Verdict, ...]
    warnings: tuple[str, ...]
    """Lines starting 'warning: ': comparisons made with care, baseline rows missing (without strict)."""
    problems: tuple[str, ...]
    """Why the run itself failed (see ``run_problems``)."""
    code: int
    """The exit code (module docstring)."""


def judge(
    results: ResultsFile,
    baseline: ResultsFile | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    strict: bool = False,
    source: str = "results",
    baseline_source: str = "the baseline",
) -> Gate:
    """Expectations, then the baseline: verdicts, warnings, run problems and the exit code of ``iobench check``.

    A UsageError when there is nothing to check (``source`` and ``baseline_source`` name the files in it).
    """
    verdicts = judge_expectations(results)
    warnings: list[str] = []
    missing: list[Missing] = []
    if baseline is not None:
        compared = judge_baseline(results, baseline, tolerance)
        verdicts += compared
        theirs = {s.scenario.name: s for s in baseline.scenarios}
        environment = environment_mismatch(results, baseline)
        notes = [environment_note(results, baseline)]
        notes += [f"warning: {environment}; every baseline comparison is inconclusive" if environment else None]
        for result in results.scenarios:
            base = theirs.get(result.scenario.name)
            if base is None:
                notes.append(f"warning: scenario {result.scenario.name} has no baseline; only its expectations count")
                continue
            notes.append(definition_note(result, base))
            mismatch = definition_mismatch(result, base)
            notes.append(f"warning: {mismatch}; its baseline comparisons are inconclusive" if mismatch else None)
        warnings += [note for note in notes if note]
        missing = missing_rows(results, baseline)
        if strict:
            verdicts += [_missing_verdict(row) for row in missing]
        else:
            warnings += [f"warning: {row}; it was not checked (a failure with --strict)" for row in missing]
        if not compared and not missing and not verdicts and not run_problems(results):
            raise UsageError(
                f"{source}: nothing to check: no scenario has an 'expect:' block and {baseline_source} "
                "has no speedup to compare with"
            )
    elif not verdicts and not run_problems(results):
        raise UsageError(f"{source}: nothing to check: no scenario has an 'expect:' block and no --baseline was given")
    return Gate(tuple(verdicts), tuple(warnings), tuple(run_problems(results)), exit_code(verdicts, results, strict))


def _missing_verdict(row: Missing) -> Verdict:
    """A baseline row missing from the results, as a failed verdict (``judge`` with strict)."""
    return Verdict(row.scenario, row.tasks or 0, "baseline", row.strategy, None, None, "in the baseline", "fail",
                   str(row), None, "missing from the results")  # fmt: skip


def run_problems(results: ResultsFile) -> list[str]:
    """Why the run itself failed, one line each: an incomplete file, scenarios whose outcome is not 'ok'."""
    problems = [] if results.complete else ["the results file is incomplete (the run was interrupted or crashed)"]
    for result in results.scenarios:
        if result.outcome != "ok":
            reason = f": {result.reason}" if result.reason else ""
            problems.append(f"scenario {result.scenario.name} {result.outcome}{reason}")
    return problems


def exit_code(verdicts: Sequence[Verdict], results: ResultsFile, strict: bool = False) -> int:
    """3 if the run failed (``run_problems``), else 1 if a check failed (strict: or was inconclusive), else 4 if one
    was inconclusive, else 0."""
    if run_problems(results):
        return 3
    if any(v.verdict == "fail" for v in verdicts):
        return 1
    if any(v.verdict == "inconclusive" for v in verdicts):
        return 1 if strict else INCONCLUSIVE
    return 0


def tally(verdicts: Sequence[Verdict]) -> str:
    """``'3 passed, 1 failed, 0 inconclusive'``."""
    counts = {outcome: sum(v.verdict == outcome for v in verdicts) for outcome in MARKS}
    return f"{counts['pass']} passed, {counts['fail']} failed, {counts['inconclusive']} inconclusive"


def _cells(v: Verdict) -> tuple[str, str, str, str, str, str, str]:
    figure = v.missing if v.figure is None else _format_figure(v.kind, v.figure)
    interval = _format_interval(v.interval, v.kind)
    if interval and v.kind == "baseline" and v.level is not None:
        interval += f" at {format_level(v.level)}"
    measured = " ".join(part for part in (_describe(v.kind), figure, interval) if part)
    tasks = f"{v.tasks} tasks" if v.tasks else ""
    return MARKS[v.verdict], v.scenario, tasks, v.subject, measured, v.bound, v.verdict


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """The mark, then the cells padded to their column's width, two spaces apart (also ``bench.compare``'s)."""
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(len(rows[0]))] if rows else []
    return [
        f"{row[0]} " + "  ".join(cell.ljust(width) for cell, width in zip(row[1:], widths[1:], strict=True)).rstrip()
        for row in rows
    ]


def format_lines(verdicts: Sequence[Verdict]) -> list[str]:
    """One aligned line per check, then the tally:

    ✓ seed  10 tasks  gather  speedup 6.31x [6.12, 6.40]  >= 4  pass
    1 passed, 0 failed, 0 inconclusive
    """
    return [*aligned([_cells(v) for v in verdicts]), tally(verdicts)]


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def format_markdown(verdicts: Sequence[Verdict], note: str | None = None) -> str:
    """A Markdown table of the verdicts (for ``$GITHUB_STEP_SUMMARY``), the note quoted above it, the tally below."""
    parts = ["## iobench check", ""]
    if note:
        parts += [f"> {_md(note)}", ""]
    if verdicts:
        parts += [
            "| | scenario | tasks | strategy | check | measured | interval | bound | verdict |",
            "|---|---|---:|---|---|---:|---|---|---|",
        ]
        for v in verdicts:
            figure = v.missing if v.figure is None else _format_figure(v.kind, v.figure)
            interval = f"{format_level(v.level or 0.0)} {_format_interval(v.interval, v.kind)}" if v.interval else "—"
            cells = (
                MARKS[v.verdict],
                v.scenario,
                str(v.tasks),
                v.subject,
                _describe(v.kind),
                figure,
                interval,
                f"`{v.bound}`",
                f"**{v.verdict}**" if v.verdict != "pass" else v.verdict,
            )
            parts.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
        parts.append("")
    parts.append(tally(verdicts))
    return "\n".join(parts) + "\n"
