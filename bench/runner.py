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
import gc
import http.client
import resource
import sys
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import aiohttp

from bench.errors import EnvironmentLimitError, ScenarioError, UsageError
from bench.loops import loop_factory
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
from bench.scenario import CallableTarget, LocalTarget, Scenario, SleepTarget, Target, UrlTarget
from bench.server import LocalServer, is_loopback
from bench.stats import median
from bench.strategies import AsyncStrategy, Strategy, SyncTaskFn, TaskFailed, TaskFn, Threads
from bench.targets import (
    AsyncOp,
    HttpSyncOp,
    SyncOp,
    callable_op,
    callable_sync_op,
    http_op,
    import_callable,
    is_async,
    sleep_op,
    sleep_sync_op,
)

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
    """In-flight and queued counters shared by the tasks of one run."""

    __slots__ = ("inflight", "peak", "peak_queued", "queued")

    def __init__(self) -> None:
        self.inflight = 0
        self.peak = 0
        self.queued = 0
        self.peak_queued = 0


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError and socket.timeout are TimeoutError since 3.11
        return "timeout"
    if isinstance(exc, aiohttp.ClientPayloadError | http.client.IncompleteRead):
        return "payload"
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError | http.client.RemoteDisconnected):
        return "connection"
    if isinstance(exc, aiohttp.ClientError | http.client.HTTPException | OSError):
        return "client"
    return "exception"


class _Recorder:
    """Column buffers for one run's samples, and the task functions that fill them around an operation."""

    def __init__(self, n: int, fail_on_status: bool) -> None:
        self.start = [-1] * n
        self.end = [-1] * n
        self.status = [0] * n
        self.nbytes = [0] * n
        self.error = ["not_started"] * n
        self.gauge = _Gauge()
        self.fail_on_status = fail_on_status
        self.t0 = 0

    def _settle(self, i: int, outcome: tuple[int, int]) -> None:
        """Record task i's answer; a status of 400 or more fails it when the target says so."""
        self.status[i], self.nbytes[i] = outcome
        if self.fail_on_status and outcome[0] >= 400:
            self.error[i] = "http_status"
            raise TaskFailed(f"task {i}: HTTP {outcome[0]}")
        self.error[i] = ""

    def _failed(self, i: int, exc: Exception) -> TaskFailed:
        """Record why task i failed and return the TaskFailed to raise in its place."""
        self.error[i] = _error_kind(exc)
        return TaskFailed(f"task {i}: {self.error[i]}: {exc!r}")

    def task_fn(self, op: AsyncOp) -> TaskFn:
        """``task(i)``: run op(i), record it, raise TaskFailed on an error (or a status >= 400 if that fails)."""
        start, end, error, gauge, clock = self.start, self.end, self.error, self.gauge, time.perf_counter_ns

        async def task(i: int) -> None:
            start[i] = clock() - self.t0
            gauge.inflight += 1
            if gauge.inflight > gauge.peak:
                gauge.peak = gauge.inflight
            try:
                self._settle(i, await op(i))
            except asyncio.CancelledError:
                error[i] = "cancelled"
                raise
            except TaskFailed:
                raise
            except Exception as exc:
                raise self._failed(i, exc) from exc
            finally:
                end[i] = clock() - self.t0
                gauge.inflight -= 1

        return task

    def sync_task_fn(self, op: SyncOp) -> SyncTaskFn:
        """The blocking twin of ``task_fn``, safe to call from many threads."""
        start, end, gauge, clock = self.start, self.end, self.gauge, time.perf_counter_ns
        lock = threading.Lock()

        def task(i: int) -> None:
            start[i] = clock() - self.t0
            with lock:
                gauge.inflight += 1
                gauge.peak = max(gauge.peak, gauge.inflight)
            try:
                self._settle(i, op(i))
            except TaskFailed:
                raise
            except Exception as exc:
                raise self._failed(i, exc) from exc
            finally:
                end[i] = clock() - self.t0
                with lock:
                    gauge.inflight -= 1

        return task

    def samples(self) -> Samples:
        """Freeze the buffers."""
        return Samples(
            created_ns=tuple(self.start),
            start_ns=tuple(self.start),
            end_ns=tuple(self.end),
            status=tuple(self.status),
            nbytes=tuple(self.nbytes),
            error=tuple(self.error),
            service_us=(-1,) * len(self.error),
        )


