"""A user function for tests/test_check.py: an API that rejects concurrent callers at once (like a 429)."""

from __future__ import annotations

import asyncio

_in_flight = 0


async def one_at_a_time(i: int) -> None:
    """20 ms of work when called alone; raises within a loop turn when any other call is in flight."""
    global _in_flight
    _in_flight += 1
    try:
        await asyncio.sleep(0)
        if _in_flight > 1:
            raise RuntimeError("429 too many requests: another call is in flight")
        await asyncio.sleep(0.02)
    finally:
        _in_flight -= 1
