"""Every task of one run as a bar from its start to its end, one row per strategy."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from bench.report.cells import fmt_sig
from bench.report.charts.base import Chart, register_chart
from bench.report.charts.style import (
    FAILED_EDGE,
    FAILED_FACE,
    FAILED_HATCH,
    FIGSIZE,
    TIMELINE_CAP,
    new_figure,
    point_of,
    ran_labels,
    strategy_color,
)
from bench.results.records import RunResult, ScenarioResult
from bench.results.summary import Summary


def timeline(result: ScenarioResult, rows: Sequence[Summary], tasks: int | None = None, repeat: int = 0) -> Figure:
    """Each task of one run as a bar from start to end, one row per strategy (first TIMELINE_CAP tasks).

    Each row holds its bars in PolyCollections labelled 'tasks' and 'failed tasks', one rectangle per task.
    Rows share the time axis unless their runs differ by more than 10x in length, which would leave the fast ones
    as slivers; the title then says the scales differ. A task that never ended is drawn to the end of the run.
    """
    point = point_of(result, tasks)
    runs = [run for label in ran_labels(result) for run in point.runs if run.strategy == label and run.repeat == repeat]
    if not runs:
        raise ValueError(f"scenario {result.scenario.name!r} has no run of repeat {repeat} at {point.tasks} tasks")
    shown = min(point.tasks, TIMELINE_CAP)
    drawn = [_task_bars(run, shown) for run in runs]
    extents = [
        max([run.wall_ns / 1e6 if shown == point.tasks else 0.0, *(b.end for b in bars)])
        for run, bars in zip(runs, drawn, strict=True)
    ]
    shared = max(extents) <= 10 * max(min(extents), 1e-9)
    fig, axes = new_figure(len(runs), height=max(FIGSIZE[1], 1.0 + 1.7 * len(runs)), sharex=shared)
    sparse = shown <= 60  # room for gaps between bars and for a hatch inside them
    height, hatch = (0.8, FAILED_HATCH) if sparse else (1.0, None)
    for ax, run, bars, extent in zip(axes, runs, drawn, extents, strict=True):
        for failed in (False, True):
            mine = [b for b in bars if b.failed == failed]
            if not mine:
                continue
            half = height / 2  # one rectangle per task, in one collection: thousands of patches draw slowly
            ax.add_collection(
                PolyCollection(
                    [
                        [
                            (b.start, b.task - half),
                            (b.end, b.task - half),
                            (b.end, b.task + half),
                            (b.start, b.task + half),
                        ]
                        for b in mine
                    ],
                    facecolors=FAILED_FACE if failed else strategy_color(run.strategy),
                    edgecolors=FAILED_EDGE if failed and hatch else "none",  # the edge colour is the hatch's
                    hatch=hatch if failed else None,
                    linewidths=0.4 if failed and hatch else 0,
                    label="failed tasks" if failed else "tasks",
                ),
                autolim=False,
            )
        wall_ms = run.wall_ns / 1e6
        if wall_ms <= extent * 1.05:
            ax.axvline(wall_ms, color="#555555", linestyle=":", linewidth=1.2)
        ax.set_ylim(shown - 0.5, -0.5)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.set_xlim(0, (max(extents) if shared else extent) * 1.02 or 1.0)
        ax.set_ylabel("task")
        failures = sum(b.failed for b in bars)
        note = f", {failures} failed" if failures else ""
        ax.set_title(f"{run.strategy}: run took {fmt_sig(wall_ms)} ms{note}", loc="left", fontsize=10, color="#222222")
    axes[-1].set_xlabel("time since run start (ms)")
    notes = [f"first {shown} of {point.tasks} tasks shown"] if point.tasks > shown else []
    notes += [] if shared else ["x scales differ"]
    suffix = f" ({'; '.join(notes)})" if notes else ""
    fig.suptitle(f"{result.scenario.name}: timeline of repeat {repeat} at {point.tasks} tasks{suffix}")
    handles: list[Patch | Line2D] = [Line2D([], [], color="#555555", linestyle=":", linewidth=1.2)]
    names = ["end of run"]
    if any(b.failed for bars in drawn for b in bars):
        handles.append(Patch(facecolor=FAILED_FACE, edgecolor=FAILED_EDGE, hatch=hatch))
        names.append("failed task")
    fig.legend(handles, names, loc="outside lower center", ncols=len(names), frameon=False)
    return fig


@dataclass(frozen=True)
class _Bar:
    """One task of a timeline, in ms since the run's start."""

    task: int
    start: float
    end: float
    failed: bool


def _task_bars(run: RunResult, shown: int) -> list[_Bar]:
    """Bars of the first ``shown`` tasks of a run that started (a task with no end ends with the run)."""
    samples = run.samples
    return [
        _Bar(i, start / 1e6, (end if end >= 0 else run.wall_ns) / 1e6, bool(samples.error[i]) or end < 0)
        for i, (start, end) in enumerate(zip(samples.start_ns[:shown], samples.end_ns[:shown], strict=True))
        if start >= 0
    ]


CHART = register_chart(Chart("timeline", timeline, "Each task of one run, from start to end.", order=40))
