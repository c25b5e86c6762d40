"""Summary rows -> the text of each figure: one small function per figure, the number formats, and ``Cells``, a
row's every figure keyed by column. What the tables (``bench.report``), the Markdown, the HTML report and the charts
print for a number comes from here.

    row_cells(row, measured=True).figures["speedup [CI]"]   # '4.87x [4.61–5.02]'
    fmt_seconds(0.1873), fmt_sig(12_400), fmt_level(0.9375)  # '187.3 ms', '12,400', 'CI 93%'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bench.results.records import ScenarioResult
from bench.results.stats import format_level
from bench.results.summary import BASELINE, Summary

NA = "-"
"""Mark of a figure that is not available; a note below the table says why."""
UNEXPLAINED = "!"
"""Mark of a figure the model cannot explain; a note below the table says why."""


# --- figures of one row: small functions, each reading one thing from the Summary --------------------------------


def wall_level(row: Summary) -> float:
    """The confidence the median wall time's interval really reaches (order statistics; see bench.results.stats)."""
    return row.wall_ci_level


def speedup_level(row: Summary) -> float | None:
    """The confidence of the speedup's interval, None without one."""
    return row.speedup_ci_level


def rate_per_s(row: Summary) -> float | None:
    """Tasks completed per second of the median run, when every run completed."""
    return row.requests_per_s


def latency_percentiles_ms(row: Summary) -> tuple[float, float, float] | None:
    """p50, p90, p99 of the per-task latency (end - created) in ms, None when no task ended ok."""
    lat = row.latency_ms
    return (lat[50], lat[90], lat[99]) if {50, 90, 99} <= lat.keys() else None


def missing_reason(row: Summary, rate_name: str = "req/s") -> str | None:
    """Why figures of this row are withheld: all those from runs with failed tasks, else the speedup alone."""
    if not row.missing_reason:
        return None
    if row.complete_runs < row.runs:
        return (
            f"{row.missing_reason} ({_errors(row)}); no speedup, efficiency, queueing or {rate_name} is computed "
            "from them"
        )
    return row.missing_reason  # its own runs completed: only the speedup is missing (e.g. sequential failed)


def speedup_measured(rows: Sequence[Summary]) -> bool:
    """Whether the table has a sequential row, so speedups are over it (else over the ideal sequential time, ``*``)."""
    return any(r.speedup is not None or r.strategy == BASELINE for r in rows)


def unexplained(row: Summary) -> str | None:
    """Why the model cannot explain this row, or None: efficiency above 100%, queueing below 0 beyond its interval."""
    return row.unexplained


# --- formatting ---------------------------------------------------------------------------------------------------


def fmt_seconds(seconds: float) -> str:
    """A duration with a unit chosen for it: ``1.234 s``, ``187.3 ms``, ``912 us``."""
    if abs(seconds) >= 1:
        return f"{seconds:.3f} s"
    if abs(seconds) >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def fmt_range(low: float, high: float) -> str:
    """``2.084–2.091 s``: both ends in the unit of the larger."""
    unit, scale = ("s", 1.0) if high >= 1 else ("ms", 1e3) if high >= 1e-3 else ("us", 1e6)
    digits = 3 if unit == "s" else 1 if unit == "ms" else 0
    return f"{low * scale:.{digits}f}–{high * scale:.{digits}f} {unit}"


def fmt_ratio(value: float | None) -> str:
    """``4.87x``, or ``-`` when there is nothing to compare with."""
    return NA if value is None else f"{value:.2f}x"


def fmt_level(level: float) -> str:
    """A confidence level as a table heads its interval: ``CI 93%`` (``bench.results.stats.format_level``)."""
    return f"CI {format_level(level)}"


def fmt_sig(value: float) -> str:
    """Three significant digits, without exponents for everyday magnitudes: 0.0321, 5.08, 15.0, 580, 12,400."""
    return f"{value:,.0f}" if abs(float(f"{value:.3g}")) >= 100 else f"{value:#.3g}"


def fmt_percentiles(values_ms: tuple[float, float, float] | None) -> str:
    """``21.3/22.1/24.5 ms``: three percentiles in one unit, three significant digits each."""
    if values_ms is None:
        return NA
    return "/".join(fmt_sig(v) for v in values_ms) + " ms"


def _errors(row: Summary) -> str:
    parts = []
    if row.failed_tasks:
        parts.append(f"{row.failed_tasks} failed")
    if row.cancelled_tasks:
        parts.append(f"{row.cancelled_tasks} cancelled")
    return ", ".join(parts) or "0"


