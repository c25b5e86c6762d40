"""asyncio's default executor, counted: a run that fills it names it as the cap; iobench's own waits stay off it."""

from __future__ import annotations

import asyncio
import threading
import time

from bench.run.executor import CAP_NAME, CountingExecutor, harness, watch_default_executor


def test_unused_executor_reports_nothing() -> None:
    executor = CountingExecutor(2)
    try:
        assert executor.limits().values == {}
    finally:
        executor.shutdown()


def test_a_full_executor_is_a_cap_and_a_partly_used_one_is_not() -> None:
    executor = CountingExecutor(2)
    gate = threading.Barrier(3)
    try:
        futures = [executor.submit(gate.wait) for _ in range(2)]
        gate.wait(timeout=5)
        for f in futures:
            f.result(timeout=5)
        assert executor.peak == 2 and executor.limits().caps == {"default_executor": 2}
        assert executor.limits().names == {"default_executor": CAP_NAME}
        executor.reset()
        executor.submit(time.sleep, 0).result(timeout=5)
        assert executor.peak == 1 and executor.limits().caps == {}
        assert executor.limits().values == {"default_executor": 2, "default_executor_peak": 1}
    finally:
        executor.shutdown()


def test_to_thread_is_counted_and_the_harness_is_not() -> None:
    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        watch = watch_default_executor(loop)
        assert watch_default_executor(loop) is watch  # once per loop
        watch.reset()
        await harness(time.sleep, 0)
        before = watch.used
        await asyncio.gather(*(asyncio.to_thread(time.sleep, 0.01) for _ in range(3)))
        return before, watch.used

    before, after = asyncio.run(main())
    assert (before, after) == (0, 3)