@dataclass(frozen=True)
class Work:
    """What the tasks of one task count do, prepared once and shared by every strategy and repeat."""

    tasks: int
    target: Target
    urls: tuple[str, ...]
    """Local server: the URL of each task."""
    delays_ms: tuple[float, ...]
    warm_url: str
    timeout_s: float
    function: Callable[..., Any] | None = None
    """Callable target: the user's async function."""
    sync_function: Callable[..., Any] | None = None
    """Callable target: the user's plain function (threads)."""
    backlog: int | None = None
    """Listen backlog of the local server."""


def task_urls(
    base_url: str, target: LocalTarget, delays_ms: tuple[float, ...], error_tasks: tuple[int, ...] = ()
) -> tuple[str, ...]:
    """The URL of each task: its delay in the path; body size, status and fault as query parameters if set."""
    query = [f"bytes={target.bytes}"] if target.bytes else []
    plain = [*query, f"status={target.status}"] if target.status != 200 else query
    failing = [*query, "status=500" if target.error_kind == "status" else f"fault={target.error_kind}"]
    fail = set(error_tasks)

    def suffix(params: list[str]) -> str:
        return "?" + "&".join(params) if params else ""

    return tuple(
        f"{base_url}/delay/{d:.3f}ms{suffix(failing if i in fail else plain)}" for i, d in enumerate(delays_ms)
    )


async def warm_pool(session: aiohttp.ClientSession, url: str, connections: int) -> None:
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


