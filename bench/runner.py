"""Plan -> RunResults: warm-up, interleaved shuffled rounds, one ClientSession per run, every task accounted for.

    results = run_all(loaded, results_path, argv, progress)   # writes results_path after each scenario

Measurement rules (see DESIGN.md): the server runs in another process; each run creates its ClientSession inside
the loop and warms the pool to the strategy's planned concurrency before timing; wall time is taken with
``perf_counter_ns`` inside the running loop; after the strategy returns, tasks still running are awaited (or
cancelled at the timeout) and counted, so none is left pending.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, Protocol

import aiohttp

from bench.errors import EnvironmentLimitError
from bench.plan import Plan, Point, make_plan
from bench.results import (
    PointResult,
    ResultsFile,
    RunResult,
    Samples,
    ScenarioResult,
    capture_environment,
    now_utc,
    write_results,
)
from bench.scenario import LocalTarget, Scenario
from bench.server import LocalServer
from bench.strategies import Strategy, TaskFailed, TaskFn

FD_HEADROOM = 64
"""Descriptors kept free for the interpreter, the results file, the server pipe and the like."""


class ProgressSink(Protocol):
    """Where the runner reports progress; the CLI draws it, tests ignore it."""

    def scenario_started(self, name: str, total_runs: int) -> None:
        """A scenario with ``total_runs`` runs (warm-up included) begins."""

    def run_done(self, label: str, tasks: int) -> None:
        """One run finished."""

    def scenario_done(self, name: str) -> None:
        """The scenario finished (or was interrupted)."""


class NullProgress:
    """A ProgressSink that shows nothing."""

    def scenario_started(self, name: str, total_runs: int) -> None:
        """Ignore."""

    def run_done(self, label: str, tasks: int) -> None:
        """Ignore."""

    def scenario_done(self, name: str) -> None:
        """Ignore."""


class _Gauge:
    """In-flight counter shared by the tasks of one run."""

    __slots__ = ("inflight", "peak")

    def __init__(self) -> None:
        self.inflight = 0
        self.peak = 0


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return "payload"
    if isinstance(exc, aiohttp.ClientConnectionError):
        return "connection"
    if isinstance(exc, aiohttp.ClientError):
        return "client"
    return "other"


class _Recorder:
    """Column buffers for one run's samples and the task function that fills them."""

    def __init__(self, n: int) -> None:
        self.start = [-1] * n
        self.end = [-1] * n
        self.status = [0] * n
        self.nbytes = [0] * n
        self.error = ["not_started"] * n
        self.gauge = _Gauge()
        self.t0 = 0

    def task_fn(self, session: aiohttp.ClientSession, urls: tuple[str, ...]) -> TaskFn:
        """``task(i)``: GET urls[i], record it, raise TaskFailed on an error or a status >= 400."""
        start, end, status, nbytes, error, gauge = (
            self.start,
            self.end,
            self.status,
            self.nbytes,
            self.error,
            self.gauge,
        )
        clock = time.perf_counter_ns
        get = session.get

        async def task(i: int) -> None:
            start[i] = clock() - self.t0
            gauge.inflight += 1
            if gauge.inflight > gauge.peak:
                gauge.peak = gauge.inflight
            try:
                async with get(urls[i]) as response:
                    body = await response.read()
                    status[i] = response.status
                    nbytes[i] = len(body)
                if response.status >= 400:
                    error[i] = "http_status"
                    raise TaskFailed(f"task {i}: HTTP {response.status}")
                error[i] = ""
            except asyncio.CancelledError:
                error[i] = "cancelled"
                raise
            except TaskFailed:
                raise
            except Exception as exc:
                error[i] = _error_kind(exc)
                raise TaskFailed(f"task {i}: {error[i]}: {exc!r}") from exc
            finally:
                end[i] = clock() - self.t0
                gauge.inflight -= 1

        return task

    def samples(self) -> Samples:
        """Freeze the buffers."""
        return Samples(
            start_ns=tuple(self.start),
            end_ns=tuple(self.end),
            status=tuple(self.status),
            nbytes=tuple(self.nbytes),
            error=tuple(self.error),
        )


