"""Speedup and efficiency across results files, in time order with their git commits: a trend to read in review.

    points, skipped = collect(Path("results"))     # every results file in the folder, oldest first
    lines = history_lines(points)                  # the table, as text lines
    write_history_chart(points, Path("plots/history"), ("png", "svg"))

One point per (results file, scenario, strategy) at the scenario's largest task count (the one expectations use
by default); sequential is left out, being the reference. Copies of one run (a baseline is a copy) count once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.errors import ResultsError
from bench.report.cells import NA, fmt_level
from bench.results.files import read_results
from bench.results.records import ResultsFile
from bench.results.summary import summarise_file


@dataclass(frozen=True)
class HistoryPoint:
    """One strategy of one scenario in one results file."""

    file: str
    """The results file it came from."""
    created_utc: str
    """When that run started (ISO 8601)."""
    commit: str | None
    """The git commit the run was made from, None when unknown."""
    scenario: str
    tasks: int
    """The task count (the scenario's largest)."""
    strategy: str
    speedup: float | None
    """Median paired speedup over sequential; None without a sequential run or complete runs."""
    speedup_ci: tuple[float, float] | None
    efficiency: float | None
    """Ideal time / median wall time; None when the delays are unknown or a run had failed tasks."""
    speedup_ci_level: float | None = None
    """Confidence ``speedup_ci`` reaches (order statistics; see bench.results.stats), None without one."""
    missing_reason: str | None = None
    """Why the speedup (and perhaps the efficiency) is None, e.g. '3 of 3 runs had failed tasks'."""

    @property
    def series(self) -> str:
        """What one line of the chart follows: ``scenario::strategy``."""
        return f"{self.scenario}::{self.strategy}"


def points_of(path: Path, results: ResultsFile) -> list[HistoryPoint]:
    """The history points of one results file."""
    points = []
    for scenario, rows in zip(results.scenarios, summarise_file(results).scenarios, strict=True):
        if not scenario.points:
            continue
        largest = max(p.tasks for p in scenario.points)
        for row in rows:
            if row.tasks != largest or row.strategy == "sequential":
                continue
            points.append(
                HistoryPoint(
                    file=str(path),
                    created_utc=results.created_utc,
                    commit=results.environment.git_commit,
                    scenario=row.scenario,
                    tasks=row.tasks,
                    strategy=row.strategy,
                    speedup=row.speedup,
                    speedup_ci=row.speedup_ci,
                    efficiency=row.efficiency,
                    speedup_ci_level=row.speedup_ci_level,
                    missing_reason=row.missing_reason,
                )
            )
    return points


def results_files(folder: Path) -> list[Path]:
    """The ``*.json`` files of a folder that may be results (``latest.json`` is only a pointer)."""
    if not folder.is_dir():
        raise ResultsError(f"{folder}: no such folder")
    return sorted(p for p in folder.glob("*.json") if p.name != "latest.json" and p.is_file())


def collect(folder: Path) -> tuple[list[HistoryPoint], list[str]]:
    """Every results file in ``folder``, oldest first, and one note per file that could not be read."""
    runs: dict[tuple[str, str | None], tuple[Path, ResultsFile]] = {}
    skipped = []
    for path in results_files(folder):
        try:
            results = read_results(path)
        except ResultsError as exc:
            skipped.append(f"skipped {exc}")
            continue
        runs.setdefault((results.created_utc, results.environment.git_commit), (path, results))
    ordered = sorted(runs.values(), key=lambda item: (item[1].created_utc, item[0].name))
    return [point for path, results in ordered for point in points_of(path, results)], skipped


def _when(created_utc: str) -> str:
    """``2026-11-25T21:54:15+00:00`` -> ``2026-11-25 21:54``."""
    return created_utc[:16].replace("T", " ")


def _ratio(point: HistoryPoint, one_level: bool) -> str:
    """``8.97x [8.57, 9.27]``, with the interval's level in the cell when the levels differ between rows."""
    value, ci, level = point.speedup, point.speedup_ci, point.speedup_ci_level
    if value is None:
        return NA
    if ci is None:
        return f"{value:.2f}x"
    prefix = "" if one_level or level is None else fmt_level(level) + " "
    return f"{value:.2f}x [{prefix}{ci[0]:.2f}, {ci[1]:.2f}]"


def history_lines(points: Sequence[HistoryPoint]) -> list[str]:
    """The history as a text table, one line per point, oldest run first; a note per ``-`` saying why."""
    levels = {p.speedup_ci_level for p in points if p.speedup_ci is not None and p.speedup_ci_level is not None}
    one = len(levels) <= 1
    speedup = f"speedup [{fmt_level(levels.pop())}]" if len(levels) == 1 else "speedup [CI]"
    header = ("run (UTC)", "commit", "scenario", "tasks", "strategy", speedup, "eff.")
    rows = [header] + [
        (
            _when(p.created_utc),
            (p.commit or NA)[:8],
            p.scenario,
            str(p.tasks),
            p.strategy,
            _ratio(p, one),
            NA if p.efficiency is None else f"{p.efficiency:.0%}",
        )
        for p in points
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    right = {3, 5, 6}
    lines = []
    for row in rows:
        cells = (c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        lines.append("  ".join(cells).rstrip())
    for p in points:
        if p.missing_reason and (p.speedup is None or p.efficiency is None):
            lines.append(f"({NA}) {p.scenario} {p.strategy} in {Path(p.file).name}: {p.missing_reason}")
    return lines


def write_history_chart(points: Sequence[HistoryPoint], stem: Path, formats: Sequence[str]) -> list[Path]:
    """Speedup (with its interval) and efficiency per run, one line per ``scenario::strategy``; ``stem.<fmt>``."""
    import matplotlib as mpl

    mpl.use("Agg")
    import matplotlib.pyplot as plt

    from bench.report.charts.base import save_figure

    runs = sorted({(p.created_utc, p.commit) for p in points})
    index = {run: i for i, run in enumerate(runs)}
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5), sharex=True, layout="constrained")
    for series in sorted({p.series for p in points}):
        mine = [p for p in points if p.series == series]
        measured = [(p, p.speedup) for p in mine if p.speedup is not None]
        xs = [index[p.created_utc, p.commit] for p, _ in measured]
        ys = [y for _, y in measured]
        lows = [y - (p.speedup_ci or (y, y))[0] for p, y in measured]
        highs = [(p.speedup_ci or (y, y))[1] - y for p, y in measured]
        if xs:
            top.errorbar(xs, ys, yerr=[lows, highs], marker="o", capsize=3, label=series)
        eff = [(index[p.created_utc, p.commit], p.efficiency * 100) for p in mine if p.efficiency is not None]
        if eff:
            bottom.plot([x for x, _ in eff], [y for _, y in eff], marker="o", label=series)
    levels = {p.speedup_ci_level for p in points if p.speedup_ci is not None and p.speedup_ci_level is not None}
    bars = f"bars: {fmt_level(levels.pop())}" if len(levels) == 1 else "bars: CI of each run's rounds"
    top.set_ylabel(f"speedup over sequential (x)\n{bars}")
    top.set_title("speedup and efficiency across runs (largest task count of each scenario)")
    bottom.set_ylabel("efficiency (ideal / median, %)")
    bottom.set_xlabel("run (UTC) and commit")
    bottom.set_xticks(range(len(runs)), [f"{_when(c)}\n{(g or '-')[:8]}" for c, g in runs], fontsize=8)
    top.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    stem.parent.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = stem.with_suffix(f".{fmt}")
        save_figure(fig, path, fmt)
        written.append(path)
    plt.close(fig)
    return written
