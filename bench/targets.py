"""Target drivers: what one task does, one class per target kind behind one small interface.

    driver = driver_for(scenario, point, base_url)      # prepares the work of one task count
    async with driver.open_async(recorder, connections=100, connector_limit=None) as op:
        ...                                             # await op(i) performs task i
    with driver.open_sync(recorder) as (op, warm):      # the blocking twin, for thread-pool strategies
        ...

The runner never asks which kind it holds (the shape of httpx's ``BaseTransport``): each driver knows how to
prepare its work, its async and blocking operations, its warm-up, its caps and its description. A new target
kind is one ``Driver`` subclass registered for its scenario model with ``@register_driver``.

Every HTTP request goes through one connector class for every run, limited or not: it stamps when the request got
its connection (the start of its I/O) and nothing else, so no run pays for tracing the others do not. aiohttp's
silent retry of an idempotent request on a dropped keep-alive connection is switched off: every attempt counts,
and a reset costs what it costs.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import inspect
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit

import aiohttp
from pydantic import BaseModel

from bench.collector import gc_paused
from bench.errors import ScenarioError, UsageError
from bench.http_sync import HttpSyncOp
from bench.minimal_http import open_minimal
from bench.net import PacedConnector, client_socket_factory, paced_warm
from bench.plan import Point
from bench.recording import Answer, AsyncOp, Recorder, SyncOp
from bench.scenario import CallableTarget, LocalTarget, Scenario, SleepTarget, UrlTarget
from bench.server import is_loopback

T = TypeVar("T", bound=BaseModel)


class Driver(ABC, Generic[T]):
    """One target kind: the work of one task count, performed asynchronously or in threads."""

    sockets: ClassVar[bool] = False
    """True when tasks hold network connections: connector limits, ports and descriptors then apply."""
    local_server: ClassVar[bool] = False
    """True when the runner must start the local server (and calibrate against it) for this target."""
    stacks: ClassVar[dict[bool, str]] = {}
    """The client stack used, by ``blocking``: e.g. {False: 'aiohttp', True: 'http.client'} (calibration key)."""

    @classmethod
    def stacks_for(cls, target: T) -> dict[bool, str]:
        """The client stacks ``target`` is run with, by ``blocking`` (calibration keys)."""
        return dict(cls.stacks)

    def __init__(
        self, target: T, scenario: Scenario, point: Point, base_url: str, sources: tuple[str, ...] = ()
    ) -> None:
        self.target = target
        self.scenario = scenario
        self.point = point
        self.base_url = base_url
        self.sources = sources
        """Source addresses to spread connections over (bench.net.plan_sources); () for the default one."""

    @classmethod
    def check(cls, where: str, target: T, scenario: Scenario, allow_external: bool) -> None:
        """Refuse, before any request, what cannot run (raise a ScenarioError or UsageError naming ``where``)."""

    @property
    def fail_on_status(self) -> bool:
        """Whether an HTTP status of 400 or more fails a task."""
        return False

    def caps(self) -> dict[str, int | None]:
        """Limits this target adds to a run's caps, by name (a listen backlog, say)."""
        return {}

    @abstractmethod
    def describe(self) -> str:
        """A short description for reports: 'local server', 'asyncio.sleep', 'myapp.io:fetch'."""

    @abstractmethod
    def open_async(
        self, recorder: Recorder, connections: int, connector_limit: int | None
    ) -> contextlib.AbstractAsyncContextManager[AsyncOp]:
        """The async operation for one run, warmed for ``connections`` tasks at once; closed after the run."""

    @abstractmethod
    def open_sync(self, recorder: Recorder) -> contextlib.AbstractContextManager[tuple[SyncOp, Callable[[], None]]]:
        """The blocking operation for one run and a warm-up each worker thread calls once; closed after it."""


DRIVERS: dict[type[BaseModel], type[Driver[Any]]] = {}
"""The driver of each target model."""

D = TypeVar("D", bound=type[Driver[Any]])


def register_driver(model: type[BaseModel]) -> Callable[[D], D]:
    """Class decorator: ``@register_driver(MyTarget)`` makes ``MyTarget`` scenarios run with the class."""

    def decorate(cls: D) -> D:
        DRIVERS[model] = cls
        return cls

    return decorate


def driver_class(target: BaseModel) -> type[Driver[Any]]:
    """The driver class for a target model instance."""
    try:
        return DRIVERS[type(target)]
    except KeyError:
        raise ScenarioError(f"target kind {getattr(target, 'kind', type(target).__name__)!r} has no driver") from None


def driver_for(scenario: Scenario, point: Point, base_url: str, sources: tuple[str, ...] = ()) -> Driver[Any]:
    """The driver of ``scenario``'s target, prepared for ``point``."""
    return driver_class(scenario.target)(scenario.target, scenario, point, base_url, sources)


# --- HTTP -----------------------------------------------------------------------------------------------------


