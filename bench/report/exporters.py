"""What a results file is exported as: one registry of exporters that ``iobench run`` and ``iobench report`` share.

    export_all(ExportJob(results, summaries, Path("results/run-....json"), plots_dir=Path("plots")))

An exporter is one record (``Exporter``): its name, a ``write(job) -> [paths]``, and whether it draws charts (then
it is written only when charts are: not under ``--no-plots``, and by ``iobench report`` only with ``--html``).
Built-ins: ``markdown`` (``report.md`` beside the results), ``csv`` (``<stem>.summary.csv``, ``.runs.csv``,
``.samples.csv``), ``html`` (``report.html``, every table and chart inline) and ``charts`` (``<plots>/<scenario>-
<chart>.<format>``). A plugin adds one with ``register_exporter`` and both commands write it.

Exporters that draw charts run in worker processes beside each other (rendering is CPU-bound; the chart exporter
shares the scenarios among up to four workers); each worker loads the parent's plugins first, and dies with its
parent (PR_SET_PDEATHSIG, as the client processes do): a runner killed with SIGKILL while it exports leaves no
worker drawing on, and multiprocessing's resource tracker ends when the last of them has.
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import plugins
from bench.report.charts import write_charts
from bench.report.html import html_report
from bench.report.markdown import markdown_report
from bench.results.files import write_atomic
from bench.results.frames import runs_frame, samples_frame, summary_frame
from bench.results.records import ResultsFile
from bench.results.summary import Summaries


@dataclass(frozen=True)
class ExportJob:
    """What every exporter is handed: the results, their summaries (computed once), and where things go."""

    results: ResultsFile
    summaries: Summaries
    results_path: Path
    """The results file; reports go beside it."""
    plots_dir: Path | None = None
    """Where charts go; None: no charts (and no exporter that draws them)."""
    formats: tuple[str, ...] = ("png", "svg")
    """Chart file formats."""
    paths: dict[str, Path] = field(default_factory=dict)
    """Where an exporter's one file goes instead of its default, by exporter name (``report --markdown PATH``)."""
    wanted: frozenset[str] = frozenset()
    """Exporters that draw charts but are wanted without ``plots_dir`` (``report --html``)."""

    def beside(self, exporter: str, name: str) -> Path:
        """The file ``exporter`` writes: ``paths[exporter]``, or ``name`` in the results file's folder."""
        return self.paths.get(exporter) or self.results_path.parent / name


@dataclass(frozen=True)
class Exporter:
    """One export format."""

    name: str
    write: Callable[[ExportJob], list[Path]]
    """Writes the files of one job; returns their paths."""
    charts: bool = False
    """It draws charts: written only when charts are wanted, in a worker process."""
    per_scenario: bool = False
    """Its job may be split by scenario among several workers (each writes its scenarios' files)."""
    order: int = 100
    """Its place in the list of files written (built-ins: 10, 20, ...)."""


EXPORTERS: dict[str, Exporter] = {}
"""Every exporter by name."""


def register_exporter(exporter: Exporter) -> Exporter:
    """Add an export format to ``iobench run`` and ``iobench report`` (``EXPORTER = register_exporter(...)``)."""
    plugins.note("exporter", exporter.name, exporter.write.__module__)
    EXPORTERS[exporter.name] = exporter
    return exporter


def _markdown(job: ExportJob) -> list[Path]:
    path = job.beside("markdown", "report.md")
    write_atomic(path, markdown_report(job.results, job.summaries))
    return [path]


def _csv(job: ExportJob) -> list[Path]:
    stem = job.results_path.with_suffix("")
    written = []
    for name, frame in (
        ("summary", summary_frame(job.summaries)),
        ("runs", runs_frame(job.results)),
        ("samples", samples_frame(job.results)),
    ):
        path = Path(f"{stem}.{name}.csv")
        write_atomic(path, frame.to_csv(index=False))
        written.append(path)
    return written


def _html(job: ExportJob) -> list[Path]:
    path = job.beside("html", "report.html")
    write_atomic(path, html_report(job.results, job.summaries))
    return [path]


def _charts(job: ExportJob) -> list[Path]:
    assert job.plots_dir is not None
    return write_charts(job.results, job.summaries, job.plots_dir, job.formats)


register_exporter(Exporter("markdown", _markdown, order=10))
register_exporter(Exporter("csv", _csv, order=20))
register_exporter(Exporter("html", _html, charts=True, order=30))
register_exporter(Exporter("charts", _charts, charts=True, per_scenario=True, order=40))

CHART_WORKERS = 4
"""Most worker processes drawing charts at once."""


_PR_SET_PDEATHSIG = 1
"""prctl(2): the signal this process gets when the thread that created it exits (Linux)."""


def _die_with_parent(parent: int) -> None:
    """A worker's initializer: SIGKILL when the parent dies, and exit at once if it already has."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _in_worker(name: str, job: ExportJob, modules: Sequence[str]) -> list[Path]:
    """One exporter's job, in a worker process: the parent's plugins first, so plugin exporters exist here too."""
    plugins.load_entry_points()
    plugins.load(modules, where="export worker")
    return EXPORTERS[name].write(job)


def _share(job: ExportJob, index: int, workers: int) -> ExportJob:
    """The job of one worker of a per-scenario exporter: every ``workers``-th scenario, from ``index``."""
    results = job.results.model_copy(update={"scenarios": job.results.scenarios[index::workers]})
    return replace(job, results=results, summaries=Summaries(job.summaries.scenarios[index::workers]))


def export_all(job: ExportJob, workers: int | None = None) -> list[Path]:
    """Every exporter's files for ``job``, in order: those that draw charts only when ``job.plots_dir`` is set
    (or they are in ``job.wanted``), in worker processes beside each other."""
    exporters = sorted(EXPORTERS.values(), key=lambda e: (e.order, e.name))
    written = [path for e in exporters if not e.charts for path in e.write(job)]
    drawing = [e for e in exporters if e.charts and (job.plots_dir is not None or e.name in job.wanted)]
    jobs: list[tuple[str, ExportJob]] = []
    budget = max(1, min(os.cpu_count() or 1, CHART_WORKERS) if workers is None else workers)
    for exporter in drawing:
        if exporter.per_scenario and job.plots_dir is None:
            continue
        shares = min(budget, len(job.results.scenarios)) if exporter.per_scenario else 1
        jobs += [(exporter.name, _share(job, i, shares) if shares > 1 else job) for i in range(max(shares, 1))]
    if len(jobs) < 2:
        return written + [path for name, one in jobs for path in EXPORTERS[name].write(one)]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=len(jobs), mp_context=context, initializer=_die_with_parent, initargs=(os.getpid(),)
    ) as pool:
        futures = [pool.submit(_in_worker, name, one, plugins.loaded()) for name, one in jobs]
        drawn = [path for future in futures for path in future.result()]
    return written + sorted(drawn)
