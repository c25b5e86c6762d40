"""The user's own code as a target: ``async def f(i)`` for the asyncio strategies and a plain ``def f(i)`` for
worker threads, called with the task index; with the setup the way users write it.

    target: {callable: "myapp.db:fetch", setup: "myapp.db:open_pool", teardown: "myapp.db:close_pool",
             sync_callable: "myapp.db:fetch_sync", thread_setup: "myapp.db:connect"}

``setup`` runs once per scenario in each process, on the loop the runs use, before anything is timed; a callable
that takes two arguments gets what it returned (``async def fetch(i, pool)``). ``thread_setup`` runs once in each
worker thread of ``threads`` before anything is timed; a sync callable that takes two arguments gets what it
returned in its thread (``def fetch_sync(i, conn)``). So clients, pools and connections are made before timing, on
the loop and in the thread that use them. Inside a task, ``io_starts()`` marks where its own I/O begins (after it got
a pool's connection or a lock): the wait before it is shown as wait, not as I/O.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import inspect
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from bench.errors import ScenarioError
from bench.plugins import importable_here
from bench.scenario.model import Scenario
from bench.scenario.target_models import CallableTarget
from bench.strategies import BlockingStrategy, Limits, Strategy
from bench.targets.base import Stamps, register_driver, with_timeout
from bench.targets.clients.base import Answer, AsyncOp, SyncOp
from bench.targets.sleep import HarnessDriver

_IO_STARTS: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar("iobench_io", default=None)
"""Marks the running task's I/O as started (set by the callable driver around each call)."""
_THREAD = threading.local()
"""What ``thread_setup`` returned in this worker thread (``state``), by target."""


def io_starts() -> None:
    """Call where your task's own I/O starts (after waiting for a pool's connection or a lock): iobench shows the
    time before it as the task's wait, not as its I/O. Outside a task measured by iobench it does nothing."""
    mark = _IO_STARTS.get()
    if mark is not None:
        mark()


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


def arity(function: Callable[..., Any]) -> int:
    """How many positional arguments ``function`` takes (a large number for ``*args``)."""
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):  # a builtin without a signature: assume it takes what it is given
        return 99
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return 99
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in parameters)


def _check_one(spec: str | None, where: str, *, asynchronous: bool, takes: tuple[int, ...], has_state: bool) -> None:
    """One named function: importable, of the right kind, taking what it will be given."""
    if spec is None:
        return
    function = import_callable(spec, where)
    if is_async(function) != asynchronous:
        kind = "an async def" if asynchronous else "a plain def, not async"
        raise ScenarioError(f"{where}: {spec} must be {kind}")
    n = arity(function)
    if not any(n >= t for t in takes):
        raise ScenarioError(f"{where}: {spec} must take {' or '.join(map(str, takes))} argument(s)")
    if takes == (1, 2) and n == 2 and not has_state:
        setup = "setup" if asynchronous else "thread_setup"
        raise ScenarioError(f"{where}: {spec} takes a state argument, but the target has no {setup} to make it")


