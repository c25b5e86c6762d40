"""Strategies: the ways user code runs N I/O tasks. One small interface, one class each, one registry entry.

    >>> spec = StrategySpec.model_validate({"gather": None})
    >>> strategy = spec.build()
    >>> await strategy.run(10, task)   # task(i) does request i and raises TaskFailed on failure

A strategy only decides *how the tasks are scheduled*; the runner owns timing, requests and bookkeeping.
Adding a strategy: subclass ``Strategy``, give it ``name`` (and a ``Params`` model if it takes any), and add it to
``REGISTRY``.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

TaskFn = Callable[[int], Awaitable[None]]
"""``task(i)``: perform task ``i``, record it, and raise ``TaskFailed`` if it failed."""


class TaskFailed(Exception):
    """Raised by a task whose request failed; the failure is already recorded."""


class NoParams(BaseModel):
    """Parameters of a strategy that takes none."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Strategy(ABC):
    """How N tasks are scheduled. Subclasses set ``name`` and, if they take parameters, ``Params``."""

    name: ClassVar[str]
    Params: ClassVar[type[BaseModel]] = NoParams

    def __init__(self, params: BaseModel | None = None) -> None:
        self.params = params if params is not None else self.Params()

    @abstractmethod
    def planned_concurrency(self, n: int) -> int:
        """How many tasks this strategy means to have in flight at once for ``n`` tasks."""

    def limits(self) -> dict[str, int]:
        """Concurrency limits this strategy itself imposes (a semaphore, a pool size), by name."""
        return {}

    @abstractmethod
    async def run(self, n: int, task: TaskFn) -> None:
        """Run tasks ``0..n-1``; return when the strategy considers the batch done, raise as its idiom does."""


class Sequential(Strategy):
    """``for i in range(n): await task(i)`` — the loop people write first. Stops at the first failure."""

    name = "sequential"

    def planned_concurrency(self, n: int) -> int:
        """One task at a time."""
        return 1

    async def run(self, n: int, task: TaskFn) -> None:
        """Await each task in turn."""
        for i in range(n):
            await task(i)


class Gather(Strategy):
    """``await asyncio.gather(*tasks)`` — all at once; the first failure propagates, siblings keep running."""

    name = "gather"

    def planned_concurrency(self, n: int) -> int:
        """All tasks at once."""
        return n

    async def run(self, n: int, task: TaskFn) -> None:
        """Start every task and gather them."""
        await asyncio.gather(*(task(i) for i in range(n)))


REGISTRY: dict[str, type[Strategy]] = {cls.name: cls for cls in (Sequential, Gather)}
"""Every strategy by name; scenarios may only name these."""


def _format_value(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


class StrategySpec(BaseModel):
    """A strategy as a scenario names it: ``gather`` or ``{bounded: {limit: 10}}``; ``label`` tells them apart."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    params: dict[str, Any] = {}

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {"name": data, "params": {}}
        elif isinstance(data, dict) and set(data) - {"name", "params"} and len(data) == 1:
            ((key, value),) = data.items()
            if value is not None and not isinstance(value, dict):
                raise ValueError(f"parameters of {key!r} must be a mapping, e.g. {{{key}: {{limit: 10}}}}")
            data = {"name": key, "params": value or {}}
        elif not isinstance(data, dict) or not set(data) <= {"name", "params"} or "name" not in data:
            raise ValueError("a strategy is a name (gather) or a one-key mapping ({bounded: {limit: 10}})")
        name = data["name"]
        if name not in REGISTRY:
            raise ValueError(f"unknown strategy {name!r}; valid strategies: {', '.join(sorted(REGISTRY))}")
        params_model = REGISTRY[name].Params
        given = data.get("params") or {}
        allowed = sorted(params_model.model_fields)
        for key in given:
            if key not in allowed:
                takes = f"it takes: {', '.join(allowed)}" if allowed else "it takes none"
                raise ValueError(f"unknown parameter {key!r} of strategy {name!r}; {takes}")
        try:
            parsed = params_model.model_validate(given)
        except ValidationError as exc:  # reduce to one readable sentence
            first = exc.errors(include_url=False)[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ValueError(f"strategy {name!r}: {where}: {first['msg']} (got {first['input']!r})") from None
        return {"name": name, "params": parsed.model_dump()}

    @property
    def label(self) -> str:
        """``gather``, or ``bounded(limit=10)`` when parameters are given."""
        if not self.params:
            return self.name
        inner = ",".join(f"{k}={_format_value(v)}" for k, v in sorted(self.params.items()))
        return f"{self.name}({inner})"

    def build(self) -> Strategy:
        """A fresh strategy instance for one run."""
        cls = REGISTRY[self.name]
        return cls(cls.Params.model_validate(self.params))
