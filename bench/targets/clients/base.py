"""The client stacks tasks go through: one small interface for asyncio clients and one for blocking ones, and the
registry that names them (``aiohttp``, ``minimal``, ``http.client``).

    client = CLIENTS["aiohttp"]
    async with client.open(urls, warm_url, connections=100, limit=None, ...) as op:   # AsyncClient
        status, nbytes, server_timing = await op(i)

Each stack knows what its connection limit is called and what the report says of it (``limit_note``), so no
report names clients. What an operation returns is an ``Answer``.
"""

from __future__ import annotations

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from bench import plugins

Answer = tuple[int, int, str | None]
"""What an operation returns: (HTTP status or 0, body bytes, what the driver reads a service time from, e.g. the raw
``Server-Timing`` header, or None)."""
AsyncOp = Callable[[int], Awaitable[Answer]]
"""``await op(i)`` performs task i; raises on failure."""
SyncOp = Callable[[int], Answer]
"""The blocking twin of AsyncOp."""


@dataclass(frozen=True)
class PoolOptions:
    """How an asyncio client's pool is opened for one run."""

    connections: int
    """Connections to open (warm) before the run."""
    limit: int | None
    """Most connections open at once (None: no limit)."""
    timeout_s: float
    """Each request's deadline."""
    backlog: int | None = None
    """The server's listen backlog, when known: the warm-up paces its connects to it."""
    sources: Sequence[str] = ()
    """Source addresses to spread connections over (bench.targets.clients.net.plan_sources)."""
    on_connected: Callable[[], None] | None = None
    """Called when a request gets its connection (its I/O starts then)."""
    on_opened: Callable[[], None] | None = None
    """Called for every connection the pool opens (warm-ups and reconnects alike)."""


class AsyncClient(ABC):
    """An asyncio HTTP client stack: a pool of keep-alive connections with a limit, warmed before a run."""

    name: ClassVar[str]
    """The stack's name: a target's ``client`` key and the calibration's key."""
    limit_name: ClassVar[str]
    """What its connection limit is called in a report ('connector limit')."""

    @abstractmethod
    def limit_note(self, limit: int | None) -> str:
        """What the report says of this stack's connection limit in a run."""

    @abstractmethod
    def open(
        self, urls: Sequence[str], warm_url: str, options: PoolOptions
    ) -> contextlib.AbstractAsyncContextManager[AsyncOp]:
        """``op(i)`` GETs ``urls[i]``; the pool holds ``options.connections`` warm connections (after one checking
        GET of ``warm_url``, when set), at most ``options.limit`` at once."""


class BlockingClient(ABC):
    """A blocking HTTP client stack, for thread pools: one keep-alive connection per calling thread."""

    name: ClassVar[str]

    @abstractmethod
    def op(self, urls: Sequence[str], timeout_s: float, on_opened: Callable[[], None] | None = None) -> SyncOp:
        """``op(i)`` GETs ``urls[i]`` on the calling thread's own connection, opening it (and calling ``on_opened``)
        when the thread has none; connections outlive the op, one per thread, until ``close_thread``."""

    @abstractmethod
    def warm(self, warm_url: str, timeout_s: float) -> None:
        """Open the calling thread's connection (a GET of ``warm_url``; nothing when it is '')."""

    @abstractmethod
    def close_thread(self) -> None:
        """Close the calling thread's connections."""


C = TypeVar("C", bound=AsyncClient | BlockingClient)

CLIENTS: dict[str, AsyncClient | BlockingClient] = {}
"""Every client stack by name."""


def register_client(client: C) -> C:
    """Make a client stack available under its name."""
    plugins.note("client", client.name, type(client).__module__)
    CLIENTS[client.name] = client
    return client


def async_client(name: str) -> AsyncClient:
    """The asyncio client stack of that name."""
    client = CLIENTS[name]
    if not isinstance(client, AsyncClient):
        raise TypeError(f"client {name!r} is not an asyncio client")
    return client


def blocking_client(name: str) -> BlockingClient:
    """The blocking client stack of that name."""
    client = CLIENTS[name]
    if not isinstance(client, BlockingClient):
        raise TypeError(f"client {name!r} is not a blocking client")
    return client
