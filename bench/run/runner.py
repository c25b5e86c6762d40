"""Scenarios -> results: the orchestration. Rounds in a balanced order, one timed run at a time, results saved
after every scenario, the local server kept alive (and restarted if it dies), Ctrl-C keeping what finished.

    results = run_all(loaded, results_path, argv, progress)   # writes results_path after each scenario

The seams, one module each: ``bench.run.preflight`` (refuse what cannot run), ``bench.targets`` (what a task does),
``bench.run.recording`` (per-task bookkeeping), ``bench.run.timed`` (one timed run), this module (everything around
them), ``bench.server`` (the local server's lifecycle), ``bench.run.engines.processes`` /
``bench.run.engines.ray_actors`` (client processes). The measurement rules are in the README's "Architecture" section.
Progress is reported only between runs, never inside a timed region."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import aiohttp

from bench import plugins
from bench.errors import ClientProcessError, RunError, ScenarioError, WarmupError
from bench.loops import loop_factory
from bench.results.environment import capture_environment
from bench.results.files import ResultsSaver, now_utc
from bench.results.records import (
    Calibration,
    DriverFacts,
    PointResult,
    Probe,
    ResultsFile,
    RunResult,
    ScenarioResult,
    ServerFacts,
)
from bench.results.stats import StopRule
from bench.results.summary import complete_walls, paired_speedups
from bench.run.engines.processes import ClientPool
from bench.run.engines.shares import RunSpec
from bench.run.preflight import preflight
from bench.run.probe import everything_failed, probe, probe_indices
from bench.run.threads import ScenarioThreads
from bench.run.timed import Pool, execute, execute_shared, peak_rss_mb
from bench.scenario.model import Scenario, definition_hash
from bench.scenario.plan import Plan, Point, Round, make_plan
from bench.server.process import LocalServer
from bench.strategies import REFERENCE
from bench.targets.base import driver_class, driver_for


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


class ServerSilent(Exception):
    """The local server did not answer a request of the runner's own (calibration, ``/stats``)."""


R = TypeVar("R")


def _asking_server(ask: Callable[[], R]) -> R:
    """``ask()``, with a failure to reach the local server turned into ServerSilent."""
    try:
        return ask()
    except (aiohttp.ClientError, OSError, RunError) as exc:
        raise ServerSilent(f"{type(exc).__name__}: {exc}" if not isinstance(exc, RunError) else str(exc)) from exc


