"""asyncio's default executor, watched: how many of its threads a run kept busy at once, so a cap nobody set (file I/O
through aiofiles, ``loop.getaddrinfo``, ``asyncio.to_thread`` in the user's code) is named when it bound.

    watch = watch_default_executor(loop)    # once per loop: an executor of the same size as asyncio's default
    watch.reset(); ...; watch.peak          # most jobs running at once during the run

iobench's own blocking work (handing a thread pool its tasks, waiting for it) goes to ``harness`` instead, a pool of
its own, so only the user's code is counted.
"""

from __future__ import annotations

import asyncio
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from bench.strategies import Limits

DEFAULT_WORKERS = min(32, (os.cpu_count() or 1) + 4)
"""The size asyncio's default executor has (ThreadPoolExecutor's default): the cap it puts on code that uses it."""
CAP_NAME = "asyncio's default executor"
"""How the cap is named in a report."""

T = TypeVar("T")


class CountingExecutor(ThreadPoolExecutor):
    """A ThreadPoolExecutor that counts the jobs running at once, and the most since ``reset``."""

    def __init__(self, max_workers: int = DEFAULT_WORKERS) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="asyncio-default")
        self.size = max_workers
        self.used = 0
        """Jobs submitted since ``reset``."""
        self.peak = 0
        """Most jobs running at once since ``reset``."""
        self._running = 0
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Start counting afresh (before a timed run)."""
        with self._lock:
            self.used, self.peak = 0, self._running

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Run ``fn`` in a worker thread, counted while it runs."""

        def counted() -> T:
            with self._lock:
                self._running += 1
                self.peak = max(self.peak, self._running)
            try:
                return fn(*args, **kwargs)
            finally:
                with self._lock:
                    self._running -= 1

        with self._lock:
            self.used += 1
        return super().submit(counted)

    def limits(self) -> Limits:
        """What a run did with the executor: nothing when unused; its size and peak; a cap when it was full (every
        thread busy at once: the user's code queued for it, as aiofiles does past the size)."""
        if not self.used:
            return Limits()
        values: dict[str, int | None] = {"default_executor": self.size, "default_executor_peak": self.peak}
        return Limits(values, {"default_executor": CAP_NAME} if self.peak >= self.size else {})


def watch_default_executor(loop: asyncio.AbstractEventLoop) -> CountingExecutor:
    """The loop's default executor, replaced by a counting one of the same size (once per loop)."""
    current = getattr(loop, "_iobench_executor", None)
    if isinstance(current, CountingExecutor):
        return current
    executor = CountingExecutor()
    loop.set_default_executor(executor)
    loop._iobench_executor = executor  # type: ignore[attr-defined]
    return executor


_HARNESS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="iobench-harness")
"""iobench's own blocking waits, kept off the default executor (which counts the user's code only)."""


async def harness(fn: Callable[..., T], *args: Any) -> T:
    """``await asyncio.to_thread(fn, *args)``, on iobench's own threads."""
    return await asyncio.get_running_loop().run_in_executor(_HARNESS, functools.partial(fn, *args))
