"""A strategy: an ``asyncio.Queue`` of every task, drained by ``workers`` coroutines."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from bench.strategies import AsyncParams, AsyncStrategy, Limits, Positive, TaskFn, register


class QueueParams(AsyncParams):
    """``workers``: how many coroutines drain the queue."""

    workers: Positive


@register
class QueueWorkers(AsyncStrategy):
    """Every task put in a queue at once (created then), ``workers`` coroutines taking them in turn."""

    name = "queue"
    Params = QueueParams

    def _workers(self) -> int:
        assert isinstance(self.params, QueueParams)
        return self.params.workers

    def planned_concurrency(self, n: int) -> int:
        """At most ``workers`` at once."""
        return min(n, self._workers())

    def limits(self) -> Limits:
        """The workers cap how many tasks run at once."""
        return Limits({"queue_workers": self._workers()}, {"queue_workers": "queue workers"})

    async def run(self, n: int, task: TaskFn) -> None:
        """Fill the queue, then let the workers drain it; the first failure propagates."""
        queue: asyncio.Queue[Coroutine[Any, Any, None]] = asyncio.Queue()
        for i in range(n):
            queue.put_nowait(task(i))

        async def worker() -> None:
            while not queue.empty():
                job = queue.get_nowait()
                await job

        try:
            await asyncio.gather(*(worker() for _ in range(self.planned_concurrency(n))))
        finally:
            while not queue.empty():  # jobs never reached after a failure: close them quietly
                queue.get_nowait().close()