def _first_failure(exc: BaseException) -> str:
    """The message of the first TaskFailed inside an exception (group), or a description of it."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            return _first_failure(inner)
    if isinstance(exc, TaskFailed):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _queue_trace(gauge: _Gauge) -> aiohttp.TraceConfig:
    """Count tasks waiting for a pooled connection (only happens when the connector limit is reached)."""
    trace = aiohttp.TraceConfig()

    async def queued(session: aiohttp.ClientSession, ctx: Any, params: Any) -> None:
        gauge.queued += 1
        gauge.peak_queued = max(gauge.peak_queued, gauge.queued)

    async def dequeued(session: aiohttp.ClientSession, ctx: Any, params: Any) -> None:
        gauge.queued -= 1

    trace.on_connection_queued_start.append(queued)
    trace.on_connection_queued_end.append(dequeued)
    return trace


def _collect_garbage() -> None:
    """Collect the previous run's garbage before timing: it is not this run's cost.

    (``gc.freeze()`` after it would make this cheaper, but measured 8% slower runs: with nothing left in the oldest
    generation, CPython starts full collections far more often inside the timed region.)"""
    gc.collect()


async def _timed_async(strategy: AsyncStrategy, recorder: _Recorder, op: AsyncOp, n: int) -> tuple[int, str, str]:
    task = recorder.task_fn(op)
    outcome, reason = "ok", ""
    _collect_garbage()
    recorder.t0 = time.perf_counter_ns()
    try:
        await strategy.run(n, task)
    except Exception as exc:  # the idiom's reaction to a failed task, or a strategy's own bug: record it
        outcome, reason = "failed", _first_failure(exc)
    return time.perf_counter_ns() - recorder.t0, outcome, reason


async def _run_async(
    strategy: AsyncStrategy, work: Work, recorder: _Recorder, limits: dict[str, int | None]
) -> tuple[int, str, str]:
    n = work.tasks
    if isinstance(work.target, LocalTarget | UrlTarget):
        limit = strategy.connector_limit(limits["connector_limit"])
        limits["connector_limit"] = limit
        connector = aiohttp.TCPConnector(limit=limit or 0, limit_per_host=0)
        timeout = aiohttp.ClientTimeout(total=work.timeout_s)
        traces = [_queue_trace(recorder.gauge)] if limit else None
        async with aiohttp.ClientSession(connector=connector, timeout=timeout, trace_configs=traces) as session:
            planned = strategy.planned_concurrency(n)
            if work.warm_url:
                await warm_pool(session, work.warm_url, min(planned, limit) if limit else planned)
            result = await _timed_async(strategy, recorder, http_op(session, work.urls), n)
            await _drain(work.timeout_s + 1.0)
        return result
    limits["connector_limit"] = None
    if isinstance(work.target, SleepTarget):
        op = sleep_op(work.delays_ms)
    else:
        assert work.function is not None
        op = callable_op(work.function)
    result = await _timed_async(strategy, recorder, _with_timeout(op, work.timeout_s), n)
    await _drain(work.timeout_s + 1.0)
    return result


def _with_timeout(op: AsyncOp, timeout_s: float) -> AsyncOp:
    async def bounded(i: int) -> tuple[int, int]:
        async with asyncio.timeout(timeout_s):
            return await op(i)

    return bounded


async def _run_threads(
    strategy: Threads, work: Work, recorder: _Recorder, limits: dict[str, int | None]
) -> tuple[int, str, str]:
    limits["connector_limit"] = None
    http: HttpSyncOp | None = None
    if isinstance(work.target, LocalTarget | UrlTarget):
        http = HttpSyncOp(work.urls, work.timeout_s)
        op: SyncOp = http
        warm_path = urlsplit(work.warm_url).path

        def warm() -> None:
            if http is not None and work.warm_url:
                http.get(warm_path)
    else:
        op = (
            sleep_sync_op(work.delays_ms)
            if isinstance(work.target, SleepTarget)
            else callable_sync_op(_need(work.sync_function))
        )

        def warm() -> None:
            pass

    task = recorder.sync_task_fn(op)
    interrupted = False
    try:
        await asyncio.to_thread(strategy.open, work.tasks, warm)
        outcome, reason = "ok", ""
        _collect_garbage()
        recorder.t0 = time.perf_counter_ns()
        try:
            await asyncio.to_thread(strategy.run, work.tasks, task)
        except Exception as exc:
            outcome, reason = "failed", _first_failure(exc)
        wall = time.perf_counter_ns() - recorder.t0
    except asyncio.CancelledError:
        interrupted = True
        raise
    finally:
        await asyncio.to_thread(strategy.close, interrupted)
        if http is not None:
            http.close()
    return wall, outcome, reason


def _need(function: Callable[..., Any] | None) -> Callable[..., Any]:
    assert function is not None
    return function


def _quiet_task_failures(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Drop 'exception was never retrieved' for task failures (already recorded); report anything else."""
    if isinstance(context.get("exception"), TaskFailed):
        return
    loop.default_exception_handler(context)


