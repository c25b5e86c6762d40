"""A client stack's per-request overhead: warm requests of a 1 ms delay to the local server, one at a time, each
one's round trip minus the service time the server says it delivered.

    calibration = await calibrate_stack(CLIENTS["aiohttp"], f"{server_url}/delay/1ms")   # Calibration(median_ms=...)

One timing loop serves asyncio and blocking stacks alike (``time_requests``: a blocking stack's loop runs in a
thread of its own, where its calls block nothing else), so both are measured the same way: what every task pays on
top of its delay, loopback included.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from bench.results.records import Calibration
from bench.results.stats import median, median_interval
from bench.targets.base import with_timeout
from bench.targets.clients.base import Answer, AsyncClient, BlockingClient, PoolOptions
from bench.targets.clients.server_timing import service_us

CALIBRATION_REQUESTS = 30
"""Requests timed per client stack at the start of each scenario that calibrates (after the untimed ones)."""
CALIBRATION_UNTIMED = 5
"""Requests first sent and not timed: they open the connection and warm caches."""
CALIBRATION_DELAY_MS = 1.0
"""Delay of the calibration requests: small, but non-zero so the server's timer is exercised as in a run."""
CALIBRATION_TIMEOUT_S = 30.0
"""Per-request timeout of calibration requests."""


def overhead(times_ms: list[float], delivered_ms: list[float]) -> Calibration:
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


def _delivered_ms(header: str | None, expected_ms: float) -> float:
    us = service_us(header)
    return us / 1000 if us >= 0 else expected_ms


async def time_requests(
    op: Callable[[int], Answer | Awaitable[Answer]], requests: int, expected_ms: float = CALIBRATION_DELAY_MS
) -> Calibration:
    """Send ``requests`` (after the untimed ones) one at a time through ``op``, awaited if it is a coroutine; each
    one's time minus what its answer says was delivered (``expected_ms`` when it says nothing)."""
    times: list[float] = []
    delivered: list[float] = []
    for i in range(requests + CALIBRATION_UNTIMED):
        start = time.perf_counter_ns()
        answer = op(0)
        if inspect.isawaitable(answer):
            answer = await answer
        elapsed = (time.perf_counter_ns() - start) / 1e6
        if i >= CALIBRATION_UNTIMED:
            times.append(elapsed)
            delivered.append(_delivered_ms(answer[2], expected_ms))
    return overhead(times, delivered)


HARNESS_TASKS = 200
"""Tasks timed to calibrate the harness's own per-task cost."""
ASYNC_HARNESS = "asyncio task"
"""The stack of a task that is a coroutine of the user's (or asyncio.sleep): iobench's wrapper around it."""
THREAD_HARNESS = "thread pool task"
"""The stack of a task run in a worker thread: the hand-over to the pool and back."""


async def _nothing(i: int) -> Answer:
    return 0, 0, None


def _nothing_sync() -> None:
    """No work."""


async def calibrate_harness(stack: str, timeout_s: float) -> Calibration:
    """iobench's own cost per task of a target with no client stack: a coroutine that does nothing, through the same
    deadline wrapper every task has; or, for threads, a call that does nothing handed to a worker thread and back."""
    if stack == ASYNC_HARNESS:
        return await time_requests(with_timeout(_nothing, timeout_s), HARNESS_TASKS, expected_ms=0.0)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="iobench-calibration") as pool:
        pool.submit(_nothing_sync).result()  # the thread exists before timing, as a scenario's pool's threads do

        def handed_over(i: int) -> Answer:
            pool.submit(_nothing_sync).result()
            return 0, 0, None

        return await asyncio.to_thread(lambda: asyncio.run(time_requests(handed_over, HARNESS_TASKS, 0.0)))


async def calibrate_stack(
    client: AsyncClient | BlockingClient, url: str, requests: int = CALIBRATION_REQUESTS
) -> Calibration:
    """The per-request overhead of one client stack against ``url`` (a blocking one timed in a thread of its own)."""
    if isinstance(client, AsyncClient):
        async with client.open((url,), "", PoolOptions(connections=1, limit=1, timeout_s=CALIBRATION_TIMEOUT_S)) as op:
            return await time_requests(op, requests)

    def blocking() -> Calibration:
        try:
            return asyncio.run(time_requests(client.op((url,), CALIBRATION_TIMEOUT_S), requests))
        finally:
            client.close_thread()

    return await asyncio.to_thread(blocking)


def calibration_url(server_url: str) -> str:
    """The URL calibration requests go to on the local server."""
    return f"{server_url}/delay/{CALIBRATION_DELAY_MS:g}ms"
