"""Charts from results files only: each function returns a matplotlib Figure; nothing is ever re-run.

    fig = wall_time_bars(results.scenarios[0])      # inspect fig.axes in tests, or fig.savefig(...)
    paths = write_charts(results, Path("plots"))    # plots/<scenario>-<chart>.png and .svg

Charts, by file-name suffix:
    wall      median wall time per strategy at one task count, interval whiskers, ideal time marked beside them
    scaling   wall time against task count, log-log, with each strategy's ideal curve (sweeps only)
    speedup   paired speedup over sequential against task count, interval band, ideal speedup (sweeps only)
    timeline  every task of one run as a bar from its start to its end, one row per strategy
    latency   empirical CDF of per-task latency (end - created) over all repeats, the requested delay for
              reference, and a second panel for the wait (start - created) when any task waited

Numbers: one style everywhere, three significant digits (``bench.report.fmt_sig``: 0.0564, 5.08, 15.0, 580) for
values written on a chart, and at most three for tick labels (``tick``); every time axis names its unit, and every
log axis says so in its label. Legends sit outside the plotting area, never on the data.

Every strategy has one colour in every chart (``strategy_color``), from the Okabe-Ito colour-blind-safe palette
(M. Okabe and K. Ito, "Color Universal Design", 2008). Figures are built with ``matplotlib.figure.Figure``
directly, never through pyplot: no backend or GUI is involved, nothing is registered globally, so nothing needs
``plt.close`` and many figures cost no more than their own memory.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import to_hex, to_rgb
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, FuncFormatter, MaxNLocator, NullLocator

from bench.report import fmt_level, fmt_sig, speedup_level, wall_level
from bench.results import PointResult, ResultsFile, RunResult, ScenarioResult
from bench.strategies import REFERENCE
from bench.summary import Summary, summarise, summarise_point

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
_IDEAL = "black"
_FAILED_FACE, _FAILED_EDGE, _FAILED_HATCH = "#1A1A1A", "white", "xxx"
"""Failed tasks: near-black (no strategy is black), with a white cross-hatch when bars are tall enough for one."""
_GRID = {"color": "#E3E3E3", "linewidth": 0.8}
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


def _new_figure(rows: int = 1, height: float = FIGSIZE[1], sharex: bool = True) -> tuple[Figure, list[Axes]]:
    """A figure of the house size with ``rows`` axes stacked."""
    fig = Figure(figsize=(FIGSIZE[0], height), layout="constrained")
    axes = fig.subplots(rows, 1, sharex=sharex, squeeze=False)
    for ax in axes[:, 0]:
        ax.xaxis.set_major_formatter(TICKS)
        ax.yaxis.set_major_formatter(TICKS)
        ax.grid(True, **_GRID)
        ax.set_axisbelow(True)
        ax.spines[["top", "right"]].set_visible(False)
    return fig, list(axes[:, 0])


def _time_unit(max_seconds: float) -> tuple[float, str]:
    """Scale and unit for times in seconds: ms when everything is under a second."""
    return (1000.0, "ms") if max_seconds < 1 else (1.0, "s")


def _labels(result: ScenarioResult) -> list[str]:
    """Strategy labels that have runs, in the scenario's order."""
    ran = {run.strategy for point in result.points for run in point.runs}
    return [spec.label for spec in result.scenario.strategies if spec.label in ran]


def _point(result: ScenarioResult, tasks: int | None) -> PointResult:
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


def _by_strategy(rows: list[Summary]) -> dict[str, list[Summary]]:
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


def _log_task_axis(ax: Axes, counts: Sequence[int]) -> None:
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


def _plain_log_y(ax: Axes) -> None:
    """Label a log y axis with plain numbers (0.01, 0.1, 1), and some minor ticks when it spans few decades."""

    def minor(value: float, _: object) -> str:
        low, high = ax.get_ylim()
        span = high / low if low > 0 else math.inf
        mantissa = round(value / 10 ** math.floor(math.log10(value)), 6) if value > 0 else 0
        labelled = {2, 3, 4, 6} if span <= 10 else {2, 5} if span <= 100 else set()
        return tick_text(value) if mantissa in labelled else ""

    ax.yaxis.set_major_formatter(TICKS)
    ax.yaxis.set_minor_formatter(FuncFormatter(minor))


def wall_time_bars(result: ScenarioResult, tasks: int | None = None) -> Figure:
    """Median wall time per strategy at one task count (the largest by default), interval whiskers, ideal marked.

    The ideal is drawn as two short black ticks either side of the whisker (collection 'ideal'), so it never hides
    the interval; the whisker is drawn above the bars and the ticks.
    """
    point = _point(result, tasks)
    rows = summarise_point(result.scenario.name, result.scenario.strategies, point)
    if not rows:
        raise ValueError(f"scenario {result.scenario.name!r} has no runs at {point.tasks} tasks")
    scale, unit = _time_unit(max(max(r.wall_ci_s[1], r.wall_median_s, r.ideal_s or 0.0) for r in rows))
    fig, (ax,) = _new_figure()
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
                colors=_IDEAL,
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
        _plain_log_y(ax)
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
    ideal_handle = Line2D([], [], color=_IDEAL, linewidth=2.5)
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


