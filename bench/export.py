"""Write what a results file shows: Markdown and HTML reports, CSV tables, charts. One function per format.

paths = export_all(results, Path("results/run-20261125T214519Z.json"), plots_dir=Path("plots"))
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.html_report import html_report
from bench.plots import write_charts
from bench.report import markdown_report
from bench.results import ResultsFile, runs_frame, samples_frame, write_atomic
from bench.summary import summary_frame


def write_markdown(results: ResultsFile, path: Path) -> Path:
    """The Markdown report (for a pull-request comment or a CI summary)."""
    write_atomic(path, markdown_report(results))
    return path


def write_html(results: ResultsFile, path: Path) -> Path:
    """The self-contained HTML report (tables, inline SVG charts, notes, environment, definitions)."""
    write_atomic(path, html_report(results))
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


def _charts_worker(results_json: str, out_dir: str, formats: tuple[str, ...]) -> list[str]:
    """Write the charts of a serialised results file (runs in a worker process)."""
    results = ResultsFile.model_validate_json(results_json)
    return [str(p) for p in write_charts(results, Path(out_dir), formats)]


def _html_worker(results_json: str, path: str) -> list[str]:
    """Write the HTML report of a serialised results file (runs in a worker process)."""
    return [str(write_html(ResultsFile.model_validate_json(results_json), Path(path)))]


def write_charts_parallel(
    results: ResultsFile, out_dir: Path, formats: tuple[str, ...], workers: int, html: Path | None = None
) -> list[Path]:
    """``write_charts`` with the scenarios shared among ``workers`` processes (rendering is CPU-bound), and the
    HTML report (which draws every chart again, as inline SVG) written by one more process beside them."""
    if workers < 2 or len(results.scenarios) < 2:
        written = write_charts(results, out_dir, formats)
        return [*written, write_html(results, html)] if html is not None else written
    shares = [results.scenarios[i::workers] for i in range(workers)]
    jobs = [results.model_copy(update={"scenarios": share}).model_dump_json() for share in shares if share]
    with ProcessPoolExecutor(max_workers=len(jobs) + 1, mp_context=multiprocessing.get_context("spawn")) as pool:
        page = pool.submit(_html_worker, results.model_dump_json(), str(html)) if html is not None else None
        done = list(pool.map(_charts_worker, jobs, [str(out_dir)] * len(jobs), [formats] * len(jobs)))
        if page is not None:
            done.append(page.result())
    return sorted(Path(p) for paths in done for p in paths)


def export_all(
    results: ResultsFile, results_path: Path, plots_dir: Path | None, formats: tuple[str, ...] = ("png", "svg")
) -> list[Path]:
    """Markdown and HTML reports (``report.md``, ``report.html`` beside the results), CSVs, and, unless
    ``plots_dir`` is None, the charts (the HTML report draws them too, so it goes with them)."""
    written = [write_markdown(results, results_path.parent / "report.md"), *write_csv(results, results_path)]
    if plots_dir is not None:
        html = results_path.parent / "report.html"
        written.extend(write_charts_parallel(results, plots_dir, formats, min(os.cpu_count() or 1, 4), html))
    return written