class StampingConnector(PacedConnector):
    """The connector of every run: tells the recorder when a request got its connection (its I/O starts then);
    paced while warming up, sockets closed with an RST (no TIME_WAIT), spread over source addresses if planned
    (see bench.net)."""

    def __init__(self, recorder: Recorder | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._recorder = recorder

    async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
        """Get a connection from the pool (or open one), then stamp the moment."""
        conn = await super().connect(req, traces, timeout)
        if self._recorder is not None:
            self._recorder.connected()
        return conn


def new_session(
    recorder: Recorder | None, connector_limit: int | None, timeout_s: float, sources: tuple[str, ...] = ()
) -> aiohttp.ClientSession:
    """A ClientSession for one run: the stamping connector, no per-host limit, no silent retries."""
    connector = StampingConnector(
        recorder, limit=connector_limit or 0, limit_per_host=0, socket_factory=client_socket_factory(sources)
    )
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_s))
    # aiohttp (3.10+) resends an idempotent request once when a pooled connection turns out dead, and says
    # nothing: a reset would cost two delays and count as none. There is no public switch; this is the one place
    # iobench touches it, and tests/test_targets.py fails if the attribute goes away.
    session._retry_connection = False
    return session


async def warm_pool(session: aiohttp.ClientSession, url: str, connections: int, backlog: int | None = None) -> float:
    """Open ``connections`` keep-alive connections, paced to the listen backlog (bench.net.paced_warm); seconds
    taken, or WarmupError. Sessions not made by ``new_session`` are warmed with plain concurrent requests."""
    connector = session.connector
    if isinstance(connector, PacedConnector):
        return await paced_warm(session, connector, url, connections, backlog=backlog)

    async def one() -> None:
        async with session.get(url) as response:
            await response.read()

    with gc_paused():
        await asyncio.gather(*(one() for _ in range(connections)))
    return 0.0


def http_op(session: aiohttp.ClientSession, urls: tuple[str, ...]) -> AsyncOp:
    """GET ``urls[i]`` with the session and read the whole body."""
    get = session.get

    async def op(i: int) -> Answer:
        async with get(urls[i]) as response:
            body = await response.read()
            return response.status, len(body), response.headers.get("Server-Timing")

    return op


class HttpDriver(Driver[T]):
    """What every HTTP target shares: a session per run, a warmed pool, blocking twins over http.client."""

    sockets = True
    stacks: ClassVar[dict[bool, str]] = {False: "aiohttp", True: "http.client"}

    @classmethod
    def stacks_for(cls, target: T) -> dict[bool, str]:
        """The target's ``client`` for the asyncio strategies, http.client for threads."""
        return {False: getattr(target, "client", "aiohttp"), True: "http.client"}

    def __init__(
        self, target: T, scenario: Scenario, point: Point, base_url: str, sources: tuple[str, ...] = ()
    ) -> None:
        super().__init__(target, scenario, point, base_url, sources)
        self.urls = self.task_urls()
        self.warm_url = self.warm_target()

    @abstractmethod
    def task_urls(self) -> tuple[str, ...]:
        """The URL of each task."""

    @abstractmethod
    def warm_target(self) -> str:
        """The URL warm-up requests go to ('' for no warm-up)."""

    @property
    def fail_on_status(self) -> bool:
        """The target's ``fail_on_status``."""
        return bool(getattr(self.target, "fail_on_status", True))

    @contextlib.asynccontextmanager
    async def open_async(
        self, recorder: Recorder, connections: int, connector_limit: int | None
    ) -> AsyncIterator[AsyncOp]:
        """A fresh session whose pool holds ``connections`` warm connections (capped by the connector limit)."""
        if getattr(self.target, "client", "aiohttp") == "minimal":
            backlog, timeout_s = self.caps().get("listen_backlog"), self.scenario.timeout_s
            async with open_minimal(self.urls, self.warm_url, connections=connections, limit=connector_limit,
                                    backlog=backlog, timeout_s=timeout_s, sources=self.sources,
                                    on_connected=recorder.connected) as minimal_op:  # fmt: skip
                yield minimal_op
            return
        async with new_session(recorder, connector_limit, self.scenario.timeout_s, self.sources) as session:
            if self.warm_url:
                wanted = min(connections, connector_limit or connections)
                await warm_pool(session, self.warm_url, wanted, self.caps().get("listen_backlog"))
            yield http_op(session, self.urls)

    @contextlib.contextmanager
    def open_sync(self, recorder: Recorder) -> Iterator[tuple[SyncOp, Callable[[], None]]]:
        """http.client connections, one per worker thread, each opened by the warm-up."""
        op = HttpSyncOp(self.urls, self.scenario.timeout_s)
        path = urlsplit(self.warm_url).path

        def warm() -> None:
            if self.warm_url:
                op.get(path)

        try:
            yield op, warm
        finally:
            op.close()


def task_urls(
    base_url: str, target: LocalTarget, delays_ms: tuple[float, ...], error_tasks: tuple[int, ...] = ()
) -> tuple[str, ...]:
    """The URL of each task: its delay in the path; body size, status and fault as query parameters if set."""
    query = [f"bytes={target.bytes}"] if target.bytes else []
    plain = [*query, f"status={target.status}"] if target.status != 200 else query
    failing = [*query, "status=500" if target.error_kind == "status" else f"fault={target.error_kind}"]
    fail = set(error_tasks)

    def suffix(params: list[str]) -> str:
        return "?" + "&".join(params) if params else ""

    return tuple(
        f"{base_url}/delay/{d:.3f}ms{suffix(failing if i in fail else plain)}" for i, d in enumerate(delays_ms)
    )


