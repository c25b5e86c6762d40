"""Scenarios -> results: the orchestration. Rounds in a balanced order, one timed run at a time, results saved
after every scenario, the local server kept alive (and restarted if it dies), Ctrl-C keeping what finished.

    results = run_all(loaded, results_path, argv, progress)   # writes results_path after each scenario

The seams, one module each: ``bench.preflight`` (refuse what cannot run), ``bench.targets`` (what a task does),
``bench.recording`` (per-task bookkeeping), ``bench.timed`` (one timed run), this module (everything around them),
``bench.server`` (the local server's lifecycle), ``bench.processes`` / ``bench.ray_engine`` (client processes).
The measurement rules are in the README's "Architecture" section. Progress is reported only between runs, never
inside a timed region.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import aiohttp

from bench.errors import RunError, WarmupError
from bench.http_sync import HttpSyncOp
from bench.loops import loop_factory
from bench.minimal_http import open_minimal
from bench.plan import Plan, Point, Round, make_plan
from bench.preflight import preflight
from bench.processes import ClientPool, RunSpec
from bench.recording import AsyncOp, service_us
from bench.results import (
    Calibration,
    PointResult,
    ResultsFile,
    RunResult,
    ScenarioResult,
    ServerFacts,
    capture_environment,
    now_utc,
    write_results,
)
from bench.scenario import Scenario, definition_hash
from bench.server import LocalServer
from bench.stats import StopRule, median, median_interval
from bench.strategies import REFERENCE
from bench.summary import complete_walls, paired_speedups
from bench.targets import driver_class, driver_for, http_op, new_session
from bench.timed import Pool, execute, execute_shared, peak_rss_mb


class ProgressSink(Protocol):
    """Where the runner reports progress, between runs only; the CLI draws it, tests ignore it."""

    def scenario_started(self, name: str, total_runs: int) -> None:
        """A scenario with ``total_runs`` runs (warm-up included; adaptive repeats may add more) begins."""

    def run_done(self, label: str, tasks: int) -> None:
        """One run finished."""

    def scenario_done(self, result: ScenarioResult) -> None:
        """The scenario finished (or failed, or was interrupted): its result, ready to print."""


class NullProgress:
    """A ProgressSink that shows nothing."""

    def scenario_started(self, name: str, total_runs: int) -> None:
        """Ignore."""

    def run_done(self, label: str, tasks: int) -> None:
        """Ignore."""

    def scenario_done(self, result: ScenarioResult) -> None:
        """Ignore."""


class ServerDied(Exception):
    """The local server process exited during a scenario."""


class ScenarioRecord:
    """The runs of one scenario as they finish: what is saved when it ends, fails or is cut short."""

    def __init__(self, path: Path, scenario: Scenario, plan: Plan) -> None:
        self.path = path
        self.scenario = scenario
        self.plan = plan
        self.points: list[PointResult] = []
        self.current: list[RunResult] = []
        self.calibration: dict[str, Calibration] = {}
        self.server: ServerFacts | None = None

    def keep(self, run: RunResult) -> None:
        """A recorded run of the task count in progress."""
        self.current.append(run)

    def close_point(self, point: Point, stop_reason: str) -> None:
        """The task count in progress is done."""
        self.points.append(
            PointResult(
                tasks=point.tasks,
                delays_ms=point.delays_ms,
                error_tasks=point.error_tasks,
                runs=tuple(self.current),
                stop_reason=stop_reason,
            )
        )
        self.current = []

    def result(self, outcome: Literal["ok", "failed", "interrupted"], reason: str = "") -> ScenarioResult:
        """The scenario as it stands: a task count cut short keeps the runs that finished."""
        if self.current:
            self.close_point(self.plan.points[len(self.points)], f"stopped: {outcome}")
        aiohttp_cal = self.calibration.get("aiohttp")
        return ScenarioResult(
            file=str(self.path),
            scenario=self.scenario,
            outcome=outcome,
            reason=reason,
            calibration_rtt_ms=aiohttp_cal.median_ms if aiohttp_cal else None,
            calibration=self.calibration,
            server=self.server,
            definition_hash=definition_hash(self.scenario),
            points=tuple(self.points),
            peak_rss_mb=peak_rss_mb(),
        )


def run_point(
    runner: asyncio.Runner,
    record: ScenarioRecord,
    point: Point,
    base_url: str,
    progress: ProgressSink,
    server_gone: Callable[[], str | None] = lambda: None,
    pool: Pool | None = None,
    sources: tuple[str, ...] = (),
) -> str:
    """Every round of one task count, recorded into ``record``; returns why the rounds stopped.

    The plan's rounds run first (warm-up, then ``repeats`` or ``min_repeats``); under ``repeats: auto`` more rounds
    follow, in the plan's balanced order, until the stop rule says the intervals are precise enough or a limit is
    reached. ``server_gone`` is asked after each run; a reason from it stops the point with ServerDied. With a
    ``pool`` (client processes or Ray actors) every run is spread over it.
    """
    scenario = record.scenario
    specs = {s.label: s for s in scenario.strategies}
    driver = driver_for(scenario, point, base_url, sources)
    measured_s = 0.0

    def one(label: str, repeat: int, position: int) -> RunResult:
        if pool is not None:
            spec = RunSpec(scenario, point, label, base_url, sources)
            return execute_shared(pool, spec, repeat=repeat, position=position)
        return runner.run(execute(specs[label].build(), label, driver, scenario, repeat=repeat, position=position))

    def play(rnd: Round) -> None:
        nonlocal measured_s
        started = time.monotonic()
        for position, label in enumerate(rnd.order):
            run = one(label, rnd.repeat, position)
            gone = server_gone()
            if gone:
                raise ServerDied(gone)
            if not rnd.warmup:
                record.keep(run)
            progress.run_done(label, point.tasks)
        if not rnd.warmup:
            measured_s += time.monotonic() - started

    for rnd in point.rounds:
        play(rnd)
    adaptive = scenario.adaptive
    if adaptive is None:
        return "fixed repeats"
    rule = StopRule(
        precision=adaptive.precision,
        min_rounds=adaptive.min_repeats,
        max_rounds=adaptive.max_repeats,
        budget_s=adaptive.budget_s,
    )
    rounds = adaptive.min_repeats
    while (reason := rule.check(precision_series(record.current), rounds, measured_s)) is None:
        play(point.round(rounds))
        rounds += 1
    return reason


def precision_series(runs: list[RunResult]) -> list[list[float]]:
    """What adaptive repeats must make precise: each strategy's per-round speedup over the reference (paired as the
    summary pairs them), or, with no reference strategy, each strategy's wall times. Runs with failed tasks give
    nothing, so a strategy that keeps failing never looks precise and runs until its round or time limit."""
    by_round = complete_walls(runs)
    labels = sorted({run.strategy for run in runs})
    if REFERENCE not in labels:
        return [[wall for (label, _), wall in by_round.items() if label == own] for own in labels]
    series = [list(paired_speedups(by_round, label)) for label in labels if label != REFERENCE]
    return series or [[wall for (label, _), wall in by_round.items() if label == REFERENCE]]


CALIBRATION_REQUESTS = 30
"""Requests timed per client stack at the start of each local-server scenario (after 5 untimed ones)."""
CALIBRATION_DELAY_MS = 1.0
"""Delay of the calibration requests: small, but non-zero so the server's timer is exercised as in a run."""


