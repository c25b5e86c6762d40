"""One timed run: a strategy over a driver's operation, in the running loop, every task accounted for.

    result = await execute(strategy, "bounded(limit=10)", driver, scenario, repeat=0, position=1)

The timed region holds the strategy and its tasks and nothing else: the session is opened and its pool warmed
before it, garbage from the previous run is collected before it, and the stragglers of a failed run are awaited
after it (or cancelled at the timeout) and counted, so none is left pending. ``wall_ns`` is when the strategy
returned or raised (what the user's code experiences); ``last_end_ns`` is when the last task ended.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import resource
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from bench.collector import GcWatch
from bench.results.records import RunResult, Samples
from bench.run.executor import harness, watch_default_executor
from bench.run.recording import Counts, Recorder, peak_overlap
from bench.run.threads import ScenarioThreads
from bench.scenario.model import Scenario
from bench.strategies import AsyncStrategy, BlockingStrategy, Limits, Strategy, TaskFailed
from bench.targets.base import Driver, driver_for

if TYPE_CHECKING:
    from bench.run.engines.shares import MergedRun, RunSpec


@dataclass(frozen=True)
class Timing:
    """What the clock said about one run."""

    wall_ns: int
    """From the start until the strategy returned or raised."""
    outcome: str
    """'ok', or 'failed' when the strategy raised."""
    reason: str
    """The first failure, when it raised."""
    gc: GcWatch
    """The garbage collector's passes during the timed region (paused there if the scenario says ``gc: false``)."""
    cpu_ns: int
    """CPU time of this process (all its threads) during the timed region."""


def first_failure(exc: BaseException) -> str:
    """The message of the first TaskFailed inside an exception (group), or a description of it."""
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            return first_failure(inner)
    if isinstance(exc, TaskFailed):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def collect_garbage() -> None:
    """Collect the previous run's garbage before timing: it is not this run's cost.

    (``gc.freeze()`` after it would make this cheaper, but measured 8% slower runs: with nothing left in the oldest
    generation, CPython starts full collections far more often inside the timed region.)"""
    gc.collect()


async def drain(timeout_s: float) -> None:
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


async def _timed_async(strategy: AsyncStrategy, driver: Driver[Any], recorder: Recorder) -> Timing:
    n = driver.point.tasks
    async with driver.open_async(recorder, strategy, strategy.planned_concurrency(n)) as op:
        task = recorder.task_fn(op)
        outcome, reason = "ok", ""
        collect_garbage()
        with GcWatch(pause=not driver.scenario.gc) as watch:
            cpu = time.process_time_ns()
            recorder.begin()
            try:
                await strategy.run(n, task)
            except Exception as exc:  # the idiom's reaction to a failed task, or a strategy's own bug: record it
                outcome, reason = "failed", first_failure(exc)
            wall = recorder.elapsed()
            cpu = time.process_time_ns() - cpu
        await drain(driver.scenario.timeout_s + 1.0)
    return Timing(wall, outcome, reason, watch, cpu)


async def _timed_threads(
    strategy: BlockingStrategy, label: str, driver: Driver[Any], recorder: Recorder, threads: ScenarioThreads
) -> Timing:
    n = driver.point.tasks
    setup, teardown = driver.thread_setup(strategy), driver.thread_teardown(strategy)
    workers = await harness(threads.get, label, strategy.pool_size(), setup, teardown)
    with driver.open_sync(recorder, strategy) as op:
        task = recorder.sync_task_fn(op)
        outcome, reason = "ok", ""
        collect_garbage()
        with GcWatch(pause=not driver.scenario.gc) as watch:
            cpu = time.process_time_ns()
            recorder.begin()
            try:
                await harness(strategy.run, n, task, workers.pool)
            except Exception as exc:
                outcome, reason = "failed", first_failure(exc)
            wall = recorder.elapsed()
            cpu = time.process_time_ns() - cpu
        await harness(task.wait_idle, driver.scenario.timeout_s + 1.0)  # the tasks still in a thread
    return Timing(wall, outcome, reason, watch, cpu)


def quiet_task_failures(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Drop 'exception was never retrieved' for task failures (already recorded); report anything else."""
    if isinstance(context.get("exception"), TaskFailed):
        return
    loop.default_exception_handler(context)


def run_limits(strategy: Strategy, driver: Driver[Any]) -> Limits:
    """The limits one run works under: the target's (a client's connection limit, a listen backlog), the strategy's
    own (a semaphore, a pool), the descriptor limit; and the names of those that cap concurrency."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return driver.limits(strategy) | strategy.limits() | Limits({"fd_soft_limit": soft})