def _speedup(row: Summary, measured: bool, one_level: bool) -> str:
    if not measured:
        return NA if row.speedup_vs_ideal_sequential is None else fmt_ratio(row.speedup_vs_ideal_sequential) + "*"
    if row.name == "sequential" and not row.params and row.speedup is not None:
        return "1.00x"
    if row.speedup is None:
        return NA
    mark = UNEXPLAINED if "a speedup above the task count" in (unexplained(row) or "") else ""
    if row.speedup_ci is None:  # one round: a figure, no interval
        return fmt_ratio(row.speedup) + mark
    low, high = row.speedup_ci
    level = speedup_level(row)
    prefix = "" if one_level or level is None else fmt_level(level) + " "
    return f"{fmt_ratio(row.speedup)} [{prefix}{low:.2f}–{high:.2f}]{mark}"


def _interval(row: Summary, one_level: bool) -> str:
    if row.runs < 2:
        return NA
    prefix = "" if one_level else fmt_level(wall_level(row)) + " "
    return prefix + fmt_range(*row.wall_ci_s)


def _flag(text: str, row: Summary, figure: str) -> str:
    """``text`` marked with ``!`` when the model cannot explain ``figure`` of this row."""
    if text == NA:
        return text
    reason = unexplained(row) or ""
    if figure == "eff." and "faster than the ideal" in reason:
        return text + UNEXPLAINED
    if figure == "queueing" and "negative queueing" in reason:
        return text + UNEXPLAINED
    if figure == "queueing" and row.residual_kind != "queueing":
        return f"({text})"  # one request at a time: nothing queues, the remainder is model error
    return text


@dataclass(frozen=True)
class Cells:
    """The text of every figure of one summary row, keyed by column header."""

    tasks: str
    strategy: str
    figures: dict[str, str]
    """Figure name (FIGURES) -> text."""
    failed: bool
    """Some task did not finish ok."""


FIGURES = (
    "median", "CI", "speedup [CI]", "ideal", "overhead", "queueing", "eff.", "conc.", "cpu", "req/s", "p50/p90/p99",
    "errors",
)  # fmt: skip
"""The figures of a row, in the wide table's order."""
MAIN = ("median", "CI", "speedup [CI]", "eff.", "errors")
"""The figures the compact layout keeps on the strategy's own line."""


def row_cells(row: Summary, measured: bool, one_level: bool = True) -> Cells:
    """The text of every figure of one summary row; ``one_level``: the header states the interval level."""
    rate = rate_per_s(row)
    queueing = NA if row.residual_s is None else fmt_seconds(row.residual_s)
    efficiency = NA if row.efficiency is None else f"{row.efficiency:.0%}"
    return Cells(
        tasks=str(row.tasks),
        strategy=row.strategy,
        figures={
            "median": fmt_seconds(row.wall_median_s),
            "CI": _interval(row, one_level),
            "speedup [CI]": _speedup(row, measured, one_level),
            "ideal": NA if row.ideal_s is None else fmt_seconds(row.ideal_s),
            "overhead": NA if row.overhead_s is None else fmt_seconds(row.overhead_s),
            "queueing": _flag(queueing, row, "queueing"),
            "eff.": _flag(efficiency, row, "eff."),
            "conc.": NA if row.achieved_concurrency is None else fmt_sig(row.achieved_concurrency),
            "cpu": NA if row.cpu_busy is None else f"{row.cpu_busy:.0%}",
            "req/s": NA if rate is None else fmt_sig(rate),
            "p50/p90/p99": fmt_percentiles(latency_percentiles_ms(row)),
            "errors": _errors(row),
        },
        failed=bool(row.failed_tasks or row.cancelled_tasks),
    )


def headers(rows: Sequence[Summary], rate_name: str = "req/s") -> dict[str, str]:
    """Column header of each figure: the interval level in the header when every row has the same one."""
    wall = {wall_level(r) for r in rows if r.runs >= 2}
    speed = {level for r in rows if (level := speedup_level(r)) is not None}
    return {
        "median": "median",
        "CI": fmt_level(wall.pop()) if len(wall) == 1 else "CI",
        "speedup [CI]": f"speedup [{fmt_level(speed.pop())}]" if len(speed) == 1 else "speedup [CI]",
        "ideal": "ideal",
        "overhead": "overhead",
        "queueing": "queueing",
        "eff.": "eff.",
        "conc.": "conc.",
        "cpu": "cpu",
        "req/s": rate_name,
        "p50/p90/p99": "p50/p90/p99",
        "errors": "errors",
    }


def one_level(rows: Sequence[Summary]) -> bool:
    """Whether every interval of the table has the same level (then the header states it, not each cell)."""
    walls = {wall_level(r) for r in rows if r.runs >= 2}
    speeds = {level for r in rows if (level := speedup_level(r)) is not None}
    return len(walls) <= 1 and len(speeds) <= 1


def rate_header(result: ScenarioResult) -> str:
    """The rate column's header, as the target's driver names its unit: req/s for requests, tasks/s for the rest."""
    return result.driver.rate_unit if result.driver is not None else "tasks/s"
