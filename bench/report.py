"""Summaries -> tables (rich, Markdown) that fit the width they are given. Nothing here prints; the CLI does.

    console.print(scenario_table(result, width=console.width))
    Path("results/report.md").write_text(markdown_report(results))

Layouts, chosen by width (``layout``): ``wide`` is one line per strategy with every column; ``compact`` keeps the
main figures on the strategy's line and puts the secondary ones (ideal, overhead, queueing, rate, percentiles,
failures by kind) on a dim second line; ``block`` gives each strategy a heading and wraps every figure under it.
No figure is ever cut: a layout is used only when every line of it fits.

Marks (see GLOSSARY): ``*`` speedup over the ideal sequential time, ``-`` figure not available (the reason is a
note below the table), ``!`` a figure the model cannot explain (the note says why).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text

from bench.results import ResultsFile, ScenarioResult
from bench.summary import BASELINE, Summary, summarise

NA = "-"
"""Mark of a figure that is not available; a note below the table says why."""
UNEXPLAINED = "!"
"""Mark of a figure the model cannot explain; a note below the table says why."""
GAP = 2
"""Spaces between columns."""

GLOSSARY: tuple[tuple[str, str], ...] = (
    ("median", "median wall time of the batch over the recorded runs (warm-up excluded)"),
    (
        "CI NN%",
        "interval of the median, with the confidence it really reaches (3 runs reach at most 75%, 5 runs 93%)",
    ),
    ("speedup [CI]", "median of the per-round speedups over sequential (paired by round), with its interval"),
    ("*", "speedup over the ideal sequential time (the sum of the delays): no sequential run was measured"),
    ("ideal", "wall time with zero overhead, from the exact per-task delays (bench.model)"),
    ("overhead", "measured per-request overhead x requests made one after another on the critical path"),
    ("queueing", "median - ideal - overhead: waiting for connections, sockets, the CPU or the GIL"),
    ("eff.", "ideal / median: how much of the possible concurrency the strategy got"),
    ("req/s", "tasks / median wall time (tasks/s for targets that make no request)"),
    ("p50/p90/p99", "percentiles of per-task latency (end - created: waiting included), over all runs"),
    ("errors", "tasks that did not finish ok, over all runs: failed, cancelled or never started"),
    ("-", "figure not available; the note below the table says why"),
    ("!", "the model cannot explain this figure (efficiency above 100%, or queueing below 0 beyond its interval)"),
)
"""The table's columns and marks, in the table's words: rendered in the Markdown and HTML reports."""


# --- figures of one row: small functions, each reading one thing from the Summary --------------------------------


def coverage_of_range(n: int) -> float:
    """Confidence that the median lies within [min, max] of ``n`` values: ``1 - 2 ** (1 - n)`` (0 for n < 2).

    A percentile bootstrap of the median never reaches beyond the sample's range, so its real confidence is at
    most this: 75% for 3 runs, 94% for 5, whatever level it was asked for.
    """
    return 0.0 if n < 2 else 1.0 - 2.0 ** (1 - n)


def wall_level(row: Summary) -> float:
    """The confidence the median wall time's interval really reaches (order statistics; see bench.stats)."""
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
    """A confidence level, rounded down so it never claims more than it has: ``CI 93%``."""
    return f"CI {math.floor(level * 100 + 1e-9)}%"


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
    if row.speedup is None or row.speedup_ci is None:
        return NA
    low, high = row.speedup_ci
    level = speedup_level(row)
    prefix = "" if one_level or level is None else fmt_level(level) + " "
    return f"{fmt_ratio(row.speedup)} [{prefix}{low:.2f}–{high:.2f}]"


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


FIGURES = ("median", "CI", "speedup [CI]", "ideal", "overhead", "queueing", "eff.", "req/s", "p50/p90/p99", "errors")
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
    """The rate column's header: req/s for targets that make requests, tasks/s for the others."""
    return "req/s" if result.scenario.target.kind in ("local", "url") else "tasks/s"


# --- notes ----------------------------------------------------------------------------------------------------------


