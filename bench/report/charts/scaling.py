"""Wall time against task count, log-log, with each strategy's ideal dashed (sweeps only)."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from bench.report.cells import fmt_level, wall_level
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
    time_unit,
)
from bench.results.records import ScenarioResult
from bench.results.summary import Summary


def time_vs_tasks(result: ScenarioResult, rows: Sequence[Summary]) -> Figure:
    """Median wall time against task count, log-log, with each strategy's ideal time dashed in its colour."""
    if not rows:
        raise ValueError(f"scenario {result.scenario.name!r} has no runs")
    scale, unit = time_unit(max(max(r.wall_ci_s[1], r.ideal_s or 0.0) for r in rows))
    fig, (ax,) = new_figure()
    groups = by_strategy(rows)
    for label in ran_labels(result):
        group = [r for r in groups.get(label, []) if r.wall_median_s > 0]
        color = strategy_color(label)
        tasks = [r.tasks for r in group]
        ax.plot(tasks, [r.wall_median_s * scale for r in group], marker="o", color=color, label=label)
        ax.fill_between(
            tasks,
            [max(r.wall_ci_s[0], r.wall_median_s / 1e3) * scale for r in group],
            [r.wall_ci_s[1] * scale for r in group],
            color=color,
            alpha=0.15,
            linewidth=0,
        )
        ideal_line(ax, [(r.tasks, r.ideal_s * scale) for r in group if r.ideal_s], color, label)
    ax.set_yscale("log")
    plain_log_y(ax)
    log_task_axis(ax, [r.tasks for r in rows])
    ax.set_ylabel(f"wall time ({unit}, log scale)")
    level = fmt_level(min(wall_level(r) for r in rows))
    ax.set_title(f"{result.scenario.name}: wall time against task count (median, {level} band)")
    legend_right(fig, ax)
    return fig


CHART = register_chart(
    Chart(
        "scaling",
        time_vs_tasks,
        "Wall time against task count (log-log); dashed: each strategy's ideal.",
        applies=lambda result, rows: sweep(result),
        order=20,
    )
)
