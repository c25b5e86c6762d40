"""Strategies: the ways user code runs N I/O tasks. One small interface, one class each, registered by name.

    >>> strategy = StrategySpec.model_validate({"bounded": {"limit": 10}}).build()
    >>> strategy.effective_concurrency(100), strategy.critical_path(100), strategy.ideal_ms([20.0] * 100)
    (10, 10, 200.0)

``await strategy.run(n, task)`` runs tasks 0..n-1 (``task(i)`` does task i and raises TaskFailed on failure).

A strategy decides *how the tasks are scheduled*, and so owns its model: how many tasks it has in flight at once
(``effective_concurrency``, the connector limit included), and from that its ideal time, its critical path and
what the unexplained remainder of a row is called. The runner owns timing, requests and bookkeeping.

Adding a strategy is one class, anywhere (tests do it too)::

    @register
    class Lifo(AsyncStrategy):
        name = "lifo"
        def planned_concurrency(self, n: int) -> int: return n
        async def run(self, n: int, task: TaskFn) -> None: await asyncio.gather(*(task(i) for i in reversed(range(n))))

Report, charts and check then work for it with no other edit.
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Any, ClassVar, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict, ValidationError, model_validator

from bench.errors import describe_error, did_you_mean
from bench.model import critical_path_requests, makespan_ms

TaskFn = Callable[[int], Coroutine[Any, Any, None]]
"""``task(i)`` creates task ``i`` (its creation time is stamped then); awaiting it performs and records the task,
raising ``TaskFailed`` if it failed. Create a task when your code would (before waiting for a semaphore, say)."""


class SyncTaskFn(Protocol):
    """The blocking twin of ``TaskFn``, for thread-pool strategies."""

    def __call__(self, i: int) -> None:
        """Perform and record task ``i`` (in a worker thread); raise TaskFailed if it failed."""

    def create(self, indices: Iterable[int]) -> Iterator[int]:
        """Yield ``indices``, stamping each task's creation as it is handed out (to ``Executor.map``, say)."""
        ...


REFERENCE = "sequential"
"""The label every speedup is measured against."""


class TaskFailed(Exception):
    """Raised by a task whose operation failed; the failure is already recorded."""