async def execute(strategy: Strategy, work: Work, scenario: Scenario, *, repeat: int, position: int) -> RunResult:
    """One timed run of ``strategy`` over ``work``, in the running loop."""
    asyncio.get_running_loop().set_exception_handler(_quiet_task_failures)
    n = work.tasks
    fail_on_status = work.target.fail_on_status if isinstance(work.target, LocalTarget | UrlTarget) else False
    recorder = _Recorder(n, fail_on_status)
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    limits: dict[str, int | None] = {
        "connector_limit": scenario.connector_limit,
        "connector_limit_per_host": None,
        **strategy.limits(),
        "fd_soft_limit": soft,
        "listen_backlog": work.backlog,
    }
    if isinstance(strategy, Threads):
        wall_ns, outcome, reason = await _run_threads(strategy, work, recorder, limits)
    else:
        assert isinstance(strategy, AsyncStrategy)
        wall_ns, outcome, reason = await _run_async(strategy, work, recorder, limits)
    samples = recorder.samples()
    cancelled = sum(1 for e in samples.error if e == "cancelled")
    not_started = sum(1 for e in samples.error if e == "not_started")
    finished = sum(1 for e in samples.error if e == "")
    return RunResult(
        strategy="",
        repeat=repeat,
        position=position,
        loop=scenario.loop,
        wall_ns=wall_ns,
        peak_inflight=recorder.gauge.peak,
        peak_queued=recorder.gauge.peak_queued,
        limits=limits,
        finished=finished,
        failed=n - finished - cancelled - not_started,
        cancelled=cancelled,
        not_started=not_started,
        last_end_ns=max(samples.end_ns, default=-1),
        outcome=outcome,  # type: ignore[arg-type]
        reason=reason,
        samples=samples,
    )


def raise_fd_limit() -> tuple[int, int]:
    """Raise the descriptor soft limit to the hard limit; return (soft, hard) as they are now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def planned_descriptors(scenario: Scenario) -> int:
    """The most sockets any run of the scenario will hold open at once (0 for targets without sockets)."""
    if not isinstance(scenario.target, LocalTarget | UrlTarget):
        return 0
    peak = 0
    for n in scenario.tasks:
        for spec in scenario.strategies:
            strategy = spec.build()
            planned = strategy.planned_concurrency(n)
            if isinstance(strategy, AsyncStrategy):
                limit = strategy.connector_limit(scenario.connector_limit)
                planned = min(planned, limit) if limit else planned
            peak = max(peak, planned)
    return peak


def _check_callables(path: Path, scenario: Scenario) -> None:
    target = scenario.target
    if not isinstance(target, CallableTarget):
        return
    function = import_callable(target.callable, f"{path}: target.callable")
    if not is_async(function):
        raise ScenarioError(
            f"{path}: target.callable: {target.callable} must be an async def (it takes the task index)"
        )
    if any(s.name == "threads" for s in scenario.strategies):
        if not target.sync_callable:
            raise ScenarioError(f"{path}: target.sync_callable: the threads strategy needs a plain def; name one here")
        sync = import_callable(target.sync_callable, f"{path}: target.sync_callable")
        if is_async(sync):
            raise ScenarioError(f"{path}: target.sync_callable: {target.sync_callable} must be a plain def, not async")


def ephemeral_ports() -> int | None:
    """How many local ports the kernel hands out for outgoing connections (Linux), or None if unknown."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return None
    return int(high) - int(low) + 1


def _check_external(path: Path, scenario: Scenario, allow_external: bool) -> None:
    target = scenario.target
    if not isinstance(target, UrlTarget) or is_loopback(target.host):
        return
    if not target.allow_external:
        raise UsageError(
            f"{path}: target.url: {target.host} is not on this machine; to send it {max(scenario.tasks)} requests "
            "per run, set allow_external: true in the target and pass --allow-external"
        )
    if not allow_external:
        raise UsageError(
            f"{path}: target.url: {target.host} is not on this machine; pass --allow-external to send it requests"
        )


def preflight(loaded: list[tuple[Path, Scenario]], allow_external: bool = False) -> None:
    """Refuse, before any request, what this machine cannot run: a missing loop, too few descriptors or ports,
    a user function that is not there, load on another host nobody allowed."""
    soft, hard = raise_fd_limit()
    ports = ephemeral_ports()
    for path, scenario in loaded:
        loop_factory(scenario.loop)
        _check_callables(path, scenario)
        _check_external(path, scenario, allow_external)
        planned = planned_descriptors(scenario)
        if ports is not None and planned > ports:
            raise EnvironmentLimitError(
                f"{path}: scenario {scenario.name!r} may hold {planned} connections open at "
                f"once, but only {ports} local ports exist (net.ipv4.ip_local_port_range); set connector_limit"
            )
        need = planned + FD_HEADROOM
        if need > soft:
            raise EnvironmentLimitError(
                f"{path}: scenario {scenario.name!r} may hold {need - FD_HEADROOM} connections open at once, but "
                f"the file-descriptor limit is {soft} (hard limit {hard}); raise it (ulimit -n {need}) "
                f"or set connector_limit in the scenario"
            )


