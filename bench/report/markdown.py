"""Results -> Markdown: every scenario's table with all its columns, its notes, and the glossary, suited to a
pull-request comment (``report.md``).

    Path("results/report.md").write_text(markdown_report(results, summaries))
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.report.cells import FIGURES, headers, one_level, rate_header, row_cells, speedup_measured
from bench.report.notes import GLOSSARY, notes, scenario_title
from bench.results.records import ResultsFile, ScenarioResult
from bench.results.summary import Summaries, Summary, summarise, summarise_file


def markdown_scenario(result: ScenarioResult, rows: Sequence[Summary] | None = None) -> str:
    """One scenario as a Markdown section: heading, table (every column), notes."""
    rows = summarise(result) if rows is None else rows
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


def markdown_report(results: ResultsFile, summaries: Summaries | None = None) -> str:
    """The whole results file as Markdown, suited to a pull-request comment."""
    head = ["## iobench report", "", environment_line(results), "", ""]
    pairs = zip(results.scenarios, (summaries or summarise_file(results)).scenarios, strict=True)
    body = "\n".join(markdown_scenario(result, rows) for result, rows in pairs)
    return "\n".join(head) + body + "\n" + markdown_glossary()
