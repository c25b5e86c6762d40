"""Scale figures (issue 13), side by side in one run: ``python -m bench.perf.scale [--tasks 1000 10000] [--no-ray]``.

For each task count, against one local server (2 workers, backlog 4096), in interleaved rounds (the first dropped):
- wall / ideal of N tasks of a fixed 2 s under gather (ideal: the 2 s delay), through the product's run path with
  one loop (``bench.run.timed.execute``), 2 client processes and 2 Ray actors (``bench.run.timed.execute_shared``, what
  ``processes: 2`` and ``--engine ray`` run), and the hand-written single-loop gather;
- requests/s of N zero-delay tasks under gather with the same three engines;
- peak RSS of each client process.
``--repeats`` adds: N zero-delay tasks, 1 warm-up + 3 repeats, three times in a row, errors and TIME_WAIT after each.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.errors import EnvironmentLimitError
from bench.perf.reference import hand_bounded, hand_gather, hand_sequential
from bench.results.records import RunResult
from bench.results.stats import median
from bench.run.engines.processes import ClientPool
from bench.run.engines.shares import RunSpec
from bench.run.preflight import raise_fd_limit
from bench.run.timed import Pool, execute, execute_shared
from bench.server.process import LocalServer
from bench.targets.base import driver_for
from bench.targets.clients.aiohttp_client import new_session, warm_pool
from bench.targets.clients.net import time_wait_count
from bench.targets.local import LocalDriver

ONE_LOOP = "one loop"
HAND = "hand-written"
BACKLOG = 4096


def spec(
    base_url: str,
    tasks: int,
    delay_ms: float,
    strategy: str | dict[str, Any] = "gather",
    k: int = 1,
    gc: bool = True,
    client: str = "aiohttp",
) -> RunSpec:
    """A run of ``tasks`` GETs of ``delay_ms`` on the local server, spread over ``k`` client processes; ``gc``
    False pauses the garbage collector during the run (the scenario's ``gc: false``); ``client`` the HTTP client."""
    keys: dict[str, Any] = {"timeout_s": 120.0, "server": {"backlog": BACKLOG}, "processes": k, "gc": gc}
    if client != "aiohttp":
        keys["client"] = client
    return RunSpec.local(base_url, tasks, delay_ms, strategy, **keys)  # type: ignore[arg-type]


@dataclass
class Engines:
    """The ways one run can be executed, each kept open for every run: one loop in this process, ``k`` client
    processes, ``k`` Ray actors (when Ray is installed and ``ray`` is set), and the hand-written scripts."""

    k: int = 2
    ray: bool = True
    pools: dict[str, Pool] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    """Engine name -> why it is not measured."""

    def __post_init__(self) -> None:
        self._runner = asyncio.Runner()

    @property
    def names(self) -> list[str]:
        """Engines that run iobench, in a fixed order."""
        return [ONE_LOOP, *self.pools]

    def __enter__(self) -> Engines:
        pool = ClientPool(self.k)
        pool.start()
        self.pools[f"{self.k} processes"] = pool
        name = f"Ray, {self.k} actors"
        if not self.ray:
            self.skipped[name] = "--no-ray"
            return self
        try:
            from bench.run.engines.ray_actors import RayPool

            ray_pool = RayPool(self.k, num_cpus=2, include_dashboard=False, log_to_driver=False)
            ray_pool.start()
            self.pools[name] = ray_pool
        except EnvironmentLimitError as exc:
            self.skipped[name] = str(exc)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for pool in self.pools.values():
            pool.stop(graceful=exc is None)
        self._runner.close()

    def run(self, engine: str, run_spec: RunSpec) -> RunResult:
        """One timed run of ``run_spec`` with ``engine`` (a name from ``names``, or one with a ``VARIANTS`` suffix);
        RuntimeError unless every task finished ok."""
        for suffix in VARIANTS:
            engine = engine.removesuffix(suffix) if suffix else engine
        if engine == ONE_LOOP:
            driver = driver_for(run_spec.scenario, run_spec.point, run_spec.base_url)
            coro = execute(run_spec.strategy(), run_spec.label, driver, run_spec.scenario, repeat=0, position=0)
            result = self._runner.run(coro)
        else:
            result = execute_shared(self.pools[engine], run_spec, repeat=0, position=0)
        if not result.complete:
            raise RuntimeError(f"{engine}, {run_spec.label}: {result.finished} of {run_spec.tasks} tasks finished "
                               f"ok ({result.reason or 'see the errors'})")  # fmt: skip
        return result

    def hand(self, run_spec: RunSpec) -> float:
        """Seconds of the hand-written script for ``run_spec``'s strategy (sequential, bounded or gather)."""
        driver = driver_for(run_spec.scenario, run_spec.point, run_spec.base_url)
        assert isinstance(driver, LocalDriver)
        strategy = run_spec.strategy()
        if strategy.name == "sequential":
            script = hand_sequential(driver.urls, driver.warm_url)
        elif strategy.name == "bounded":
            script = hand_bounded(driver.urls, driver.warm_url, strategy.limits().values.get("semaphore") or 100)
        else:
            script = hand_gather(driver.urls, driver.warm_url)
        return self._runner.run(script)


def interleaved(
    jobs: dict[str, Callable[[], float]], rounds: int, seed: int = 0, warmup: int = 1
) -> dict[str, list[float]]:
    """Seconds of each job over ``rounds`` rounds, every job once per round in a shuffled order; ``warmup``
    rounds first, dropped."""
    rng = random.Random(seed)
    names = list(jobs)
    times: dict[str, list[float]] = {name: [] for name in names}
    for r in range(warmup + rounds):
        rng.shuffle(names)
        for name in names:
            seconds = jobs[name]()
            if r >= warmup:
                times[name].append(seconds)
    return times


NO_GC = ", gc: false"
"""Suffix of a job run with the garbage collector paused during the timed region."""
MINIMAL = ", client: minimal"
"""Suffix of a job run with iobench's minimal HTTP client instead of aiohttp."""
VARIANTS: dict[str, dict[str, Any]] = {"": {}, NO_GC: {"gc": False}, MINIMAL: {"client": "minimal"}}
"""Each way a run is measured: aiohttp with the collector running, with it paused, and the minimal client."""


def wall_jobs(engines: Engines, base_url: str, tasks: int) -> dict[str, Callable[[], float]]:
    """Jobs for ``tasks`` x 2 s under gather: each iobench engine in each of ``VARIANTS``, and the hand-written
    single-loop gather."""
    jobs: dict[str, Callable[[], float]] = {}
    for name in engines.names:
        k = 1 if name == ONE_LOOP else engines.k
        for suffix, keys in VARIANTS.items():
            run_spec = spec(base_url, tasks, 2000.0, k=k, **keys)
            jobs[name + suffix] = lambda name=name, s=run_spec: engines.run(name, s).wall_ns / 1e9  # type: ignore[misc]
    run_spec = spec(base_url, tasks, 2000.0)
    jobs[f"{HAND} gather, one loop"] = lambda: engines.hand(run_spec)
    return jobs


def throughput_jobs(
    engines: Engines, base_url: str, tasks: int, strategy: str | dict[str, Any] = "gather"
) -> dict[str, Callable[[], float]]:
    """Jobs for ``tasks`` zero-delay tasks under ``strategy`` with each iobench engine in each of ``VARIANTS``, and
    the hand-written script."""
    jobs: dict[str, Callable[[], float]] = {}
    for name in engines.names:
        k = 1 if name == ONE_LOOP else engines.k
        for suffix, keys in VARIANTS.items():
            run_spec = spec(base_url, tasks, 0.0, strategy, k=k, **keys)
            jobs[name + suffix] = lambda name=name, s=run_spec: engines.run(name, s).wall_ns / 1e9  # type: ignore[misc]
    run_spec = spec(base_url, tasks, 0.0, strategy)
    jobs[f"{HAND} {run_spec.label}, one loop"] = lambda: engines.hand(run_spec)
    return jobs


def peak_rss_per_process(engines: Engines, base_url: str, tasks: int) -> dict[str, tuple[float, ...]]:
    """Peak RSS (MB) of each client process of each pool after a run of ``tasks`` zero-delay gather tasks."""
    rss = {}
    for name, pool in engines.pools.items():
        merged = pool.run(spec(base_url, tasks, 0.0, k=engines.k))
        rss[name] = merged.peak_rss_mb
    return rss


def warm_up_seconds(base_url: str, connections: int, rounds: int = 2) -> list[float]:
    """Seconds the product's warm-up (``bench.targets.warm_pool``, paced) takes to open ``connections``."""

    async def one() -> float:
        async with new_session(None, None, 300.0) as session:
            return await warm_pool(session, f"{base_url}/health", connections, BACKLOG)

    times = []
    for _ in range(rounds):
        times.append(asyncio.run(one()))
        time.sleep(1)
    return times


def wrk_requests_per_s(base_url: str, threads: int = 2, connections: int = 100, seconds: int = 5) -> float | None:
    """Requests/s that ``wrk -t{threads} -c{connections}`` reaches on ``/delay/0ms``; None if wrk is missing."""
    if shutil.which("wrk") is None:
        return None
    argv = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", f"{base_url}/delay/0ms"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 60, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise RuntimeError(f"wrk printed no Requests/sec (exit {done.returncode}): {done.stderr.strip()[-500:]}")


def repeats_in_a_row(base_url: str, tasks: int, times: int = 3) -> Iterator[str]:
    """``times`` x (1 warm-up + 3 repeats) of ``tasks`` zero-delay tasks in one client loop; a line each."""
    with Engines(ray=False) as engines:
        for attempt in range(times):
            start = time.perf_counter()
            runs = [engines.run(ONE_LOOP, spec(base_url, tasks, 0.0)) for _ in range(4)]
            yield (
                f"attempt {attempt + 1}: 4 runs, all tasks ok, {time.perf_counter() - start:.1f} s, TIME_WAIT now "
                f"{time_wait_count()}, requests/s {tasks / (runs[-1].wall_ns / 1e9):,.0f}"
            )


def scale_table(base_url: str, counts: list[int], ray: bool, rounds: int) -> Table:
    """The scale table: per task count, wall/ideal at 2 s and requests/s at zero delay, for every engine."""
    table = Table(title="iobench scale (one server, 2 workers; rounds interleaved, median)", title_justify="left")
    for column in ("tasks", "engine", "2 s gather: wall / ideal", "zero-delay gather: requests/s", "peak RSS/process"):
        table.add_column(column, overflow="fold")
    with Engines(ray=ray) as engines:
        for tasks in counts:
            walls = interleaved(wall_jobs(engines, base_url, tasks), rounds)
            rates = interleaved(throughput_jobs(engines, base_url, tasks), rounds)
            rss = peak_rss_per_process(engines, base_url, tasks)
            for name, values in walls.items():
                rate = f"{tasks / median(rates[name]):,.0f}" if name in rates else "—"
                memory = ", ".join(f"{r:.0f} MB" for r in rss.get(name, ()))
                table.add_row(f"{tasks:,}", name, f"{median(values) / 2.0:.2f}", rate, memory)
        for name, why in engines.skipped.items():
            table.add_row("", name, "skipped", why, "")
    return table


def main(argv: list[str] | None = None) -> int:
    """Measure and print the scale figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.scale", description=__doc__)
    parser.add_argument("--tasks", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--rounds", type=int, default=2, help="measured rounds per figure (after 1 warm-up round)")
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--repeats", action="store_true", help="also: 1 warm-up + 3 repeats, three times in a row")
    args = parser.parse_args(argv)
    raise_fd_limit()
    console, err = Console(highlight=False, width=160), Console(stderr=True, highlight=False)
    with LocalServer(workers=2, backlog=BACKLOG) as url:
        err.print("measuring: warm-up, wall / ideal, requests/s")
        warm = warm_up_seconds(url, max(args.tasks))
        console.print(scale_table(url, args.tasks, not args.no_ray, args.rounds))
        console.print(f"warm-up of {max(args.tasks):,} connections (paced): " + " / ".join(f"{w:.2f} s" for w in warm))
        if args.repeats:
            for line in repeats_in_a_row(url, max(args.tasks)):
                console.print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