def prepare_work(scenario: Scenario, point: Point, base_url: str) -> Work:
    """Everything the runs of one task count share: URLs, delays, the user's functions."""
    target = scenario.target
    urls: tuple[str, ...] = ()
    function = sync_function = None
    warm_url = f"{base_url}/health"
    if isinstance(target, LocalTarget):
        urls = task_urls(base_url, target, point.delays_ms, point.error_tasks)
    elif isinstance(target, UrlTarget):
        urls = (target.url,) * point.tasks
        warm_url = target.url if is_loopback(target.host) else ""  # no extra load on another host
    elif isinstance(target, CallableTarget):
        function = import_callable(target.callable, "target.callable")
        if target.sync_callable:
            sync_function = import_callable(target.sync_callable, "target.sync_callable")
    return Work(
        tasks=point.tasks,
        target=target,
        urls=urls,
        delays_ms=point.delays_ms,
        warm_url=warm_url,
        timeout_s=scenario.timeout_s,
        function=function,
        sync_function=sync_function,
        backlog=scenario.server.backlog if isinstance(target, LocalTarget) else None,
    )


class ServerDied(Exception):
    """The local server process exited during a scenario."""


def run_point(
    runner: asyncio.Runner,
    plan: Plan,
    point: Point,
    base_url: str,
    progress: ProgressSink,
    keep: Callable[[RunResult], None],
    server_gone: Callable[[], str | None] = lambda: None,
) -> None:
    """Every round of one task count; recorded runs go to ``keep`` as they finish.

    ``server_gone`` is asked after each run; a reason from it stops the point with ServerDied.
    """
    scenario = plan.scenario
    specs = {s.label: s for s in scenario.strategies}
    work = prepare_work(scenario, point, base_url)
    for rnd in point.rounds:
        for position, label in enumerate(rnd.order):
            coro: Coroutine[Any, Any, RunResult] = execute(
                specs[label].build(), work, scenario, repeat=rnd.repeat, position=position
            )
            result = runner.run(coro)
            gone = server_gone()
            if gone:
                raise ServerDied(gone)
            if not rnd.warmup:
                keep(result.model_copy(update={"strategy": label}))
            progress.run_done(label, point.tasks)


CALIBRATION_REQUESTS = 30
"""Requests timed at the start of each local-server scenario."""
CALIBRATION_DELAY_MS = 1.0
"""Delay of the calibration requests: small, but non-zero so the server's timer lateness is part of it."""


async def calibrate(base_url: str, requests: int = CALIBRATION_REQUESTS) -> float:
    """Per-request overhead in ms: median time of a 1 ms GET on a warm connection, minus the 1 ms.

    That is the network path, both HTTP stacks and the server's timer lateness: what every task pays on top of
    its delay.
    """
    url = f"{base_url}/delay/{CALIBRATION_DELAY_MS:g}ms"
    times: list[float] = []
    async with aiohttp.ClientSession() as session:
        for i in range(requests + 5):
            start = time.perf_counter_ns()
            async with session.get(url) as response:
                await response.read()
            if i >= 5:  # the first few open the connection and warm caches
                times.append((time.perf_counter_ns() - start) / 1e6)
    return round(max(median(times) - CALIBRATION_DELAY_MS, 0.0), 4)


