"""The house style of every chart: one colour per strategy, one number format, figures built without pyplot.

Numbers: three significant digits (``bench.report.cells.fmt_sig``: 0.0564, 5.08, 15.0, 580) for values written on
a chart, and at most three for tick labels (``tick_text``); every time axis names its unit, and every log axis says
so in its label. Legends sit outside the plotting area, never on the data.

Every strategy has one colour in every chart (``strategy_color``), from the Okabe-Ito colour-blind-safe palette
(M. Okabe and K. Ito, "Color Universal Design", 2008). Figures are built with ``matplotlib.figure.Figure``
directly, never through pyplot: no backend or GUI is involved, nothing is registered globally, so nothing needs
``plt.close`` and many figures cost no more than their own memory.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, FuncFormatter, NullLocator

from bench.results.records import PointResult, ScenarioResult
from bench.results.summary import Summary

FIGSIZE = (8.0, 4.5)
"""Figure size in inches."""
DPI = 120
"""Resolution of PNG files."""
TIMELINE_CAP = 200
"""Most tasks drawn per strategy in a timeline; beyond this the bars stop being legible."""

PALETTE: dict[str, str] = {
    "sequential": "#D55E00",  # vermillion
    "gather": "#0072B2",  # blue
    "bounded": "#009E73",  # bluish green
    "taskgroup": "#CC79A7",  # reddish purple
    "as_completed": "#E69F00",  # orange
    "threads": "#7F7F7F",  # neutral grey (tab10): the one strategy that is not asyncio
}
"""Colour of each known strategy name: Okabe-Ito, and grey for threads, so no two are neighbouring blues."""
_SPARE = ("#56B4E9", "#8C564B", "#BCBD22")
"""Colours for strategy names not in PALETTE: Okabe-Ito sky blue, then tab10's brown and olive."""
_SHADES = (0.0, 0.45, -0.45, -0.2, 0.2, -0.6, 0.6, 0.35)
"""Shades of one strategy's variants: > 0 mixes with white, < 0 with black (index from the parameter value)."""
IDEAL_COLOR = "black"
FAILED_FACE, FAILED_EDGE, FAILED_HATCH = "#1A1A1A", "white", "xxx"
"""Failed tasks: near-black (no strategy is black), with a white cross-hatch when bars are tall enough for one."""
GRID = {"color": "#E3E3E3", "linewidth": 0.8}
IDEAL_GAP = 0.1
"""Half the gap, in bar-width units, left in the ideal marker around the interval whisker."""

_LABEL = re.compile(r"^(?P<name>[^(]+)(?:\((?P<params>.*)\))?$")


def strategy_color(label: str) -> str:
    """The colour (``#rrggbb``) of a strategy label in every chart, e.g. ``strategy_color("bounded(limit=10)")``."""
    match = _LABEL.match(label)
    name, params = (match["name"], match["params"]) if match else (label, None)
    base = PALETTE.get(name) or _SPARE[zlib.crc32(name.encode()) % len(_SPARE)]
    if not params:
        return to_hex(base)
    values = params.split("=")[1:] if params.count("=") == 1 else []
    try:
        # one numeric parameter (the usual sweep: limit=10, 50, 100): neighbouring powers of two differ in shade
        shade = round(math.log2(float(values[0]))) if values and float(values[0]) > 0 else None
    except ValueError:
        shade = None
    if shade is None:
        shade = zlib.crc32(params.encode())
    return _shade(base, _SHADES[shade % len(_SHADES)])


def _shade(color: str, amount: float) -> str:
    """``color`` mixed with white (amount > 0) or black (amount < 0)."""
    target = 1.0 if amount > 0 else 0.0
    r, g, b = (c + (target - c) * abs(amount) for c in to_rgb(color))
    return to_hex((r, g, b))


def new_figure(rows: int = 1, height: float = FIGSIZE[1], sharex: bool = True) -> tuple[Figure, list[Axes]]:
    """A figure of the house size with ``rows`` axes stacked."""
    fig = Figure(figsize=(FIGSIZE[0], height), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)
    for ax in axes[:, 0]:
        ax.xaxis.set_major_formatter(TICKS)
        ax.yaxis.set_major_formatter(TICKS)
        ax.grid(True, **GRID)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, list(axes[:, 0])


def time_unit(max_seconds: float) -> tuple[float, str]:
    """Scale and unit for times in seconds: ms when everything is under a second."""
    return (1000.0, "ms") if max_seconds < 1 else (1.0, "s")