class ScenarioRecord:
    """The runs of one scenario as they finish: what is saved when it ends, fails or is cut short; and what the
    scenario holds while it runs (what its setup made, its worker threads, the strategies it stopped)."""

    def __init__(self, path: Path, scenario: Scenario, plan: Plan) -> None:
        self.path = path
        self.scenario = scenario
        self.plan = plan
        self.points: list[PointResult] = []
        self.current: list[RunResult] = []
        self.calibration: dict[str, Calibration] = {}
        self.server: ServerFacts | None = None
        facts = driver_for(scenario, plan.points[0], "")
        self.driver: DriverFacts = facts.facts()
        self.state: Any = None
        """What the target's setup made in this process (``Driver.setup``)."""
        self.threads = ScenarioThreads()
        """The worker threads of the blocking strategies, kept for every run of the scenario."""
        self.abandoned: dict[str, str] = {}
        """Strategies stopped after a run in which every task failed, with the reason (their later runs are skipped
        instead of each waiting out its timeout)."""
        self.probe: Probe | None = None
        self.probe_failed = ""

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
                probe=self.probe,
                abandoned=dict(self.abandoned),
            )
        )
        self.current, self.probe = [], None

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
            driver=self.driver,
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
    ``pool`` (client processes or Ray actors) every run is spread over it. A strategy whose run had every task
    fail, in a scenario that does not ask for failures, is stopped for the rest of the scenario (its reason kept).
    """
    scenario = record.scenario
    specs = {s.label: s for s in scenario.strategies}
    driver = driver_for(scenario, point, base_url, sources, record.state)
    asks = bool(getattr(scenario.target, "asks_for_failures", False))
    measured_s = 0.0

    def one(label: str, repeat: int, position: int) -> RunResult:
        if pool is not None:
            spec = RunSpec(scenario, point, label, base_url, sources)
            return execute_shared(pool, spec, repeat=repeat, position=position)
        strategy = specs[label].build()
        run = execute(strategy, label, driver, scenario, repeat=repeat, position=position, threads=record.threads)
        return runner.run(run)

    def play(rnd: Round) -> None:
        nonlocal measured_s
        started = time.monotonic()
        for position, label in enumerate(rnd.order):
            if label in record.abandoned:
                continue
            run = one(label, rnd.repeat, position)
            gone = server_gone()
            if gone:
                raise ServerDied(gone)
            if not rnd.warmup:
                record.keep(run)
            failure = everything_failed(run)
            if failure and not asks:
                record.abandoned[label] = f"every task of a run failed ({failure}); its later runs were skipped"
                if rnd.warmup:  # kept, so the report shows the failures in their own words
                    record.keep(run)
            progress.run_done(label, point.tasks)
        if not rnd.warmup:
            measured_s += time.monotonic() - started

    if pool is None and REFERENCE not in specs and not point.delays_ms:
        try:  # no sequential run and no delays of ours: estimate each task's service time before timing
            record.probe = runner.run(probe(driver, probe_indices(point.tasks)))
        except RunError as exc:
            record.probe_failed = str(exc)
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

    def live() -> list[RunResult]:
        return [run for run in record.current if run.strategy not in record.abandoned]

    while (reason := rule.check(precision_series(live()), rounds, measured_s)) is None:
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


@dataclass(frozen=True)
class Engine:
    """Where client work runs: 'local' (this process, or ``processes: k`` child processes on this host) or 'ray'
    (one Ray actor per client process, on the cluster at ``address``, or a local one when None)."""

    name: str = "local"
    address: str | None = None

    def pool(self, scenario: Scenario) -> Pool | None:
        """The started pool of client processes for ``scenario``, or None to run in this process."""
        if self.name == "ray":
            from bench.run.engines.ray_actors import RayPool

            ray_pool = RayPool(scenario.processes, scenario.loop, address=self.address, plugins=plugins.loaded())
            ray_pool.start()
            return ray_pool
        if scenario.processes > 1:
            client_pool = ClientPool(scenario.processes, scenario.loop, plugins=plugins.loaded())
            client_pool.start()
            return client_pool
        return None


class Loops:
    """One event loop per loop name for a whole run, as a program has one: what a module-level client made in one
    scenario still works in the next on the same loop (a scenario on the other loop gets a fresh one)."""

    def __init__(self) -> None:
        self._runners: dict[str, asyncio.Runner] = {}

    def get(self, name: str) -> asyncio.Runner:
        """The runner of loop ``name``, made on first use."""
        runner = self._runners.get(name)
        if runner is None:
            runner = self._runners[name] = asyncio.Runner(loop_factory=loop_factory(name))
        return runner

    def close(self) -> None:
        """Close every loop."""
        for runner in self._runners.values():
            runner.close()
        self._runners.clear()


def _prepare(runner: asyncio.Runner, record: ScenarioRecord, server: LocalServer | None, in_process: bool) -> None:
    """Before any timed run: the target's setup (in this process, when runs happen here), each client stack's
    per-task overhead (against the local server for HTTP stacks), and the server's lateness counters reset."""
    scenario = record.scenario
    driver = driver_class(scenario.target)
    if in_process:
        record.state = runner.run(driver.setup(scenario.target))
    strategies = [spec.build() for spec in scenario.strategies]
    url = server.url if server is not None else ""
    if driver.calibrates_on_local_server and server is None:
        return
    record.calibration = _asking_server(lambda: runner.run(driver.calibrate(scenario.target, strategies, url)))
    if server is not None:
        _asking_server(lambda: server.stats(reset=True))  # lateness from here on: the scenario's own requests


