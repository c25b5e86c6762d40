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

from bench.results.records import Calibration
from bench.results.stats import median, median_interval
from bench.targets.clients.base import Answer, AsyncClient, BlockingClient
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


def _delivered_ms(header: str | None) -> float:
    us = service_us(header)
    return us / 1000 if us >= 0 else CALIBRATION_DELAY_MS


async def time_requests(op: Callable[[int], Answer | Awaitable[Answer]], requests: int) -> Calibration:
    """Send ``requests`` (after the untimed ones) one at a time through ``op``, awaited if it is a coroutine."""
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
            delivered.append(_delivered_ms(answer[2]))
    return overhead(times, delivered)


async def calibrate_stack(
    client: AsyncClient | BlockingClient, url: str, requests: int = CALIBRATION_REQUESTS
) -> Calibration:
    """The per-request overhead of one client stack against ``url`` (a blocking one timed in a thread of its own)."""
    if isinstance(client, AsyncClient):
        async with client.open((url,), "", connections=1, limit=1, backlog=None, timeout_s=CALIBRATION_TIMEOUT_S) as op:
            return await time_requests(op, requests)

    def blocking() -> Calibration:
        with client.open((url,), "", CALIBRATION_TIMEOUT_S) as (op, _):
            return asyncio.run(time_requests(op, requests))

    return await asyncio.to_thread(blocking)


def calibration_url(server_url: str) -> str:
    """The URL calibration requests go to on the local server."""
    return f"{server_url}/delay/{CALIBRATION_DELAY_MS:g}ms"
