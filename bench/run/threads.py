"""The worker threads of a blocking strategy: one pool per scenario and strategy, its threads set up once before any
timed run and kept for every run, as a program keeps its executor.

    with WorkerThreads(10, setup=open_connection, teardown=close_connection) as threads:
        strategy.run(n, task, threads.pool)          # every run of the scenario, on the same ten threads

Setting up means what each thread needs before its first task: its http.client connection, or the user's
``thread_setup`` (a thread-local database connection). Each thread runs ``setup`` exactly once (a barrier holds
every thread until all have), and ``teardown`` exactly once when the pool closes. A thread-local connection opened
lazily by the user's own code is opened in the warm-up round, not in a timed one, since the threads stay.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType

from bench.errors import RunError

SETUP_TIMEOUT_S = 60.0
"""How long every thread may take to set up (or tear down) before the pool gives up."""


class WorkerThreads:
    """``size`` worker threads, each set up once (``start``) and torn down once (``close``)."""

    def __init__(self, size: int, setup: Callable[[], None], teardown: Callable[[], None]) -> None:
        self.size = size
        self._setup, self._teardown = setup, teardown
        self._pool: ThreadPoolExecutor | None = None

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The started pool."""
        assert self._pool is not None, "start() first"
        return self._pool

    def _on_every_thread(self, work: Callable[[], None], what: str) -> None:
        """Run ``work`` once in each of the pool's threads (a barrier keeps a thread from taking two)."""
        barrier = threading.Barrier(self.size)

        def once() -> None:
            try:
                work()
            finally:
                barrier.wait(timeout=SETUP_TIMEOUT_S)

        futures = [self.pool.submit(once) for _ in range(self.size)]
        for future in futures:
            try:
                future.result(timeout=SETUP_TIMEOUT_S + 5)
            except threading.BrokenBarrierError:
                raise RunError(f"the worker threads' {what} took longer than {SETUP_TIMEOUT_S:g} s") from None

    def start(self) -> WorkerThreads:
        """Start the threads and set each up, before any timed run."""
        self._pool = ThreadPoolExecutor(max_workers=self.size, thread_name_prefix="iobench")
        try:
            self._on_every_thread(self._setup, "setup")
        except BaseException:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            raise
        return self

    def close(self, cancel: bool = False) -> None:
        """Tear every thread down and stop the pool; ``cancel`` (an interrupted run) drops queued work and skips the
        teardown."""
        if self._pool is None:
            return
        try:
            if not cancel:
                self._on_every_thread(self._teardown, "teardown")
        finally:
            self._pool.shutdown(wait=not cancel, cancel_futures=cancel)
            self._pool = None

    def __enter__(self) -> WorkerThreads:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close(cancel=exc is not None)


class ScenarioThreads:
    """The worker-thread pools of one scenario, one per blocking strategy label, started on first use."""

    def __init__(self) -> None:
        self._pools: dict[str, WorkerThreads] = {}

    def get(self, label: str, size: int, setup: Callable[[], None], teardown: Callable[[], None]) -> WorkerThreads:
        """The started pool of ``label`` (started and set up now, on its first run)."""
        pool = self._pools.get(label)
        if pool is None:
            pool = self._pools[label] = WorkerThreads(size, setup, teardown).start()
        return pool

    def close(self, cancel: bool = False) -> None:
        """Close every pool (tearing its threads down unless ``cancel``)."""
        pools, self._pools = list(self._pools.values()), {}
        failure: BaseException | None = None
        for pool in pools:
            try:
                pool.close(cancel)
            except BaseException as exc:  # close the others anyway
                failure = failure or exc
        if failure is not None:
            raise failure