def _overhead(times_ms: list[float], delivered_ms: list[float]) -> Calibration:
    """Per-request overhead: round trip minus what the server says it delivered, summarised with its interval."""
    overheads = [max(t - d, 0.0) for t, d in zip(times_ms, delivered_ms, strict=True)]
    interval = median_interval(overheads)
    return Calibration(
        median_ms=round(median(overheads), 4),
        low_ms=round(interval.low, 4),
        high_ms=round(interval.high, 4),
        level=interval.level,
        requests=len(overheads),
    )


def _delivered_ms(header: str | None) -> float:
    us = service_us(header)
    return us / 1000 if us >= 0 else CALIBRATION_DELAY_MS


CALIBRATION_UNTIMED = 5
"""Requests first sent and not timed: they open the connection and warm caches."""


async def _time_requests(op: AsyncOp, requests: int) -> Calibration:
    """Send ``requests`` (after the untimed ones) one at a time through ``op``; their overhead."""
    times: list[float] = []
    delivered: list[float] = []
    for i in range(requests + CALIBRATION_UNTIMED):
        start = time.perf_counter_ns()
        _, _, timing = await op(0)
        elapsed = (time.perf_counter_ns() - start) / 1e6
        if i >= CALIBRATION_UNTIMED:
            times.append(elapsed)
            delivered.append(_delivered_ms(timing))
    return _overhead(times, delivered)


async def _calibrate_aiohttp(url: str, requests: int) -> Calibration:
    async with new_session(None, None, 30.0) as session:
        return await _time_requests(http_op(session, (url,)), requests)


async def _calibrate_minimal(url: str, requests: int) -> Calibration:
    async with open_minimal((url,), "", connections=1, limit=1, backlog=None, timeout_s=30.0) as op:
        return await _time_requests(op, requests)


def _calibrate_http_client(url: str, requests: int) -> Calibration:
    """The blocking twin of ``_time_requests`` over http.client (run in a thread)."""
    op = HttpSyncOp((url,), 30.0)
    times: list[float] = []
    delivered: list[float] = []
    try:
        for i in range(requests + CALIBRATION_UNTIMED):
            start = time.perf_counter_ns()
            _, _, timing = op(0)
            elapsed = (time.perf_counter_ns() - start) / 1e6
            if i >= CALIBRATION_UNTIMED:
                times.append(elapsed)
                delivered.append(_delivered_ms(timing))
    finally:
        op.close()
    return _overhead(times, delivered)


_ASYNC_STACKS = {"aiohttp": _calibrate_aiohttp, "minimal": _calibrate_minimal}


