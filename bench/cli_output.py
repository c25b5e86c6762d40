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

from bench.report import scenario_table
from bench.results import ResultsFile, ScenarioResult

PIPE_WIDTH = int(os.environ.get("COLUMNS", "100")) if os.environ.get("COLUMNS", "100").isdigit() else 100
"""Width of tables written to a pipe or a log (the table's compact layout takes over below its wide one)."""


class StreamingOutput:
    """A ProgressSink: each scenario's table as soon as it finishes; a bar on a terminal, plain lines in a log.

    The bar is redrawn only when the runner reports a finished run (between timed runs), never by a timer thread.
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
        self.printed: set[str] = set()

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
        if result.scenario.name in self.printed:
            return
        self.printed.add(result.scenario.name)
        self.out.print(scenario_table(result, width=self.out.width))
        self.out.print()
        self.out.file.flush()


def print_tables(console: Console, results: ResultsFile) -> None:
    for scenario in results.scenarios:
        console.print(scenario_table(scenario, width=console.width))
        console.print()


def export_report(results: ResultsFile, path: Path, plots_dir: Path | None, out: Console) -> None:
    from bench.export import export_all  # pandas and matplotlib load only now, after the measuring

    written = export_all(results, path, plots_dir)
    report = next(p for p in written if p.name == "report.md")
    charts = [p for p in written if p.suffix in (".png", ".svg")]
    out.print(f"results: {path}")
    html = [p for p in written if p.suffix == ".html"]
    out.print(f"report:  {report}{' and ' + str(html[0]) if html else ''} (and CSV tables beside the results)")
    if plots_dir is not None:
        out.print(f"charts:  {len(charts)} files in {plots_dir}/")


def json_summary(results: ResultsFile, path: Path) -> dict[str, Any]:
    """The machine-readable summary ``--json`` prints: one row per scenario, task count and strategy."""
    from bench.summary import summarise

    rows = []
    for scenario in results.scenarios:
        for row in summarise(scenario):
            rows.append(
                {
                    "scenario": row.scenario,
                    "loop": scenario.scenario.loop,
                    "tasks": row.tasks,
                    "strategy": row.strategy,
                    "runs": row.runs,
                    "median_s": row.wall_median_s,
                    "interval_s": list(row.wall_ci_s),
                    "level": row.wall_ci_level,
                    "speedup": row.speedup,
                    "speedup_interval": list(row.speedup_ci) if row.speedup_ci else None,
                    "speedup_level": row.speedup_ci_level,
                    "efficiency": row.efficiency,
                    "requests_per_s": row.requests_per_s,
                    "latency_ms": {f"p{q}": v for q, v in row.latency_ms.items()},
                    "errors": {
                        "failed": row.failed_tasks,
                        "cancelled": row.cancelled_tasks - row.not_started_tasks,
                        "not_started": row.not_started_tasks,
                        "error_rate": row.error_rate,
                    },
                    "missing_reason": row.missing_reason,
                }
            )
    return {
        "results": str(path),
        "complete": results.complete,
        "scenarios": [
            {"name": s.scenario.name, "file": s.file, "outcome": s.outcome, "reason": s.reason}
            for s in results.scenarios
        ],
        "rows": rows,
    }
