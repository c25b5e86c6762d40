"""A target kind: each task resolves a host name through the event loop's ``getaddrinfo`` (a thread of asyncio's
default executor), or ``socket.getaddrinfo`` in a worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Annotated, Literal

from pydantic import Field, Strict

from bench.scenario import Record
from bench.strategies import AsyncStrategy, Limits, Strategy
from bench.targets import Answer, AsyncOp, Driver, Stamps, SyncOp, register_driver

DEFAULT_EXECUTOR = min(32, (os.cpu_count() or 1) + 4)
"""How many threads asyncio's default executor has (ThreadPoolExecutor's default)."""


class DnsTarget(Record):
    """``target: {kind: dns, host: localhost}``: every task looks the host up."""

    kind: Literal["dns"]
    host: Annotated[str, Strict()] = "localhost"
    port: Annotated[int, Strict(), Field(ge=0, le=65535)] = 80


@register_driver(DnsTarget)
class DnsDriver(Driver[DnsTarget]):
    """``await loop.getaddrinfo(host, port)``; ``socket.getaddrinfo`` in threads."""

    rate_unit = "lookups/s"

    def describe(self) -> str:
        """'getaddrinfo(localhost)'."""
        return f"getaddrinfo({self.target.host})"

    def limits(self, strategy: Strategy) -> Limits:
        """asyncio's default executor caps how many lookups run at once (threads bring their own pool)."""
        if not isinstance(strategy, AsyncStrategy):
            return Limits()
        return Limits({"default_executor": DEFAULT_EXECUTOR}, {"default_executor": "asyncio's default executor"})

    @contextlib.asynccontextmanager
    async def open_async(self, stamps: Stamps, strategy: Strategy, connections: int) -> AsyncIterator[AsyncOp]:
        """One lookup per task on the running loop."""
        loop = asyncio.get_running_loop()
        host, port = self.target.host, self.target.port

        async def op(i: int) -> Answer:
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            return 0, len(found), None

        yield op

    @contextlib.contextmanager
    def open_sync(self, stamps: Stamps, strategy: Strategy) -> Iterator[SyncOp]:
        """One lookup per task in the calling thread."""
        host, port = self.target.host, self.target.port

        def op(i: int) -> Answer:
            return 0, len(socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)), None

        yield op
