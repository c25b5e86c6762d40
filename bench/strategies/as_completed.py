"""``for next_done in asyncio.as_completed(tasks)``: every task at once, results in completion order."""

from __future__ import annotations

import asyncio

from bench.strategies.base import AsyncStrategy, TaskFn, register


@register
class AsCompleted(AsyncStrategy):
    """``for next_done in asyncio.as_completed(tasks): await next_done`` — results in completion order."""

    name = "as_completed"

    def planned_concurrency(self, n: int) -> int:
        """All tasks at once."""
        return n

    async def run(self, n: int, task: TaskFn) -> None:
        """Consume the tasks as they complete; the first failure propagates, the rest keep running."""
        for next_done in asyncio.as_completed([task(i) for i in range(n)]):
            await next_done
