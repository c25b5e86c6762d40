"""Summaries -> rich renderables. Nothing here prints; the CLI does.

console.print(scenario_table(result))
"""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from bench.results import ScenarioResult
from bench.summary import Summary, summarise


def fmt_seconds(seconds: float) -> str:
    """A duration with a unit chosen for it: ``1.234 s``, ``187.3 ms``, ``912 us``."""
    if seconds >= 1:
        return f"{seconds:.3f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def fmt_ratio(value: float | None) -> str:
    """``4.87x``, or an em dash when there is nothing to compare with."""
    return "—" if value is None else f"{value:.2f}x"


def limits_note(result: ScenarioResult, rows: list[Summary]) -> str:
    """Lines on the concurrency caps in force and which of them bound, so nobody mistakes a cap for the I/O."""
    limit = result.scenario.connector_limit
    connector = f"connector limit {limit}" if limit else "connector limit: none (aiohttp's default of 100 is lifted)"
    lines = [f"{connector}; loop: {result.scenario.loop}"]
    for row in rows:
        if row.bound_by:
            waited = f" ({row.peak_queued} tasks waited for a connection at once)" if row.peak_queued else ""
            lines.append(f"{row.strategy} at {row.tasks} tasks was capped by its {row.bound_by}{waited}")
    if rows and all(r.speedup is None for r in rows) and any(r.speedup_vs_ideal_sequential for r in rows):
        lines.append("speedup*: over the ideal sequential time (sum of the delays); no sequential run was measured")
    return "\n".join(lines)


def _errors_cell(row: Summary) -> Text:
    if not row.failed_tasks and not row.cancelled_tasks:
        return Text("0", style="green")
    parts = []
    if row.failed_tasks:
        parts.append(f"{row.failed_tasks} failed")
    if row.cancelled_tasks:
        parts.append(f"{row.cancelled_tasks} cancelled")
    return Text(", ".join(parts), style="red")


def scenario_table(result: ScenarioResult) -> Table:
    """The table of one scenario: time, spread, speedup over sequential, ideal time and efficiency."""
    sc = result.scenario
    title = f"{sc.name}" + (f" — {sc.description}" if sc.description else "")
    if result.outcome != "ok":
        title += f"  [{result.outcome}{': ' + result.reason if result.reason else ''}]"
    rows = summarise(result)
    measured = any(r.speedup is not None for r in rows)
    table = Table(title=title, caption=limits_note(result, rows), title_justify="left", caption_justify="left")
    table.add_column("tasks", justify="right")
    table.add_column("strategy")
    table.add_column("median", justify="right")
    table.add_column("min – max", justify="right", no_wrap=True)
    table.add_column("speedup" if measured else "speedup*", justify="right")
    table.add_column("ideal", justify="right")
    table.add_column("efficiency", justify="right")
    table.add_column("errors", justify="right")
    previous = None
    for row in rows:
        table.add_row(
            str(row.tasks) if row.tasks != previous else "",
            row.strategy,
            fmt_seconds(row.wall_median_s),
            f"{fmt_seconds(row.wall_min_s)} – {fmt_seconds(row.wall_max_s)}",
            fmt_ratio(row.speedup if measured else row.speedup_vs_ideal_sequential),
            "—" if row.ideal_s is None else fmt_seconds(row.ideal_s),
            "—" if row.efficiency is None else f"{row.efficiency:.0%}",
            _errors_cell(row),
            end_section=False,
        )
        previous = row.tasks
    return table
