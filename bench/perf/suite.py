"""The ``make perf`` suite: iobench's own cost, as ratios measured side by side in one run on this machine.

    python -m bench.perf [--full] [--scenarios PATH] [--no-ray]

Each figure is measured here, now, against a reference run against the same local server, in interleaved rounds;
absolute times are printed as context only. Like is compared with like: iobench's gather with a hand-written
gather, its bounded(limit=100) with a hand-written semaphore, its sequential loop with a hand-written loop
(``bench.perf.reference``). The scale rows (issue 13) run through the product's run path with one loop, client
processes and Ray actors (``bench.perf.scale``). Goals are those of issues 13 and 11.

Nothing here needs the source checkout: the seed scenario is built in memory unless ``--scenarios`` (default
``./scenarios``) holds a ``seed.yaml``; ``iobench run scenarios`` (what ``make bench`` runs) is timed only when that
folder exists. ``--full`` measures the spread over five complete runs of that folder instead of five seed runs.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.perf import scale
from bench.perf.reference import hand_gather, hand_sequential
from bench.results.files import read_results
from bench.results.stats import median
from bench.results.summary import summarise
from bench.run.preflight import raise_fd_limit
from bench.run.timed import execute
from bench.scenario.loader import load_file, parse_scenario
from bench.scenario.model import Scenario
from bench.scenario.plan import make_plan
from bench.server.process import LocalServer
from bench.targets.base import driver_for
from bench.targets.local import LocalDriver

RECORDING_BENCHMARK = Path(__file__).with_name("bench_recording.py")
"""The pytest-benchmark file of the recording cost: part of the package, so it is there when installed."""
SEED_YAML = """\
name: seed
description: ten GETs with web-like latencies (lognormal, ~100-400 ms)
tasks: 10
target:
  latency: {dist: lognormal, median_ms: 180, sigma: 0.4}
  bytes: 2048
strategies: [sequential, gather]
repeats: auto
precision: 2%
min_repeats: 6
warmup: 1
seed: 2018
"""
"""A copy of scenarios/seed.yaml, used when no scenarios folder is at hand (an installed iobench)."""
THROUGHPUT_TASKS = 10_000
STRATEGIES: dict[str, str | dict[str, Any]] = {
    "gather": "gather",
    "bounded(limit=100)": {"bounded": {"limit": 100}},
    "sequential": "sequential",
}
"""The three like-with-like comparisons: label -> the scenario's strategy entry."""
THROUGHPUT_GOALS = {"gather": 0.97, "bounded(limit=100)": 0.95, "sequential": 0.95}
"""gather: issue 13's goal; bounded and sequential: make perf's earlier requests/s goal."""


@dataclass(frozen=True)
class Figure:
    """One row of the table: what was measured, the goal, the figure and whether it holds."""

    name: str
    goal: str
    value: str
    holds: bool | None
    """None: reported only (no goal), or not measurable here."""
    context: str = ""


def seed_scenario(folder: Path) -> tuple[Scenario, Path | None]:
    """The seed scenario from ``folder``/seed.yaml if there, else the in-memory copy; and the file it came from."""
    path = folder / "seed.yaml"
    if path.is_file():
        return load_file(path), path
    return parse_scenario(SEED_YAML, "seed.yaml (built in)"), None


def _iobench_seconds(runner: asyncio.Runner, scenario: Scenario, label: str, base_url: str) -> float:
    point = make_plan(scenario).points[0]
    driver = driver_for(scenario, point, base_url)
    spec = next(s for s in scenario.strategies if s.label == label)
    result = runner.run(execute(spec.build(), label, driver, scenario, repeat=0, position=0))
    if result.finished != point.tasks:
        raise RuntimeError(f"{label}: only {result.finished} of {point.tasks} tasks finished")
    return result.wall_ns / 1e9


def _hand_seconds(runner: asyncio.Runner, scenario: Scenario, label: str, base_url: str) -> float:
    point = make_plan(scenario).points[0]
    driver = driver_for(scenario, point, base_url)
    assert isinstance(driver, LocalDriver)
    urls = driver.urls
    script = hand_sequential if label == "sequential" else hand_gather
    gc.collect()  # the same hygiene iobench applies before its timed region
    return runner.run(script(urls, f"{base_url}/health"))


