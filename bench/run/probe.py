"""Before and between the timed runs: each task alone (the probe that estimates service times when a scenario has
no sequential run), and whether a run's every task failed (its strategy is then stopped).

    record.probe = runner.run(probe(driver, probe_indices(point.tasks)))
"""

from __future__ import annotations

import contextlib
from typing import Any

from bench.errors import RunError
from bench.results.records import Probe, RunResult
from bench.run.recording import Recorder
from bench.strategies import REFERENCE, REGISTRY, TaskFailed
from bench.targets.base import Driver


def everything_failed(run: RunResult) -> str | None:
    """Why no task of a run finished ok (its first failure in its own words), or None when one did."""
    if run.finished or not run.tasks:
        return None
    return run.reason or (run.messages[0] if run.messages else "no task finished")


PROBE_TASKS = 20
"""Tasks a scenario with no sequential run times one at a time before its timed rounds (the ideal's estimate)."""


def probe_indices(n: int, k: int = PROBE_TASKS) -> tuple[int, ...]:
    """``k`` task indices spread evenly over 0..n-1 (every one when n <= k).

    >>> probe_indices(100, 5)
    (0, 25, 50, 74, 99)
    """
    if n <= k:
        return tuple(range(n))
    return tuple(dict.fromkeys(round(j * (n - 1) / (k - 1)) for j in range(k)))


async def probe(driver: Driver[Any], indices: tuple[int, ...]) -> Probe:
    """Each task of ``indices`` run alone, one after another, untimed as a whole: how long its I/O takes when
    nothing competes (what the ideal is estimated from when the scenario has no sequential run)."""
    strategy = REGISTRY[REFERENCE]()
    recorder = Recorder(driver.point.tasks, driver.fail_on_status)
    async with driver.open_async(recorder, strategy, 1) as op:
        task = recorder.task_fn(op)
        recorder.begin()
        for i in indices:
            with contextlib.suppress(TaskFailed):
                await task(i)
    failed = [i for i in indices if recorder.error[i] != ""]
    if failed:
        raise RunError(f"task {failed[0]} failed when run alone: {recorder.messages[0] if recorder.messages else ''}")
    durations = tuple(round((recorder.end[i] - recorder.start[i]) / 1e6, 4) for i in indices)
    return Probe(tasks=indices, durations_ms=durations, stack=driver.stack(strategy))
