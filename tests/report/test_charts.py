"""Charts: built from the stored results file (and a simulated sweep), inspected through their axes, not pixels."""

from __future__ import annotations

import heapq
import random
from itertools import pairwise
from pathlib import Path

import pytest
from matplotlib.axes import Axes
from matplotlib.collections import FillBetweenPolyCollection, PolyCollection
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox

from bench.report.charts import CHARTS, TICKS, applicable_charts, strategy_color, tick_text, write_charts
from bench.report.charts.latency import latency_cdf
from bench.report.charts.scaling import time_vs_tasks
from bench.report.charts.speedup import speedup_vs_tasks
from bench.report.charts.style import TIMELINE_CAP
from bench.report.charts.timeline import timeline
from bench.report.charts.wall import wall_time_bars
from bench.results.files import read_results
from bench.results.records import DriverFacts, PointResult, ResultsFile, RunResult, Samples, ScenarioResult
from bench.results.summary import summarise, summarise_file
from bench.scenario.latency import Uniform
from bench.scenario.target_models import SleepTarget
from bench.strategies import StrategySpec
from tests.conftest import DATA


@pytest.fixture(scope="module")
def results() -> ResultsFile:
    """The stored results file: 'fixture' (3 and 8 tasks) and 'fixture-fixed' (5 tasks), sequential and gather."""
    return read_results(DATA / "results-v1.json")


@pytest.fixture(scope="module")
def fixture(results: ResultsFile) -> ScenarioResult:
    """The sweep scenario of the stored file."""
    return results.scenarios[0]


@pytest.fixture(scope="module")
def fixed(results: ResultsFile) -> ScenarioResult:
    """The single-task-count scenario of the stored file."""
    return results.scenarios[1]


def _labels(fig: Figure) -> list[str]:
    return [line.get_label() for line in fig.axes[0].get_lines()]


def _bars(ax: Axes, label: str = "tasks") -> list[tuple[float, float, int]]:
    """(start, end, task) of every timeline bar of one kind in ``ax``."""
    return [
        (path.vertices[0][0], path.vertices[1][0], round(path.vertices[:4, 1].mean()))
        for collection in ax.collections
        if collection.get_label() == label
        for path in collection.get_paths()
    ]


def _simulate(
    base: ScenarioResult,
    specs: list[StrategySpec],
    counts: list[int],
    fail_every: int = 0,
    created_at_zero: bool = False,
) -> ScenarioResult:
    """A scenario like ``base`` with ``specs`` run at ``counts`` tasks: list scheduling plus a little overhead.

    ``created_at_zero``: every task but sequential's is created at the run's start (as gather and bounded do), so
    those that start later have waited.
    """
    rng = random.Random(1)
    points = []
    for n in counts:
        delays = tuple(round(rng.uniform(5, 30), 3) for _ in range(n))
        runs = []
        for repeat in range(3):
            for position, spec in enumerate(specs):
                workers = 1 if spec.name == "sequential" else int(next(iter(spec.params.values()), n))
                free = [0] * workers
                starts, ends = [], []
                for delay in delays:
                    start = heapq.heappop(free) + rng.randint(50_000, 300_000)
                    end = start + int(delay * 1e6) + rng.randint(100_000, 2_000_000)
                    heapq.heappush(free, end)
                    starts.append(start)
                    ends.append(end)
                errors = tuple("timeout" if fail_every and i % fail_every == 1 else "" for i in range(n))
                failed = sum(1 for e in errors if e)
                runs.append(
                    RunResult(
                        strategy=spec.label,
                        repeat=repeat,
                        position=position,
                        loop="asyncio",
                        wall_ns=max(ends) + 100_000,
                        peak_inflight=min(workers, n),
                        limits={},
                        finished=n - failed,
                        failed=failed,
                        cancelled=0,
                        outcome="ok",
                        samples=Samples(
                            created_ns=(0,) * n if created_at_zero and spec.name != "sequential" else tuple(starts),
                            start_ns=tuple(starts),
                            end_ns=tuple(ends),
                            status=tuple(0 if e else 200 for e in errors),
                            nbytes=(0,) * n,
                            error=errors,
                            service_us=(-1,) * n,
                        ),
                    )
                )
        points.append(PointResult(tasks=n, delays_ms=delays, runs=tuple(runs)))
    scenario = base.scenario.model_copy(
        update={"name": "simulated", "tasks": tuple(counts), "strategies": tuple(specs)}
    )
    return base.model_copy(update={"scenario": scenario, "points": tuple(points)})