def side_by_side(
    scenario: Scenario, labels: list[str], base_url: str, rounds: int, seed: int = 0
) -> dict[tuple[str, str], list[float]]:
    """Seconds per (harness, strategy) over ``rounds`` rounds, every combination once per round, shuffled."""
    rng = random.Random(seed)
    times: dict[tuple[str, str], list[float]] = {}
    combos = [(h, label) for h in ("iobench", "hand") for label in labels]
    with asyncio.Runner() as runner:
        for _ in range(rounds + 1):  # the first round warms up and is dropped
            rng.shuffle(combos)
            for harness, label in combos:
                measure = _iobench_seconds if harness == "iobench" else _hand_seconds
                times.setdefault((harness, label), []).append(measure(runner, scenario, label, base_url))
    return {key: values[1:] for key, values in times.items()}


def overhead_ratio(scenario: Scenario, base_url: str, rounds: int) -> tuple[float, str]:
    """Worst (over sequential and gather) of median iobench wall time / median hand-written wall time."""
    times = side_by_side(scenario, ["sequential", "gather"], base_url, rounds)
    ratios = {
        label: median(times["iobench", label]) / median(times["hand", label]) for label in ("sequential", "gather")
    }
    context = ", ".join(
        f"{label} {median(times['iobench', label]) * 1e3:.1f} vs {median(times['hand', label]) * 1e3:.1f} ms"
        for label in ("sequential", "gather")
    )
    return max(ratios.values()), context


LIKE_ROUNDS = 7
"""Interleaved rounds of the like-with-like figures: a 10,000-task run on one loop swings by 10% from run to run
here (the collector's full passes land differently each time), so each round pairs the two scripts and the
figure is the median of the per-round ratios."""


def like_with_like(engines: scale.Engines, base_url: str, rounds: int = LIKE_ROUNDS) -> dict[str, LikeFigure]:
    """Requests/s of 10,000 zero-delay tasks per strategy, iobench against the hand-written script: the median of
    the per-round ratios (each round runs every job once, in a shuffled order; a warm-up round first, dropped)."""
    jobs: dict[str, Callable[[], float]] = {}
    for label, entry in STRATEGIES.items():
        spec = scale.spec(base_url, THROUGHPUT_TASKS, 0.0, entry)
        jobs[f"iobench {label}"] = lambda spec=spec: engines.run(scale.ONE_LOOP, spec).wall_ns / 1e9  # type: ignore[misc]
        jobs[f"hand {label}"] = lambda spec=spec: engines.hand(spec)  # type: ignore[misc]
    times = scale.interleaved(jobs, rounds, seed=1)
    figures = {}
    for label in STRATEGIES:
        ours, theirs = times[f"iobench {label}"], times[f"hand {label}"]
        ratios = [hand_s / iobench_s for iobench_s, hand_s in zip(ours, theirs, strict=True)]
        figures[label] = LikeFigure(median(ratios), THROUGHPUT_TASKS / median(ours), THROUGHPUT_TASKS / median(theirs),
                                    tuple(ratios))  # fmt: skip
    return figures


@dataclass(frozen=True)
class LikeFigure:
    """iobench's requests/s over the hand-written script's, paired by round."""

    ratio: float
    """Median of the per-round ratios."""
    ours: float
    """Median requests/s of iobench."""
    theirs: float
    """Median requests/s of the hand-written script."""
    ratios: tuple[float, ...]


def peak_rss(folder: Path) -> tuple[float, str]:
    """Peak RSS (MB) of an ``iobench run`` process holding 10,000 concurrent tasks in one loop (gather, zero delay)."""
    scenario = folder / "rss.yaml"
    scenario.write_text(
        "name: rss\ntasks: 10000\ntarget: {latency: {dist: fixed, ms: 0}}\nstrategies: [gather]\nrepeats: 1\n"
        "warmup: 0\ntimeout_s: 120\nserver: {workers: 2, backlog: 4096}\n",
        encoding="utf-8",
    )
    out = folder / "rss.json"
    _iobench(["run", str(scenario), "-o", str(out), "-q", "--no-plots"], folder)
    [result] = read_results(out).scenarios
    run = result.points[0].runs[0]
    return result.peak_rss_mb or 0.0, f"{run.finished} of 10,000 tasks finished, {run.wall_ns / 1e9:.2f} s"


