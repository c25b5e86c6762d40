"""A new strategy and a new target kind, defined in test code only: what a newcomer would write.

Importing this module registers both; nothing in bench/ knows about them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bench.recording import Answer, AsyncOp, Recorder, SyncOp
from bench.scenario import Latency, register_target_kind
from bench.strategies import AsyncStrategy, TaskFn, register
from bench.targets import Driver, register_driver


@register
class Lifo(AsyncStrategy):
    """gather, but the last task is created first."""

    name = "lifo"

    def planned_concurrency(self, n: int) -> int:
        """All at once."""
        return n

    async def run(self, n: int, task: TaskFn) -> None:
        """Gather in reverse index order."""
        await asyncio.gather(*(task(i) for i in reversed(range(n))))


class TickTarget(BaseModel):
    """Each task waits its delay on the loop's timer, in steps of 1 ms (a made-up kind of I/O)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    kind: Literal["tick"]
    latency: Latency


register_target_kind("tick", TickTarget)


@register_driver(TickTarget)
class TickDriver(Driver[TickTarget]):
    """Waits in 1 ms steps: async with asyncio.sleep, blocking with time.sleep."""

    def describe(self) -> str:
        """'ticks'."""
        return "ticks"

    @contextlib.asynccontextmanager
    async def open_async(
        self, recorder: Recorder, connections: int, connector_limit: int | None
    ) -> AsyncIterator[AsyncOp]:
        """``await asyncio.sleep`` in 1 ms steps."""

        async def op(i: int) -> Answer:
            left = self.point.delays_ms[i] / 1000
            while left > 0:
                await asyncio.sleep(min(left, 0.001))
                left -= 0.001
            return 0, 0, None

        yield op

    @contextlib.contextmanager
    def open_sync(self, recorder: Recorder) -> Iterator[tuple[SyncOp, Callable[[], None]]]:
        """``time.sleep`` of the delay."""

        def op(i: int) -> Answer:
            time.sleep(self.point.delays_ms[i] / 1000)
            return 0, 0, None

        yield op, lambda: None
