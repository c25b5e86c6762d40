"""``ThreadPoolExecutor(workers).map(blocking_task, range(n))``: the classic pre-asyncio answer."""

from __future__ import annotations

import re
from concurrent.futures import Executor
from typing import Annotated

from pydantic import Strict, field_validator

from bench.strategies.base import BlockingStrategy, Limits, Params, Positive, SyncTaskFn, register

_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class ThreadsParams(Params):
    """``workers``: size of the thread pool; ``sync_callable``: a plain ``def f(i)`` its tasks call instead of the
    target's (a callable target), so two blocking implementations can be compared in one scenario."""

    workers: Positive
    sync_callable: Annotated[str, Strict()] | None = None

    @field_validator("sync_callable", mode="after")
    @classmethod
    def _importable(cls, value: str | None) -> str | None:
        if value is not None and not _CALLABLE.match(value):
            raise ValueError(f"expected 'package.module:function', got {value!r}")
        return value


@register
class Threads(BlockingStrategy):
    """``ThreadPoolExecutor(workers).map(blocking_task, range(n))`` — the classic pre-asyncio answer.

    The pool lives for the whole scenario, its threads set up once (each keeps one keep-alive ``http.client``
    connection, or what the target's ``thread_setup`` made). ``run`` blocks the calling thread, which is what user
    code doing this would do too.
    """

    name = "threads"
    Params = ThreadsParams

    def _workers(self) -> int:
        assert isinstance(self.params, ThreadsParams)
        return self.params.workers

    def pool_size(self) -> int:
        """``workers`` threads."""
        return self._workers()

    def planned_concurrency(self, n: int) -> int:
        """At most ``workers`` at once."""
        return min(n, self._workers())

    def limits(self) -> Limits:
        """The pool size."""
        return Limits({"thread_workers": self._workers()}, {"thread_workers": "thread pool"})

    def run(self, n: int, task: SyncTaskFn, pool: Executor) -> None:
        """Map the blocking task over the pool; the first failure propagates and the queued tasks are cancelled."""
        for _ in pool.map(task, task.create(range(n))):
            pass