def _iobench(args: list[str], cwd: Path) -> float:
    """Seconds for ``iobench ARGS`` run as the installed module, from ``cwd`` (never the source checkout)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args], capture_output=True, text=True, cwd=cwd, timeout=900, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"iobench {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return time.perf_counter() - start


def recording_cost(folder: Path) -> tuple[float | None, str]:
    """Microseconds of bookkeeping per task sample, from pytest-benchmark (bench/perf/bench_recording.py, found
    beside this module, installed or not); None with the reason when pytest-benchmark is not installed."""
    if importlib.util.find_spec("pytest_benchmark") is None:
        return None, "pytest-benchmark is not installed (pip install 'iobench[dev]'); skipped"
    report = folder / "recording.json"
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", str(RECORDING_BENCHMARK), "-q", "-p", "no:randomly", "-p",
            "no:cacheprovider", f"--rootdir={folder}", "--benchmark-enable", f"--benchmark-json={report}",
            "--benchmark-min-rounds=20",
        ],
        capture_output=True, text=True, cwd=folder, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the recording benchmark failed:\n{done.stdout[-2000:]}")
    stats = {b["name"]: b["stats"] for b in json.loads(report.read_text(encoding="utf-8"))["benchmarks"]}
    bare, recorded = stats["test_bare_tasks"]["median"], stats["test_recorded_tasks"]["median"]
    return (recorded - bare) / 1000 * 1e6, f"1,000 tasks: {recorded * 1e3:.2f} ms recorded vs {bare * 1e3:.2f} ms bare"


def speedup_spread(folder: Path, paths: list[Path], runs: int = 5) -> tuple[float, str]:
    """max/min over ``runs`` complete ``iobench run PATHS`` of the seed scenario's gather speedup."""
    speedups = []
    for i in range(runs):
        out = folder / f"spread-{i}.json"
        _iobench(["run", *map(str, paths), "-q", "-o", str(out), "--no-plots"], folder)
        seed = next(s for s in read_results(out).scenarios if s.scenario.name == "seed")
        gather = next(r for r in summarise(seed) if r.strategy == "gather")
        assert gather.speedup is not None
        speedups.append(gather.speedup)
    return max(speedups) / min(speedups), ", ".join(f"{s:.2f}x" for s in speedups)


def _ratio_row(name: str, goal: float, ours: float, theirs: float, context: str) -> Figure:
    ratio = ours / theirs
    return Figure(name, f">= {goal:g}", f"{ratio:.3f}", ratio >= goal, context)