def time_vs_tasks(result: ScenarioResult) -> Figure:
    """Median wall time against task count, log-log, with each strategy's ideal time dashed in its colour."""
    rows = summarise(result)
    if not rows:
        raise ValueError(f"scenario {result.scenario.name!r} has no runs")
    scale, unit = _time_unit(max(max(r.wall_ci_s[1], r.ideal_s or 0.0) for r in rows))
    fig, (ax,) = _new_figure()
    groups = _by_strategy(rows)
    for label in _labels(result):
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
        _ideal_line(ax, [(r.tasks, r.ideal_s * scale) for r in group if r.ideal_s], color, label)
    ax.set_yscale("log")
    _plain_log_y(ax)
    _log_task_axis(ax, [r.tasks for r in rows])
    ax.set_ylabel(f"wall time ({unit}, log scale)")
    level = fmt_level(min(wall_level(r) for r in rows))
    ax.set_title(f"{result.scenario.name}: wall time against task count (median, {level} band)")
    _legend_right(fig, ax)
    return fig


def _ideal_line(ax: Axes, points: list[tuple[int, float]], color: str, label: str) -> None:
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


def speedup_vs_tasks(result: ScenarioResult) -> Figure:
    """Speedup over sequential against task count; ValueError without a sequential run or another strategy."""
    rows = summarise(result)
    if not any(r.strategy == REFERENCE for r in rows):
        raise ValueError(f"scenario {result.scenario.name!r} has no sequential run to compute a speedup from")
    others = [r for r in rows if r.strategy != REFERENCE and r.speedup is not None and r.speedup_ci is not None]
    if not others:
        raise ValueError(f"scenario {result.scenario.name!r} has no strategy besides sequential to compare")
    fig, (ax,) = _new_figure()
    groups = _by_strategy(others)
    plotted: list[float] = []
    for label in _labels(result):
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
        _ideal_line(ax, ideal, color, label)
        plotted += speedups + [b[0] for b in bands] + [b[1] for b in bands] + [v for _, v in ideal]
    ax.axhline(1.0, color="#555555", linestyle=":", linewidth=1.2, label="sequential (1×)")
    positive = [v for v in plotted if v > 0]
    log = bool(positive) and max(positive) / min(positive) > 20
    if log:
        ax.set_yscale("log")
        _plain_log_y(ax)
    else:
        ax.set_ylim(bottom=0)
    _log_task_axis(ax, [r.tasks for r in rows])
    ax.set_ylabel(f"speedup over sequential (×{', log scale' if log else ''})")
    levels = [level for r in others if (level := speedup_level(r)) is not None]
    band = f"{fmt_level(min(levels))} band" if levels else "band"
    ax.set_title(f"{result.scenario.name}: speedup over sequential (paired median, {band})")
    _legend_right(fig, ax)
    return fig


def timeline(result: ScenarioResult, tasks: int | None = None, repeat: int = 0) -> Figure:
    """Each task of one run as a bar from start to end, one row per strategy (first TIMELINE_CAP tasks).

    Each row holds its bars in PolyCollections labelled 'tasks' and 'failed tasks', one rectangle per task.
    Rows share the time axis unless their runs differ by more than 10x in length, which would leave the fast ones
    as slivers; the title then says the scales differ. A task that never ended is drawn to the end of the run.
    """
    point = _point(result, tasks)
    runs = [run for label in _labels(result) for run in point.runs if run.strategy == label and run.repeat == repeat]
    if not runs:
        raise ValueError(f"scenario {result.scenario.name!r} has no run of repeat {repeat} at {point.tasks} tasks")
    shown = min(point.tasks, TIMELINE_CAP)
    drawn = [_task_bars(run, shown) for run in runs]
    extents = [
        max([run.wall_ns / 1e6 if shown == point.tasks else 0.0, *(b.end for b in bars)])
        for run, bars in zip(runs, drawn, strict=True)
    ]
    shared = max(extents) <= 10 * max(min(extents), 1e-9)
    fig, axes = _new_figure(len(runs), height=max(FIGSIZE[1], 1.0 + 1.7 * len(runs)), sharex=shared)
    sparse = shown <= 60  # room for gaps between bars and for a hatch inside them
    height, hatch = (0.8, _FAILED_HATCH) if sparse else (1.0, None)
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
                    facecolors=_FAILED_FACE if failed else strategy_color(run.strategy),
                    edgecolors=_FAILED_EDGE if failed and hatch else "none",  # the edge colour is the hatch's
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
        handles.append(Patch(facecolor=_FAILED_FACE, edgecolor=_FAILED_EDGE, hatch=hatch))
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


