"""User functions for the callable-target tests: what a user's own I/O would look like."""

from __future__ import annotations

import asyncio
import gc
import time


async def fetch(i: int) -> int:
    """An async stand-in for the user's I/O: 20 ms, and task 3 fails."""
    await asyncio.sleep(0.02)
    if i == 3:
        raise RuntimeError("task 3 broke")
    return i


def fetch_sync(i: int) -> int:
    """The blocking twin, for the threads strategy."""
    time.sleep(0.02)
    if i == 3:
        raise RuntimeError("task 3 broke")
    return i


async def quick(i: int) -> None:
    """20 ms of async waiting, never failing."""
    await asyncio.sleep(0.02)


def quick_sync(i: int) -> None:
    """20 ms of blocking waiting, never failing."""
    time.sleep(0.02)


async def collect_twice(i: int) -> None:
    """Two explicit full garbage collections: a run of n tasks makes exactly 2n full passes."""
    gc.collect()
    gc.collect()


async def make_cycles(i: int) -> None:
    """20,000 reference cycles: enough allocations for the collector's automatic passes, when it runs."""
    for _ in range(20_000):
        a: list[object] = []
        a.append(a)
    await asyncio.sleep(0)