def run_scenario(
    path: Path,
    scenario: Scenario,
    base_url: str,
    progress: ProgressSink,
    server_gone: Callable[[], str | None] = lambda: None,
) -> ScenarioResult:
    """Run one scenario; a dying server ends it as 'failed' with the reason.

    On Ctrl-C the partial result travels on the KeyboardInterrupt as ``.partial``.
    """
    plan = make_plan(scenario)
    progress.scenario_started(scenario.name, plan.total_runs)
    points: list[PointResult] = []
    current: list[RunResult] = []
    rtt_ms: float | None = None

    def result(outcome: Literal["ok", "failed", "interrupted"], reason: str = "") -> ScenarioResult:
        if current:  # the runs that finished of a task count cut short
            cut = plan.points[len(points)]
            points.append(
                PointResult(tasks=cut.tasks, delays_ms=cut.delays_ms, error_tasks=cut.error_tasks, runs=tuple(current))
            )
        return ScenarioResult(
            file=str(path),
            scenario=scenario,
            outcome=outcome,
            reason=reason,
            calibration_rtt_ms=rtt_ms,
            points=tuple(points),
            peak_rss_mb=peak_rss_mb(),
        )

    try:
        with asyncio.Runner(loop_factory=loop_factory(scenario.loop)) as runner:
            if isinstance(scenario.target, LocalTarget):
                rtt_ms = runner.run(calibrate(base_url))
            for point in plan.points:
                current = []
                run_point(runner, plan, point, base_url, progress, current.append, server_gone)
                points.append(
                    PointResult(
                        tasks=point.tasks, delays_ms=point.delays_ms, error_tasks=point.error_tasks, runs=tuple(current)
                    )
                )
                current = []
    except ServerDied as exc:
        return result("failed", str(exc))
    except aiohttp.ClientError as exc:  # calibration could not reach the server
        return result("failed", server_gone() or f"the local server did not answer: {exc!r}")
    except KeyboardInterrupt as exc:
        exc.partial = result("interrupted", "interrupted")  # type: ignore[attr-defined]
        raise
    finally:
        progress.scenario_done(scenario.name)
    return result("ok")


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


def run_all(
    loaded: list[tuple[Path, Scenario]],
    results_path: Path,
    argv: list[str],
    progress: ProgressSink,
    allow_external: bool = False,
) -> ResultsFile:
    """Run every scenario against a fresh local server, writing ``results_path`` after each one."""
    preflight(loaded, allow_external)
    environment = capture_environment(argv)
    created = now_utc()
    done: list[ScenarioResult] = []

    def save(complete: bool) -> ResultsFile:
        results = ResultsFile(created_utc=created, complete=complete, environment=environment, scenarios=tuple(done))
        write_results(results_path, results)
        return results

    server: LocalServer | None = None
    try:
        for path, scenario in loaded:
            if isinstance(scenario.target, LocalTarget):
                server = _server_for(scenario, server)
            base_url = server.url if server is not None else ""
            done.append(run_scenario(path, scenario, base_url, progress, _death_watch(server)))
            save(complete=False)
        return save(complete=True)
    except KeyboardInterrupt as exc:
        partial = getattr(exc, "partial", None)
        if partial is not None:
            done.append(partial)
        save(complete=False)
        raise
    finally:
        if server is not None:
            server.stop()


def _death_watch(server: LocalServer | None) -> Callable[[], str | None]:
    """A check that names the server's exit, if it exited."""

    def gone() -> str | None:
        if server is None or server.alive():
            return None
        return f"the local server exited during the run ({server.exit_status()}); it is restarted for what follows"

    return gone


def _server_for(scenario: Scenario, current: LocalServer | None) -> LocalServer:
    """The running server if it is alive and has the scenario's options, else a fresh one."""
    options = scenario.server
    if (
        current is not None
        and current.alive()
        and (current.workers, current.backlog) == (options.workers, options.backlog)
    ):
        return current
    if current is not None:
        current.stop()
    server = LocalServer(workers=options.workers, backlog=options.backlog)
    server.start()
    return server
