"""Per-task latency (end - created) as a CDF, with the wait (start - created) when any task waited."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from bench.report.charts.base import Chart, register_chart
from bench.report.charts.style import (
    FIGSIZE,
    IDEAL_COLOR,
    ecdf,
    fit_x,
    legend_right,
    new_figure,
    point_of,
    ran_labels,
    strategy_color,
)
from bench.results.records import ScenarioResult
from bench.results.summary import Summary


def latency_cdf(result: ScenarioResult, rows: Sequence[Summary], tasks: int | None = None) -> Figure:
    """Empirical CDF of per-task latency (end - created) per strategy over all repeats, the requested delay beside.

    The x axis spans the data (not from 0 when everything sits at 20-25 ms). When any task waited (start later
    than created: a semaphore, a pool, a connection), a second panel shows the CDF of the wait; otherwise the title
    says no task waited. The figure's title (suptitle) names the scenario; each panel's title says what it shows.
    Lines of the wait panel are labelled '<strategy> wait'.
    """
    point = point_of(result, tasks)
    latency: dict[str, np.ndarray] = {}
    wait: dict[str, np.ndarray] = {}
    repeats = 0
    for label in ran_labels(result):
        runs = [run for run in point.runs if run.strategy == label]
        values = np.sort([ns / 1e6 for run in runs for ns in run.samples.latencies_ns()])
        if values.size:
            repeats = max(repeats, len(runs))
            latency[label] = values
            wait[label] = np.sort([ns / 1e6 for run in runs for ns in run.samples.waits_ns()])
    waited = any(w.size and w.max() > 0 for w in wait.values())
    fig, axes = new_figure(2 if waited else 1, height=FIGSIZE[1] * (1.7 if waited else 1), sharex=False)
    ax = axes[0]
    for label, values in latency.items():
        ecdf(ax, values, strategy_color(label), label)
    delays = np.sort(np.asarray(point.delays_ms, dtype=float))
    shown = [*latency.values()]
    if delays.size:
        ecdf(ax, delays, IDEAL_COLOR, _delay_label(result), dashed=True)
        shown.append(delays)
    fit_x(ax, shown)
    ax.set_xlabel("latency: end - created (ms)")
    ax.set_ylabel("fraction of tasks")
    fig.suptitle(f"{result.scenario.name}: per-task latency at {point.tasks} tasks ({repeats} repeats)")
    ax.set_title(
        "latency: from creation to end" + ("" if waited else "; no task waited (start = created)"), fontsize=10
    )
    if waited:
        wax = axes[1]
        for label, values in wait.items():
            if values.size:
                ecdf(wax, values, strategy_color(label), f"{label} wait", dotted=True)
        fit_x(wax, [w for w in wait.values() if w.size])
        wax.set_xlabel("wait: start - created (ms)")
        wax.set_ylabel("fraction of tasks")
        wax.set_title("time each task waited for a slot, a thread or a connection", loc="left", fontsize=10)
    for each in axes:
        each.set_ylim(0, 1.02)
    legend_right(fig, ax)
    return fig


def _delay_label(result: ScenarioResult) -> str:
    """The name of the requested delays, as the target's driver calls them."""
    label = result.driver.delay_label if result.driver is not None else None
    return label or "delay (requested)"


CHART = register_chart(
    Chart(
        "latency",
        latency_cdf,
        "Per-task latency (end - created), and the wait (start - created) when any task waited.",
        order=50,
    )
)