def _scale_figures(engines: scale.Engines, base_url: str, rounds: int, best_rps: dict[str, float]) -> list[Figure]:
    """10,000 x 2 s wall / ideal per engine (and hand-written), the warm-up, requests/s against wrk, per-process RSS."""
    figures = []
    tasks = THROUGHPUT_TASKS
    walls = scale.interleaved(scale.wall_jobs(engines, base_url, tasks), rounds, seed=2)
    processes = f"{engines.k} processes"
    for name, values in walls.items():
        ratio = median(values) / 2.0
        judged = name in (processes + scale.NO_GC, processes + scale.MINIMAL)  # client processes, the I/O's limit
        context = f"walls {', '.join(f'{v:.2f}' for v in values)} s; ideal 2 s"
        if name.startswith("Ray"):  # the test for Ray: agreement with the same run on local processes
            local = walls.get(processes + name[name.index(" actors") + len(" actors") :])
            if local:
                context += f"; {median(values) / median(local) - 1:+.0%} against {processes}"
        figure_name = f"{tasks:,} x 2 s gather, wall / ideal: {name}"
        goal = "<= 1.5" if judged else "reported"
        figures.append(Figure(figure_name, goal, f"{ratio:.2f}", ratio <= 1.5 if judged else None, context))
    for name, why in engines.skipped.items():
        figures.append(Figure(f"{tasks:,} x 2 s gather, wall / ideal: {name}", "<= 1.5", "—", None, why))
    warm = scale.warm_up_seconds(base_url, tasks)
    warm_s = ", ".join(f"{w:.2f}" for w in warm)
    figure_name = f"warm-up of {tasks:,} connections (paced, the runner's warm_pool)"
    figures.append(Figure(figure_name, "<= 3 s", f"{median(warm):.2f} s", median(warm) <= 3.0, f"{warm_s} s"))
    for label in ("gather", "bounded(limit=100)"):
        entry = STRATEGIES[label]
        for name in engines.pools:
            for suffix, keys in scale.VARIANTS.items():
                run_spec = scale.spec(base_url, tasks, 0.0, entry, k=engines.k, **keys)
                engines.run(name, run_spec)  # warm-up run, dropped
                best_rps[f"{name} {label}{suffix}"] = tasks / (engines.run(name, run_spec).wall_ns / 1e9)
    best_name, best = max(best_rps.items(), key=lambda item: item[1])
    wrk = scale.wrk_requests_per_s(base_url)
    figure_name = "requests/s: iobench best (1 or 2 processes) / wrk -t2 -c100"
    if wrk is None:
        figures.append(Figure(figure_name, ">= 0.5", "—", None, "wrk is not installed (apt-get install wrk); skipped"))
    else:
        others = ", ".join(f"{k} {v:,.0f}" for k, v in best_rps.items() if k != best_name)
        context = f"iobench best: {best_name} {best:,.0f}/s; wrk {wrk:,.0f}/s; others: {others}"
        figures.append(_ratio_row(figure_name, 0.5, best, wrk, context))
    rss = scale.peak_rss_per_process(engines, base_url, tasks)
    every = [r for values in rss.values() for r in values]
    context = "; ".join(f"{k}: " + ", ".join(f"{r:.0f}" for r in v) + " MB" for k, v in rss.items())
    figure_name = f"peak RSS per client process, {tasks:,} tasks over {engines.k} processes"
    figures.append(Figure(figure_name, "<= 250 MB", f"{max(every):.0f} MB", max(every) <= 250, context))
    return figures


def markdown(figures: list[Figure]) -> str:
    """The figures as a Markdown table (for the README)."""
    mark = {True: "holds", False: "**misses**", None: "reported"}
    lines = ["| figure | goal | measured | | context |", "|---|---|---|---|---|"]
    lines += [f"| {f.name} | {f.goal} | {f.value} | {mark[f.holds]} | {f.context} |" for f in figures]
    return "\n".join(lines)


def _row(table: Table, figure: Figure) -> None:
    mark = {True: "[green]✓ holds[/]", False: "[red]✗ misses[/]", None: "reported"}[figure.holds]
    table.add_row(figure.name, figure.goal, figure.value, mark, figure.context)


