"""The target driver interface: what one task does, one class per target kind, registered for its scenario model.

    driver = driver_for(scenario, point, base_url)      # prepares the work of one task count
    async with driver.open_async(stamps, connections=100, connector_limit=None) as op:
        ...                                             # await op(i) performs task i
    with driver.open_sync(stamps) as (op, warm):        # the blocking twin, for thread-pool strategies
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

import contextlib
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Generic, Protocol, TypeVar, get_args

from pydantic import BaseModel

from bench.errors import ScenarioError
from bench.results.records import Calibration, DriverFacts
from bench.scenario.model import Scenario, register_target_kind
from bench.scenario.plan import Point
from bench.scenario.target_models import TARGET_MODELS
from bench.strategies import Limits, Strategy
from bench.targets.clients.base import AsyncOp, SyncOp


class Stamps(Protocol):
    """What a driver may tell the recorder while a task runs (``bench.run.recording.Recorder``)."""

    def connected(self) -> None:
        """The running task's request got its connection: its I/O starts now."""


T = TypeVar("T", bound=BaseModel)


class Driver(ABC, Generic[T]):
    """One target kind: the work of one task count, performed asynchronously or in threads."""

    sockets: ClassVar[bool] = False
    """True when tasks hold network connections: connector limits, ports and descriptors then apply."""
    local_server: ClassVar[bool] = False
    """True when the runner must start the local server (and calibrate against it) for this target."""
    rate_unit: ClassVar[str] = "tasks/s"
    """What the table's rate column counts: 'req/s' for targets that make requests, 'tasks/s' for the others."""
    delay_label: ClassVar[str | None] = None
    """Name of the requested delays in the latency chart ('sleep time (requested)'); None: no delays of ours."""

    @classmethod
    def stacks_for(cls, target: T) -> dict[bool, str]:
        """The client stacks ``target`` is run with, by ``blocking`` (calibration keys); {} for none."""
        return {}

    def __init__(
        self, target: T, scenario: Scenario, point: Point, base_url: str, sources: tuple[str, ...] = ()
    ) -> None:
        self.target = target
        self.scenario = scenario
        self.point = point
        self.base_url = base_url
        self.sources = sources
        """Source addresses to spread connections over (bench.targets.clients.net.plan_sources); () for one."""

    @classmethod
    def check(cls, where: str, target: T, scenario: Scenario, allow_external: bool) -> None:
        """Refuse, before any request, what cannot run (raise a ScenarioError or UsageError naming ``where``)."""

    @classmethod
    async def calibrate(cls, target: T, server_url: str) -> dict[str, Calibration]:
        """The per-request overhead of each client stack the target runs with, measured against the local server
        at ``server_url``; {} for a target with no client stack of ours."""
        return {}

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

    def stack(self, blocking: bool) -> str:
        """The client stack a run of a blocking (or asyncio) strategy goes through; '' for none."""
        return self.stacks_for(self.target).get(blocking, "")

    @abstractmethod
    def describe(self) -> str:
        """A short description for reports: 'local server', 'asyncio.sleep', 'myapp.io:fetch'."""

    def facts(self) -> DriverFacts:
        """What the driver says of itself in the results file, so a reader needs no driver to report on it."""
        return DriverFacts(
            description=self.describe(), rate_unit=self.rate_unit, delay_label=self.delay_label, sockets=self.sockets
        )

    @abstractmethod
    def open_async(
        self, stamps: Stamps, connections: int, connector_limit: int | None
    ) -> contextlib.AbstractAsyncContextManager[AsyncOp]:
        """The async operation for one run, warmed for ``connections`` tasks at once; closed after the run."""

    @abstractmethod
    def open_sync(self, stamps: Stamps) -> contextlib.AbstractContextManager[tuple[SyncOp, Callable[[], None]]]:
        """The blocking operation for one run and a warm-up each worker thread calls once; closed after it."""


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


def driver_for(scenario: Scenario, point: Point, base_url: str, sources: tuple[str, ...] = ()) -> Driver[Any]:
    """The driver of ``scenario``'s target, prepared for ``point``."""
    return driver_class(scenario.target)(scenario.target, scenario, point, base_url, sources)
