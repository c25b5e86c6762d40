"""The gate: expectations and baselines -> verdicts (pass / fail / inconclusive) -> exit code; pure, no printing.

    gate = judge(results, read_results(baseline_path), tolerance=0.05)   # verdicts, warnings, problems, code
    format_lines(gate.verdicts)   # ['✓ seed  10 tasks  gather  speedup 6.31x [6.12, 6.40]  >= 4  pass', ...]

(``bench.gate.compare`` puts two results files side by side with the same rule.)

Exit codes of ``iobench check`` (``Gate.code``):
    0  every check passed
    1  a check failed (with strict: or was inconclusive, or a baseline row is missing from the results)
    2  bad usage or input (unreadable results file, a baseline sharing no scenario with the results)
    3  the run itself failed (a scenario's outcome is not 'ok', or the results file is incomplete)
    4  no check failed, but one was inconclusive: the gate could not decide (see its message)

The interval rule and the verdict record are ``bench.gate.rule``; the expectations ``bench.gate.expect``; the
baseline ``bench.gate.baseline``; the text ``bench.gate.format``. Every name they offer is re-exported here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.errors import UsageError
from bench.gate.baseline import (
    DEFAULT_TOLERANCE,
    Missing,
    judge_baseline,
    missing_rows,
)
from bench.gate.comparable import definition_mismatch, definition_note, environment_mismatch, environment_note
from bench.gate.expect import (
    judge_expectations,
)
from bench.gate.rule import Verdict
from bench.results.records import ResultsFile
from bench.results.summary import Summaries, summarise_file

INCONCLUSIVE = 4
"""Exit code when no check failed but one could not be decided."""


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
    summaries: Summaries | None = None,
    baseline_summaries: Summaries | None = None,
    tolerance: float = DEFAULT_TOLERANCE,
    strict: bool = False,
    source: str = "results",
    baseline_source: str = "the baseline",
) -> Gate:
    """Expectations, then the baseline: verdicts, warnings, run problems and the exit code of ``iobench check``.

    A UsageError when there is nothing to check (``source`` and ``baseline_source`` name the files in it).
    """
    summaries = summaries or summarise_file(results)
    verdicts = judge_expectations(results, summaries)
    warnings: list[str] = []
    missing: list[Missing] = []
    if baseline is not None:
        baseline_summaries = baseline_summaries or summarise_file(baseline)
        compared = judge_baseline(
            results, baseline, tolerance, summaries=summaries, baseline_summaries=baseline_summaries
        )
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