def run_suite(full: bool, scenarios: Path, ray: bool, progress: Callable[[str], None], rounds: int = 3) -> list[Figure]:
    """Measure every figure; ``progress`` is told what is being measured."""
    raise_fd_limit()
    figures: list[Figure] = []
    seed, seed_path = seed_scenario(scenarios)
    with tempfile.TemporaryDirectory(prefix="iobench-perf-") as tmp:
        folder = Path(tmp)
        with LocalServer(workers=2, backlog=scale.BACKLOG) as base_url:
            progress(f"seed scenario ({seed_path or 'built in'}): iobench vs hand-written")
            ratio, context = overhead_ratio(seed, base_url, rounds=5)
            figures.append(Figure("wall time, seed scenario: iobench / hand-written (worst strategy)", "<= 1.05",
                                  f"{ratio:.3f}", ratio <= 1.05, context))  # fmt: skip
            progress("starting 2 client processes and 2 Ray actors")
            with scale.Engines(k=2, ray=ray) as engines:
                progress(f"{THROUGHPUT_TASKS:,} zero-delay tasks: iobench vs hand-written, per strategy")
                rates = like_with_like(engines, base_url)
                for label, like in rates.items():
                    name = f"requests/s, {THROUGHPUT_TASKS:,} zero-delay: iobench {label} / hand-written {label}"
                    each = ", ".join(f"{r:.2f}" for r in like.ratios)
                    context = (f"median of {len(like.ratios)} paired rounds ({each}); {like.ours:,.0f} vs "
                               f"{like.theirs:,.0f}/s, one loop each")  # fmt: skip
                    goal = THROUGHPUT_GOALS[label]
                    figures.append(Figure(name, f">= {goal:g}", f"{like.ratio:.3f}", like.ratio >= goal, context))
                progress(f"{THROUGHPUT_TASKS:,} x 2 s wall / ideal, warm-up, wrk, RSS per process")
                best = {f"one loop {label}": like.ours for label, like in rates.items() if label != "sequential"}
                figures.extend(_scale_figures(engines, base_url, max(rounds - 1, 1), best))
        progress("peak RSS at 10,000 concurrent tasks in one loop (iobench run)")
        rss, context = peak_rss(folder)
        figures.append(Figure("peak RSS of the runner (one loop), 10,000 concurrent tasks", "<= 250 MB",
                              f"{rss:.0f} MB", rss <= 250, context))  # fmt: skip
        progress("cost of recording one task sample (pytest-benchmark)")
        cost, context = recording_cost(folder)
        figures.append(Figure("cost of recording one task sample", "<= 2 us",
                              "—" if cost is None else f"{cost:.2f} us", None if cost is None else cost <= 2,
                              context))  # fmt: skip
        if scenarios.is_dir():
            progress(f"iobench run {scenarios} (make bench) run time")
            seconds = _iobench(["run", str(scenarios.resolve()), "-q", "-o", str(folder / "bench.json"),
                                "--plots-dir", str(folder / "p")], folder)  # fmt: skip
            figures.append(Figure(f"`iobench run {scenarios}` (make bench, installed)", "<= 90 s",
                                  f"{seconds:.1f} s", seconds <= 90, "charts and report included"))  # fmt: skip
        else:
            figures.append(Figure("`iobench run scenarios` (make bench)", "<= 90 s", "—", None,
                                  f"no scenarios folder at {scenarios}; pass --scenarios PATH"))  # fmt: skip
        progress("spread of the seed gather speedup over 5 runs")
        if full and scenarios.is_dir():
            paths, what = [scenarios.resolve()], f"5 complete `iobench run {scenarios}` runs"
        else:
            if seed_path is None:
                seed_path = folder / "seed.yaml"
                seed_path.write_text(SEED_YAML, encoding="utf-8")
            paths, what = [seed_path.resolve()], "5 runs of the seed scenario (--full: complete runs)"
        spread, context = speedup_spread(folder, paths)
        figures.append(Figure(f"seed gather speedup, max/min over {what}", "<= 1.15", f"{spread:.3f}",
                              spread <= 1.15, context))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the suite, print the table; exit 1 if a goal is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__)
    parser.add_argument("--full", action="store_true", help="spread over 5 complete `iobench run scenarios` runs")
    parser.add_argument("--scenarios", type=Path, default=Path("scenarios"),
                        help="the scenarios folder `make bench` runs (default ./scenarios); optional")  # fmt: skip
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray rows")
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown")
    args = parser.parse_args(argv)
    console = Console(highlight=False)
    if not console.is_terminal:
        console = Console(highlight=False, width=200)  # a log file: do not fold the table to 80 columns
    err = Console(stderr=True, highlight=False)
    started = time.monotonic()
    figures = run_suite(args.full, args.scenarios, not args.no_ray, lambda what: err.print(f"measuring: {what}"))
    table = Table(title="iobench perf (ratios measured side by side in one run)", title_justify="left")
    for column in ("figure", "goal", "measured", "", "context"):
        table.add_column(column, overflow="fold")
    for figure in figures:
        _row(table, figure)
    console.print(table)
    if args.markdown:
        console.print(markdown(figures), markup=False, soft_wrap=True)
    err.print(f"make perf took {time.monotonic() - started:.0f} s")
    return 1 if any(f.holds is False for f in figures) else 0