def notes(result: ScenarioResult, rows: list[Summary]) -> list[str]:
    """What a reader must know beside the numbers: caps, calibration, why figures are missing or unexplained, noise."""
    limit = result.scenario.connector_limit
    connector = f"connector limit {limit}" if limit else "connector limit: none (aiohttp's default of 100 is lifted)"
    lines = [f"{connector}; loop: {result.scenario.loop}"]
    k = result.scenario.processes
    if k > 1:
        lines.append(
            f"client processes: {k}, each with its own event loop and every {k}th task; the caps above and the "
            "semaphores and pools of the strategies hold in each process"
        )
    offsets = next((r.clock_offsets_ns for p in result.points for r in p.runs if r.clock_offsets_ns), ())
    if offsets:
        shown = ", ".join(f"{o / 1e3:+.0f} us" for o in offsets)
        lines.append(f"Ray actors' clock offsets from the driver, estimated and applied: {shown}")
    if result.calibration:
        stacks = ", ".join(
            f"{name} {fmt_seconds(c.median_ms / 1e3)} [{fmt_seconds(c.low_ms / 1e3)}–{fmt_seconds(c.high_ms / 1e3)}, "
            f"{fmt_level(c.level)}]"
            for name, c in result.calibration.items()
        )
        lines.append(
            f"per-request overhead, measured: {stacks} (overhead = that x requests in a row; "
            "queueing = median - ideal - overhead)"
        )
    elif result.calibration_rtt_ms is not None:
        lines.append(
            f"per-request overhead: {result.calibration_rtt_ms:.3f} ms, measured (overhead = that x requests in a "
            "row; queueing = median - ideal - overhead)"
        )
    if result.server is not None and result.server.lateness_p99_us is not None:
        lines.append(
            f"server: {result.server.loop} loop, timer lateness p50 {result.server.lateness_p50_us:.0f} us, "
            f"p99 {result.server.lateness_p99_us:.0f} us; ideal from the service times the server delivered"
        )
    if any(r.residual_kind != "queueing" and r.residual_s is not None for r in rows):
        lines.append("(queueing in brackets): one request at a time, so nothing queues; the remainder is model error")
    for row in rows:
        if row.bound_by:
            waited = f" ({row.peak_queued} tasks waited for a connection at once)" if row.peak_queued else ""
            lines.append(f"{row.strategy} at {row.tasks} tasks was capped by its {row.bound_by}{waited}")
    if rows and not speedup_measured(rows) and any(r.speedup_vs_ideal_sequential for r in rows):
        lines.append("speedup*: over the ideal sequential time (sum of the delays); no sequential run was measured")
    lines.extend(missing_notes(result, rows))
    for row in rows:
        reason = unexplained(row)
        if reason:
            lines.append(f"({UNEXPLAINED}) model cannot explain {row.strategy} at {row.tasks} tasks: {reason}")
    for row in rows:
        for warning in row.warnings:
            lines.append(f"warning: {row.strategy} at {row.tasks} tasks: {warning}")
    return lines


def missing_notes(result: ScenarioResult, rows: Sequence[Summary]) -> list[str]:
    """One line per reason a ``-`` appears in the table, naming the figures it stands for."""
    lines = []
    kind = result.scenario.target.kind
    if any(r.ideal_s is None for r in rows):
        lines.append(f"({NA}) ideal, eff.: the per-task delays of a {kind} target are not known")
    if any(r.overhead_s is None for r in rows):
        lines.append(
            f"({NA}) overhead, queueing: no per-request overhead was measured"
            + ("" if kind == "local" else " (only the local server is calibrated)")
        )
    if any(r.runs < 2 for r in rows):
        lines.append(f"({NA}) CI: one run gives no interval")
    if not speedup_measured(rows) and all(r.speedup_vs_ideal_sequential is None for r in rows):
        lines.append(f"({NA}) speedup: no sequential run and no known delays to compare with")
    for row in rows:
        reason = missing_reason(row, rate_header(result))
        if reason:
            lines.append(f"({NA}) {row.strategy} at {row.tasks} tasks: {reason}")
    if any(latency_percentiles_ms(r) is None for r in rows):
        lines.append(f"({NA}) p50/p90/p99: no task ended")
    return lines