@register_driver(CallableTarget)
class CallableDriver(HarnessDriver[CallableTarget]):
    """The user's own ``async def f(i)`` (and a plain ``def f(i)`` for worker threads), called with the task index."""

    @classmethod
    def check(cls, where: str, target: CallableTarget, scenario: Scenario, allow_external: bool) -> None:
        """Every function named importable, of the right kind and taking what it will be given, before anything."""
        prefix = f"{where}: target"
        _check_one(target.callable, f"{prefix}.callable", asynchronous=True, takes=(1, 2), has_state=bool(target.setup))
        _check_one(target.setup, f"{prefix}.setup", asynchronous=True, takes=(0,), has_state=False)
        _check_one(target.teardown, f"{prefix}.teardown", asynchronous=True, takes=(0, 1), has_state=False)
        threaded = [s for s in (spec.build() for spec in scenario.strategies) if isinstance(s, BlockingStrategy)]
        for index, strategy in enumerate(threaded):
            spec = strategy.sync_callable() or target.sync_callable
            if spec is None:
                raise ScenarioError(f"{prefix}.sync_callable: the threads strategy needs a plain def; name one here")
            where_sync = f"{prefix}.sync_callable" if not strategy.sync_callable() else f"{where}: strategies.{index}"
            _check_one(spec, where_sync, asynchronous=False, takes=(1, 2), has_state=bool(target.thread_setup))
        if threaded:
            _check_one(target.thread_setup, f"{prefix}.thread_setup", asynchronous=False, takes=(0,), has_state=False)
            _check_one(target.thread_teardown, f"{prefix}.thread_teardown", asynchronous=False, takes=(0, 1),
                       has_state=False)  # fmt: skip

    @classmethod
    async def setup(cls, target: CallableTarget) -> Any:
        """The user's ``setup()``, awaited on the loop the runs use."""
        if target.setup is None:
            return None
        return await import_callable(target.setup, "target.setup")()

    @classmethod
    async def teardown(cls, target: CallableTarget, state: Any) -> None:
        """The user's ``teardown(state)`` (or ``teardown()``)."""
        if target.teardown is not None:
            function = import_callable(target.teardown, "target.teardown")
            await (function(state) if arity(function) >= 1 else function())

    def describe(self) -> str:
        """The function's import path."""
        return self.target.callable

    def limits(self, strategy: Strategy) -> Limits:
        """The caps the scenario says the callable's own code has (``pool:``), for the asyncio strategies."""
        if isinstance(strategy, BlockingStrategy) or not self.target.pool:
            return Limits()
        keys = {f"pool:{name}": name for name in self.target.pool}
        return Limits({key: self.target.pool[name] for key, name in keys.items()}, keys)

    @contextlib.asynccontextmanager
    async def open_async(self, stamps: Stamps, strategy: Strategy, connections: int) -> AsyncIterator[AsyncOp]:
        """``await f(i)`` (or ``f(i, state)``); its return value is ignored."""
        function: Callable[..., Awaitable[Any]] = import_callable(self.target.callable, "target.callable")
        args = (self.state,) if arity(function) >= 2 else ()
        started, marks = stamps.connected, _IO_STARTS

        async def op(i: int) -> Answer:
            token = marks.set(started)
            try:
                await function(i, *args)
            finally:
                marks.reset(token)
            return 0, 0, None

        yield with_timeout(op, self.scenario.timeout_s)

    def _sync_function(self, strategy: Strategy) -> Callable[..., Any]:
        spec = (
            strategy.sync_callable() if isinstance(strategy, BlockingStrategy) else None
        ) or self.target.sync_callable
        if not spec:
            raise ScenarioError("target.sync_callable: the threads strategy needs a plain def; name one here")
        return import_callable(spec, "target.sync_callable")

    @contextlib.contextmanager
    def open_sync(self, stamps: Stamps, strategy: Strategy) -> Iterator[SyncOp]:
        """``f(i)`` (or ``f(i, state)`` with what this thread's ``thread_setup`` made) in a worker thread."""
        function = self._sync_function(strategy)
        with_state, key = arity(function) >= 2, self.target.callable
        started, marks = stamps.connected, _IO_STARTS

        def op(i: int) -> Answer:
            token = marks.set(started)
            try:
                function(i, getattr(_THREAD, "state", {}).get(key)) if with_state else function(i)
            finally:
                marks.reset(token)
            return 0, 0, None

        yield op

    def thread_setup(self, strategy: Strategy) -> Callable[[], None]:
        """The user's ``thread_setup()``, its result kept for this thread."""
        if self.target.thread_setup is None:
            return super().thread_setup(strategy)
        function, key = import_callable(self.target.thread_setup, "target.thread_setup"), self.target.callable

        def setup() -> None:
            if not hasattr(_THREAD, "state"):
                _THREAD.state = {}
            _THREAD.state[key] = function()

        return setup

    def thread_teardown(self, strategy: Strategy) -> Callable[[], None]:
        """The user's ``thread_teardown(state)`` in this thread."""
        if self.target.thread_teardown is None:
            return super().thread_teardown(strategy)
        function, key = import_callable(self.target.thread_teardown, "target.thread_teardown"), self.target.callable

        def teardown() -> None:
            state = getattr(_THREAD, "state", {}).pop(key, None)
            function(state) if arity(function) >= 1 else function()

        return teardown
