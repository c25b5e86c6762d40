"""aiohttp as a client stack (``client: aiohttp``, the default: what programs use): a session per run whose every
request goes through one connector class, warmed before the run.

    async with CLIENTS["aiohttp"].open(urls, warm_url, connections=100, limit=None, ...) as op:
        status, nbytes, server_timing = await op(i)

The connector stamps when a request got its connection (the start of its I/O) and nothing else, so no run pays
for tracing the others do not. aiohttp's silent retry of an idempotent request on a dropped keep-alive connection
is switched off: every attempt counts, and a reset costs what it costs.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import aiohttp

from bench.collector import gc_paused
from bench.targets.clients.base import Answer, AsyncClient, AsyncOp, PoolOptions, register_client
from bench.targets.clients.net import PacedConnector, client_socket_factory, paced_warm

AIOHTTP_DEFAULT_LIMIT = 100
"""aiohttp's own default connector limit, which iobench lifts unless a scenario sets one."""


class StampingConnector(PacedConnector):
    """The connector of every run: tells the recorder when a request got its connection (its I/O starts then);
    paced while warming up, sockets closed with an RST (no TIME_WAIT), spread over source addresses if planned
    (see bench.targets.clients.net)."""

    def __init__(
        self,
        on_connected: Callable[[], None] | None,
        on_opened: Callable[[], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._on_connected = on_connected
        self._on_opened = on_opened

    async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
        """Get a connection from the pool (or open one), then stamp the moment."""
        conn = await super().connect(req, traces, timeout)
        if self._on_connected is not None:
            self._on_connected()
        return conn

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> Any:
        """Open a new connection, and say so (reconnects are counted as well as the warm-up's)."""
        made = await super()._create_connection(req, traces, timeout)
        if self._on_opened is not None:
            self._on_opened()
        return made


def new_session(
    on_connected: Callable[[], None] | None,
    connector_limit: int | None,
    timeout_s: float,
    sources: Sequence[str] = (),
    on_opened: Callable[[], None] | None = None,
) -> aiohttp.ClientSession:
    """A ClientSession for one run: the stamping connector, no per-host limit, no silent retries."""
    connector = StampingConnector(
        on_connected,
        on_opened,
        limit=connector_limit or 0,
        limit_per_host=0,
        socket_factory=client_socket_factory(sources),
    )
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_s))
    # aiohttp (3.10+) resends an idempotent request once when a pooled connection turns out dead, and says
    # nothing: a reset would cost two delays and count as none. There is no public switch; this is the one place
    # iobench touches it, and tests/targets/test_clients.py fails if the attribute goes away.
    session._retry_connection = False
    return session


async def warm_pool(session: aiohttp.ClientSession, url: str, connections: int, backlog: int | None = None) -> float:
    """Open ``connections`` keep-alive connections, paced to the listen backlog (bench.targets.clients.net.paced_warm);
    seconds taken, or WarmupError. Sessions not made by ``new_session`` are warmed with plain concurrent requests."""
    connector = session.connector
    if isinstance(connector, PacedConnector):
        return await paced_warm(session, connector, url, connections, backlog=backlog)

    async def one() -> None:
        async with session.get(url) as response:
            await response.read()

    with gc_paused():
        await asyncio.gather(*(one() for _ in range(connections)))
    return 0.0


def http_op(session: aiohttp.ClientSession, urls: Sequence[str]) -> AsyncOp:
    """GET ``urls[i]`` with the session and read the whole body."""
    get = session.get

    async def op(i: int) -> Answer:
        async with get(urls[i]) as response:
            body = await response.read()
            return response.status, len(body), response.headers.get("Server-Timing")

    return op


class AiohttpClient(AsyncClient):
    """aiohttp's ClientSession with iobench's connector: what a program's own code does."""

    name = "aiohttp"
    limit_name = "connector limit"

    def limit_note(self, limit: int | None) -> str:
        """'connector limit 100', or that aiohttp's default of 100 is lifted."""
        if limit:
            return f"connector limit {limit}"
        return f"connector limit: none (aiohttp's default of {AIOHTTP_DEFAULT_LIMIT} is lifted)"

    @contextlib.asynccontextmanager
    async def open(self, urls: Sequence[str], warm_url: str, options: PoolOptions) -> AsyncIterator[AsyncOp]:
        """A fresh session whose pool holds ``options.connections`` warm connections (capped by the limit)."""
        o = options
        async with new_session(o.on_connected, o.limit, o.timeout_s, o.sources, o.on_opened) as session:
            if warm_url:
                await warm_pool(session, warm_url, min(o.connections, o.limit or o.connections), o.backlog)
            yield http_op(session, urls)


AIOHTTP = AiohttpClient()
register_client(AIOHTTP)
