"""Two results files side by side (``iobench compare A B``): each row's change in wall time and in speedup.

    comparisons = compare(read_results("a.json"), read_results("b.json"), tolerance=0.05)
    format_comparisons(comparisons)   # ['✓ gate-http  10 tasks  gather  wall 103.1 -> 103.4 ms +0.3% [...]  ...']
    comparison_code(comparisons)      # 0, 1 (a row failed) or 4 (one was inconclusive), like ``iobench check``

Each change is the ratio B / A of two independent samples (A's runs and B's runs): the Hodges-Lehmann ratio of
locations with its distribution-free Mann-Whitney interval and the level that interval reaches
(``bench.results.stats.location_ratio``), on the per-run wall times and on the per-round speedups. It is judged by the
interval rule of ``bench.gate``: fail when the whole interval is worse than the tolerance, pass when none of it is,
inconclusive when it straddles the tolerance or the rows are not comparable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.gate.baseline import DEFAULT_TOLERANCE
from bench.gate.check import INCONCLUSIVE
from bench.gate.comparable import definition_mismatch, environment_mismatch
from bench.gate.expect import failed_runs
from bench.gate.format import MARKS, aligned
from bench.gate.rule import Interval, Outcome, format_level
from bench.results.records import ResultsFile
from bench.results.stats import location_ratio
from bench.results.summary import summarise_file


@dataclass(frozen=True)
class Change:
    """One figure in two files: before (A), after (B), their ratio and its interval."""

    before: float
    """A's median."""
    after: float
    """B's median."""
    ratio: float
    """B / A: the Hodges-Lehmann ratio of locations (``bench.results.stats.location_ratio``)."""
    interval: Interval | None
    """Interval of the ratio at ``level``; None with no values to compare."""
    level: float | None


@dataclass(frozen=True)
class Comparison:
    """One (scenario, task count, strategy) in two results files (``iobench compare A B``)."""

    scenario: str
    tasks: int
    strategy: str
    wall: Change | None
    """Median wall time; None when the row is in one file only."""
    speedup: Change | None
    """Median paired speedup; None for sequential, or when a side has none (failed runs, no sequential)."""
    verdict: Outcome
    """On the speedup (on the wall time for sequential): fail when the whole interval is worse than the tolerance,
    pass when none of it is, inconclusive when it straddles or the rows are not comparable."""
    message: str


def change(before: float, after: float, before_values: Sequence[float], after_values: Sequence[float]) -> Change:
    """The change from A's ``before_values`` (median ``before``) to B's ``after_values``: ratio, interval, level.

    >>> c = change(1.0, 0.9, [1.0, 1.1, 0.9], [0.9, 0.99, 0.81])
    >>> round(c.ratio, 3), c.level
    (0.9, 0.9)
    """
    if not before_values or not after_values:
        return Change(before, after, after / before, None, None)
    estimate = location_ratio(after_values, before_values)
    interval = estimate.interval
    return Change(before, after, estimate.ratio, (interval.low, interval.high), interval.level)


def _pct(ratio: float) -> str:
    return f"{(ratio - 1) * 100:+.1f}%"


def _change_text(change: Change, unit: str) -> str:
    """``'16.25x -> 15.90x -2.2% [-8.0%, +3.1%]'``."""
    if unit == "ms":
        values = f"{change.before * 1000:.1f} -> {change.after * 1000:.1f} ms"
    else:
        values = f"{change.before:.2f}x -> {change.after:.2f}x"
    span = f" [{_pct(change.interval[0])}, {_pct(change.interval[1])}]" if change.interval else ""
    return f"{values} {_pct(change.ratio)}{span}"


def _judge_change(change: Change, worse_is_lower: bool, tolerance: float) -> tuple[Outcome, str]:
    """The interval rule on a ratio: fail when all of it is worse than the tolerance, pass when none of it is."""
    limit = 1 - tolerance if worse_is_lower else 1 + tolerance
    limit_text = f"{'-' if worse_is_lower else '+'}{tolerance * 100:g}%"
    low, high = change.interval or (change.ratio, change.ratio)
    worst, best = (low, high) if worse_is_lower else (high, low)
    span = f"{format_level(change.level)} interval " if change.level is not None else ""
    span += f"[{_pct(low)}, {_pct(high)}]" if change.interval else _pct(change.ratio)

    def beyond(ratio: float) -> bool:
        return ratio < limit if worse_is_lower else ratio > limit

    if not beyond(worst):
        return "pass", f"whole {span} within the {limit_text} tolerance"
    if beyond(best):
        return "fail", f"whole {span} worse than {limit_text}"
    return "inconclusive", f"{span} straddles {limit_text}; more repeats would decide"


