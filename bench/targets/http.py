"""What every HTTP target shares: a client stack per run (the target's ``client``, ``http.client`` for threads),
a warmed pool, the connection limit as a cap, ``Server-Timing`` read for service times, and calibration of each
stack against the local server."""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator
from typing import ClassVar, TypeVar

from pydantic import BaseModel

from bench.results.records import Calibration
from bench.scenario.model import Scenario
from bench.scenario.plan import Point
from bench.strategies import AsyncStrategy, Limits, Strategy
from bench.targets.base import Driver, Stamps
from bench.targets.calibration import calibrate_stack, calibration_url
from bench.targets.clients.base import CLIENTS, AsyncOp, SyncOp, async_client, blocking_client
from bench.targets.clients.server_timing import service_us

T = TypeVar("T", bound=BaseModel)

BLOCKING_STACK = "http.client"
"""The client stack of the blocking strategies (threads)."""


class HttpDriver(Driver[T]):
    """What every HTTP target shares: a session per run, a warmed pool, blocking twins over http.client."""

    sockets = True
    rate_unit: ClassVar[str] = "req/s"

    @classmethod
    def stacks_for(cls, target: T) -> dict[bool, str]:
        """The target's ``client`` for the asyncio strategies, http.client for threads."""
        return {False: str(getattr(target, "client", "aiohttp")), True: BLOCKING_STACK}

    @classmethod
    async def calibrate(cls, target: T, server_url: str) -> dict[str, Calibration]:
        """Each stack the target runs with, timed against the local server."""
        url = calibration_url(server_url)
        return {stack: await calibrate_stack(CLIENTS[stack], url) for stack in cls.stacks_for(target).values()}

    def __init__(
        self, target: T, scenario: Scenario, point: Point, base_url: str, sources: tuple[str, ...] = ()
    ) -> None:
        super().__init__(target, scenario, point, base_url, sources)
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
        client = async_client(self.stack(False))
        limit = strategy.connector_limit(self.scenario.connector_limit)
        return Limits({"connector_limit": limit}, {"connector_limit": client.limit_name})

    def service_us(self, meta: str | None) -> int:
        """The ``svc`` entry of the answer's ``Server-Timing`` header."""
        return service_us(meta)

    @contextlib.asynccontextmanager
    async def open_async(self, stamps: Stamps, connections: int, connector_limit: int | None) -> AsyncIterator[AsyncOp]:
        """A fresh pool of the target's client with ``connections`` warm connections (capped by the limit)."""
        client = async_client(self.stack(False))
        async with client.open(
            self.urls, self.warm_url, connections=connections, limit=connector_limit, backlog=self.backlog(),
            timeout_s=self.scenario.timeout_s, sources=self.sources, on_connected=stamps.connected,
        ) as op:  # fmt: skip
            yield op

    @contextlib.contextmanager
    def open_sync(self, stamps: Stamps) -> Iterator[tuple[SyncOp, Callable[[], None]]]:
        """http.client connections, one per worker thread, each opened by the warm-up."""
        with blocking_client(self.stack(True)).open(self.urls, self.warm_url, self.scenario.timeout_s) as pair:
            yield pair
