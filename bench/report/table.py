"""Summaries -> the terminal's table of a scenario, in the layout that fits the width it is given. Nothing here
prints; the CLI does.

    console.print(scenario_table(result, width=console.width))

Layouts, chosen by width (``layout``): ``wide`` is one line per strategy with every column; ``compact`` keeps the
main figures on the strategy's line and puts the secondary ones (ideal, overhead, queueing, rate, percentiles,
failures by kind) on a dim second line; ``block`` gives each strategy a heading and wraps every figure under it.
No figure is ever cut: a layout is used only when every line of it fits.

Marks (see GLOSSARY): ``*`` speedup over the ideal sequential time, ``-`` figure not available (the reason is a
note below the table), ``!`` a figure the model cannot explain (the note says why).

The text of each figure is ``bench.report.cells``; the notes, title and glossary ``bench.report.notes``; the
Markdown report ``bench.report.markdown``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.cells import cell_len
from rich.console import Group
from rich.text import Text

from bench.report.cells import (
    FIGURES,
    MAIN,
    NA,
    UNEXPLAINED,
    Cells,
    headers,
    one_level,
    rate_header,
    row_cells,
    speedup_measured,
)
from bench.report.notes import notes, scenario_title
from bench.results.records import ScenarioResult
from bench.results.summary import Summary, summarise

GAP = 2
"""Spaces between columns."""


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
        f"concurrency {fig['conc.']}",
        *([f"cpu {fig['cpu']}"] if fig["cpu"] != NA else []),
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
            lines.append((f"{c.tasks} task{'' if c.tasks == '1' else 's'}", "bold"))
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


def layout(result: ScenarioResult, width: int, rows: Sequence[Summary] | None = None) -> Layout:
    """The widest layout of a scenario's table whose every line fits ``width`` columns (block as the last resort);
    ``rows``: its summary rows, computed here when not handed down."""
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


def scenario_table(result: ScenarioResult, rows: Sequence[Summary] | None = None, width: int = 160) -> Group:
    """One scenario as a rich renderable no wider than ``width``: title, table in the layout that fits, notes;
    ``rows``: its summary rows, computed here when not handed down."""
    rows = summarise(result) if rows is None else rows
    laid = layout(result, width, rows)
    parts = [Text(scenario_title(result), style="bold")]
    parts.extend(Text(text, style=style, no_wrap=True) for text, style in laid.lines)
    for note in notes(result, rows):
        parts.append(Text(note, style="yellow" if note.startswith(("warning", f"({UNEXPLAINED})")) else ""))
    return Group(*parts)
