"""``ThreadPoolExecutor(workers).map(blocking_task, range(n))``: the classic pre-asyncio answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from pydantic import BaseModel

from bench.strategies.base import BlockingStrategy, Limits, Params, Positive, SyncTaskFn, register


class ThreadsParams(Params):
    """``workers``: size of the thread pool."""

    workers: Positive


@register
class Threads(BlockingStrategy):
    """``ThreadPoolExecutor(workers).map(blocking_task, range(n))`` — the classic pre-asyncio answer.

    Each worker thread keeps one keep-alive ``http.client`` connection. ``run`` blocks the calling thread, which
    is what user code doing this would do too.
    """

    name = "threads"
    Params = ThreadsParams

    def __init__(self, params: BaseModel | None = None) -> None:
        super().__init__(params)
        self.pool: ThreadPoolExecutor | None = None

    def _workers(self) -> int:
        assert isinstance(self.params, ThreadsParams)
        return self.params.workers

    def planned_concurrency(self, n: int) -> int:
        """At most ``workers`` at once."""
        return min(n, self._workers())

    def limits(self) -> Limits:
        """The pool size."""
        return Limits({"thread_workers": self._workers()}, {"thread_workers": "thread pool"})

    def open(self, n: int, warm: Callable[[], None]) -> None:
        """Start the pool and make every thread that will run call ``warm`` once (to open its connection)."""
        workers = self.planned_concurrency(n)
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="iobench")
        barrier = threading.Barrier(workers)

        def warm_one() -> None:
            warm()
            barrier.wait(timeout=30)  # hold each thread until all have one: every thread warms exactly once

        list(self.pool.map(lambda _: warm_one(), range(workers)))

    def run(self, n: int, task: SyncTaskFn) -> None:
        """Map the blocking task over the pool; the first failure propagates and cancels the queued tasks."""
        assert self.pool is not None, "call open() first"
        for _ in self.pool.map(task, task.create(range(n))):
            pass

    def close(self, cancel: bool = False) -> None:
        """Wait for the pool's work, as leaving ``with ThreadPoolExecutor()`` does; ``cancel`` drops queued tasks."""
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=cancel)
            self.pool = None