@register_driver(LocalTarget)
class LocalDriver(HttpDriver[LocalTarget]):
    """The built-in local server: each task GETs ``/delay/<its delay>`` and the server reports what it delivered."""

    local_server = True

    def task_urls(self) -> tuple[str, ...]:
        """``/delay/<delay>ms`` for each task, failing the planned ones."""
        return task_urls(self.base_url, self.target, self.point.delays_ms, self.point.error_tasks)

    def warm_target(self) -> str:
        """The server's health endpoint."""
        return f"{self.base_url}/health"

    def caps(self) -> dict[str, int | None]:
        """The server's listen backlog."""
        return {"listen_backlog": self.scenario.server.backlog}

    def describe(self) -> str:
        """'local server'."""
        return "local server"


@register_driver(UrlTarget)
class UrlDriver(HttpDriver[UrlTarget]):
    """Any URL, once per task; warmed only when it is on this machine (no extra load on another host)."""

    @classmethod
    def check(cls, where: str, target: UrlTarget, scenario: Scenario, allow_external: bool) -> None:
        """A URL off this machine needs both opt-ins."""
        if is_loopback(target.host):
            return
        if not target.allow_external:
            raise UsageError(
                f"{where}: target.url: {target.host} is not on this machine; to send it {max(scenario.tasks)} "
                "requests per run, set allow_external: true in the target and pass --allow-external"
            )
        if not allow_external:
            raise UsageError(
                f"{where}: target.url: {target.host} is not on this machine; pass --allow-external to send it requests"
            )

    def task_urls(self) -> tuple[str, ...]:
        """The same URL for every task."""
        return (self.target.url,) * self.point.tasks

    def warm_target(self) -> str:
        """The URL itself on loopback; nothing elsewhere."""
        return self.target.url if is_loopback(self.target.host) else ""

    def describe(self) -> str:
        """The URL."""
        return self.target.url


# --- no sockets -----------------------------------------------------------------------------------------------


def with_timeout(op: AsyncOp, timeout_s: float) -> AsyncOp:
    """``op`` cut off after ``timeout_s`` (what ClientTimeout does for HTTP)."""

    async def bounded(i: int) -> Answer:
        async with asyncio.timeout(timeout_s):
            return await op(i)

    return bounded


class _NoWarmUp:
    """Nothing to warm or close: the op is all there is."""

    @staticmethod
    def warm() -> None:
        """Nothing to open."""


@register_driver(SleepTarget)
class SleepDriver(Driver[SleepTarget]):
    """``asyncio.sleep`` (``time.sleep`` in threads) of each task's delay: the scheduler's floor, no sockets."""

    def describe(self) -> str:
        """'asyncio.sleep'."""
        return "asyncio.sleep"

    @contextlib.asynccontextmanager
    async def open_async(
        self, recorder: Recorder, connections: int, connector_limit: int | None
    ) -> AsyncIterator[AsyncOp]:
        """``await asyncio.sleep(delay_i)``."""
        delays_s = tuple(d / 1000 for d in self.point.delays_ms)
        sleep = asyncio.sleep

        async def op(i: int) -> Answer:
            await sleep(delays_s[i])
            return 0, 0, None

        yield with_timeout(op, self.scenario.timeout_s)

    @contextlib.contextmanager
    def open_sync(self, recorder: Recorder) -> Iterator[tuple[SyncOp, Callable[[], None]]]:
        """``time.sleep(delay_i)``."""
        delays_s = tuple(d / 1000 for d in self.point.delays_ms)

        def op(i: int) -> Answer:
            time.sleep(delays_s[i])
            return 0, 0, None

        yield op, _NoWarmUp.warm


def import_callable(spec: str, where: str) -> Callable[..., Any]:
    """Import ``package.module:function``; ScenarioError naming ``where`` when it cannot be found."""
    module_name, _, attr = spec.partition(":")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
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
    async def open_async(
        self, recorder: Recorder, connections: int, connector_limit: int | None
    ) -> AsyncIterator[AsyncOp]:
        """``await f(i)``; its return value is ignored."""
        function: Callable[[int], Awaitable[Any]] = import_callable(self.target.callable, "target.callable")

        async def op(i: int) -> Answer:
            await function(i)
            return 0, 0, None

        yield with_timeout(op, self.scenario.timeout_s)

    @contextlib.contextmanager
    def open_sync(self, recorder: Recorder) -> Iterator[tuple[SyncOp, Callable[[], None]]]:
        """``f(i)`` in a worker thread; its return value is ignored."""
        if not self.target.sync_callable:
            raise ScenarioError("target.sync_callable: the threads strategy needs a plain def; name one here")
        function = import_callable(self.target.sync_callable, "target.sync_callable")

        def op(i: int) -> Answer:
            function(i)
            return 0, 0, None

        yield op, _NoWarmUp.warm
