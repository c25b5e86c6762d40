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


def limits_note(result: ScenarioResult) -> str:
    """One line on the concurrency caps in force, so nobody mistakes a cap for the I/O's limit."""
    limit = result.scenario.connector_limit
    connector = f"connector limit {limit}" if limit else "connector limit: none (aiohttp's default of 100 is lifted)"
    return f"{connector}; loop: {result.scenario.loop}"


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
    table = Table(title=title, caption=limits_note(result), title_justify="left", caption_justify="left")
    table.add_column("tasks", justify="right")
    table.add_column("strategy")
    table.add_column("median", justify="right")
    table.add_column("min – max", justify="right", no_wrap=True)
    table.add_column("speedup", justify="right")
    table.add_column("ideal", justify="right")
    table.add_column("efficiency", justify="right")
    table.add_column("errors", justify="right")
    previous = None
    for row in summarise(result):
        table.add_row(
            str(row.tasks) if row.tasks != previous else "",
            row.strategy,
            fmt_seconds(row.wall_median_s),
            f"{fmt_seconds(row.wall_min_s)} – {fmt_seconds(row.wall_max_s)}",
            fmt_ratio(row.speedup),
            fmt_seconds(row.ideal_s),
            f"{row.efficiency:.0%}",
            _errors_cell(row),
            end_section=False,
        )
        previous = row.tasks
    return table
