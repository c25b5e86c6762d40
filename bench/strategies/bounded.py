"""gather under ``asyncio.Semaphore(limit)``: the usual way to be polite to a server."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from bench.strategies.base import AsyncParams, AsyncStrategy, Limits, Positive, TaskFn, register


class BoundedParams(AsyncParams):
    """``limit``: at most this many tasks at once."""

    limit: Positive


@register
class Bounded(AsyncStrategy):
    """gather under ``asyncio.Semaphore(limit)`` — the usual way to be polite to a server."""

    name = "bounded"
    Params = BoundedParams

    def _limit(self) -> int:
        assert isinstance(self.params, BoundedParams)
        return self.params.limit

    def planned_concurrency(self, n: int) -> int:
        """At most ``limit`` at once."""
        return min(n, self._limit())

    def limits(self) -> Limits:
        """The semaphore."""
        return Limits({"semaphore": self._limit()}, {"semaphore": "semaphore"})

    async def run(self, n: int, task: TaskFn) -> None:
        """Gather every task, each waiting for the semaphore first."""
        semaphore = asyncio.Semaphore(self._limit())

        async def guarded(job: Coroutine[Any, Any, None]) -> None:
            try:
                async with semaphore:
                    await job
            finally:
                job.close()  # never awaited when cancelled while waiting: close it quietly

        await asyncio.gather(*(guarded(task(i)) for i in range(n)))
