"""Scale figures (issue 13), measured side by side in one run: ``python -m bench.perf.scale [--tasks N] [--no-ray]``.

- wall / ideal of N tasks of a fixed 2 s under gather: one client loop, 2 client processes, 2 Ray actors, and the
  hand-written single-loop gather, against one server (2 workers, backlog 4096);
- warm-up of N pooled connections: every request at once (the runner's warm_pool) against ``bench.net.paced_warm``;
- N zero-delay tasks, 1 warm-up + 3 repeats, three times in a row, with the RST-closing connector: errors and the
  TIME_WAIT count after each;
- peak RSS of each client process.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections.abc import Callable

import aiohttp
from rich.console import Console
from rich.table import Table

from bench.net import paced_warm, scale_connector, time_wait_count
from bench.perf.reference import hand_gather
from bench.preflight import raise_fd_limit
from bench.processes import ClientPool, MergedRun, RunSpec
from bench.server import LocalServer
from bench.targets import LocalDriver, warm_pool


def _spec(base_url: str, tasks: int, delay_ms: float) -> RunSpec:
    return RunSpec.local(base_url, tasks, delay_ms, timeout_s=120.0, server={"backlog": 4096})


def _timed(run: Callable[[], MergedRun]) -> MergedRun:
    run()  # warm-up run, dropped
    result = run()
    if result.finished != len(result.error):
        raise RuntimeError(f"only {result.finished} of {len(result.error)} tasks finished: {result.reason}")
    return result


def wall_over_ideal(base_url: str, tasks: int, ray: bool) -> list[tuple[str, float, str]]:
    """(engine, wall / ideal, context) for ``tasks`` x 2 s under gather."""
    spec = _spec(base_url, tasks, 2000.0)
    ideal_s = 2.0
    rows = []
    for k in (1, 2):
        with ClientPool(k) as pool:
            run = _timed(lambda pool=pool: pool.run(spec))  # type: ignore[misc]
        rss = ", ".join(f"{r:.0f}" for r in run.peak_rss_mb)
        rows.append((f"{'one loop' if k == 1 else f'{k} processes'}", run.wall_ns / 1e9 / ideal_s,
                     f"wall {run.wall_ns / 1e9:.2f} s; peak RSS per process {rss} MB"))  # fmt: skip
    if ray:
        from bench.ray_engine import RayPool

        with RayPool(2, num_cpus=2, include_dashboard=False, log_to_driver=False) as ray_pool:
            run = _timed(lambda: ray_pool.run(spec))
        offsets = ", ".join(f"{o / 1e3:+.0f} us" for o in run.offsets_ns)
        rows.append(("Ray, 2 actors", run.wall_ns / 1e9 / ideal_s,
                     f"wall {run.wall_ns / 1e9:.2f} s; clock offsets {offsets}"))  # fmt: skip
    driver = LocalDriver(spec.scenario.target, spec.scenario, spec.point, base_url)  # type: ignore[arg-type]
    with asyncio.Runner() as runner:
        runner.run(hand_gather(driver.urls, driver.warm_url))
        gc.collect()
        seconds = runner.run(hand_gather(driver.urls, driver.warm_url))
    rows.append(("hand-written gather, one loop", seconds / ideal_s, f"wall {seconds:.2f} s"))
    return rows


def warm_up_seconds(base_url: str, connections: int, rounds: int = 2) -> dict[str, list[float]]:
    """Seconds to open ``connections`` pooled connections: all at once vs paced, interleaved rounds."""
    url = f"{base_url}/health"

    async def at_once() -> float:
        timeout = aiohttp.ClientTimeout(total=300)
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
            start = time.perf_counter()
            await warm_pool(session, url, connections)
            return time.perf_counter() - start

    async def paced() -> float:
        connector = scale_connector(0)
        async with aiohttp.ClientSession(connector=connector) as session:
            return await paced_warm(session, connector, url, connections, backlog=4096, timeout_s=300)

    times: dict[str, list[float]] = {"all at once": [], "paced": []}
    for _ in range(rounds):
        times["all at once"].append(asyncio.run(at_once()))
        time.sleep(2)
        times["paced"].append(asyncio.run(paced()))
        time.sleep(2)
    return times


def repeats_in_a_row(base_url: str, tasks: int, times: int = 3) -> list[str]:
    """``times`` x (1 warm-up + 3 repeats) of ``tasks`` zero-delay tasks in one client process; a line each."""
    spec = _spec(base_url, tasks, 0.0)
    lines = []
    with ClientPool(1) as pool:
        for attempt in range(times):
            start = time.perf_counter()
            runs = [pool.run(spec) for _ in range(4)]
            errors = sum(len(r.error) - r.finished for r in runs)
            lines.append(
                f"attempt {attempt + 1}: 4 runs, {errors} task errors, {time.perf_counter() - start:.1f} s, "
                f"TIME_WAIT now {time_wait_count()}, requests/s {tasks / (runs[-1].wall_ns / 1e9):,.0f}"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    """Measure and print the scale figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.perf.scale", description=__doc__)
    parser.add_argument("--tasks", type=int, default=10_000)
    parser.add_argument("--no-ray", action="store_true")
    parser.add_argument("--only", choices=("ideal", "warm", "repeats"), default=None)
    args = parser.parse_args(argv)
    raise_fd_limit()
    console, err = Console(highlight=False, width=160), Console(stderr=True, highlight=False)
    table = Table(title=f"iobench scale, {args.tasks:,} tasks", title_justify="left")
    for column in ("figure", "measured", "context"):
        table.add_column(column, overflow="fold")
    with LocalServer(workers=2, backlog=4096) as url:
        if args.only in (None, "warm"):
            err.print("measuring: warm-up")
            for how, values in warm_up_seconds(url, args.tasks).items():
                table.add_row(f"warm-up of {args.tasks:,} connections, {how}",
                              " / ".join(f"{v:.2f} s" for v in values), "rounds interleaved")  # fmt: skip
        if args.only in (None, "ideal"):
            err.print("measuring: wall / ideal")
            for engine, ratio, context in wall_over_ideal(url, args.tasks, not args.no_ray):
                table.add_row(f"{args.tasks:,} x 2 s gather, wall / ideal: {engine}", f"{ratio:.2f}", context)
        if args.only in (None, "repeats"):
            err.print("measuring: repeats in a row")
            for line in repeats_in_a_row(url, args.tasks):
                table.add_row(f"{args.tasks:,} zero-delay, warmup 1 + repeats 3", "", line)
    console.print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
