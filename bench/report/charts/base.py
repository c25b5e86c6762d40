"""A chart is one record: how it is drawn, when it says something, its caption, its place and its axis style.

    @register_chart
    ... Chart("efficiency", draw=efficiency_bars, applies=has_ideal, caption="Ideal / median per strategy.")

    for chart in applicable_charts(result, rows):    # in order; each draws from a results file only
        fig = chart.draw(result, rows)

``write_charts`` writes every applicable chart of every scenario as ``<dir>/<scenario>-<name>.<format>``; the
HTML report embeds the same charts with their captions. Nothing else lists charts by name.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

from bench import plugins
from bench.report.charts.style import DPI, ran_labels
from bench.results.files import write_atomic
from bench.results.records import ResultsFile, ScenarioResult
from bench.results.summary import Summaries, Summary

Draw = Callable[[ScenarioResult, Sequence[Summary]], Figure]
"""``draw(result, rows)``: the figure of one scenario, from its results and its summary rows."""
Applies = Callable[[ScenarioResult, Sequence[Summary]], bool]
"""``applies(result, rows)``: whether the chart says something for this scenario."""


def has_runs(result: ScenarioResult, rows: Sequence[Summary]) -> bool:
    """Some strategy ran: the default test of whether a chart applies."""
    return bool(ran_labels(result))


@dataclass(frozen=True)
class Chart:
    """One chart of a scenario."""

    name: str
    """The suffix of its file name (``<scenario>-<name>.png``) and its id in the HTML report."""
    draw: Draw
    caption: str
    """One line under the chart in the HTML report."""
    applies: Applies = has_runs
    order: int = 100
    """Its place among the charts of a scenario (built-ins: 10, 20, ...)."""
    categorical_x: bool = False
    """The x axis names things (strategies) rather than numbers: it keeps its own tick labels."""


CHARTS: dict[str, Chart] = {}
"""Every chart by name."""


def register_chart(chart: Chart) -> Chart:
    """Add a chart to every report (``CHART = register_chart(Chart(...))``)."""
    plugins.note("chart", chart.name, chart.draw.__module__)
    CHARTS[chart.name] = chart
    return chart


def sweep(result: ScenarioResult) -> bool:
    """The scenario measured at least two task counts."""
    return len({p.tasks for p in result.points if p.runs}) >= 2


def applicable_charts(result: ScenarioResult, rows: Sequence[Summary]) -> list[Chart]:
    """The charts that say something for this scenario, in order (none for a scenario with no runs)."""
    if not ran_labels(result):
        return []
    return [c for c in sorted(CHARTS.values(), key=lambda c: (c.order, c.name)) if c.applies(result, rows)]


def save_figure(fig: Figure, path: Path, fmt: str, **options: Any) -> None:
    """``fig.savefig`` as an atomic write: drawn in memory, then a temporary file renamed over ``path``, so a chart
    is the old one or the new one, never half of one (a full disk, a kill -9)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, **options)
    write_atomic(path, buffer.getvalue())


def write_charts(
    results: ResultsFile, summaries: Summaries, out_dir: Path, formats: Sequence[str] = ("png", "svg")
) -> list[Path]:
    """Write every applicable chart of every scenario as ``<out_dir>/<scenario>-<chart>.<format>``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for result, rows in zip(results.scenarios, summaries.scenarios, strict=True):
        for chart in applicable_charts(result, rows):
            fig = chart.draw(result, rows)
            for fmt in formats:
                path = out_dir / f"{result.scenario.name}-{chart.name}.{fmt}"
                # reproducible SVGs: fixed ids and no date
                with mpl.rc_context({"svg.hashsalt": "iobench"}):
                    save_figure(fig, path, fmt, dpi=DPI, metadata={"Date": None} if fmt == "svg" else None)
                written.append(path)
            fig.clear()
    return written
