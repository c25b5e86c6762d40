"""The ``make perf`` suite: iobench's own cost, as ratios measured side by side in one run on this machine.

Each figure is measured here, now, against a reference run in the same process and against the same local server,
in interleaved rounds; absolute times are printed as context only. ``--full`` measures the run-to-run spread over
five complete ``iobench run scenarios`` runs instead of five runs of the seed scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.perf.reference import hand_gather, hand_sequential
from bench.plan import make_plan
from bench.preflight import raise_fd_limit
from bench.results import read_results
from bench.scenario import Scenario, load_file, parse_scenario
from bench.server import LocalServer
from bench.stats import median
from bench.summary import summarise
from bench.targets import LocalDriver, driver_for
from bench.timed import execute

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Figure:
    """One row of the table: what was measured, the goal, the figure and whether it holds."""

    name: str
    goal: str
    value: str
    holds: bool | None
    """None: reported only (no goal), or not measurable here."""
    context: str = ""


def _zero_delay(tasks: int, strategies: str = "[sequential, gather]") -> Scenario:
    return parse_scenario(
        f"name: z{tasks}\ntasks: {tasks}\ntarget: {{latency: {{dist: fixed, ms: 0}}}}\nstrategies: {strategies}\n"
        "repeats: 1\nwarmup: 0\ntimeout_s: 120\n"
    )


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


def throughput_ratio(base_url: str, rounds: int) -> tuple[float, float, str]:
    """Requests/s of iobench's fastest strategy on 10,000 zero-delay tasks over the hand-written best."""
    labels = ["gather", "bounded(limit=100)"]
    scenario = _zero_delay(10_000, "[sequential, gather, {bounded: {limit: 100}}]")
    rng = random.Random(1)
    times: dict[tuple[str, str], list[float]] = {}
    combos = [("iobench", label) for label in labels] + [("hand", "gather"), ("hand", "sequential")]
    with asyncio.Runner() as runner:
        for _ in range(rounds):
            rng.shuffle(combos)
            for harness, label in combos:
                measure = _iobench_seconds if harness == "iobench" else _hand_seconds
                times.setdefault((harness, label), []).append(measure(runner, scenario, label, base_url))
    rps = {key: 10_000 / median(values) for key, values in times.items()}
    ours = max(v for (h, _), v in rps.items() if h == "iobench")
    theirs = max(v for (h, _), v in rps.items() if h == "hand")
    context = ", ".join(f"{h} {label} {v:,.0f}/s" for (h, label), v in sorted(rps.items()))
    return ours / theirs, ours, context


def load_tool(tool: str, base_url: str) -> float | None:
    """Requests/s that wrk or hey reach against the server with 100 connections, or None if not installed."""
    if shutil.which(tool) is None:
        return None
    url = f"{base_url}/delay/0ms"
    if tool == "wrk":
        argv = ["wrk", "-t1", "-c100", "-d5s", url]
        pattern = r"Requests/sec:\s+([0-9.]+)"
    else:
        argv = ["hey", "-c", "100", "-n", "10000", url]
        pattern = r"Requests/sec:\s+([0-9.]+)"
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    match = re.search(pattern, done.stdout)
    return float(match.group(1)) if match else None


def peak_rss(folder: Path) -> tuple[float, str]:
    """Peak RSS (MB) of an ``iobench run`` process holding 10,000 concurrent tasks (gather, zero delay)."""
    scenario = folder / "rss.yaml"
    scenario.write_text(
        "name: rss\ntasks: 10000\ntarget: {latency: {dist: fixed, ms: 0}}\nstrategies: [gather]\nrepeats: 1\n"
        "warmup: 0\ntimeout_s: 120\nserver: {workers: 2, backlog: 4096}\n",
        encoding="utf-8",
    )
    out = folder / "rss.json"
    _iobench(["run", str(scenario), "-o", str(out), "-q", "--no-plots"])
    [result] = read_results(out).scenarios
    run = result.points[0].runs[0]
    return result.peak_rss_mb or 0.0, f"{run.finished} of 10,000 tasks finished, {run.wall_ns / 1e9:.2f} s"


def _iobench(args: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args], capture_output=True, text=True, cwd=REPO, timeout=900, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"iobench {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return time.perf_counter() - start


