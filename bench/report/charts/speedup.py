"""Paired speedup over sequential against task count, with its band and the ideal speedup (sweeps)."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from bench.report.cells import fmt_level, speedup_level
from bench.report.charts.base import Chart, register_chart, sweep
from bench.report.charts.style import (
    by_strategy,
    ideal_line,
    legend_right,
    log_task_axis,
    new_figure,
    plain_log_y,
    ran_labels,
    strategy_color,
)
from bench.results.records import ScenarioResult
from bench.results.summary import Summary
from bench.strategies import REFERENCE


def speedup_vs_tasks(result: ScenarioResult, rows: Sequence[Summary]) -> Figure:
    """Speedup over sequential against task count; ValueError without a sequential run or another strategy."""
    if not any(r.strategy == REFERENCE for r in rows):
        raise ValueError(f"scenario {result.scenario.name!r} has no sequential run to compute a speedup from")
    others = [r for r in rows if r.strategy != REFERENCE and r.speedup is not None and r.speedup_ci is not None]
    if not others:
        raise ValueError(f"scenario {result.scenario.name!r} has no strategy besides sequential to compare")
    fig, (ax,) = new_figure()
    groups = by_strategy(others)
    plotted: list[float] = []
    for label in ran_labels(result):
        group = groups.get(label, [])
        if not group:
            continue
        color = strategy_color(label)
        tasks = [r.tasks for r in group]
        speedups = [r.speedup for r in group if r.speedup is not None]
        bands = [r.speedup_ci for r in group if r.speedup_ci is not None]
        ax.plot(tasks, speedups, marker="o", color=color, label=label)
        ax.fill_between(tasks, [b[0] for b in bands], [b[1] for b in bands], color=color, alpha=0.15, linewidth=0)
        ideal = [(r.tasks, r.ideal_sequential_s / r.ideal_s) for r in group if r.ideal_sequential_s and r.ideal_s]
        ideal_line(ax, ideal, color, label)
        plotted += speedups + [b[0] for b in bands] + [b[1] for b in bands] + [v for _, v in ideal]
    ax.axhline(1.0, color="#555555", linestyle=":", linewidth=1.2, label="sequential (1×)")
    positive = [v for v in plotted if v > 0]
    log = bool(positive) and max(positive) / min(positive) > 20
    if log:
        ax.set_yscale("log")
        plain_log_y(ax)
    else:
        ax.set_ylim(bottom=0)
    log_task_axis(ax, [r.tasks for r in rows])
    ax.set_ylabel(f"speedup over sequential (×{', log scale' if log else ''})")
    levels = [level for r in others if (level := speedup_level(r)) is not None]
    band = f"{fmt_level(min(levels))} band" if levels else "band"
    ax.set_title(f"{result.scenario.name}: speedup over sequential (paired median, {band})")
    legend_right(fig, ax)
    return fig


def _has_speedup(result: ScenarioResult, rows: Sequence[Summary]) -> bool:
    """A sweep with a sequential run and another strategy beside it."""
    labels = ran_labels(result)
    return sweep(result) and REFERENCE in labels and len(labels) >= 2


CHART = register_chart(
    Chart(
        "speedup",
        speedup_vs_tasks,
        "Paired speedup over sequential against task count; dashed: the ideal speedup.",
        applies=_has_speedup,
        order=30,
    )
)