class _Params(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Positive = Annotated[int, Strict(), Field(ge=1, le=1_000_000)]


class AsyncParams(_Params):
    """Parameters every aiohttp strategy takes: ``connector_limit`` overrides the scenario's (null: unlimited)."""

    connector_limit: Positive | None = None


class Strategy(ABC):
    """How N tasks are scheduled. Subclasses set ``name`` and, if they take parameters, ``Params``."""

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = _Params

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params if params is not None else self.Params()

    blocking: ClassVar[bool] = False
    """True for strategies that run blocking tasks in threads (``open``/``run``/``close``), not coroutines."""

    @abstractmethod
    def planned_concurrency(self, n: int) -> int:
        """How many tasks this strategy means to have in flight at once for ``n`` tasks."""

    def limits(self) -> dict[str, int | None]:
        """Concurrency limits this strategy itself imposes (a semaphore, a pool size), by name."""
        return {}

    def effective_concurrency(self, n: int, connector_limit: int | None = None) -> int:
        """Tasks really in flight at once: the planned concurrency, capped by the connector limit if one applies."""
        k = self.planned_concurrency(n)
        if connector_limit:
            k = min(k, connector_limit)
        return max(k, 1)

    def ideal_ms(self, delays_ms: Iterable[float], connector_limit: int | None = None, processes: int = 1) -> float:
        """Wall time with zero overhead: the makespan of the effective concurrency over the service times; with
        client processes, the slowest process's makespan over its share (task i runs in process i mod k)."""
        delays = list(delays_ms)
        shares = [delays[j::processes] for j in range(processes)]
        return max(
            (makespan_ms(share, self.effective_concurrency(len(share), connector_limit)) for share in shares if share),
            default=0.0,
        )

    def critical_path(self, n: int, connector_limit: int | None = None, processes: int = 1) -> int:
        """Requests made one after another on the longest path: each pays the per-request overhead."""
        shares = [len(range(j, n, processes)) for j in range(processes)]
        return max(
            (critical_path_requests(m, self.effective_concurrency(m, connector_limit)) for m in shares if m),
            default=0,
        )

    def remainder_label(self, n: int, connector_limit: int | None = None, processes: int = 1) -> str:
        """What measured - ideal - overhead is: queueing when several tasks compete, model error when one runs."""
        in_flight = self.effective_concurrency(max(n // processes, 1), connector_limit) * processes
        return "queueing" if in_flight > 1 else "unexplained"


class AsyncStrategy(Strategy):
    """A strategy that schedules coroutines on the running event loop."""

    Params: ClassVar[type[BaseModel]] = AsyncParams

    def connector_limit(self, scenario_default: int | None) -> int | None:
        """The aiohttp connector limit for this run: the strategy's own if given, else the scenario's."""
        if "connector_limit" in self.params.model_fields_set:
            return getattr(self.params, "connector_limit", None)
        return scenario_default

    @abstractmethod
    async def run(self, n: int, task: TaskFn) -> None:
        """Run tasks ``0..n-1``; return when the idiom considers the batch done, raise as the idiom does."""


S = TypeVar("S", bound=type[Strategy])


def register(cls: S) -> S:
    """Make a strategy class available to scenarios under its ``name`` (a class decorator)."""
    REGISTRY[cls.name] = cls
    return cls


REGISTRY: dict[str, type[Strategy]] = {}
"""Every strategy by name; scenarios may only name these."""


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


class GatherParams(AsyncParams):
    """``return_exceptions``: collect failures instead of raising the first (siblings run on either way)."""

    return_exceptions: Annotated[bool, Strict()] = False


@register
class Gather(AsyncStrategy):
    """``await asyncio.gather(*tasks)`` — all at once; the first failure propagates, siblings keep running."""

    name = "gather"
    Params = GatherParams

    def planned_concurrency(self, n: int) -> int:
        """All tasks at once."""
        return n

    async def run(self, n: int, task: TaskFn) -> None:
        """Start every task and gather them."""
        assert isinstance(self.params, GatherParams)
        await asyncio.gather(*(task(i) for i in range(n)), return_exceptions=self.params.return_exceptions)


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

    def limits(self) -> dict[str, int | None]:
        """The semaphore."""
        return {"semaphore": self._limit()}

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


class ThreadsParams(_Params):
    """``workers``: size of the thread pool."""

    workers: Positive


class BlockingStrategy(Strategy):
    """A strategy that runs blocking tasks in worker threads: ``open`` (warm), ``run`` (timed), ``close``."""

    blocking = True

    @abstractmethod
    def open(self, n: int, warm: Callable[[], None]) -> None:
        """Start the workers, each calling ``warm`` once; not timed."""

    @abstractmethod
    def run(self, n: int, task: SyncTaskFn) -> None:
        """Run tasks ``0..n-1``, blocking the calling thread; raise as the idiom does."""

    @abstractmethod
    def close(self, cancel: bool = False) -> None:
        """Stop the workers; ``cancel`` drops work still queued."""


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

    def limits(self) -> dict[str, int | None]:
        """The pool size."""
        return {"thread_workers": self._workers()}

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


def _format_value(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


class StrategySpec(BaseModel):
    """A strategy as a scenario names it: ``gather`` or ``{bounded: {limit: 10}}``; ``label`` tells them apart."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    params: dict[str, Any] = {}

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {"name": data, "params": {}}
        elif isinstance(data, dict) and set(data) - {"name", "params"} and len(data) == 1:
            ((key, value),) = data.items()
            if value is not None and not isinstance(value, dict):
                raise ValueError(f"parameters of {key!r} must be a mapping, e.g. {{{key}: {{limit: 10}}}}")
            data = {"name": key, "params": value or {}}
        elif not isinstance(data, dict) or not set(data) <= {"name", "params"} or "name" not in data:
            raise ValueError("a strategy is a name (gather) or a one-key mapping ({bounded: {limit: 10}})")
        name = data["name"]
        if name not in REGISTRY:
            hint = did_you_mean(name, REGISTRY)
            raise ValueError(f"unknown strategy {name!r}{hint} (valid: {', '.join(sorted(REGISTRY))})")
        params_model = REGISTRY[name].Params
        given = data.get("params") or {}
        allowed = sorted(params_model.model_fields)
        for key in given:
            if key not in allowed:
                takes = f"it takes: {', '.join(allowed)}" if allowed else "it takes none"
                raise ValueError(f"unknown parameter {key!r} of strategy {name!r}; {takes}")
        try:
            parsed = params_model.model_validate(given)
        except ValidationError as exc:  # reduce to one readable sentence
            loc, message = describe_error(exc.errors(include_url=False)[0], owner=name)
            where = ".".join(str(p) for p in loc)
            raise ValueError(f"strategy {name!r}: {where}: {message}" if where else message) from None
        return {"name": name, "params": parsed.model_dump(exclude_unset=True)}

    @property
    def label(self) -> str:
        """``gather``, or ``bounded(limit=10)`` when parameters are given."""
        if not self.params:
            return self.name
        inner = ",".join(f"{k}={_format_value(v)}" for k, v in sorted(self.params.items()))
        return f"{self.name}({inner})"

    def build(self) -> Strategy:
        """A fresh strategy instance for one run."""
        cls = REGISTRY[self.name]
        return cls(cls.Params.model_validate(self.params))
