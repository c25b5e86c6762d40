"""``asyncio.sleep`` as a target (``time.sleep`` in threads): the scheduler's floor, no sockets."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import ClassVar, TypeVar

from pydantic import BaseModel

from bench.results.records import Calibration
from bench.scenario.target_models import SleepTarget
from bench.strategies import Strategy
from bench.targets.base import Driver, Stamps, register_driver, with_timeout
from bench.targets.calibration import ASYNC_HARNESS, THREAD_HARNESS, calibrate_harness
from bench.targets.clients.base import Answer, AsyncOp, SyncOp

T = TypeVar("T", bound=BaseModel)


class HarnessDriver(Driver[T]):
    """What a target with no client stack of ours shares: its per-task overhead is iobench's own harness, measured
    for coroutines and for worker threads (``bench.targets.calibration.calibrate_harness``)."""

    @classmethod
    def stack_of(cls, target: T, strategy: Strategy) -> str:
        """The harness a task goes through: a coroutine, or a hand-over to a worker thread."""
        return THREAD_HARNESS if strategy.blocking else ASYNC_HARNESS

    @classmethod
    async def calibrate(cls, target: T, strategies: Sequence[Strategy], server_url: str) -> dict[str, Calibration]:
        """iobench's own cost per task, for each harness the strategies use."""
        return {stack: await calibrate_harness(stack, 30.0) for stack in cls.stacks(target, strategies)}


@register_driver(SleepTarget)
class SleepDriver(HarnessDriver[SleepTarget]):
    """``asyncio.sleep`` (``time.sleep`` in threads) of each task's delay: the scheduler's floor, no sockets."""

    delay_label: ClassVar[str | None] = "sleep time (requested)"

    def describe(self) -> str:
        """'asyncio.sleep'."""
        return "asyncio.sleep"

    @contextlib.asynccontextmanager
    async def open_async(self, stamps: Stamps, strategy: Strategy, connections: int) -> AsyncIterator[AsyncOp]:
        """``await asyncio.sleep(delay_i)``."""
        delays_s = tuple(d / 1000 for d in self.point.delays_ms)
        sleep = asyncio.sleep

        async def op(i: int) -> Answer:
            await sleep(delays_s[i])
            return 0, 0, None

        yield with_timeout(op, self.scenario.timeout_s)

    @contextlib.contextmanager
    def open_sync(self, stamps: Stamps, strategy: Strategy) -> Iterator[SyncOp]:
        """``time.sleep(delay_i)``."""
        delays_s = tuple(d / 1000 for d in self.point.delays_ms)

        def op(i: int) -> Answer:
            time.sleep(delays_s[i])
            return 0, 0, None

        yield op