def _spec(name: str, **params: int) -> StrategySpec:
    # model_construct: strategies not registered yet (bounded, threads) still get a label and an ideal time
    return StrategySpec.model_construct(name=name, params=params)


SPECS = [
    _spec("sequential"),
    _spec("gather"),
    _spec("bounded", limit=10),
    _spec("bounded", limit=100),
    _spec("taskgroup"),
    _spec("threads", workers=10),
]


def test_strategy_color_is_fixed_and_tells_strategies_apart() -> None:
    # exact values: a colour that changed between runs or machines (say, from hash() in place of crc32) fails here
    assert [strategy_color(name) for name in ("sequential", "gather", "threads")] == ["#d55e00", "#0072b2", "#7f7f7f"]
    variants = [strategy_color(f"bounded(limit={k})") for k in (1, 10, 50, 100, 1000)]
    assert variants == ["#009e73", "#007e5c", "#99d8c7", "#59c0a4", "#00573f"]
    assert strategy_color("mystery") == "#bcbd22"  # a spare colour, chosen by crc32 of the name
    assert strategy_color("bounded(mode=odd)") == "#003f2e"  # a non-numeric parameter still gets a shade


def test_wall_time_bars(fixture: ScenarioResult) -> None:
    fig = wall_time_bars(fixture, summarise(fixture))
    (ax,) = fig.axes
    assert ax.get_title() == "fixture: wall time at 8 tasks (median of 3 runs)"
    assert ax.get_ylabel() == "wall time (ms)"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["sequential", "gather"]
    assert [round(p.get_height(), 1) for p in ax.patches] == [124.7, 24.5]
    assert [to_hex(p.get_facecolor()) for p in ax.patches] == [strategy_color("sequential"), strategy_color("gather")]
    (ideal,) = [c for c in ax.collections if c.get_label() == "ideal"]
    assert [round(seg[0][1], 1) for seg in ideal.get_segments()] == [106.6, 106.6, 21.3, 21.3]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["ideal", "interval of the median (CI 75%)"]
    assert [t.get_text() for t in ax.texts] == ["125 ms", "24.5 ms\n5.08× faster"]
    assert ax.get_yscale() == "linear"


def test_wall_time_ideal_marker_leaves_the_whisker_visible(fixture: ScenarioResult) -> None:
    (ax,) = wall_time_bars(fixture, summarise(fixture)).axes
    (ideal,) = [c for c in ax.collections if c.get_label() == "ideal"]
    centres = [p.get_x() + p.get_width() / 2 for p in ax.patches]
    for segment in ideal.get_segments():
        left, right = sorted(segment[:, 0])
        assert not any(left <= centre <= right for centre in centres)  # the whisker at the centre is never covered
    whiskers = [c for c in ax.collections if c is not ideal]
    assert whiskers and all(w.get_zorder() > ideal.get_zorder() for w in whiskers)


def test_wall_time_bars_at_a_chosen_task_count(fixture: ScenarioResult) -> None:
    assert "at 3 tasks" in wall_time_bars(fixture, summarise(fixture), tasks=3).axes[0].get_title()
    with pytest.raises(ValueError, match=r"no point with 4 tasks \(it has 3, 8\)"):
        wall_time_bars(fixture, summarise(fixture), tasks=4)


def test_time_vs_tasks(fixture: ScenarioResult) -> None:
    (ax,) = time_vs_tasks(fixture, summarise(fixture)).axes
    assert ax.get_xscale() == ax.get_yscale() == "log"
    assert ax.get_xlabel() == "tasks (log scale)"
    assert ax.get_ylabel() == "wall time (ms, log scale)"
    assert ax.get_title() == "fixture: wall time against task count (median, CI 75% band)"
    assert "fixture" in ax.get_title()
    assert [line.get_label() for line in ax.get_lines()] == [
        "sequential",
        "sequential ideal",
        "gather",
        "gather ideal",
    ]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["gather"].get_xdata()) == [3, 8]
    assert lines["gather ideal"].get_linestyle() == "--"
    assert lines["gather ideal"].get_color() == lines["gather"].get_color() == strategy_color("gather")
    assert list(lines["sequential ideal"].get_ydata()) == pytest.approx([43.14, 106.626])