DELAY_LABELS = {"local": "server delay (requested)", "sleep": "sleep time (requested)"}
"""Name of the reference curve of the latency chart, by target kind (other kinds have no delays of ours)."""


def latency_cdf(result: ScenarioResult, tasks: int | None = None) -> Figure:
    """Empirical CDF of per-task latency (end - created) per strategy over all repeats, the requested delay beside.

    The x axis spans the data (not from 0 when everything sits at 20-25 ms). When any task waited (start later
    than created: a semaphore, a pool, a connection), a second panel shows the CDF of the wait; otherwise the title
    says no task waited. The figure's title (suptitle) names the scenario; each panel's title says what it shows.
    Lines of the wait panel are labelled '<strategy> wait'.
    """
    point = _point(result, tasks)
    latency: dict[str, np.ndarray] = {}
    wait: dict[str, np.ndarray] = {}
    repeats = 0
    for label in _labels(result):
        runs = [run for run in point.runs if run.strategy == label]
        values = np.sort([ns / 1e6 for run in runs for ns in run.samples.latencies_ns()])
        if values.size:
            repeats = max(repeats, len(runs))
            latency[label] = values
            wait[label] = np.sort([ns / 1e6 for run in runs for ns in run.samples.waits_ns()])
    waited = any(w.size and w.max() > 0 for w in wait.values())
    fig, axes = _new_figure(2 if waited else 1, height=FIGSIZE[1] * (1.7 if waited else 1), sharex=False)
    ax = axes[0]
    for label, values in latency.items():
        _ecdf(ax, values, strategy_color(label), label)
    delays = np.sort(np.asarray(point.delays_ms, dtype=float))
    shown = [*latency.values()]
    if delays.size:
        _ecdf(ax, delays, _IDEAL, DELAY_LABELS.get(result.scenario.target.kind, "delay"), dashed=True)
        shown.append(delays)
    _fit_x(ax, shown)
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
                _ecdf(wax, values, strategy_color(label), f"{label} wait", dotted=True)
        _fit_x(wax, [w for w in wait.values() if w.size])
        wax.set_xlabel("wait: start - created (ms)")
        wax.set_ylabel("fraction of tasks")
        wax.set_title("time each task waited for a slot, a thread or a connection", loc="left", fontsize=10)
    for each in axes:
        each.set_ylim(0, 1.02)
    _legend_right(fig, ax)
    return fig


def _legend_right(fig: Figure, ax: Axes) -> None:
    """The legend of ``ax``'s labelled artists, outside the plotting area on the right: never on the data."""
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="outside right upper", frameon=False, fontsize=9)


def _fit_x(ax: Axes, series: Sequence[np.ndarray]) -> None:
    """An x range that spans the values of every series, with a 5% margin, never below 0."""
    values = [float(v) for s in series for v in (s.min(), s.max())] if series else []
    if not values:
        return
    low, high = min(values), max(values)
    pad = (high - low) * 0.05 or max(abs(high) * 0.05, 0.5)
    ax.set_xlim(max(low - pad, 0.0), high + pad)


def _ecdf(ax: Axes, values: np.ndarray, color: str, label: str, dashed: bool = False, dotted: bool = False) -> None:
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


CHARTS: dict[str, Callable[[ScenarioResult], Figure]] = {
    "wall": wall_time_bars,
    "scaling": time_vs_tasks,
    "speedup": speedup_vs_tasks,
    "timeline": timeline,
    "latency": latency_cdf,
}
"""Every chart, by the suffix of its file name."""


def applicable_charts(result: ScenarioResult) -> list[str]:
    """Names of the charts that say something for this scenario.

    ``scaling`` and ``speedup`` need at least two task counts; ``speedup`` also needs a sequential run and another
    strategy beside it. A scenario with no runs gets no chart.
    """
    labels = _labels(result)
    if not labels:
        return []
    sweep = len({p.tasks for p in result.points if p.runs}) >= 2
    has_speedup = sweep and REFERENCE in labels and len(labels) >= 2
    return [c for c in CHARTS if (c != "scaling" or sweep) and (c != "speedup" or has_speedup)]


def write_charts(results: ResultsFile, out_dir: Path, formats: Sequence[str] = ("png", "svg")) -> list[Path]:
    """Write every applicable chart of every scenario as ``<out_dir>/<scenario>-<chart>.<format>``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for result in results.scenarios:
        for chart in applicable_charts(result):
            fig = CHARTS[chart](result)
            for fmt in formats:
                path = out_dir / f"{result.scenario.name}-{chart}.{fmt}"
                # reproducible SVGs: fixed ids and no date
                with mpl.rc_context({"svg.hashsalt": "iobench"}):
                    fig.savefig(path, format=fmt, dpi=DPI, metadata={"Date": None} if fmt == "svg" else None)
                written.append(path)
            fig.clear()
    return written
