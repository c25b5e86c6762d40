"""``asyncio.sleep`` as a target (``time.sleep`` in threads): the scheduler's floor, no sockets."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import ClassVar

from bench.scenario.target_models import SleepTarget
from bench.targets.base import Driver, Stamps, register_driver
from bench.targets.clients.base import Answer, AsyncOp, SyncOp


def with_timeout(op: AsyncOp, timeout_s: float) -> AsyncOp:
    """``op`` cut off after ``timeout_s`` (what ClientTimeout does for HTTP)."""

    async def bounded(i: int) -> Answer:
        async with asyncio.timeout(timeout_s):
            return await op(i)

    return bounded


def no_warm_up() -> None:
    """Nothing to open: the op is all there is."""


@register_driver(SleepTarget)
class SleepDriver(Driver[SleepTarget]):
    """``asyncio.sleep`` (``time.sleep`` in threads) of each task's delay: the scheduler's floor, no sockets."""

    delay_label: ClassVar[str | None] = "sleep time (requested)"

    def describe(self) -> str:
        """'asyncio.sleep'."""
        return "asyncio.sleep"

    @contextlib.asynccontextmanager
    async def open_async(self, stamps: Stamps, connections: int, connector_limit: int | None) -> AsyncIterator[AsyncOp]:
        """``await asyncio.sleep(delay_i)``."""
        delays_s = tuple(d / 1000 for d in self.point.delays_ms)
        sleep = asyncio.sleep

        async def op(i: int) -> Answer:
            await sleep(delays_s[i])
            return 0, 0, None

        yield with_timeout(op, self.scenario.timeout_s)

    @contextlib.contextmanager
    def open_sync(self, stamps: Stamps) -> Iterator[tuple[SyncOp, Callable[[], None]]]:
        """``time.sleep(delay_i)``."""
        delays_s = tuple(d / 1000 for d in self.point.delays_ms)

        def op(i: int) -> Answer:
            time.sleep(delays_s[i])
            return 0, 0, None

        yield op, no_warm_up
