"""A chart: each strategy's efficiency (ideal / median) at the largest task count, for scenarios with an ideal."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from bench.report.charts import Chart, register_chart, strategy_color
from bench.report.charts.style import new_figure
from bench.results import ScenarioResult, Summary


def _largest(rows: Sequence[Summary]) -> list[Summary]:
    most = max((row.tasks for row in rows), default=0)
    return [row for row in rows if row.tasks == most and row.efficiency is not None]


def efficiency_bars(result: ScenarioResult, rows: Sequence[Summary]) -> Figure:
    """One bar per strategy: ideal / median wall time, in percent."""
    shown = _largest(rows)
    fig, (ax,) = new_figure()
    ax.bar(
        range(len(shown)),
        [row.efficiency * 100 for row in shown if row.efficiency is not None],
        color=[strategy_color(row.strategy) for row in shown],
    )
    ax.set_xticks(range(len(shown)), [row.strategy for row in shown])
    ax.set_ylabel("efficiency (ideal / median, %)")
    ax.set_title(f"{result.scenario.name}: efficiency at {shown[0].tasks if shown else 0} tasks")
    return fig


CHART = register_chart(
    Chart(
        "efficiency",
        efficiency_bars,
        "Ideal / median wall time of each strategy at the largest task count.",
        applies=lambda result, rows: bool(_largest(rows)),
        order=60,
        categorical_x=True,
    )
)
