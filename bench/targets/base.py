"""The target driver interface: what one task does, one class per target kind, registered for its scenario model.

    driver = driver_for(scenario, point, base_url)      # prepares the work of one task count
    async with driver.open_async(stamps, strategy, connections=100) as op:
        ...                                             # await op(i) performs task i
    with driver.open_sync(stamps, strategy) as op:      # the blocking twin, called from the worker threads
        ...

The runner never asks which kind it holds (the shape of httpx's ``BaseTransport`` and hyperfine's ``Executor``):
each driver knows how to prepare its work, its async and blocking operations, its warm-up, the limits it adds to a
run (and which of them cap concurrency), how it calibrates its own per-request overhead, how it reads a service
time from an answer, and what it says of itself in a report (``facts``: description, rate unit, delay label).

A new target kind is one module in ``bench/targets/`` or in a plugin: a scenario model with ``kind:
Literal["mine"]`` and a ``Driver`` subclass decorated with ``@register_driver(Model)``, which registers the kind
in the scenario schema too.
"""

from __future__ import annotations

import asyncio
import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar, get_args

from pydantic import BaseModel

from bench.errors import ScenarioError
from bench.results.records import Calibration, DriverFacts
from bench.scenario.model import Scenario, register_target_kind
from bench.scenario.plan import Point
from bench.scenario.target_models import TARGET_MODELS
from bench.strategies import Limits, Strategy
from bench.targets.clients.base import Answer, AsyncOp, SyncOp


class Stamps(Protocol):
    """What a driver may tell the recorder while a task runs (``bench.run.recording.Recorder``)."""

    def connected(self) -> None:
        """The running task's I/O starts now: its request got a connection, or its code said so (``io_starts``)."""

    def opened(self) -> None:
        """A connection was opened (counted from the start of the timed region: reconnects show)."""


T = TypeVar("T", bound=BaseModel)


class Driver(ABC, Generic[T]):
    """One target kind: the work of one task count, performed asynchronously or in worker threads."""

    sockets: ClassVar[bool] = False
    """True when tasks hold network connections: connector limits, ports and descriptors then apply."""
    local_server: ClassVar[bool] = False
    """True when the runs themselves go to the local server (the runner starts it, and reads its lateness)."""
    calibrates_on_local_server: ClassVar[bool] = False
    """True when the driver's client stacks are calibrated against the local server (the runner starts it even
    when the runs go elsewhere: the overhead is the client's, whatever the target)."""
    rate_unit: ClassVar[str] = "tasks/s"
    """What the table's rate column counts: 'req/s' for targets that make requests, 'tasks/s' for the others."""
    delay_label: ClassVar[str | None] = None
    """Name of the requested delays in the latency chart ('sleep time (requested)'); None: no delays of ours."""

    def __init__(
        self,
        target: T,
        scenario: Scenario,
        point: Point,
        base_url: str,
        sources: tuple[str, ...] = (),
        state: Any = None,
    ) -> None:
        self.target = target
        self.scenario = scenario
        self.point = point
        self.base_url = base_url
        self.sources = sources
        """Source addresses to spread connections over (bench.targets.clients.net.plan_sources); () for one."""
        self.state = state
        """What the scenario's ``setup`` returned in this process (``Driver.setup``), or None."""

    @classmethod
    def check(cls, where: str, target: T, scenario: Scenario, allow_external: bool) -> None:
        """Refuse, before any request, what cannot run (raise a ScenarioError or UsageError naming ``where``)."""

    @classmethod
    def stacks(cls, target: T, strategies: Sequence[Strategy]) -> tuple[str, ...]:
        """Every client stack the strategies run with (calibration keys), without repeats."""
        return tuple(dict.fromkeys(s for s in (cls.stack_of(target, strategy) for strategy in strategies) if s))

    @classmethod
    def stack_of(cls, target: T, strategy: Strategy) -> str:
        """The client stack a strategy's tasks go through ('aiohttp', 'http.client', ...); '' for none."""
        return ""

    @classmethod
    async def calibrate(cls, target: T, strategies: Sequence[Strategy], server_url: str) -> dict[str, Calibration]:
        """The per-task overhead of each client stack the strategies run with: HTTP stacks against the local server
        at ``server_url``; {} when the target has no stack of ours."""
        return {}

    @classmethod
    async def setup(cls, target: T) -> Any:
        """Made once per scenario in each process, on the loop the runs use, before any timed run (the user's
        ``setup``); what the driver's operations reach as ``self.state``."""
        return None

    @classmethod
    async def teardown(cls, target: T, state: Any) -> None:
        """Undo ``setup`` after the scenario."""

    @property
    def fail_on_status(self) -> bool:
        """Whether an HTTP status of 400 or more fails a task."""
        return False

    def limits(self, strategy: Strategy) -> Limits:
        """Limits this target adds to a run of ``strategy`` (a connector limit, a listen backlog), with the names
        of those that cap concurrency."""
        return Limits()

    def service_us(self, meta: str | None) -> int:
        """The service time an answer reports (the third item of an Answer), in whole us; -1 when unknown."""
        return -1

    def service_source(self) -> str:
        """Who reports the service times ``service_us`` reads ('the local server', a host), for the notes."""
        return ""

    def stack(self, strategy: Strategy) -> str:
        """The client stack a run of ``strategy`` goes through; '' for none."""
        return self.stack_of(self.target, strategy)

    @abstractmethod
    def describe(self) -> str:
        """A short description for reports: 'local server', 'asyncio.sleep', 'myapp.io:fetch'."""

    def facts(self) -> DriverFacts:
        """What the driver says of itself in the results file, so a reader needs no driver to report on it."""
        return DriverFacts(
            description=self.describe(),
            rate_unit=self.rate_unit,
            delay_label=self.delay_label,
            sockets=self.sockets,
            service_source=self.service_source(),
        )

    @abstractmethod
    def open_async(
        self, stamps: Stamps, strategy: Strategy, connections: int
    ) -> contextlib.AbstractAsyncContextManager[AsyncOp]:
        """The async operation for one run of ``strategy``, warmed for ``connections`` tasks at once; closed after."""

    @abstractmethod
    def open_sync(self, stamps: Stamps, strategy: Strategy) -> contextlib.AbstractContextManager[SyncOp]:
        """The blocking operation for one run of ``strategy``, called from the scenario's worker threads."""

    def thread_setup(self, strategy: Strategy) -> Callable[[], None]:
        """Run once in each worker thread of the scenario's pool before any timed run (open its connection)."""
        return _nothing

    def thread_teardown(self, strategy: Strategy) -> Callable[[], None]:
        """Run once in each worker thread when the scenario's pool closes."""
        return _nothing


