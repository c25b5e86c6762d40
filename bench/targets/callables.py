"""The user's own code as a target: ``async def f(i)`` for the asyncio strategies and a plain ``def f(i)`` for
thread pools, called with the task index."""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from bench.errors import ScenarioError
from bench.plugins import importable_here
from bench.scenario.model import Scenario
from bench.scenario.target_models import CallableTarget
from bench.targets.base import Driver, Stamps, register_driver
from bench.targets.clients.base import Answer, AsyncOp, SyncOp
from bench.targets.sleep import no_warm_up, with_timeout


def import_callable(spec: str, where: str) -> Callable[..., Any]:
    """Import ``package.module:function``; ScenarioError naming ``where`` when it cannot be found."""
    module_name, _, attr = spec.partition(":")
    importable_here()
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ScenarioError(f"{where}: cannot import module {module_name!r} ({exc})") from None
    function = getattr(module, attr, None)
    if function is None or not callable(function):
        raise ScenarioError(f"{where}: module {module_name!r} has no function {attr!r}")
    return function  # type: ignore[no-any-return]


def is_async(function: Callable[..., Any]) -> bool:
    """True for an ``async def`` function (what the asyncio strategies need)."""
    return inspect.iscoroutinefunction(function)


@register_driver(CallableTarget)
class CallableDriver(Driver[CallableTarget]):
    """The user's own ``async def f(i)`` (and a plain ``def f(i)`` for thread pools), called with the task index."""

    @classmethod
    def check(cls, where: str, target: CallableTarget, scenario: Scenario, allow_external: bool) -> None:
        """Both functions importable and of the right kind, before anything runs."""
        function = import_callable(target.callable, f"{where}: target.callable")
        if not is_async(function):
            raise ScenarioError(
                f"{where}: target.callable: {target.callable} must be an async def (it takes the task index)"
            )
        if any(s.build().blocking for s in scenario.strategies):
            if not target.sync_callable:
                raise ScenarioError(
                    f"{where}: target.sync_callable: the threads strategy needs a plain def; name one here"
                )
            sync = import_callable(target.sync_callable, f"{where}: target.sync_callable")
            if is_async(sync):
                raise ScenarioError(
                    f"{where}: target.sync_callable: {target.sync_callable} must be a plain def, not async"
                )

    def describe(self) -> str:
        """The function's import path."""
        return self.target.callable

    @contextlib.asynccontextmanager
    async def open_async(self, stamps: Stamps, connections: int, connector_limit: int | None) -> AsyncIterator[AsyncOp]:
        """``await f(i)``; its return value is ignored."""
        function: Callable[[int], Awaitable[Any]] = import_callable(self.target.callable, "target.callable")

        async def op(i: int) -> Answer:
            await function(i)
            return 0, 0, None

        yield with_timeout(op, self.scenario.timeout_s)

    @contextlib.contextmanager
    def open_sync(self, stamps: Stamps) -> Iterator[tuple[SyncOp, Callable[[], None]]]:
        """``f(i)`` in a worker thread; its return value is ignored."""
        if not self.target.sync_callable:
            raise ScenarioError("target.sync_callable: the threads strategy needs a plain def; name one here")
        function = import_callable(self.target.sync_callable, "target.sync_callable")

        def op(i: int) -> Answer:
            function(i)
            return 0, 0, None

        yield op, no_warm_up
