"""The strategy interface: how N tasks are scheduled, and what that implies for the ideal time. One class per
strategy, registered by name.

    >>> from bench.strategies import StrategySpec
    >>> strategy = StrategySpec.model_validate({"bounded": {"limit": 10}}).build()
    >>> strategy.effective_concurrency(100), strategy.critical_path(100), strategy.ideal_ms([20.0] * 100)
    (10, 10, 200.0)

``await strategy.run(n, task)`` runs tasks 0..n-1 (``task(i)`` does task i and raises TaskFailed on failure).

A strategy decides *how the tasks are scheduled*, and so owns its model: how many tasks it has in flight at once
(``effective_concurrency``, with the caps of the run: a connector limit, a driver's executor), and from that its
ideal time, its critical path and what the unexplained remainder of a row is called. Its own limits carry their
display names (``Limits``), so the report names the cap that bound without a list of strategies anywhere. The
runner owns timing, requests and bookkeeping.

A new strategy is one module in ``bench/strategies/`` (found at import) or in a plugin (``--plugin MODULE``)::

    @register
    class Lifo(AsyncStrategy):
        name = "lifo"
        def planned_concurrency(self, n: int) -> int: return n
        async def run(self, n: int, task: TaskFn) -> None: await asyncio.gather(*(task(i) for i in reversed(range(n))))

Report, charts and check then work for it with no other edit.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine, Iterable, Iterator
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, Protocol, TypeAlias, TypeVar

from pydantic import BaseModel, ConfigDict, Field, Strict

from bench import plugins
from bench.strategies.model import critical_path_requests, makespan_ms

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


class Params(BaseModel):
    """Base of every strategy's parameters: frozen, unknown keys refused."""

    model_config = ConfigDict(frozen=True, extra="forbid")


Positive = Annotated[int, Strict(), Field(ge=1, le=1_000_000)]
"""A count such as a pool size or a limit."""


ClientName: TypeAlias = Literal["aiohttp", "minimal"]
"""The asyncio HTTP client stacks a target or a strategy may name (bench.targets.clients)."""


class AsyncParams(Params):
    """Parameters every asyncio strategy takes: ``connector_limit`` overrides the scenario's (null: unlimited), and
    ``client`` the target's HTTP client, so two clients can be compared in one interleaved scenario."""

    connector_limit: Positive | None = None
    client: ClientName | None = None


@dataclass(frozen=True)
class Limits:
    """Limits in force in a run, by key (None: unlimited), and the display name of those that cap how many tasks run
    at once (they enter ``effective_concurrency`` and the report names them when they bind).

    >>> (Limits({"semaphore": 10}, {"semaphore": "semaphore"}) | Limits({"fd_soft_limit": 1024})).caps
    {'semaphore': 10}
    """

    values: dict[str, int | None] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    """Key -> display name, for the keys of ``values`` that are caps on concurrency."""

    def __or__(self, other: Limits) -> Limits:
        return Limits({**self.values, **other.values}, {**self.names, **other.names})

    @property
    def caps(self) -> dict[str, int | None]:
        """The caps on concurrency, by key."""
        return {key: self.values.get(key) for key in self.names}


class Strategy(ABC):
    """How N tasks are scheduled. Subclasses set ``name`` and, if they take parameters, ``Params``."""

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = Params

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params if params is not None else self.Params()

    blocking: ClassVar[bool] = False
    """True for strategies that run blocking tasks in worker threads (a ``BlockingStrategy``), not coroutines."""

    @abstractmethod
    def planned_concurrency(self, n: int) -> int:
        """How many tasks this strategy means to have in flight at once for ``n`` tasks."""

    def limits(self) -> Limits:
        """Concurrency limits this strategy itself imposes (a semaphore, a pool size), with their names."""
        return Limits()

    def effective_concurrency(self, n: int, caps: Iterable[int | None] = ()) -> int:
        """Tasks really in flight at once: the planned concurrency, capped by the run's caps (a connector limit,
        a driver's executor); None and 0 caps are no cap."""
        return max(min([self.planned_concurrency(n), *(c for c in caps if c)]), 1)

    def ideal_ms(self, delays_ms: Iterable[float], caps: Iterable[int | None] = (), processes: int = 1) -> float:
        """Wall time with zero overhead: the makespan of the effective concurrency over the service times; with
        client processes, the slowest process's makespan over its share (task i runs in process i mod k)."""
        delays, bounds = list(delays_ms), tuple(caps)
        shares = [delays[j::processes] for j in range(processes)]
        return max(
            (makespan_ms(share, self.effective_concurrency(len(share), bounds)) for share in shares if share),
            default=0.0,
        )

    def critical_path(self, n: int, caps: Iterable[int | None] = (), processes: int = 1) -> int:
        """Requests made one after another on the longest path: each pays the per-request overhead."""
        bounds = tuple(caps)
        shares = [len(range(j, n, processes)) for j in range(processes)]
        return max(
            (critical_path_requests(m, self.effective_concurrency(m, bounds)) for m in shares if m),
            default=0,
        )

    def remainder_label(self, n: int, caps: Iterable[int | None] = (), processes: int = 1) -> str:
        """What measured - ideal - overhead is: queueing when several tasks compete, model error when one runs."""
        in_flight = self.effective_concurrency(max(n // processes, 1), caps) * processes
        return "queueing" if in_flight > 1 else "unexplained"


class AsyncStrategy(Strategy):
    """A strategy that schedules coroutines on the running event loop."""

    Params: ClassVar[type[BaseModel]] = AsyncParams

    def client(self) -> str | None:
        """The HTTP client this strategy's tasks go through instead of the target's, if it names one."""
        return getattr(self.params, "client", None)

    def connector_limit(self, scenario_default: int | None) -> int | None:
        """The HTTP client's connection limit for this run: the strategy's own if given, else the scenario's."""
        if "connector_limit" in self.params.model_fields_set:
            return getattr(self.params, "connector_limit", None)
        return scenario_default

    @abstractmethod
    async def run(self, n: int, task: TaskFn) -> None:
        """Run tasks ``0..n-1``; return when the idiom considers the batch done, raise as the idiom does."""


class BlockingStrategy(Strategy):
    """A strategy that runs blocking tasks in worker threads. The harness keeps one pool of ``pool_size()`` threads
    per scenario, each set up once before any timed run (its connection opened, the user's ``thread_setup`` run),
    and hands it to every run, as a program keeps its executor."""

    blocking = True

    @abstractmethod
    def pool_size(self) -> int:
        """How many worker threads the strategy's pool has."""

    @abstractmethod
    def run(self, n: int, task: SyncTaskFn, pool: Executor) -> None:
        """Run tasks ``0..n-1`` on ``pool``, blocking the calling thread; raise as the idiom does."""

    def sync_callable(self) -> str | None:
        """The blocking function this strategy's tasks call instead of the target's (a callable target), if any."""
        return getattr(self.params, "sync_callable", None)


S = TypeVar("S", bound=type[Strategy])


def register(cls: S) -> S:
    """Make a strategy class available to scenarios under its ``name`` (a class decorator)."""
    plugins.note("strategy", cls.name, cls.__module__)
    REGISTRY[cls.name] = cls
    return cls


REGISTRY: dict[str, type[Strategy]] = {}
"""Every strategy by name; scenarios may only name these."""
