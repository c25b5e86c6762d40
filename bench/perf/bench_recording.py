"""Micro-benchmark (pytest-benchmark, via iobench's async plugin): the cost of recording one task sample.

Run by ``make perf``: ``pytest bench/perf/bench_recording.py --benchmark-enable --benchmark-json=FILE``.
Both benchmarks run 1,000 no-op tasks; the difference of their means / 1,000 is the cost of the bookkeeping
(created, start and end stamps, status, bytes, raw timing header, error) around one task.
"""

from __future__ import annotations

from typing import Any

from bench.run.recording import Recorder
from bench.targets.clients.base import Answer

TASKS = 1000


async def _noop(i: int) -> Answer:
    return 200, 0, None


async def _bare() -> None:
    for i in range(TASKS):
        await _noop(i)


def _recorded_batch() -> Any:
    recorder = Recorder(TASKS, fail_on_status=True)
    task = recorder.task_fn(_noop)

    async def batch() -> None:
        for i in range(TASKS):
            await task(i)

    return batch


def test_bare_tasks(async_benchmark: Any) -> None:
    """1,000 awaits of a no-op operation."""
    async_benchmark(_bare)


def test_recorded_tasks(async_benchmark: Any) -> None:
    """The same 1,000 through iobench's task wrapper."""
    async_benchmark(_recorded_batch())
