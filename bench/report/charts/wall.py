"""Median wall time per strategy at one task count, interval whiskers, the ideal marked beside them."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from bench.report.cells import fmt_level, fmt_sig, wall_level
from bench.report.charts.base import Chart, register_chart
from bench.report.charts.style import (
    IDEAL_COLOR,
    IDEAL_GAP,
    new_figure,
    plain_log_y,
    point_of,
    strategy_color,
    time_unit,
)
from bench.results.records import ScenarioResult
from bench.results.summary import Summary
from bench.strategies import REFERENCE


def wall_time_bars(result: ScenarioResult, rows: Sequence[Summary], tasks: int | None = None) -> Figure:
    """Median wall time per strategy at one task count (the largest by default), interval whiskers, ideal marked.

    The ideal is drawn as two short black ticks either side of the whisker (collection 'ideal'), so it never hides
    the interval; the whisker is drawn above the bars and the ticks.
    """
    point = point_of(result, tasks)
    rows = [row for row in rows if row.tasks == point.tasks]
    if not rows:
        raise ValueError(f"scenario {result.scenario.name!r} has no runs at {point.tasks} tasks")
    scale, unit = time_unit(max(max(r.wall_ci_s[1], r.wall_median_s, r.ideal_s or 0.0) for r in rows))
    fig, (ax,) = new_figure()
    x = np.arange(len(rows))
    medians = np.array([r.wall_median_s for r in rows]) * scale
    low = np.array([r.wall_ci_s[0] for r in rows]) * scale
    high = np.array([r.wall_ci_s[1] for r in rows]) * scale
    whiskers = np.vstack([np.clip(medians - low, 0, None), np.clip(high - medians, 0, None)])
    ax.bar(
        x,
        medians,
        width=0.6,
        color=[strategy_color(r.strategy) for r in rows],
        yerr=whiskers,
        capsize=5,
        error_kw={"ecolor": "#333333", "elinewidth": 1.2, "zorder": 4},
    )
    ideal = np.array([r.ideal_s if r.ideal_s is not None else np.nan for r in rows]) * scale
    known = ~np.isnan(ideal)  # unknown delays (a callable target): no ideal to mark
    if known.any():
        ax.add_collection(
            LineCollection(
                [
                    [(xi + side * IDEAL_GAP, yi), (xi + side * 0.38, yi)]
                    for xi, yi in zip(x[known], ideal[known], strict=True)
                    for side in (-1, 1)
                ],
                colors=IDEAL_COLOR,
                linewidths=2.5,
                label="ideal",
                zorder=3,
            )
        )
    ideal = np.nan_to_num(ideal, nan=0.0)
    top = float(max(high.max(), medians.max(), ideal.max()))
    positive = [float(v) for v in (*low, *medians, *ideal) if v > 0]
    log = bool(positive) and top / min(positive) > 20  # else the fast strategies are invisible slivers
    for i, row in enumerate(rows):
        text = f"{fmt_sig(medians[i])} {unit}"
        if row.speedup is not None and row.strategy != REFERENCE:
            faster = row.speedup >= 1
            text += f"\n{fmt_sig(row.speedup if faster else 1 / row.speedup)}× {'faster' if faster else 'slower'}"
        ax.annotate(
            text,
            (x[i], max(high[i], medians[i], ideal[i])),
            xytext=(0, 4),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=9 if len(rows) <= 4 else 8,
        )
    if log:
        ax.set_yscale("log")
        plain_log_y(ax)
        ax.set_ylim(min(positive) / 2, top * 4)
    else:
        ax.set_ylim(0, top * 1.25 if top > 0 else 1)
    rotate = len(rows) > 5
    ax.set_xticks(x, [r.strategy for r in rows], rotation=20 if rotate else 0, ha="right" if rotate else "center")
    ax.grid(False, axis="x")
    ax.set_xlabel("strategy")
    ax.set_ylabel(f"wall time ({unit}{', log scale' if log else ''})")
    runs = max(r.runs for r in rows)
    ax.set_title(f"{result.scenario.name}: wall time at {point.tasks} tasks (median of {runs} runs)")
    whisker = Line2D([], [], color="#333333", marker="_", markersize=10, linestyle="-", linewidth=1.2)
    ideal_handle = Line2D([], [], color=IDEAL_COLOR, linewidth=2.5)
    handles, names = ([ideal_handle], ["ideal"]) if known.any() else ([], [])
    level = fmt_level(min(wall_level(r) for r in rows))
    fig.legend(
        [*handles, whisker],
        [*names, f"interval of the median ({level})"],
        loc="outside lower center",
        frameon=False,
        ncols=2,
    )
    return fig


CHART = register_chart(
    Chart(
        "wall",
        wall_time_bars,
        "Median wall time per strategy; whiskers: the median's interval; black ticks: the ideal time.",
        order=10,
        categorical_x=True,
    )
)
