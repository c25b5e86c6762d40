"""Expectations and baselines -> verdicts (pass / fail / inconclusive) -> exit code; pure functions, no printing.

    verdicts = judge_expectations(results) + judge_baseline(results, read_results(baseline_path))
    format_lines(verdicts)   # ['✓ seed  10 tasks  gather  speedup 6.31x [6.12, 6.40]  >= 4  pass', ...]
    exit_code(verdicts, results)

Exit codes of ``iobench check``:
    0  every check passed (inconclusive ones too, unless strict)
    1  a check failed (with strict: or was inconclusive)
    2  bad usage or input (unreadable results file, a baseline of other scenarios)
    3  the run itself failed (a scenario's outcome is not 'ok', or the results file is incomplete)

The interval rule: a check is decided on the bootstrap 95% interval of its figure, not on the point estimate, so a
noisy run rarely passes or fails by luck. For a lower bound (``>=``, ``>``) it passes when every value of the interval
satisfies the bound, fails when none does, and is inconclusive when the interval straddles it; upper bounds
(``<``, ``<=``) mirror that. A figure without an interval (the error rate, a count) is judged on its point.
This is the test-by-confidence-interval duality of J. Neyman, "Outline of a Theory of Statistical Estimation Based
on the Classical Theory of Probability" (Phil. Trans. R. Soc. A 236, 1937): a bound outside the 95% interval is one
the dual two-sided test rejects at about the 5% level (the percentile bootstrap interval is approximate); inside it,
neither side is shown, so the verdict says so instead of guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from bench.errors import ResultsError, UsageError
from bench.results import Environment, PointResult, ResultsFile, ScenarioResult
from bench.scenario import Threshold
from bench.summary import Summary, summarise

Kind = Literal["speedup", "efficiency", "error_rate", "baseline"]
Outcome = Literal["pass", "fail", "inconclusive"]

MARKS: dict[Outcome, str] = {"pass": "✓", "fail": "✗", "inconclusive": "?"}
"""The mark in front of each formatted line."""
DEFAULT_TOLERANCE = 0.10
"""How far below the baseline's median speedup a run may fall before its check fails (10%)."""


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
    """Point estimate: speedup (x), efficiency (ideal / measured) or error rate (fraction); None when not measured."""
    interval: tuple[float, float] | None
    """Bootstrap 95% interval (low, high) of the figure; None for a figure judged on its point."""
    bound: str
    """The bound as written, e.g. '>= 5', or for a baseline '>= 4.37 (baseline 4.85 - 10%)'."""
    verdict: Outcome
    message: str
    """One line naming the figure, its value and the bound."""


def decide(threshold: Threshold, figure: float, interval: tuple[float, float] | None = None) -> Outcome:
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
        case "speedup" | "baseline":
            return f"{value:.2f}x"
        case "efficiency":
            return f"{value:.2f}"
        case "error_rate":
            return f"{value:.2%}"


def _format_interval(interval: tuple[float, float] | None) -> str:
    return "" if interval is None else f"[{interval[0]:.2f}, {interval[1]:.2f}]"


def _describe(kind: Kind) -> str:
    return {"speedup": "speedup", "efficiency": "efficiency", "error_rate": "error rate", "baseline": "speedup"}[kind]


def _message(v: Verdict, missing: str) -> str:
    """``tiny, 10 tasks: gather speedup 8.97x, whole 95% interval [8.57, 9.27] meets >= 3``."""
    what = _describe(v.kind) if v.subject == "all" else f"{v.subject} {_describe(v.kind)}"
    head = f"{v.scenario}, {v.tasks} tasks: {what}"
    if v.figure is None:
        return f"{head} {missing}; cannot check {v.bound}"
    head = f"{head} {_format_figure(v.kind, v.figure)}"
    if v.interval is None:
        return f"{head} {'meets' if v.verdict == 'pass' else 'misses'} {v.bound}"
    span = f"95% interval {_format_interval(v.interval)}"
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
    interval: tuple[float, float] | None,
    missing: str = "not measured",
) -> Verdict:
    """Apply the interval rule; a figure that is None (not measured) is inconclusive."""
    if figure is None:
        interval = None
    outcome: Outcome = "inconclusive" if figure is None else decide(threshold, figure, interval)
    verdict = Verdict(scenario, tasks, kind, subject, figure, interval, threshold.text, outcome, "")
    return replace(verdict, message=_message(verdict, missing))