def test_time_vs_tasks_draws_a_single_task_count(fixed: ScenarioResult) -> None:
    (ax,) = time_vs_tasks(fixed, summarise(fixed)).axes
    assert list(ax.get_lines()[0].get_xdata()) == [5]


def test_speedup_vs_tasks(fixture: ScenarioResult) -> None:
    fig = speedup_vs_tasks(fixture, summarise(fixture))
    (ax,) = fig.axes
    assert ax.get_xscale() == "log"
    assert ax.get_ylabel() == "speedup over sequential (×)"  # 2.1 to 5.3: a linear axis, labelled as one
    assert ax.get_yscale() == "linear"
    assert ax.get_xlabel() == "tasks (log scale)"
    assert "fixture: speedup" in ax.get_title()
    assert _labels(fig) == ["gather", "gather ideal", "sequential (1×)"]
    gather = ax.get_lines()[0]
    assert list(gather.get_ydata()) == pytest.approx([2.1294, 5.0831], abs=1e-4)
    assert sum(isinstance(c, PolyCollection | FillBetweenPolyCollection) for c in ax.collections) == 1


def test_speedup_needs_a_sequential_run(fixture: ScenarioResult) -> None:
    without = _simulate(fixture, [_spec("gather"), _spec("bounded", limit=2)], [4, 16])
    with pytest.raises(ValueError, match="no sequential run"):
        speedup_vs_tasks(without, summarise(without))
    names = [c.name for c in applicable_charts(without, summarise(without))]
    assert "speedup" not in names and "scaling" in names  # a sweep, but nothing to compute a speedup over


def test_timeline(fixture: ScenarioResult) -> None:
    fig = timeline(fixture, summarise(fixture))
    assert fig.get_suptitle() == "fixture: timeline of repeat 0 at 8 tasks"
    sequential, gather = fig.axes[:2]
    assert len(fig.axes) == 2
    assert [len(_bars(ax)) for ax in (sequential, gather)] == [8, 8]
    assert [task for _, _, task in _bars(gather)] == list(range(8))
    assert sequential.get_title(loc="left").startswith("sequential: ")
    assert gather.get_xlabel() == "time since run start (ms)"
    assert sequential.get_ylabel() == "task"
    assert sequential.get_ylim()[0] > sequential.get_ylim()[1]  # task 0 on top
    bars = _bars(sequential)
    assert all(end <= next_start for (_, end, _), (next_start, _, _) in pairwise(bars))  # stairs
    bars = _bars(gather)
    assert max(start for start, _, _ in bars) < min(end for _, end, _ in bars)  # a block: all overlap


def test_timeline_marks_failures_and_caps_long_runs(fixture: ScenarioResult) -> None:
    sim = _simulate(fixture, SPECS[:3], [300], fail_every=7)
    fig = timeline(sim, summarise(sim), repeat=2)
    assert "first 200 of 300 tasks shown" in fig.get_suptitle()
    failed = len(range(1, TIMELINE_CAP, 7))
    assert [(len(_bars(ax)), len(_bars(ax, "failed tasks"))) for ax in fig.axes] == [
        (TIMELINE_CAP - failed, failed)
    ] * 3
    few_sim = _simulate(fixture, SPECS[:2], [20], fail_every=7)
    few = timeline(few_sim, summarise(few_sim))
    (hatched,) = [c for c in few.axes[1].collections if c.get_hatch()]
    assert (hatched.get_label(), len(hatched.get_paths())) == ("failed tasks", 3)
    assert "failed task" in [t.get_text() for t in fig.legends[0].get_texts()]
    with pytest.raises(ValueError, match="no run of repeat 3"):
        timeline(sim, summarise(sim), repeat=3)


