"""``await asyncio.gather(*tasks)``: every task at once."""

from __future__ import annotations

import asyncio
from typing import Annotated

from pydantic import Strict

from bench.strategies.base import AsyncParams, AsyncStrategy, TaskFn, register


class GatherParams(AsyncParams):
    """``return_exceptions``: collect failures instead of raising the first (siblings run on either way)."""

    return_exceptions: Annotated[bool, Strict()] = False


@register
class Gather(AsyncStrategy):
    """``await asyncio.gather(*tasks)`` — all at once; the first failure propagates, siblings keep running."""

    name = "gather"
    Params = GatherParams

    def planned_concurrency(self, n: int) -> int:
        """All tasks at once."""
        return n

    async def run(self, n: int, task: TaskFn) -> None:
        """Start every task and gather them."""
        assert isinstance(self.params, GatherParams)
        await asyncio.gather(*(task(i) for i in range(n)), return_exceptions=self.params.return_exceptions)
