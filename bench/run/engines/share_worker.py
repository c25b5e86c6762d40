"""One client process's share of a run: open and warm its target (untimed), wait for the common start on the
shared clock, run the strategy over its task indices, and hand back a ``ShareResult``.

    worker = ShareWorker("uvloop")
    warm_s = worker.prepare(spec, indices)   # driver, recorder and strategy as in a single-process run
    share = worker.go(t0_ns)                 # sleep, then spin, until t0 (CLOCK_MONOTONIC); run; drain; close

Used by the subprocess children (``bench.run.engines.processes.child_main``) and by the Ray actors
(``bench.run.engines.ray_actors``)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Callable
from typing import Any

from bench.collector import GcWatch
from bench.errors import RunError
from bench.loops import loop_factory
from bench.run.engines.shares import RunSpec, ShareResult
from bench.run.recording import Recorder
from bench.run.timed import collect_garbage, drain, first_failure, peak_rss_mb, quiet_task_failures, run_limits
from bench.scenario.model import Scenario
from bench.strategies import AsyncStrategy
from bench.targets.base import driver_class, driver_for
from bench.targets.clients.base import Answer, AsyncOp

SPIN_NS = 2_000_000
"""The last part of the wait for the common start is a busy loop on the clock (sleeping is too coarse)."""


class ShareWorker:
    """Runs one process's share of each run on its own event loop, through the same driver, recorder and strategy
    code as a single-process run: ``prepare`` (open and warm, untimed), then ``go(t0)``."""

    def __init__(self, loop: str = "asyncio") -> None:
        self._runner = asyncio.Runner(loop_factory=loop_factory(loop))
        self._stack: contextlib.AsyncExitStack | None = None
        self._job: tuple[RunSpec, AsyncStrategy, Recorder, AsyncOp, int | None] | None = None
        self._indices: tuple[int, ...] = ()
        self._warm_s = 0.0
        self._service_us: Callable[[str | None], int] = lambda _: -1
        self._sockets = False
        self._states: dict[str, tuple[Scenario, Any]] = {}
        """What each scenario's setup made in this process, by scenario name (torn down at ``close``)."""

    def now_ns(self) -> int:
        """This process's CLOCK_MONOTONIC reading (for clock checks and offset estimates)."""
        return time.monotonic_ns()

    def prepare(self, spec: RunSpec, indices: tuple[int, ...]) -> float:
        """Open the target for ``indices`` and warm it; seconds the warm-up took (WarmupError on failure)."""
        self._indices = indices
        return self._runner.run(self._prepare(spec, indices))

    async def _prepare(self, spec: RunSpec, indices: tuple[int, ...]) -> float:
        strategy = spec.strategy()
        if not isinstance(strategy, AsyncStrategy):
            raise RunError(f"strategy {strategy.name!r} cannot run in client processes (it is not asyncio)")
        name = spec.scenario.name
        if name not in self._states:  # the scenario's setup, once in this process, on this loop, before any run
            state = await driver_class(spec.scenario.target).setup(spec.scenario.target)
            self._states[name] = (spec.scenario, state)
        driver = driver_for(spec.scenario, spec.point, spec.base_url, spec.sources, self._states[name][1])
        limit = run_limits(strategy, driver).values.get("connector_limit")
        recorder = Recorder(len(indices), driver.fail_on_status)
        self._sockets = driver.sockets
        stack = contextlib.AsyncExitStack()
        started = time.monotonic()
        try:
            whole = await stack.enter_async_context(
                driver.open_async(recorder, strategy, strategy.planned_concurrency(len(indices)))
            )
        except BaseException:
            await stack.aclose()
            raise
        self._warm_s = time.monotonic() - started

        async def share_op(j: int) -> Answer:
            return await whole(indices[j])

        self._stack, self._job = stack, (spec, strategy, recorder, share_op, limit)
        self._service_us = driver.service_us
        return self._warm_s

    def go(self, t0_ns: int) -> ShareResult:
        """Wait for the common start ``t0_ns`` (CLOCK_MONOTONIC), run the share, drain, close; the samples."""
        assert self._job is not None, "prepare() first"
        try:
            return self._runner.run(self._go(t0_ns))
        finally:
            self._job = None

    async def _go(self, t0: int) -> ShareResult:
        assert self._job is not None and self._stack is not None
        spec, strategy, recorder, op, limit = self._job
        asyncio.get_running_loop().set_exception_handler(quiet_task_failures)
        task = recorder.task_fn(op)
        collect_garbage()
        outcome, reason = "ok", ""
        with GcWatch(pause=not spec.scenario.gc) as watch:  # entered before the common start, not after it
            late = await _wait_until(t0)
            recorder.t0 = t0  # perf_counter_ns and monotonic_ns read the same clock here (same_clock_everywhere)
            try:
                await strategy.run(len(self._indices), task)
            except Exception as exc:
                outcome, reason = "failed", first_failure(exc)
            returned = recorder.elapsed()
        await drain(spec.scenario.timeout_s + 1.0)
        stack, self._stack = self._stack, None
        await stack.aclose()
        return ShareResult(
            indices=self._indices,
            samples=recorder.samples(self._service_us),
            returned_ns=returned,
            late_ns=late,
            outcome=outcome,
            reason=reason,
            peak_inflight=recorder.peak_inflight(),
            connector_limit=limit,
            warm_s=self._warm_s,
            peak_rss_mb=peak_rss_mb(),
            pid=os.getpid(),
            gc_passes=tuple(watch.passes),
            gc_ms=round(watch.ms, 3),
            messages=tuple(recorder.messages),
            connections=recorder.connections if self._sockets else None,
        )

    def abandon(self) -> None:
        """Close what was opened for a run that will not go (another process failed its warm-up)."""
        if self._stack is not None:
            self._runner.run(self._stack.aclose())
            self._stack = None
        self._job = None

    def close(self) -> None:
        """Close what is open, tear down what each scenario's setup made, and close the loop."""
        self.abandon()
        try:
            for scenario, state in self._states.values():
                self._runner.run(driver_class(scenario.target).teardown(scenario.target, state))
        finally:
            self._states.clear()
            self._runner.close()


async def _wait_until(t0: int) -> int:
    """Sleep, then spin, until CLOCK_MONOTONIC reaches ``t0``; how late we left (ns)."""
    left = t0 - time.monotonic_ns()
    if left > SPIN_NS:
        await asyncio.sleep((left - SPIN_NS) / 1e9)
    while (now := time.monotonic_ns()) < t0:
        pass
    return now - t0
