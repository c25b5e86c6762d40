"""A target kind whose driver fails when a run opens it: what a child process's own exception looks like."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Literal

from bench.scenario import Record
from bench.strategies import Strategy
from bench.targets import AsyncOp, Driver, Stamps, SyncOp, register_driver


class BrokenTarget(Record):
    """``target: {kind: broken}``."""

    kind: Literal["broken"]


@register_driver(BrokenTarget)
class BrokenDriver(Driver[BrokenTarget]):
    """Raises LookupError when a run opens it."""

    def describe(self) -> str:
        """'broken'."""
        return "broken"

    @contextlib.asynccontextmanager
    async def open_async(self, stamps: Stamps, strategy: Strategy, connections: int) -> AsyncIterator[AsyncOp]:
        """Fail."""
        raise LookupError("no resolver configured")
        yield  # pragma: no cover

    @contextlib.contextmanager
    def open_sync(self, stamps: Stamps, strategy: Strategy) -> Iterator[SyncOp]:
        """Fail."""
        raise LookupError("no resolver configured")
        yield  # pragma: no cover