def build_run(
    label: str,
    *,
    repeat: int,
    position: int,
    loop: str,
    wall_ns: int,
    outcome: str,
    reason: str,
    samples: Samples,
    messages: tuple[str, ...],
    connections: int | None,
    limits: Limits,
    stack: str,
    peak_inflight: int,
    peak_queued: int,
    gc_passes: tuple[int, ...],
    gc_ms: float,
    clock_offsets_ns: tuple[int, ...] = (),
    cpu_ns: int | None = None,
) -> RunResult:
    """The one way a RunResult is made, in one process or from merged shares: every count from the samples."""
    counts = Counts.of(samples.error)
    return RunResult(
        strategy=label,
        repeat=repeat,
        position=position,
        loop=loop,
        wall_ns=wall_ns,
        last_end_ns=max(samples.end_ns, default=-1),
        peak_inflight=peak_inflight,
        peak_queued=peak_queued,
        limits=dict(limits.values),
        cap_names=dict(limits.names),
        finished=counts.finished,
        failed=counts.failed,
        cancelled=counts.cancelled,
        not_started=counts.not_started,
        outcome=outcome,  # type: ignore[arg-type]
        reason=reason,
        samples=samples,
        messages=messages,
        connections_opened=connections,
        clock_offsets_ns=clock_offsets_ns,
        gc_passes=gc_passes,
        gc_ms=round(gc_ms, 3),
        stack=stack,
        cpu_ns=cpu_ns,
    )


async def execute(
    strategy: Strategy,
    label: str,
    driver: Driver[Any],
    scenario: Scenario,
    *,
    repeat: int,
    position: int,
    threads: ScenarioThreads | None = None,
) -> RunResult:
    """One timed run of ``strategy`` (labelled ``label``) over ``driver``'s work, in the running loop; a blocking
    strategy runs on the scenario's worker threads (``threads``: started on first use, kept for every run)."""
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(quiet_task_failures)
    default_executor = watch_default_executor(loop)
    default_executor.reset()  # counts the user's own to_thread/aiofiles/getaddrinfo work in this run only
    recorder = Recorder(driver.point.tasks, driver.fail_on_status)
    limits = run_limits(strategy, driver)
    connector = limits.values.get("connector_limit")
    if isinstance(strategy, BlockingStrategy):
        if threads is None:
            raise TypeError("a blocking strategy needs the scenario's worker threads (threads=ScenarioThreads())")
        timing = await _timed_threads(strategy, label, driver, recorder, threads)
    elif isinstance(strategy, AsyncStrategy):
        timing = await _timed_async(strategy, driver, recorder)
    else:
        raise TypeError(f"{type(strategy).__name__} must derive from AsyncStrategy or BlockingStrategy")
    limits = limits | default_executor.limits()
    return build_run(
        label,
        repeat=repeat,
        position=position,
        loop=scenario.loop,
        wall_ns=timing.wall_ns,
        outcome=timing.outcome,
        reason=timing.reason,
        samples=recorder.samples(driver.service_us),
        messages=tuple(recorder.messages),
        connections=recorder.connections if driver.sockets else None,
        limits=limits,
        stack=driver.stack(strategy),
        peak_inflight=recorder.peak_inflight(),
        peak_queued=recorder.peak_connecting() if connector else 0,
        gc_passes=tuple(timing.gc.passes),
        gc_ms=timing.gc.ms,
        cpu_ns=timing.cpu_ns,
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB.

    On Linux, ``VmHWM`` of /proc/self/status: ``ru_maxrss`` would not do, because the kernel carries the
    parent's peak into a child across exec (a 60 MB run started from a 250 MB process reported 250 MB).
    Elsewhere ``ru_maxrss`` (macOS reports bytes, the BSDs KiB)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/self/status").read_bytes().decode("ascii", "replace").splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(peak / (1024 * 1024 if sys.platform == "darwin" else 1024), 1)


class Pool(Protocol):
    """k client processes (``engines.processes.ClientPool``) or Ray actors (``engines.ray_actors.RayPool``)."""

    k: int

    def run(self, spec: RunSpec) -> MergedRun:
        """One timed run over every process: prepare, barrier, common start, merged samples."""
        ...

    def stop(self, graceful: bool = True) -> None:
        """End every process (none is left behind); not ``graceful``: at once, they may be mid-run."""
        ...


def execute_shared(pool: Pool, spec: RunSpec, *, repeat: int, position: int) -> RunResult:
    """One timed run of ``spec`` spread over the pool's processes, as one RunResult (caps are per process)."""
    merged = pool.run(spec)
    driver = driver_for(spec.scenario, spec.point, spec.base_url, spec.sources)
    strategy = spec.strategy()
    return build_run(
        spec.label,
        repeat=repeat,
        position=position,
        loop=spec.scenario.loop,
        wall_ns=merged.wall_ns,
        outcome=merged.outcome,
        reason=merged.reason,
        samples=merged.samples,
        messages=merged.messages,
        connections=merged.connections,
        limits=run_limits(strategy, driver) | Limits({"processes": pool.k}),
        stack=driver.stack(strategy),
        peak_inflight=peak_overlap(merged.samples.start_ns, merged.samples.end_ns),
        peak_queued=0,
        gc_passes=merged.gc_passes,
        gc_ms=merged.gc_ms,
        clock_offsets_ns=merged.offsets_ns,
    )
