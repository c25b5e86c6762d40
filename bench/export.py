"""Write what a results file shows: Markdown report, CSV tables, charts. One function per format.

paths = export_all(results, Path("results/run-20261125T214519Z.json"), plots_dir=Path("plots"))
"""

from __future__ import annotations

from pathlib import Path

from bench.plots import write_charts
from bench.report import markdown_report
from bench.results import ResultsFile, runs_frame, samples_frame, write_atomic
from bench.summary import summary_frame


def write_markdown(results: ResultsFile, path: Path) -> Path:
    """The Markdown report (for a pull-request comment or a CI summary)."""
    write_atomic(path, markdown_report(results))
    return path


def write_csv(results: ResultsFile, results_path: Path) -> list[Path]:
    """``<stem>.summary.csv``, ``<stem>.runs.csv`` and ``<stem>.samples.csv`` beside the results file."""
    stem = results_path.with_suffix("")
    written = []
    for name, frame in (
        ("summary", summary_frame(results)),
        ("runs", runs_frame(results)),
        ("samples", samples_frame(results)),
    ):
        path = Path(f"{stem}.{name}.csv")
        write_atomic(path, frame.to_csv(index=False))
        written.append(path)
    return written


def export_all(
    results: ResultsFile, results_path: Path, plots_dir: Path | None, formats: tuple[str, ...] = ("png", "svg")
) -> list[Path]:
    """Markdown report (``report.md`` beside the results), CSVs, and, unless ``plots_dir`` is None, the charts."""
    written = [write_markdown(results, results_path.parent / "report.md"), *write_csv(results, results_path)]
    if plots_dir is not None:
        written.extend(write_charts(results, plots_dir, formats))
    return written