def _nothing() -> None:
    """No per-thread work."""


def with_timeout(op: AsyncOp, timeout_s: float) -> AsyncOp:
    """``op`` cut off after ``timeout_s`` (what ClientTimeout does for HTTP): the deadline of every task with no
    client of its own."""

    async def bounded(i: int) -> Answer:
        async with asyncio.timeout(timeout_s):
            return await op(i)

    return bounded


DRIVERS: dict[type[BaseModel], type[Driver[Any]]] = {}
"""The driver of each target model."""

D = TypeVar("D", bound=type[Driver[Any]])


def kind_of(model: type[BaseModel]) -> str:
    """The ``kind`` a target model answers to, read from its ``kind: Literal[...]`` field."""
    field = model.model_fields.get("kind")
    names = get_args(field.annotation) if field is not None else ()
    if len(names) != 1 or not isinstance(names[0], str):
        raise TypeError(f"{model.__name__} needs a field kind: Literal['its name']")
    return names[0]


def register_driver(model: type[BaseModel]) -> Callable[[D], D]:
    """Class decorator: ``@register_driver(MyTarget)`` makes ``target: {kind: ...}`` scenarios run with the class
    (and registers ``MyTarget``'s kind in the scenario schema, unless it is one of the built-in models)."""

    def decorate(cls: D) -> D:
        kind = kind_of(model)
        if TARGET_MODELS.get(kind) is not model:
            register_target_kind(kind, model)
        DRIVERS[model] = cls
        return cls

    return decorate


def driver_class(target: BaseModel) -> type[Driver[Any]]:
    """The driver class for a target model instance."""
    try:
        return DRIVERS[type(target)]
    except KeyError:
        raise ScenarioError(f"target kind {getattr(target, 'kind', type(target).__name__)!r} has no driver") from None


def driver_for(
    scenario: Scenario, point: Point, base_url: str, sources: tuple[str, ...] = (), state: Any = None
) -> Driver[Any]:
    """The driver of ``scenario``'s target, prepared for ``point`` (``state``: what its setup made)."""
    return driver_class(scenario.target)(scenario.target, scenario, point, base_url, sources, state)