async def calibrate(
    base_url: str, requests: int = CALIBRATION_REQUESTS, stacks: Iterable[str] = ("aiohttp", "http.client")
) -> dict[str, Calibration]:
    """Per-request overhead of each client stack named (``aiohttp``, ``minimal``, ``http.client`` for threads)
    against the local server.

    Each is a warm 1 ms GET's round trip minus the service time the server reports it delivered: both HTTP stacks
    and loopback, what every task pays on top of its delay.
    """
    url = f"{base_url}/delay/{CALIBRATION_DELAY_MS:g}ms"
    measured = {}
    for name in stacks:
        if name == "http.client":
            measured[name] = await asyncio.to_thread(_calibrate_http_client, url, requests)
        else:
            measured[name] = await _ASYNC_STACKS[name](url, requests)
    return measured


@dataclass(frozen=True)
class Engine:
    """Where client work runs: 'local' (this process, or ``processes: k`` child processes on this host) or 'ray'
    (one Ray actor per client process, on the cluster at ``address``, or a local one when None)."""

    name: str = "local"
    address: str | None = None

    def pool(self, scenario: Scenario) -> Pool | None:
        """The started pool of client processes for ``scenario``, or None to run in this process."""
        if self.name == "ray":
            from bench.ray_engine import RayPool

            ray_pool = RayPool(scenario.processes, scenario.loop, address=self.address)
            ray_pool.start()
            return ray_pool
        if scenario.processes > 1:
            client_pool = ClientPool(scenario.processes, scenario.loop)
            client_pool.start()
            return client_pool
        return None


def run_scenario(
    record: ScenarioRecord,
    server: LocalServer | None,
    progress: ProgressSink,
    server_gone: Callable[[], str | None] = lambda: None,
    engine: Engine = Engine(),
    sources: tuple[str, ...] = (),
) -> ScenarioResult:
    """Run one scenario into ``record`` (against ``server`` when its target needs the local server); a dying
    server or a failed warm-up ends it as 'failed' with the reason."""
    base_url = server.url if server is not None else ""
    scenario = record.scenario
    progress.scenario_started(scenario.name, record.plan.total_runs)
    pool: Pool | None = None
    try:
        pool = engine.pool(scenario)
        with asyncio.Runner(loop_factory=loop_factory(scenario.loop)) as runner:
            if server is not None:
                stacks = driver_class(scenario.target).stacks_for(scenario.target).values()
                record.calibration = runner.run(calibrate(server.url, stacks=stacks))
                server.stats(reset=True)  # lateness from here on: the scenario's own requests
            for point in record.plan.points:
                stop = run_point(runner, record, point, base_url, progress, server_gone, pool, sources)
                record.close_point(point, stop)
            if server is not None:
                facts = server.stats(reset=True)
                record.server = ServerFacts(
                    loop=facts.loop, lateness_p50_us=facts.lateness_p50_us, lateness_p99_us=facts.lateness_p99_us
                )
    except ServerDied as exc:
        return record.result("failed", str(exc))
    except WarmupError as exc:
        return record.result("failed", server_gone() or f"the connection pool could not be warmed: {exc}")
    except (aiohttp.ClientError, RunError) as exc:  # calibration or /stats could not reach the server
        return record.result("failed", server_gone() or f"the local server did not answer: {exc}")
    except BaseException:  # Ctrl-C, SIGTERM: the children are mid-run and not listening; stop them at once
        if pool is not None:
            pool.stop(graceful=False)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.stop()
    return record.result("ok")


def run_all(
    loaded: list[tuple[Path, Scenario]],
    results_path: Path,
    argv: list[str],
    progress: ProgressSink,
    allow_external: bool = False,
    engine: Engine = Engine(),
) -> ResultsFile:
    """Run every scenario against a fresh local server, writing ``results_path`` after each one."""
    sources = preflight(loaded, allow_external)
    environment = capture_environment(argv)
    created = now_utc()
    done: list[ScenarioResult] = []

    def save(complete: bool) -> ResultsFile:
        results = ResultsFile(created_utc=created, complete=complete, environment=environment, scenarios=tuple(done))
        write_results(results_path, results)
        return results

    server: LocalServer | None = None
    try:
        for (path, scenario), spread in zip(loaded, sources, strict=True):
            needs = driver_class(scenario.target).local_server
            if needs:
                options = scenario.server
                server = LocalServer.ensure(
                    server, workers=scenario.server_workers, backlog=options.backlog, loop=options.loop
                )
            record = ScenarioRecord(path, scenario, make_plan(scenario))
            try:
                result = run_scenario(record, server if needs else None, progress, _death_watch(server), engine, spread)
            except KeyboardInterrupt:
                result = record.result("interrupted", "interrupted")
                done.append(result)
                save(complete=False)
                progress.scenario_done(result)
                raise
            done.append(result)
            save(complete=False)
            progress.scenario_done(result)
        return save(complete=True)
    finally:
        if server is not None:
            server.stop()


def _death_watch(server: LocalServer | None) -> Callable[[], str | None]:
    """A check that names the server's exit, if it exited."""

    def gone() -> str | None:
        death = server.death() if server is not None else None
        if death is None:
            return None
        return f"the local server exited during the run ({death}); it is restarted for what follows"

    return gone
