"""``async with asyncio.TaskGroup()``: every task at once, and the first failure cancels the rest."""

from __future__ import annotations

import asyncio

from bench.strategies.base import AsyncStrategy, TaskFn, register


@register
class TaskGroupStrategy(AsyncStrategy):
    """``async with asyncio.TaskGroup()`` — all at once; the first failure cancels the siblings."""

    name = "taskgroup"

    def planned_concurrency(self, n: int) -> int:
        """All tasks at once."""
        return n

    async def run(self, n: int, task: TaskFn) -> None:
        """Create every task in a TaskGroup."""
        async with asyncio.TaskGroup() as group:
            for i in range(n):
                group.create_task(task(i))
