"""What a command prints while and after it runs: each scenario's table as soon as it finishes with a progress
bar between runs (``StreamingOutput``, the runner's ProgressSink), where the report files went, and the
machine-readable summary of ``--json``.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from bench.report.table import scenario_table
from bench.results.records import ResultsFile, ScenarioResult
from bench.results.summary import Summaries, Summary, summarise, summary_record

PIPE_WIDTH = int(os.environ.get("COLUMNS", "100")) if os.environ.get("COLUMNS", "100").isdigit() else 100
"""Width of tables written to a pipe or a log (the table's compact layout takes over below its wide one)."""


class StreamingOutput:
    """A ProgressSink: each scenario's table as soon as it finishes; a bar on a terminal, plain lines in a log.

    The bar is redrawn only when the runner reports a finished run (between timed runs), never by a timer thread.
    Each scenario is summarised once, when it finishes; ``summaries`` hands those rows on to the reports.
    """

    def __init__(self, out: Console, err: Console, *, bar: bool, lines: bool) -> None:
        self.out = out
        self.err = err
        self.lines = lines
        self.progress: Progress | None = None
        if bar:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[current]}"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
                auto_refresh=False,
            )
        self.task_id: TaskID | None = None
        self.started = 0.0
        self.rows: dict[str, tuple[ScenarioResult, tuple[Summary, ...]]] = {}
        """Each printed scenario's result and summary rows, by name."""

    def scenario_started(self, name: str, total_runs: int) -> None:
        """Start a bar, or say so in one line."""
        self.started = time.monotonic()
        if self.progress is not None:
            self.progress.start()
            self.task_id = self.progress.add_task(name, total=total_runs, current="")
            self.progress.refresh()
        elif self.lines:
            print(f"iobench: {name}: started ({total_runs} runs)", file=sys.stderr, flush=True)

    def run_done(self, label: str, tasks: int) -> None:
        """Advance the bar (called between timed runs only)."""
        if self.progress is not None and self.task_id is not None:
            self.progress.update(self.task_id, advance=1, current=f"{tasks} tasks, {label}")
            self.progress.refresh()

    def scenario_done(self, result: ScenarioResult) -> None:
        """Remove the bar and print the scenario's table as soon as it finishes."""
        if self.progress is not None:
            if self.task_id is not None:
                self.progress.remove_task(self.task_id)
                self.task_id = None
            self.progress.stop()
        if self.lines and self.progress is None:
            elapsed = time.monotonic() - self.started
            print(
                f"iobench: {result.scenario.name}: done ({result.outcome}, {elapsed:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
        self.print_table(result)

    def print_table(self, result: ScenarioResult) -> None:
        """Print one scenario's table, once."""
        name = result.scenario.name
        if name in self.rows and self.rows[name][0] is result:
            return
        rows = tuple(summarise(result))
        self.rows[name] = (result, rows)
        self.out.print(scenario_table(result, rows, width=self.out.width))
        self.out.print()
        self.out.file.flush()

    def summaries(self, results: ResultsFile) -> Summaries:
        """The rows of every scenario of ``results``: those printed as they finished, the others computed now."""
        rows = []
        for result in results.scenarios:
            known = self.rows.get(result.scenario.name)
            rows.append(known[1] if known is not None and known[0] == result else tuple(summarise(result)))
        return Summaries(tuple(rows))


def print_tables(console: Console, results: ResultsFile, summaries: Summaries) -> None:
    """Every scenario's table."""
    for result, rows in zip(results.scenarios, summaries.scenarios, strict=True):
        console.print(scenario_table(result, rows, width=console.width))
        console.print()


def export_report(results: ResultsFile, summaries: Summaries, path: Path, plots_dir: Path | None, out: Console) -> None:
    """Write every export of a run and say where they went."""
    from bench.report.exporters import ExportJob, export_all  # pandas and matplotlib load only now, after measuring

    written = export_all(ExportJob(results, summaries, path, plots_dir))
    out.print(f"results: {path}")
    reports = [str(p) for p in written if p.parent == path.parent and p.suffix in (".md", ".html")]
    others = [p for p in written if p.parent == path.parent and p.suffix not in (".md", ".html")]
    named = ["CSV tables"] * any(p.suffix == ".csv" for p in others) + [p.name for p in others if p.suffix != ".csv"]
    beside = f" (and {' and '.join(named)} beside the results)" if named else ""
    out.print(f"report:  {' and '.join(reports)}{beside}")
    if plots_dir is not None:
        charts = [p for p in written if p.parent == plots_dir]
        out.print(f"charts:  {len(charts)} files in {plots_dir}/")


def json_summary(results: ResultsFile, summaries: Summaries, path: Path) -> dict[str, Any]:
    """The machine-readable summary ``--json`` prints: one row per scenario, task count and strategy, with the same
    fields as the summary CSV (``bench.results.summary.summary_record``), and the scenario's loop."""
    rows = [
        {**summary_record(row), "loop": result.scenario.loop}
        for result, scenario_rows in zip(results.scenarios, summaries.scenarios, strict=True)
        for row in scenario_rows
    ]
    return {
        "results": str(path),
        "complete": results.complete,
        "scenarios": [
            {"name": s.scenario.name, "file": s.file, "outcome": s.outcome, "reason": s.reason}
            for s in results.scenarios
        ],
        "rows": rows,
    }


def always_failed(results: ResultsFile, summaries: Summaries) -> list[str]:
    """Each strategy whose every run had failed tasks, in a scenario that does not make tasks fail on purpose: why
    ``iobench run`` exits 3 ('scenario redis: gather at 100 tasks: 3 of 3 runs had failed tasks (... ×300)')."""
    asking = {  # and the scenarios that failed as a whole: they say why already
        s.scenario.name
        for s in results.scenarios
        if getattr(s.scenario.target, "asks_for_failures", False) or s.outcome != "ok"
    }
    lines = []
    for row in summaries.rows:
        if row.scenario in asking or not row.runs or row.complete_runs:
            continue
        words = row.failure_text(3) or row.missing_reason or ""
        lines.append(
            f"scenario {row.scenario}: {row.strategy} at {row.tasks} tasks: {row.runs} of {row.runs} runs had "
            f"failed tasks" + (f" ({words})" if words else "")
        )
    return lines