def compare(a: ResultsFile, b: ResultsFile, tolerance: float = DEFAULT_TOLERANCE) -> list[Comparison]:
    """Each (scenario, task count, strategy) of A and B, matched by scenario name, task count and label, in B's
    order then A's leftovers. Another definition (``definition_mismatch``) or environment makes a row inconclusive."""
    environment = environment_mismatch(b, a)
    rows_of = {
        result.scenario.name: rows for result, rows in zip(a.scenarios, summarise_file(a).scenarios, strict=True)
    }
    b_rows = summarise_file(b).scenarios
    a_results = {s.scenario.name: s for s in a.scenarios}
    b_names = {s.scenario.name for s in b.scenarios}
    seen: set[tuple[str, int, str]] = set()
    out = []
    for result, b_rows_of in zip(b.scenarios, b_rows, strict=True):
        before = a_results.get(result.scenario.name)
        why = environment or (definition_mismatch(result, before) if before else None)
        rows_a = {(r.tasks, r.strategy): r for r in rows_of[result.scenario.name]} if before else {}
        failed_a = {p.tasks: p for p in before.points} if before else {}
        for row in b_rows_of:
            seen.add((row.scenario, row.tasks, row.strategy))
            point = next(p for p in result.points if p.tasks == row.tasks)
            old = rows_a.get((row.tasks, row.strategy))
            head = f"{row.scenario}, {row.tasks} tasks: {row.strategy}"
            if old is None:
                out.append(
                    Comparison(
                        row.scenario, row.tasks, row.strategy, None, None, "inconclusive", f"{head} is only in B"
                    )
                )
                continue
            wall = change(old.wall_median_s, row.wall_median_s, old.wall_values_s, row.wall_values_s)
            failed_b = failed_runs(point, row.strategy, with_sequential=True)
            failed_old = failed_runs(failed_a[row.tasks], row.strategy, with_sequential=True)
            speedup = None
            if row.name != "sequential" and not failed_b and not failed_old and old.speedup and row.speedup:
                speedup = change(old.speedup, row.speedup, old.speedup_values, row.speedup_values)
            parts = [f"wall {_change_text(wall, 'ms')}"] + (
                [f"speedup {_change_text(speedup, 'x')}"] if speedup else []
            )
            figures = f"{head} {', '.join(parts)}"
            verdict: Outcome
            if failed_b:
                verdict, text = "fail", f"{figures}; {failed_b} in B, so no speedup is computed from them"
            elif failed_old:
                verdict, text = "inconclusive", f"{figures}; {failed_old} in A, so there is nothing to compare with"
            elif why:
                verdict, text = "inconclusive", f"{figures}; not compared: {why}"
            else:
                judged, word = (speedup, "speedup") if speedup else (wall, "wall time")
                verdict, reason = _judge_change(judged, worse_is_lower=speedup is not None, tolerance=tolerance)
                text = f"{figures}; {word} {reason}"
            out.append(Comparison(row.scenario, row.tasks, row.strategy, wall, speedup, verdict, text))
    for result in a.scenarios:
        for row in rows_of[result.scenario.name]:
            if (row.scenario, row.tasks, row.strategy) not in seen:
                where = "" if row.scenario in b_names else " (its scenario is not in B)"
                text = f"{row.scenario}, {row.tasks} tasks: {row.strategy} is only in A{where}"
                out.append(Comparison(row.scenario, row.tasks, row.strategy, None, None, "inconclusive", text))
    return out


def comparison_code(comparisons: Sequence[Comparison], strict: bool = False) -> int:
    """1 if a row failed (strict: or was inconclusive), else 4 if one was inconclusive, else 0."""
    if any(c.verdict == "fail" for c in comparisons):
        return 1
    if any(c.verdict == "inconclusive" for c in comparisons):
        return 1 if strict else INCONCLUSIVE
    return 0


def format_comparisons(comparisons: Sequence[Comparison]) -> list[str]:
    """One aligned line per row, then the tally:

    ✓ gate-http  20 tasks  gather  wall 53.9 -> 55.1 ms +2.2% [-1.0%, +5.3%]  speedup 16.25x -> 15.90x -2.2% [...]  pass
    """
    rows = [
        (
            MARKS[c.verdict],
            c.scenario,
            f"{c.tasks} tasks",
            c.strategy,
            f"wall {_change_text(c.wall, 'ms')}" if c.wall else "only in one file",
            f"speedup {_change_text(c.speedup, 'x')}" if c.speedup else "",
            c.verdict,
        )
        for c in comparisons
    ]
    counts = {outcome: sum(c.verdict == outcome for c in comparisons) for outcome in MARKS}
    return [*aligned(rows), f"{counts['pass']} passed, {counts['fail']} failed, {counts['inconclusive']} inconclusive"]