def efficiency_interval(row: Summary) -> tuple[float, float] | None:
    """ideal / wall over the wall time's interval: the ends swap, since a longer wall time means a lower efficiency."""
    if row.ideal_s is None:
        return None
    return row.ideal_s / row.wall_ci_s[1], row.ideal_s / row.wall_ci_s[0]


def error_rate(point: PointResult) -> float | None:
    """Failed tasks / all tasks over every run at this task count (cancelled tasks are not failures); None: no runs."""
    total = point.tasks * len(point.runs)
    return sum(run.failed for run in point.runs) / total if total else None


def expectation_tasks(result: ScenarioResult) -> int:
    """The task count a scenario's expectations apply to: ``expect.tasks``, or the largest."""
    return result.scenario.expect.tasks or max(result.scenario.tasks)


def judge_scenario(result: ScenarioResult) -> list[Verdict]:
    """Verdicts on one scenario's expectations: speedups, efficiencies, then the error rate."""
    expect = result.scenario.expect
    name, tasks = result.scenario.name, expectation_tasks(result)
    rows = {row.strategy: row for row in summarise(result) if row.tasks == tasks}
    verdicts = []
    for label, threshold in expect.speedup.items():
        row = rows.get(label)
        speedup = row.speedup if row else None
        interval = row.speedup_ci if row else None
        verdicts.append(_verdict(name, tasks, "speedup", label, threshold, speedup, interval))
    for label, threshold in expect.efficiency.items():
        row = rows.get(label)
        efficiency = row.efficiency if row else None
        interval = efficiency_interval(row) if row else None
        why = "has no ideal time (the target's delays are unknown)" if row else "not measured"
        verdicts.append(_verdict(name, tasks, "efficiency", label, threshold, efficiency, interval, why))
    if expect.error_rate is not None:
        point = next((p for p in result.points if p.tasks == tasks), None)
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


def judge_baseline(results: ResultsFile, baseline: ResultsFile, tolerance: float = DEFAULT_TOLERANCE) -> list[Verdict]:
    """Every (scenario, tasks, strategy) with a speedup in both files: speedup >= baseline median x (1 - tolerance).

    Sequential itself (speedup 1 by definition) is not checked. Both files must hold the same scenario names.
    """
    if not 0.0 <= tolerance < 1.0:
        raise UsageError(f"tolerance {tolerance:g} must be at least 0 and below 1")
    ours = [s.scenario.name for s in results.scenarios]
    theirs = [s.scenario.name for s in baseline.scenarios]
    if set(ours) != set(theirs):
        problems = []
        if only_ours := [n for n in ours if n not in theirs]:
            problems.append(f"missing from the baseline: {', '.join(only_ours)}")
        if only_theirs := [n for n in theirs if n not in ours]:
            problems.append(f"missing from the results: {', '.join(only_theirs)}")
        raise ResultsError(f"the baseline holds other scenarios than the results ({'; '.join(problems)})")
    base_rows = {
        (row.scenario, row.tasks, row.strategy): row for result in baseline.scenarios for row in summarise(result)
    }
    verdicts = []
    for result in results.scenarios:
        for row in summarise(result):
            base = base_rows.get((row.scenario, row.tasks, row.strategy))
            if row.name == "sequential" or row.speedup is None or base is None or base.speedup is None:
                continue
            floor = base.speedup * (1 - tolerance)
            threshold = Threshold(
                op=">=", value=floor, text=f">= {floor:.2f} (baseline {base.speedup:.2f} - {tolerance * 100:g}%)"
            )
            verdict = _verdict(
                row.scenario, row.tasks, "baseline", row.strategy, threshold, row.speedup, row.speedup_ci
            )
            verdicts.append(verdict)
    return verdicts