def recording_cost(folder: Path) -> tuple[float, str]:
    """Microseconds of bookkeeping per task sample, from pytest-benchmark (bench/perf/bench_recording.py)."""
    report = folder / "recording.json"
    done = subprocess.run(
        [
            sys.executable, "-m", "pytest", str(REPO / "bench/perf/bench_recording.py"), "-q", "-p", "no:randomly",
            "--benchmark-enable", f"--benchmark-json={report}", "--benchmark-min-rounds=20", "-o", "testpaths=",
        ],
        capture_output=True, text=True, cwd=REPO, timeout=300, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the recording benchmark failed:\n{done.stdout[-2000:]}")
    stats = {b["name"]: b["stats"] for b in json.loads(report.read_text(encoding="utf-8"))["benchmarks"]}
    bare, recorded = stats["test_bare_tasks"]["median"], stats["test_recorded_tasks"]["median"]
    return (recorded - bare) / 1000 * 1e6, f"1,000 tasks: {recorded * 1e3:.2f} ms recorded vs {bare * 1e3:.2f} ms bare"


def bench_duration(folder: Path) -> float:
    """Seconds for ``iobench run scenarios`` (what ``make bench`` runs once installed), charts included."""
    return _iobench(["run", "scenarios", "-q", "-o", str(folder / "bench.json"), "--plots-dir", str(folder / "p")])


def speedup_spread(folder: Path, full: bool, runs: int = 5) -> tuple[float, str]:
    """max/min over ``runs`` complete runs of the seed scenario's gather speedup."""
    speedups = []
    for i in range(runs):
        out = folder / f"spread-{i}.json"
        paths = ["scenarios"] if full else ["scenarios/seed.yaml"]
        _iobench(["run", *paths, "-q", "-o", str(out), "--no-plots"])
        seed = next(s for s in read_results(out).scenarios if s.scenario.name == "seed")
        gather = next(r for r in summarise(seed) if r.strategy == "gather")
        assert gather.speedup is not None
        speedups.append(gather.speedup)
    return max(speedups) / min(speedups), ", ".join(f"{s:.2f}x" for s in speedups)


def _row(table: Table, figure: Figure) -> None:
    mark = {True: "[green]✓ holds[/]", False: "[red]✗ misses[/]", None: "reported"}[figure.holds]
    table.add_row(figure.name, figure.goal, figure.value, mark, figure.context)


def run_suite(full: bool, progress: Callable[[str], None]) -> list[Figure]:
    """Measure every figure; ``progress`` is told what is being measured."""
    raise_fd_limit()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="iobench-perf-") as tmp:
        folder = Path(tmp)
        server = LocalServer(workers=1, backlog=4096)
        base_url = server.start()
        try:
            progress("seed scenario: iobench vs hand-written")
            ratio, context = overhead_ratio(load_file(REPO / "scenarios/seed.yaml"), base_url, rounds=5)
            figures.append(Figure("wall time, seed scenario: iobench / hand-written", "<= 1.05", f"{ratio:.3f}",
                                  ratio <= 1.05, context))  # fmt: skip
            progress("1,000 zero-delay tasks: iobench vs hand-written")
            ratio, context = overhead_ratio(_zero_delay(1000), base_url, rounds=15)
            figures.append(Figure("wall time, 1,000 zero-delay tasks: iobench / hand-written", "<= 1.05",
                                  f"{ratio:.3f}", ratio <= 1.05, context))  # fmt: skip
            progress("10,000 zero-delay tasks: requests per second")
            ratio, ours, context = throughput_ratio(base_url, rounds=3)
            figures.append(Figure("requests/s, 10,000 zero-delay tasks: iobench best / hand-written best", ">= 0.95",
                                  f"{ratio:.3f}", ratio >= 0.95, context))  # fmt: skip
            for tool in ("wrk", "hey"):
                progress(f"{tool} against the same server")
                theirs = load_tool(tool, base_url)
                figures.append(
                    Figure(f"requests/s: iobench best / {tool} -c100", "reported",
                           f"{ours / theirs:.3f}" if theirs else "—", None,
                           f"{tool} {theirs:,.0f}/s" if theirs else f"{tool} is not installed; skipped")
                )  # fmt: skip
        finally:
            server.stop()
        progress("peak RSS at 10,000 concurrent tasks")
        rss, context = peak_rss(folder)
        figures.append(Figure("peak RSS of the runner, 10,000 concurrent tasks", "<= 250 MB", f"{rss:.0f} MB",
                              rss <= 250, context))  # fmt: skip
        progress("cost of recording one task sample (pytest-benchmark)")
        cost, context = recording_cost(folder)
        figures.append(Figure("cost of recording one task sample", "<= 2 us", f"{cost:.2f} us", cost <= 2, context))
        progress("make bench run time")
        seconds = bench_duration(folder)
        figures.append(Figure("`iobench run scenarios` (make bench, installed)", "<= 90 s", f"{seconds:.1f} s",
                              seconds <= 90, "charts and report included"))  # fmt: skip
        progress("spread of the seed gather speedup over 5 runs")
        spread, context = speedup_spread(folder, full)
        what = "5 complete make bench runs" if full else "5 runs of scenarios/seed.yaml (--full: complete runs)"
        figures.append(Figure(f"seed gather speedup, max/min over {what}", "<= 1.15", f"{spread:.3f}",
                              spread <= 1.15, context))  # fmt: skip
    return figures


def main(argv: list[str] | None = None) -> int:
    """Run the suite, print the table; exit 1 if a goal is missed."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf", description=__doc__)
    parser.add_argument("--full", action="store_true", help="spread over 5 complete `iobench run scenarios` runs")
    args = parser.parse_args(argv)
    console = Console(soft_wrap=True, highlight=False)
    err = Console(stderr=True, highlight=False)
    figures = run_suite(args.full, lambda what: err.print(f"measuring: {what}"))
    table = Table(title="iobench perf (ratios measured side by side in one run)", title_justify="left")
    for column in ("figure", "goal", "measured", "", "context"):
        table.add_column(column, overflow="fold")
    for figure in figures:
        _row(table, figure)
    console.print(table)
    return 1 if any(f.holds is False for f in figures) else 0