def scenario_title(result: ScenarioResult) -> str:
    """The scenario's name, description and outcome, as the table's title."""
    sc = result.scenario
    title = sc.name + (f" — {sc.description}" if sc.description else "")
    if result.outcome != "ok":
        title += f"  [{result.outcome}{': ' + result.reason if result.reason else ''}]"
    return title


# --- layouts ------------------------------------------------------------------------------------------------------


def _widths(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[int]:
    return [max(cell_len(c) for c in column) for column in zip(header, *body, strict=True)]


def _line(cells: Sequence[str], widths: Sequence[int], left: Sequence[bool]) -> str:
    padded = [c.ljust(w) if lft else c.rjust(w) for c, w, lft in zip(cells, widths, left, strict=True)]
    return (" " * GAP).join(padded).rstrip()


def _rule(widths: Sequence[int]) -> str:
    return "─" * (sum(widths) + GAP * (len(widths) - 1))


def _wrap_items(items: Sequence[str], width: int, indent: int) -> list[str]:
    """``items`` joined by `` · `` into lines no wider than ``width``, broken only between items."""
    lines: list[str] = []
    current = ""
    for item in items:
        candidate = f"{current} · {item}" if current else item
        if current and indent + cell_len(candidate) > width:
            lines.append(" " * indent + current)
            candidate = item
        current = candidate
    if current:
        lines.append(" " * indent + current)
    return lines


def _secondary(cells: Cells, head: dict[str, str], rate_name: str) -> list[str]:
    """The figures the compact layout moves to the second line, each with its name."""
    fig = cells.figures
    items = [
        f"ideal {fig['ideal']}",
        f"overhead {fig['overhead']}",
        f"queueing {fig['queueing']}",
        f"{fig['req/s']} {rate_name}" if fig["req/s"] != NA else f"{rate_name} {NA}",
        f"p50/p90/p99 {fig['p50/p90/p99']}",
    ]
    if cells.failed:
        items.append(f"errors: {fig['errors']}")
    return items


@dataclass(frozen=True)
class Layout:
    """A table laid out as lines of (text, style)."""

    name: str
    """'wide', 'compact' or 'block'."""
    lines: tuple[tuple[str, str], ...]


def _wide(cells: Sequence[Cells], head: dict[str, str]) -> Layout:
    header = ["tasks", "strategy", *(head[f] for f in FIGURES)]
    body = [
        ["" if i and cells[i - 1].tasks == c.tasks else c.tasks, c.strategy, *(c.figures[f] for f in FIGURES)]
        for i, c in enumerate(cells)
    ]
    widths = _widths(header, body)
    left = [False, True, *([False] * len(FIGURES))]
    lines = [(_line(header, widths, left), "bold"), (_rule(widths), "dim")]
    lines += [(_line(b, widths, left), "red" if c.failed else "") for b, c in zip(body, cells, strict=True)]
    return Layout("wide", tuple(lines))


def _compact(cells: Sequence[Cells], head: dict[str, str], width: int, rate_name: str) -> Layout:
    header = ["strategy", *(head[f] for f in MAIN)]
    body = [
        [c.strategy, *(str(sum(_counts(c.figures["errors"]))) if f == "errors" else c.figures[f] for f in MAIN)]
        for c in cells
    ]
    widths = _widths(header, body)
    left = [True, *([False] * len(MAIN))]
    lines = [(_line(header, widths, left), "bold"), (_rule(widths), "dim")]
    for i, (b, c) in enumerate(zip(body, cells, strict=True)):
        if not i or cells[i - 1].tasks != c.tasks:
            lines.append((f"{c.tasks} tasks", "bold"))
        lines.append((_line(b, widths, left), "red" if c.failed else ""))
        lines += [(text, "dim") for text in _wrap_items(_secondary(c, head, rate_name), width, 2)]
    return Layout("compact", tuple(lines))


def _counts(errors: str) -> list[int]:
    """The counts in an errors cell ('3 failed, 27 cancelled' -> [3, 27]; '0' -> [0])."""
    return [int(part.split()[0]) for part in errors.split(", ")]


def _block(cells: Sequence[Cells], head: dict[str, str], width: int, rate_name: str) -> Layout:
    lines: list[tuple[str, str]] = []
    for c in cells:
        lines.append((f"{c.strategy} at {c.tasks} tasks", "bold red" if c.failed else "bold"))
        main = [f"{head[f]} {c.figures[f]}" for f in MAIN if f != "errors"]
        items = [*main, *_secondary(c, head, rate_name)]
        if not c.failed:
            items.append("errors 0")
        lines += [(text, "") for text in _wrap_items(items, width, 2)]
    return Layout("block", tuple(lines))


def layout(result: ScenarioResult, width: int, rows: list[Summary] | None = None) -> Layout:
    """The widest layout of a scenario's table whose every line fits ``width`` columns (block as the last resort)."""
    rows = summarise(result) if rows is None else rows
    measured = speedup_measured(rows)
    one = one_level(rows)
    cells = [row_cells(r, measured, one) for r in rows]
    head = headers(rows, rate_header(result))
    rate = rate_header(result)
    for candidate in (_wide(cells, head), _compact(cells, head, width, rate)):
        if all(cell_len(text) <= width for text, _ in candidate.lines):
            return candidate
    return _block(cells, head, width, rate)


def scenario_table(result: ScenarioResult, width: int = 160) -> Group:
    """One scenario as a rich renderable no wider than ``width``: title, table in the layout that fits, notes."""
    rows = summarise(result)
    laid = layout(result, width, rows)
    parts = [Text(scenario_title(result), style="bold")]
    parts.extend(Text(text, style=style, no_wrap=True) for text, style in laid.lines)
    for note in notes(result, rows):
        parts.append(Text(note, style="yellow" if note.startswith(("warning", f"({UNEXPLAINED})")) else ""))
    return Group(*parts)


# --- Markdown -------------------------------------------------------------------------------------------------------


def markdown_scenario(result: ScenarioResult) -> str:
    """One scenario as a Markdown section: heading, table (every column), notes."""
    rows = summarise(result)
    measured = speedup_measured(rows)
    one = one_level(rows)
    head = headers(rows, rate_header(result))
    columns = ["tasks", "strategy", *(head[f] for f in FIGURES)]
    lines = [f"### {scenario_title(result)}", "", "| " + " | ".join(columns) + " |"]
    lines.append("|" + "|".join("---" if c == "strategy" else "---:" for c in columns) + "|")
    for row in rows:
        cells = row_cells(row, measured, one)
        texts = [cells.tasks, cells.strategy, *(cells.figures[f] for f in FIGURES)]
        lines.append("| " + " | ".join(t.replace("|", "\\|") for t in texts) + " |")
    lines.append("")
    lines.extend(f"- {note}" for note in notes(result, rows))
    return "\n".join(lines) + "\n"


def markdown_glossary() -> str:
    """The glossary of the table's columns and marks as a Markdown list."""
    return "\n".join(["#### Reading the tables", "", *(f"- `{term}`: {text}" for term, text in GLOSSARY)]) + "\n"


def environment_line(results: ResultsFile) -> str:
    """``2026-11-25T... · Python 3.11.7 · aiohttp 3.14.5 · Linux ... · 2 CPUs``."""
    env = results.environment
    return f"{results.created_utc} · Python {env.python} · aiohttp {env.aiohttp} · {env.os} · {env.cpu_count} CPUs" + (
        "" if results.complete else " · **incomplete run**"
    )


def markdown_report(results: ResultsFile) -> str:
    """The whole results file as Markdown, suited to a pull-request comment."""
    head = ["## iobench report", "", environment_line(results), "", ""]
    body = "\n".join(markdown_scenario(s) for s in results.scenarios)
    return "\n".join(head) + body + "\n" + markdown_glossary()