def test_latency_cdf(fixture: ScenarioResult) -> None:
    fig = latency_cdf(fixture, summarise(fixture))
    (ax,) = fig.axes  # a version 1 file: created = start, so no task waited and there is no wait panel
    assert ax.get_xlabel() == "latency: end - created (ms)"
    assert ax.get_ylabel() == "fraction of tasks"
    assert fig.get_suptitle() == "fixture: per-task latency at 8 tasks (3 repeats)"
    assert ax.get_title() == "latency: from creation to end; no task waited (start = created)"
    assert [line.get_label() for line in ax.get_lines()] == ["sequential", "gather", "server delay (requested)"]
    for line in ax.get_lines():
        assert line.get_ydata()[0] == 0.0
        assert line.get_ydata()[-1] == 1.0
    assert len(ax.get_lines()[0].get_xdata()) == 8 * 3 + 1


def test_latency_axis_fits_the_data(fixed: ScenarioResult) -> None:
    (ax,) = latency_cdf(fixed, summarise(fixed)).axes
    xs = [x for line in ax.get_lines() for x in line.get_xdata()]
    low, high = ax.get_xlim()
    assert min(xs) == 10.0 and max(xs) < 14  # fixed 10 ms delays, latencies of 12-14 ms
    assert min(xs) - 0.5 < low < min(xs)  # not from 0: the curves use the width of the chart
    assert max(xs) < high < max(xs) + 0.5


def _overlap(a: Bbox, b: Bbox) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


@pytest.mark.parametrize("chart", ["wall", "scaling", "speedup", "latency"])
def test_legends_sit_off_the_data(fixture: ScenarioResult, chart: str) -> None:
    fig = CHARTS[chart].draw(fixture, summarise(fixture))
    fig.draw_without_rendering()
    renderer = fig._get_renderer()  # type: ignore[attr-defined]
    (legend,) = fig.legends
    assert all(ax.get_legend() is None for ax in fig.axes)
    for ax in fig.axes:
        assert not _overlap(legend.get_window_extent(renderer), ax.get_window_extent(renderer))


def test_latency_reference_is_named_for_the_target(fixture: ScenarioResult) -> None:
    sleep = SleepTarget(kind="sleep", latency=Uniform(dist="uniform", low_ms=5, high_ms=30))
    facts = DriverFacts(description="asyncio.sleep", delay_label="sleep time (requested)")
    scenario = fixture.scenario.model_copy(update={"target": sleep})
    slept = fixture.model_copy(update={"scenario": scenario, "driver": facts})
    assert _labels(latency_cdf(slept, summarise(slept)))[-1] == "sleep time (requested)"


def test_latency_and_wait_are_told_apart(fixture: ScenarioResult) -> None:
    sim = _simulate(fixture, [_spec("sequential"), _spec("bounded", limit=2)], [12], created_at_zero=True)
    fig = latency_cdf(sim, summarise(sim))
    latency, wait = fig.axes
    assert (latency.get_xlabel(), wait.get_xlabel()) == ("latency: end - created (ms)", "wait: start - created (ms)")
    assert [line.get_label() for line in wait.get_lines()] == ["sequential wait", "bounded(limit=2) wait"]
    bounded = wait.get_lines()[1]
    assert max(bounded.get_xdata()) > 0  # 12 tasks two at a time: most waited
    assert list(wait.get_lines()[0].get_xdata()) == [0.0] * (12 * 3 + 1)  # sequential creates each task as it starts
    assert "no task waited" not in latency.get_title()
    names = ["sequential", "bounded(limit=2)", "server delay (requested)"]
    assert [t.get_text() for t in fig.legends[0].get_texts()] == names


def test_every_axis_uses_one_number_style(fixture: ScenarioResult) -> None:
    assert [tick_text(v) for v in (0, 0.0564, 0.06, 2.5, 20, 1000, 12_400)] == [
        "0",
        "0.0564",
        "0.06",
        "2.5",
        "20",
        "1,000",
        "12,400",
    ]
    rows = summarise(fixture)
    for chart in applicable_charts(fixture, rows):
        for ax in chart.draw(fixture, rows).axes:
            assert ax.yaxis.get_major_formatter() is TICKS, chart.name
            if not chart.categorical_x:  # an axis that names things keeps its own labels
                assert ax.xaxis.get_major_formatter() is TICKS, chart.name


