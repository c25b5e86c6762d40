"""Summaries -> rich tables and Markdown. Nothing here prints; the CLI does.

console.print(scenario_table(result))
Path("results/report.md").write_text(markdown_report(results))
"""

from __future__ import annotations

from rich import box
from rich.table import Table
from rich.text import Text

from bench.results import ResultsFile, ScenarioResult
from bench.summary import Summary, summarise

COLUMNS = (
    "tasks",
    "strategy",
    "median",
    "95% CI",
    "speedup [95% CI]",
    "ideal",
    "overhead",
    "queueing",
    "eff.",
    "errors",
)
"""Columns of the table, in order; the Markdown report uses the same."""


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
    """``4.87x``, or an em dash when there is nothing to compare with."""
    return "—" if value is None else f"{value:.2f}x"


def _speedup(row: Summary, measured: bool) -> str:
    if not measured:
        return fmt_ratio(row.speedup_vs_ideal_sequential) + "*"
    if row.speedup is None or row.speedup_ci is None:
        return "—"
    if row.name == "sequential" and not row.params:
        return "1.00x"
    low, high = row.speedup_ci
    return f"{fmt_ratio(row.speedup)} [{low:.2f}–{high:.2f}]"


def _errors(row: Summary) -> str:
    parts = []
    if row.failed_tasks:
        parts.append(f"{row.failed_tasks} failed")
    if row.cancelled_tasks:
        parts.append(f"{row.cancelled_tasks} cancelled")
    return ", ".join(parts) or "0"


def row_cells(row: Summary, measured: bool) -> list[str]:
    """The text of every column for one summary row."""
    return [
        str(row.tasks),
        row.strategy,
        fmt_seconds(row.wall_median_s),
        fmt_range(*row.wall_ci_s),
        _speedup(row, measured),
        "—" if row.ideal_s is None else fmt_seconds(row.ideal_s),
        "—" if row.overhead_s is None else fmt_seconds(row.overhead_s),
        "—" if row.residual_s is None else fmt_seconds(row.residual_s),
        "—" if row.efficiency is None else f"{row.efficiency:.0%}",
        _errors(row),
    ]


def notes(result: ScenarioResult, rows: list[Summary]) -> list[str]:
    """What a reader must know beside the numbers: caps in force and which bound, calibration, noise."""
    limit = result.scenario.connector_limit
    connector = f"connector limit {limit}" if limit else "connector limit: none (aiohttp's default of 100 is lifted)"
    lines = [f"{connector}; loop: {result.scenario.loop}"]
    if result.calibration_rtt_ms is not None:
        lines.append(
            f"per-request overhead: {result.calibration_rtt_ms:.3f} ms, measured (overhead = that x requests in a "
            "row; queueing = median - ideal - overhead)"
        )
    for row in rows:
        if row.bound_by:
            waited = f" ({row.peak_queued} tasks waited for a connection at once)" if row.peak_queued else ""
            lines.append(f"{row.strategy} at {row.tasks} tasks was capped by its {row.bound_by}{waited}")
    if rows and all(r.speedup is None for r in rows) and any(r.speedup_vs_ideal_sequential for r in rows):
        lines.append("speedup*: over the ideal sequential time (sum of the delays); no sequential run was measured")
    for row in rows:
        for warning in row.warnings:
            lines.append(f"warning: {row.strategy} at {row.tasks} tasks: {warning}")
    return lines


def _title(result: ScenarioResult) -> str:
    sc = result.scenario
    title = sc.name + (f" — {sc.description}" if sc.description else "")
    if result.outcome != "ok":
        title += f"  [{result.outcome}{': ' + result.reason if result.reason else ''}]"
    return title


def scenario_table(result: ScenarioResult) -> Table:
    """The rich table of one scenario, with its notes as the caption."""
    rows = summarise(result)
    measured = any(r.speedup is not None for r in rows)
    table = Table(
        title=_title(result),
        caption="\n".join(notes(result, rows)),
        title_justify="left",
        caption_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=False,
    )
    for name in COLUMNS:
        table.add_column(name, justify="left" if name == "strategy" else "right", no_wrap=name != "errors")
    previous = None
    for row in rows:
        cells = row_cells(row, measured)
        if row.tasks == previous:
            cells[0] = ""
        style = "red" if row.failed_tasks or row.cancelled_tasks else None
        table.add_row(*cells[:-1], Text(cells[-1], style=style or "green"))
        previous = row.tasks
    return table


def markdown_scenario(result: ScenarioResult) -> str:
    """One scenario as a Markdown section: heading, table, notes."""
    rows = summarise(result)
    measured = any(r.speedup is not None for r in rows)
    lines = [f"### {_title(result)}", "", "| " + " | ".join(COLUMNS) + " |"]
    lines.append("|" + "|".join("---" if c == "strategy" else "---:" for c in COLUMNS) + "|")
    for row in rows:
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row_cells(row, measured)) + " |")
    lines.append("")
    lines.extend(f"- {note}" for note in notes(result, rows))
    return "\n".join(lines) + "\n"


def markdown_report(results: ResultsFile) -> str:
    """The whole results file as Markdown, suited to a pull-request comment."""
    env = results.environment
    head = [
        "## iobench report",
        "",
        f"{results.created_utc} · Python {env.python} · aiohttp {env.aiohttp} · {env.os} · {env.cpu_count} CPUs"
        + ("" if results.complete else " · **incomplete run**"),
        "",
        "",
    ]
    return "\n".join(head) + "\n".join(markdown_scenario(s) for s in results.scenarios)
