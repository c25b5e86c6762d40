"""What every HTTP target shares: a client stack per run (the strategy's ``client``, else the target's; http.client
for threads), a warmed pool, the connection limit as a cap, ``Server-Timing`` read for service times, and each
stack's per-request overhead calibrated against the local server (the client's cost, whatever the target)."""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import Any, ClassVar, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel

from bench.results.records import Calibration
from bench.scenario.model import Scenario
from bench.scenario.plan import Point
from bench.strategies import AsyncStrategy, Limits, Strategy
from bench.targets.base import Driver, Stamps
from bench.targets.calibration import calibrate_stack, calibration_url
from bench.targets.clients.base import CLIENTS, AsyncOp, PoolOptions, SyncOp, async_client, blocking_client
from bench.targets.clients.server_timing import service_us

T = TypeVar("T", bound=BaseModel)

BLOCKING_STACK = "http.client"
"""The client stack of the blocking strategies (threads)."""


class HttpDriver(Driver[T]):
    """What every HTTP target shares: a pool per run, warmed; blocking twins over http.client in worker threads."""

    sockets = True
    calibrates_on_local_server = True
    rate_unit: ClassVar[str] = "req/s"

    @classmethod
    def stack_of(cls, target: T, strategy: Strategy) -> str:
        """http.client for threads; for the asyncio strategies the strategy's ``client``, else the target's."""
        if not isinstance(strategy, AsyncStrategy):
            return BLOCKING_STACK
        return strategy.client() or str(getattr(target, "client", "aiohttp"))

    @classmethod
    async def calibrate(cls, target: T, strategies: Sequence[Strategy], server_url: str) -> dict[str, Calibration]:
        """Each stack the strategies run with, timed against the local server."""
        url = calibration_url(server_url)
        return {stack: await calibrate_stack(CLIENTS[stack], url) for stack in cls.stacks(target, strategies)}

    def __init__(
        self,
        target: T,
        scenario: Scenario,
        point: Point,
        base_url: str,
        sources: tuple[str, ...] = (),
        state: Any = None,
    ) -> None:
        super().__init__(target, scenario, point, base_url, sources, state)
        self.urls = self.task_urls()
        self.warm_url = self.warm_target()

    @abstractmethod
    def task_urls(self) -> tuple[str, ...]:
        """The URL of each task."""

    @abstractmethod
    def warm_target(self) -> str:
        """The URL warm-up requests go to ('' for no warm-up)."""

    def backlog(self) -> int | None:
        """The server's listen backlog, when known: warm-ups pace their connects to it."""
        return None

    @property
    def fail_on_status(self) -> bool:
        """The target's ``fail_on_status``."""
        return bool(getattr(self.target, "fail_on_status", True))

    def limits(self, strategy: Strategy) -> Limits:
        """The async client's connection limit (a cap; none for threads, whose pool is the cap)."""
        if not isinstance(strategy, AsyncStrategy):
            return Limits({"connector_limit": None})
        client = async_client(self.stack(strategy))
        limit = strategy.connector_limit(self.scenario.connector_limit)
        return Limits({"connector_limit": limit}, {"connector_limit": client.limit_name})

    def service_us(self, meta: str | None) -> int:
        """The ``svc`` entry of the answer's ``Server-Timing`` header."""
        return service_us(meta)

    def service_source(self) -> str:
        """The host that answered."""
        parts = urlsplit(self.urls[0] if self.urls else self.base_url)
        return parts.netloc or "the server"

    @contextlib.asynccontextmanager
    async def open_async(self, stamps: Stamps, strategy: Strategy, connections: int) -> AsyncIterator[AsyncOp]:
        """A fresh pool of the strategy's client with ``connections`` warm connections (capped by the limit)."""
        assert isinstance(strategy, AsyncStrategy)
        options = PoolOptions(
            connections=connections,
            limit=strategy.connector_limit(self.scenario.connector_limit),
            timeout_s=self.scenario.timeout_s,
            backlog=self.backlog(),
            sources=self.sources,
            on_connected=stamps.connected,
            on_opened=stamps.opened,
        )
        async with async_client(self.stack(strategy)).open(self.urls, self.warm_url, options) as op:
            yield op

    @contextlib.contextmanager
    def open_sync(self, stamps: Stamps, strategy: Strategy) -> Iterator[SyncOp]:
        """GETs on each worker thread's own http.client connection (opened by the thread's setup)."""
        yield blocking_client(self.stack(strategy)).op(self.urls, self.scenario.timeout_s, stamps.opened)

    def thread_setup(self, strategy: Strategy) -> Callable[[], None]:
        """Open the thread's connection with a GET of the warm-up URL."""
        client, url, timeout_s = blocking_client(self.stack(strategy)), self.warm_url, self.scenario.timeout_s
        return lambda: client.warm(url, timeout_s)

    def thread_teardown(self, strategy: Strategy) -> Callable[[], None]:
        """Close the thread's connections."""
        return blocking_client(self.stack(strategy)).close_thread