def ran_labels(result: ScenarioResult) -> list[str]:
    """Strategy labels that have runs, in the scenario's order."""
    ran = {run.strategy for point in result.points for run in point.runs}
    return [spec.label for spec in result.scenario.strategies if spec.label in ran]


def point_of(result: ScenarioResult, tasks: int | None) -> PointResult:
    """The point of ``tasks`` tasks, or the largest task count when None; ValueError if there is none."""
    if not result.points:
        raise ValueError(f"scenario {result.scenario.name!r} has no measured points")
    if tasks is None:
        return max(result.points, key=lambda p: p.tasks)
    for point in result.points:
        if point.tasks == tasks:
            return point
    known = ", ".join(str(p.tasks) for p in result.points)
    raise ValueError(f"scenario {result.scenario.name!r} has no point with {tasks} tasks (it has {known})")


def by_strategy(rows: Sequence[Summary]) -> dict[str, list[Summary]]:
    """Summary rows grouped by strategy label, each group sorted by task count."""
    groups: dict[str, list[Summary]] = {}
    for row in rows:
        groups.setdefault(row.strategy, []).append(row)
    return {label: sorted(group, key=lambda r: r.tasks) for label, group in groups.items()}


def tick_text(value: float) -> str:
    """A tick label: at most three significant digits, no exponent for everyday magnitudes: 0.06, 2.5, 20, 1,000."""
    if value == 0:
        return "0"
    return f"{value:,.0f}" if abs(float(f"{value:.3g}")) >= 100 else f"{value:.3g}"


TICKS = FuncFormatter(lambda value, _: tick_text(value))
"""The tick formatter of every numeric axis."""


def log_task_axis(ax: Axes, counts: Sequence[int]) -> None:
    """Log x axis of task counts, ticked at the counts themselves when there are few."""
    distinct = sorted(set(counts))
    ax.set_xscale("log")
    ax.set_xlabel("tasks (log scale)")
    if len(distinct) <= 10:
        ax.xaxis.set_major_locator(FixedLocator(distinct))
        ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(TICKS)
    if len(distinct) == 1:
        ax.set_xlim(distinct[0] / 2, distinct[0] * 2)


def plain_log_y(ax: Axes) -> None:
    """Label a log y axis with plain numbers (0.01, 0.1, 1), and some minor ticks when it spans few decades."""

    def minor(value: float, _: object) -> str:
        low, high = ax.get_ylim()
        span = high / low if low > 0 else math.inf
        mantissa = round(value / 10 ** math.floor(math.log10(value)), 6) if value > 0 else 0
        labelled = {2, 3, 4, 6} if span <= 10 else {2, 5} if span <= 100 else set()
        return tick_text(value) if mantissa in labelled else ""

    ax.yaxis.set_major_formatter(TICKS)
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))


def ideal_line(ax: Axes, points: list[tuple[int, float]], color: str, label: str) -> None:
    """The ideal counterpart of a strategy's line: dashed, same colour, labelled '<label> ideal' (none if unknown)."""
    if points:
        ax.plot(
            [t for t, _ in points],
            [v for _, v in points],
            linestyle="--",
            marker="." if len(points) == 1 else "",
            color=color,
            alpha=0.8,
            label=f"{label} ideal",
        )


def legend_right(fig: Figure, ax: Axes) -> None:
    """The legend of ``ax``'s labelled artists, outside the plotting area on the right: never on the data."""
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right upper", frameon=False, fontsize=9)


def fit_x(ax: Axes, series: Sequence[np.ndarray]) -> None:
    """An x range that spans the values of every series, with a 5% margin, never below 0."""
    values = [float(v) for s in series for v in (s.min(), s.max())] if series else []
    if not values:
        return
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or max(abs(high) * 0.05, 0.5)
    ax.set_xlim(max(low - pad, 0.0), high + pad)


def ecdf(ax: Axes, values: np.ndarray, color: str, label: str, dashed: bool = False, dotted: bool = False) -> None:
    """Draw the empirical CDF of sorted ``values`` as a step line from 0 to 1."""
    fractions = np.arange(1, values.size + 1) / values.size
    ax.step(
        np.concatenate([values[:1], values]),
        np.concatenate([[0.0], fractions]),
        where="post",
        color=color,
        label=label,
        linestyle="--" if dashed else ":" if dotted else "-",
        linewidth=1.2 if dashed else 1.8,
    )