def test_simulated_sweep_with_many_strategies(fixture: ScenarioResult) -> None:
    sim = _simulate(fixture, SPECS, [1, 10, 100, 1000])
    labels = [s.label for s in SPECS]
    assert _labels(time_vs_tasks(sim, summarise(sim))) == [x for label in labels for x in (label, f"{label} ideal")]
    assert _labels(speedup_vs_tasks(sim, summarise(sim)))[:2] == ["gather", "gather ideal"]
    assert len(timeline(sim, summarise(sim)).axes) == len(SPECS)
    assert _labels(latency_cdf(sim, summarise(sim), tasks=100)) == [*labels, "server delay (requested)"]
    (wall,) = wall_time_bars(sim, summarise(sim)).axes
    assert [t.get_text() for t in wall.get_xticklabels()] == labels
    assert (wall.get_yscale(), wall.get_ylabel()) == ("log", "wall time (s, log scale)")  # gather is 580x faster
    (speedup,) = speedup_vs_tasks(sim, summarise(sim)).axes
    assert (speedup.get_yscale(), speedup.get_ylabel()) == ("log", "speedup over sequential (×, log scale)")
    assert "x scales differ" in timeline(sim, summarise(sim)).get_suptitle()


@pytest.mark.slow
def test_write_charts(results: ResultsFile, tmp_path: Path) -> None:
    summaries = summarise_file(results)
    written = write_charts(results, summaries, tmp_path / "plots")
    charts = {
        result.scenario.name: [c.name for c in applicable_charts(result, rows)]
        for result, rows in zip(results.scenarios, summaries.scenarios, strict=True)
    }
    assert {"scaling", "speedup"} <= set(charts["fixture"])  # a sweep with a sequential run
    assert not {"scaling", "speedup"} & set(charts["fixture-fixed"])  # one task count
    names = [
        f"{scenario}-{chart}.{fmt}" for scenario, names in charts.items() for chart in names for fmt in ("png", "svg")
    ]
    assert written == [tmp_path / "plots" / name for name in names]
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == sorted(names)
    for path in written:
        assert path.stat().st_size > 1000
    assert written[0].read_bytes().startswith(b"\x89PNG")
    assert b"<svg" in written[1].read_bytes()[:1000]


@pytest.mark.slow
def test_write_charts_is_reproducible(results: ResultsFile, tmp_path: Path) -> None:
    one = results.model_copy(update={"scenarios": results.scenarios[1:]})
    first = write_charts(one, summarise_file(one), tmp_path / "a", formats=("svg",))
    second = write_charts(one, summarise_file(one), tmp_path / "b", formats=("svg",))
    assert len(first) == len(applicable_charts(one.scenarios[0], summarise(one.scenarios[0])))
    assert [p.read_bytes() for p in first] == [p.read_bytes() for p in second]


def test_unknown_delays_draw_no_ideal(fixture: ScenarioResult) -> None:
    sim = _simulate(fixture, [_spec("gather"), _spec("bounded", limit=2)], [2, 6])
    blind = sim.model_copy(update={"points": tuple(p.model_copy(update={"delays_ms": ()}) for p in sim.points)})
    assert _labels(time_vs_tasks(blind, summarise(blind))) == ["gather", "bounded(limit=2)"]
    assert _labels(latency_cdf(blind, summarise(blind))) == ["gather", "bounded(limit=2)"]
    (wall,) = wall_time_bars(blind, summarise(blind)).axes
    assert [t.get_text() for t in wall.figure.legends[0].get_texts()] == ["interval of the median (CI 75%)"]


def test_unknown_delays_take_the_ideal_from_the_sequential_runs(fixture: ScenarioResult) -> None:
    sim = _simulate(fixture, SPECS[:2], [2, 6])
    blind = sim.model_copy(update={"points": tuple(p.model_copy(update={"delays_ms": ()}) for p in sim.points)})
    rows = summarise(blind)
    assert {row.ideal_source for row in rows} == {"sequential"}
    assert _labels(time_vs_tasks(blind, rows)) == ["sequential", "sequential ideal", "gather", "gather ideal"]