def _python(env: Environment) -> str:
    return env.python if env.implementation == "CPython" else f"{env.implementation} {env.python}"


def environment_note(results: ResultsFile, baseline: ResultsFile) -> str | None:
    """A warning when the baseline was recorded elsewhere (machine, CPU count, OS, Python); None when alike."""
    here, there = results.environment, baseline.environment
    differences = [
        f"{what} {theirs} in the baseline, {ours} in the results"
        for what, theirs, ours in (
            ("machine", there.machine, here.machine),
            ("CPU count", there.cpu_count, here.cpu_count),
            ("OS", there.os, here.os),
            ("Python", _python(there), _python(here)),
        )
        if theirs != ours
    ]
    if not differences:
        return None
    return f"warning: the baseline comes from another environment ({'; '.join(differences)}); compare with care"


def run_problems(results: ResultsFile) -> list[str]:
    """Why the run itself failed, one line each: an incomplete file, scenarios whose outcome is not 'ok'."""
    problems = [] if results.complete else ["the results file is incomplete (the run was interrupted or crashed)"]
    for result in results.scenarios:
        if result.outcome != "ok":
            reason = f": {result.reason}" if result.reason else ""
            problems.append(f"scenario {result.scenario.name} {result.outcome}{reason}")
    return problems


def exit_code(verdicts: Sequence[Verdict], results: ResultsFile, strict: bool = False) -> int:
    """3 if the run failed (see ``run_problems``), else 1 if a check failed (strict: or was inconclusive), else 0."""
    if run_problems(results):
        return 3
    failing = {"fail", "inconclusive"} if strict else {"fail"}
    return 1 if any(v.verdict in failing for v in verdicts) else 0


def tally(verdicts: Sequence[Verdict]) -> str:
    """``'3 passed, 1 failed, 0 inconclusive'``."""
    counts = {outcome: sum(v.verdict == outcome for v in verdicts) for outcome in MARKS}
    return f"{counts['pass']} passed, {counts['fail']} failed, {counts['inconclusive']} inconclusive"


def _cells(v: Verdict) -> tuple[str, str, str, str, str, str, str]:
    figure = "not measured" if v.figure is None else _format_figure(v.kind, v.figure)
    measured = " ".join(part for part in (_describe(v.kind), figure, _format_interval(v.interval)) if part)
    return MARKS[v.verdict], v.scenario, f"{v.tasks} tasks", v.subject, measured, v.bound, v.verdict


def format_lines(verdicts: Sequence[Verdict]) -> list[str]:
    """One aligned line per check, then the tally:

    ✓ seed  10 tasks  gather  speedup 6.31x [6.12, 6.40]  >= 4  pass
    1 passed, 0 failed, 0 inconclusive
    """
    rows = [_cells(v) for v in verdicts]
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(7)]
    lines = [
        f"{row[0]} " + "  ".join(cell.ljust(width) for cell, width in zip(row[1:], widths[1:], strict=True)).rstrip()
        for row in rows
    ]
    return [*lines, tally(verdicts)]


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def format_markdown(verdicts: Sequence[Verdict], note: str | None = None) -> str:
    """A Markdown table of the verdicts (for ``$GITHUB_STEP_SUMMARY``), the note quoted above it, the tally below."""
    parts = ["## iobench check", ""]
    if note:
        parts += [f"> {_md(note)}", ""]
    if verdicts:
        parts += [
            "| | scenario | tasks | strategy | check | measured | 95% interval | bound | verdict |",
            "|---|---|---:|---|---|---:|---|---|---|",
        ]
        for v in verdicts:
            figure = "not measured" if v.figure is None else _format_figure(v.kind, v.figure)
            cells = (
                MARKS[v.verdict],
                v.scenario,
                str(v.tasks),
                v.subject,
                "speedup vs baseline" if v.kind == "baseline" else _describe(v.kind),
                figure,
                _format_interval(v.interval) or "—",
                f"`{v.bound}`",
                f"**{v.verdict}**" if v.verdict != "pass" else v.verdict,
            )
            parts.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
        parts.append("")
    parts.append(tally(verdicts))
    return "\n".join(parts) + "\n"