def task_urls(base_url: str, target: LocalTarget, delays_ms: tuple[float, ...]) -> tuple[str, ...]:
    """The URL of each task: its delay in the path, body size and status as query parameters when not default."""
    query = []
    if target.bytes:
        query.append(f"bytes={target.bytes}")
    if target.status != 200:
        query.append(f"status={target.status}")
    suffix = "?" + "&".join(query) if query else ""
    return tuple(f"{base_url}/delay/{d:.3f}ms{suffix}" for d in delays_ms)


async def _warm_pool(session: aiohttp.ClientSession, url: str, connections: int) -> None:
    """Open ``connections`` keep-alive connections by making that many concurrent requests."""

    async def one() -> None:
        async with session.get(url) as response:
            await response.read()

    await asyncio.gather(*(one() for _ in range(connections)))


async def _drain(timeout_s: float) -> None:
    """Wait for tasks the strategy left running; cancel whatever is still there at the timeout."""
    current = asyncio.current_task()
    leftover = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    if not leftover:
        return
    _, pending = await asyncio.wait(leftover, timeout=timeout_s)
    for t in pending:
        t.cancel()
    if pending:
        await asyncio.wait(pending, timeout=5.0)


def _limit_or_none(value: int) -> int | None:
    return value or None


async def execute(
    strategy: Strategy,
    urls: tuple[str, ...],
    warm_url: str,
    scenario: Scenario,
    *,
    repeat: int,
    position: int,
) -> RunResult:
    """One timed run of ``strategy`` over ``urls``, in the running loop."""
    n = len(urls)
    limit = scenario.connector_limit or 0
    connector = aiohttp.TCPConnector(limit=limit, limit_per_host=0)
    timeout = aiohttp.ClientTimeout(total=scenario.timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        planned = strategy.planned_concurrency(n)
        await _warm_pool(session, warm_url, min(planned, limit) if limit else planned)
        recorder = _Recorder(n)
        task = recorder.task_fn(session, urls)
        outcome, reason = "ok", ""
        recorder.t0 = time.perf_counter_ns()
        try:
            await strategy.run(n, task)
        except TaskFailed as exc:
            outcome, reason = "failed", str(exc)
        except Exception as exc:  # a strategy's own bug or an unexpected error: record, do not hide
            outcome, reason = "failed", f"{type(exc).__name__}: {exc}"
        wall_ns = time.perf_counter_ns() - recorder.t0
        await _drain(scenario.timeout_s + 1.0)
    samples = recorder.samples()
    errors = samples.error
    cancelled = sum(1 for e in errors if e in ("cancelled", "not_started"))
    finished = sum(1 for e in errors if e == "")
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    limits: dict[str, int | None] = {
        "connector_limit": _limit_or_none(limit),
        "connector_limit_per_host": None,
        "fd_soft_limit": soft,
        **strategy.limits(),
    }
    return RunResult(
        strategy="",
        repeat=repeat,
        position=position,
        loop=scenario.loop,
        wall_ns=wall_ns,
        peak_inflight=recorder.gauge.peak,
        limits=limits,
        finished=finished,
        failed=n - finished - cancelled,
        cancelled=cancelled,
        outcome=outcome,  # type: ignore[arg-type]
        reason=reason,
        samples=samples,
    )


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event-loop factory for ``loop:``; a clear error when uvloop is asked for and missing."""
    if name == "asyncio":
        return None
    try:
        import uvloop
    except ImportError:
        raise EnvironmentLimitError(
            "loop: uvloop needs the uvloop extra; install it with: pip install 'iobench[uvloop]'"
        ) from None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def raise_fd_limit() -> tuple[int, int]:
    """Raise the descriptor soft limit to the hard limit; return (soft, hard) as they are now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def planned_descriptors(scenario: Scenario) -> int:
    """The most sockets any run of the scenario will hold open at once."""
    peak = 0
    for n in scenario.tasks:
        for spec in scenario.strategies:
            planned = spec.build().planned_concurrency(n)
            if scenario.connector_limit:
                planned = min(planned, scenario.connector_limit)
            peak = max(peak, planned)
    return peak


def preflight(loaded: list[tuple[Path, Scenario]]) -> None:
    """Refuse, before any request, what this machine cannot run: a missing loop, too few descriptors."""
    soft, hard = raise_fd_limit()
    for path, scenario in loaded:
        loop_factory(scenario.loop)
        need = planned_descriptors(scenario) + FD_HEADROOM
        if need > soft:
            raise EnvironmentLimitError(
                f"{path}: scenario {scenario.name!r} may hold {need - FD_HEADROOM} connections open at once, but "
                f"the file-descriptor limit is {soft} (hard limit {hard}); raise it (ulimit -n {need}) "
                f"or set connector_limit in the scenario"
            )


def run_point(
    runner: asyncio.Runner,
    plan: Plan,
    point: Point,
    base_url: str,
    progress: ProgressSink,
    keep: Callable[[RunResult], None],
) -> None:
    """Every round of one task count; recorded runs go to ``keep`` as they finish."""
    scenario = plan.scenario
    specs = {s.label: s for s in scenario.strategies}
    urls = task_urls(base_url, scenario.target, point.delays_ms)
    warm_url = f"{base_url}/health"
    for rnd in point.rounds:
        for position, label in enumerate(rnd.order):
            coro: Coroutine[Any, Any, RunResult] = execute(
                specs[label].build(), urls, warm_url, scenario, repeat=rnd.repeat, position=position
            )
            result = runner.run(coro)
            if not rnd.warmup:
                keep(result.model_copy(update={"strategy": label}))
            progress.run_done(label, point.tasks)


def run_scenario(path: Path, scenario: Scenario, base_url: str, progress: ProgressSink) -> ScenarioResult:
    """Run one scenario; on Ctrl-C the partial result travels on the KeyboardInterrupt as ``.partial``."""
    plan = make_plan(scenario)
    progress.scenario_started(scenario.name, plan.total_runs)
    points: list[PointResult] = []
    current: list[RunResult] = []
    try:
        with asyncio.Runner(loop_factory=loop_factory(scenario.loop)) as runner:
            for point in plan.points:
                current = []
                run_point(runner, plan, point, base_url, progress, current.append)
                points.append(PointResult(tasks=point.tasks, delays_ms=point.delays_ms, runs=tuple(current)))
                current = []
    except KeyboardInterrupt as exc:
        if current:
            cut = plan.points[len(points)]
            points.append(PointResult(tasks=cut.tasks, delays_ms=cut.delays_ms, runs=tuple(current)))
        exc.partial = ScenarioResult(  # type: ignore[attr-defined]
            file=str(path),
            scenario=scenario,
            outcome="interrupted",
            reason="interrupted",
            points=tuple(points),
        )
        raise
    finally:
        progress.scenario_done(scenario.name)
    return ScenarioResult(file=str(path), scenario=scenario, outcome="ok", points=tuple(points))


def run_all(
    loaded: list[tuple[Path, Scenario]], results_path: Path, argv: list[str], progress: ProgressSink
) -> ResultsFile:
    """Run every scenario against a fresh local server, writing ``results_path`` after each one."""
    preflight(loaded)
    environment = capture_environment(argv)
    created = now_utc()
    done: list[ScenarioResult] = []

    def save(complete: bool) -> ResultsFile:
        results = ResultsFile(created_utc=created, complete=complete, environment=environment, scenarios=tuple(done))
        write_results(results_path, results)
        return results

    server = LocalServer()
    try:
        base_url = server.start()
        for path, scenario in loaded:
            if not server.alive():
                base_url = server.restart()
            done.append(run_scenario(path, scenario, base_url, progress))
            save(complete=False)
        return save(complete=True)
    except KeyboardInterrupt as exc:
        partial = getattr(exc, "partial", None)
        if partial is not None:
            done.append(partial)
        save(complete=False)
        raise
    finally:
        server.stop()