def run_scenario(
    record: ScenarioRecord,
    server: LocalServer | None,
    progress: ProgressSink,
    server_gone: Callable[[], str | None] = lambda: None,
    engine: Engine = Engine(),
    sources: tuple[str, ...] = (),
    loops: Loops | None = None,
) -> ScenarioResult:
    """Run one scenario into ``record`` (against ``server`` when its target needs the local server, which also
    calibrates HTTP client stacks); a dying server, a failed warm-up or setup ends it as 'failed' with the reason.
    ``loops``: the run's event loops (one per loop name, kept between scenarios); a loop of its own otherwise."""
    scenario = record.scenario
    base_url = server.url if server is not None and driver_class(scenario.target).local_server else ""
    progress.scenario_started(scenario.name, record.plan.total_runs)
    pool: Pool | None = None
    own = loops is None
    loops = loops or Loops()
    runner = loops.get(scenario.loop)
    interrupted = False
    try:
        pool = engine.pool(scenario)
        _prepare(runner, record, server, pool is None)
        for point in record.plan.points:
            stop = run_point(runner, record, point, base_url, progress, server_gone, pool, sources)
            record.close_point(point, stop)
        if server is not None and base_url:
            facts = _asking_server(lambda: server.stats(reset=True))
            record.server = ServerFacts(
                loop=facts.loop, lateness_p50_us=facts.lateness_p50_us, lateness_p99_us=facts.lateness_p99_us
            )
    except ServerDied as exc:
        return record.result("failed", str(exc))
    except (ServerSilent, WarmupError, ClientProcessError, RunError, ScenarioError, Exception) as exc:
        # the server's exit when it died (the reason), else the failure in its own words; an Exception not of
        # iobench's is the user's setup or teardown raising
        death = _death(server_gone, DEATH_WAIT_S if server is not None else 0.0)
        return record.result("failed", death or _failure_words(exc))
    except BaseException:  # Ctrl-C, SIGTERM: the children are mid-run and not listening; stop them at once
        interrupted = True
        if pool is not None:
            pool.stop(graceful=False)
            pool = None
        raise
    finally:
        try:
            record.threads.close(cancel=interrupted)
            if pool is not None:
                pool.stop()
            if pool is None and not interrupted:
                runner.run(driver_class(scenario.target).teardown(scenario.target, record.state))
        finally:
            if own:
                loops.close()
    return record.result("ok")


def run_all(
    loaded: list[tuple[Path, Scenario]],
    results_path: Path | ResultsSaver,
    argv: list[str],
    progress: ProgressSink,
    allow_external: bool = False,
    engine: Engine = Engine(),
) -> ResultsFile:
    """Run every scenario (the local server started when a target runs against it or calibrates on it), writing
    ``results_path`` after each one (through a ``ResultsSaver``: passwords redacted, a fallback file if the path
    cannot be written)."""
    own = not isinstance(results_path, ResultsSaver)
    saver = ResultsSaver(results_path) if not isinstance(results_path, ResultsSaver) else results_path
    sources = preflight(loaded, allow_external)
    environment = capture_environment(argv)
    created = now_utc()
    done: list[ScenarioResult] = []

    def save(complete: bool) -> ResultsFile:
        results = ResultsFile(
            created_utc=created,
            complete=complete,
            environment=environment,
            scenarios=tuple(done),
            plugins=plugins.plugin_items(),
        )
        kept = saver.save(results)
        if own and saver.problem:  # a caller that handed a path, not a saver, hears of it at once
            raise RunError(saver.problem)
        return kept

    server: LocalServer | None = None
    loops = Loops()
    try:
        for (path, scenario), spread in zip(loaded, sources, strict=True):
            driver = driver_class(scenario.target)
            needs = driver.local_server or driver.calibrates_on_local_server
            record = ScenarioRecord(path, scenario, make_plan(scenario))
            try:  # a signal while the server starts is this scenario's interruption too
                if needs:
                    options = scenario.server
                    server = LocalServer.ensure(
                        server, workers=scenario.server_workers, backlog=options.backlog, loop=options.loop
                    )
                result = run_scenario(
                    record, server if needs else None, progress, _death_watch(server), engine, spread, loops
                )
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
        loops.close()
        if server is not None:
            server.stop()


def _failure_words(exc: Exception) -> str:
    """Why a scenario failed, in words: what iobench's own errors say, and the type and message of the rest."""
    if isinstance(exc, ServerSilent):
        return f"the local server did not answer: {exc}"
    if isinstance(exc, WarmupError):
        return f"the connection pool could not be warmed: {exc}"
    if isinstance(exc, ClientProcessError | RunError | ScenarioError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


DEATH_WAIT_S = 1.0
"""After a failure, how long the runner waits to see whether the server died (a reset connection arrives before
the kernel reports the process's exit): the reason is then its exit, as the README says, not the symptom."""


def _death(server_gone: Callable[[], str | None], wait_s: float = DEATH_WAIT_S) -> str | None:
    """The server's exit, if it exited now or within ``wait_s``; None if it is alive."""
    deadline = time.monotonic() + wait_s
    while (gone := server_gone()) is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return gone


def _death_watch(server: LocalServer | None) -> Callable[[], str | None]:
    """A check that names the server's exit, if it exited."""

    def gone() -> str | None:
        death = server.death() if server is not None else None
        if death is None:
            return None
        return f"the local server exited during the run ({death}); it is restarted for what follows"

    return gone
