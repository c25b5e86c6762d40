"""One check and its verdict: the interval rule that decides it, and the line that says what was decided.

    decide(Threshold.model_validate(">= 3"), 3.4, (2.9, 3.8))   # 'inconclusive': the interval straddles 3
    make_verdict("seed", 10, "speedup", "gather", threshold, 6.31, ((6.12, 6.40), 0.95)).message

The interval rule: a check is decided on an interval of its figure, not on the point estimate, so a noisy run rarely
passes or fails by luck. For a lower bound (``>=``, ``>``) it passes when every value of the interval satisfies the
bound, fails when none does, and is inconclusive when the interval straddles it; upper bounds (``<``, ``<=``) mirror
that. A figure without an interval (the error rate, a count) is judged on its point. This is the
test-by-confidence-interval duality of J. Neyman, "Outline of a Theory of Statistical Estimation Based on the Classical
Theory of Probability" (Phil. Trans. R. Soc. A 236, 1937): a bound outside an interval of level 1 - a is one the dual
two-sided test rejects at level a; inside it, neither side is shown, so the verdict says so instead of guessing. Every
interval is distribution-free and printed with the level it reaches (``bench.results.stats``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from bench.scenario.expectations import Threshold

Kind = Literal["speedup", "efficiency", "error_rate", "baseline"]
Outcome = Literal["pass", "fail", "inconclusive"]
Interval = tuple[float, float]


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


def format_figure(kind: Kind, value: float) -> str:
    match kind:
        case "speedup":
            return f"{value:.2f}x"
        case "baseline":
            return f"{value:.3f}"
        case "efficiency":
            return f"{value:.2f}"
        case "error_rate":
            return f"{value:.2%}"


def format_interval(interval: Interval | None, kind: Kind = "speedup") -> str:
    digits = 3 if kind == "baseline" else 2
    return "" if interval is None else f"[{interval[0]:.{digits}f}, {interval[1]:.{digits}f}]"


def format_level(level: float) -> str:
    """``0.95`` -> ``'95%'``, ``0.9375`` -> ``'93.8%'``: the confidence as printed."""
    return f"{level * 100:.3g}%"


def describe(kind: Kind) -> str:
    names = {"speedup": "speedup", "efficiency": "efficiency", "error_rate": "error rate"}
    return names.get(kind, "speedup vs baseline")


def _message(v: Verdict, why: str = "") -> str:
    """``tiny, 10 tasks: gather speedup 8.97x, whole 95% interval [8.57, 9.27] meets >= 3``."""
    what = describe(v.kind) if v.subject == "all" else f"{v.subject} {describe(v.kind)}"
    head = f"{v.scenario}, {v.tasks} tasks: {what}"
    if v.figure is None:
        if v.verdict == "fail":
            return f"{head}: {v.missing}; no {describe(v.kind)} is computed from them"
        return f"{head} {v.missing}; cannot check {v.bound}"
    head = f"{head} {format_figure(v.kind, v.figure)}"
    if why:
        return f"{head}; not compared with {v.bound}: {why}"
    if v.interval is None:
        return f"{head} {'meets' if v.verdict == 'pass' else 'misses'} {v.bound}"
    span = f"{format_level(v.level or 0.0)} interval {format_interval(v.interval, v.kind)}"
    match v.verdict:
        case "pass":
            return f"{head}, whole {span} meets {v.bound}"
        case "fail":
            return f"{head}, whole {span} misses {v.bound}"
        case "inconclusive":
            return f"{head}, {span} straddles {v.bound}; more repeats would decide"


def make_verdict(
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
