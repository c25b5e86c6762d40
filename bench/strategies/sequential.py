"""``for i in range(n): await task(i)``: the loop people write first, and the reference every speedup is over."""

from __future__ import annotations

from bench.strategies.base import AsyncStrategy, TaskFn, register


@register
class Sequential(AsyncStrategy):
    """``for i in range(n): await task(i)`` — the loop people write first. Stops at the first failure."""

    name = "sequential"

    def planned_concurrency(self, n: int) -> int:
        """One task at a time."""
        return 1

    async def run(self, n: int, task: TaskFn) -> None:
        """Await each task in turn."""
        for i in range(n):
            await task(i)
