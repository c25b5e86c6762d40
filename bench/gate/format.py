"""Verdicts -> text: aligned lines for the terminal, a Markdown table for ``$GITHUB_STEP_SUMMARY``, the tally.

format_lines(gate.verdicts)   # ['✓ seed  10 tasks  gather  speedup 6.31x [6.12, 6.40]  >= 4  pass', ...]
format_markdown(gate.verdicts, note)
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.gate.rule import Outcome, Verdict, describe, format_figure, format_interval, format_level

MARKS: dict[Outcome, str] = {"pass": "✓", "fail": "✗", "inconclusive": "?"}
"""The mark in front of each formatted line."""


def tally(verdicts: Sequence[Verdict]) -> str:
    """``'3 passed, 1 failed, 0 inconclusive'``."""
    counts = {outcome: sum(v.verdict == outcome for v in verdicts) for outcome in MARKS}
    return f"{counts['pass']} passed, {counts['fail']} failed, {counts['inconclusive']} inconclusive"


def _cells(v: Verdict) -> tuple[str, str, str, str, str, str, str]:
    figure = v.missing if v.figure is None else format_figure(v.kind, v.figure)
    interval = format_interval(v.interval, v.kind)
    if interval and v.level is not None:
        interval += f" at {format_level(v.level)}"
    measured = " ".join(part for part in (describe(v.kind), figure, interval) if part)
    tasks = f"{v.tasks} tasks" if v.tasks else ""
    return MARKS[v.verdict], v.scenario, tasks, v.subject, measured, v.bound, v.verdict


def aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    """The mark, then the cells padded to their column's width, two spaces apart (also ``bench.gate.compare``'s)."""
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(len(rows[0]))] if rows else []
    return [
        f"{row[0]} " + "  ".join(cell.ljust(width) for cell, width in zip(row[1:], widths[1:], strict=True)).rstrip()
        for row in rows
    ]


def format_lines(verdicts: Sequence[Verdict]) -> list[str]:
    """One aligned line per check, then the tally:

    ✓ seed  10 tasks  gather  speedup 6.31x [6.12, 6.40]  >= 4  pass
    1 passed, 0 failed, 0 inconclusive
    """
    return [*aligned([_cells(v) for v in verdicts]), tally(verdicts)]


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def format_markdown(verdicts: Sequence[Verdict], note: str | None = None) -> str:
    """A Markdown table of the verdicts (for ``$GITHUB_STEP_SUMMARY``), the note quoted above it, the tally below."""
    parts = ["## iobench check", ""]
    if note:
        parts += [f"> {_md(note)}", ""]
    if verdicts:
        parts += [
            "| | scenario | tasks | strategy | check | measured | interval | bound | verdict |",
            "|---|---|---:|---|---|---:|---|---|---|",
        ]
        for v in verdicts:
            figure = v.missing if v.figure is None else format_figure(v.kind, v.figure)
            interval = f"{format_level(v.level or 0.0)} {format_interval(v.interval, v.kind)}" if v.interval else "—"
            cells = (
                MARKS[v.verdict],
                v.scenario,
                str(v.tasks),
                v.subject,
                describe(v.kind),
                figure,
                interval,
                f"`{v.bound}`",
                f"**{v.verdict}**" if v.verdict != "pass" else v.verdict,
            )
            parts.append("| " + " | ".join(_md(cell) for cell in cells) + " |")
        parts.append("")
    parts.append(tally(verdicts))
    return "\n".join(parts) + "\n"
