"""The ``Scenario`` model: what to run, how often and against what, checked as a whole; and its definition hash.

Its parts have their own modules: ``bench.scenario.latency`` (delay distributions), ``bench.scenario.target_models``
(target kinds), ``bench.scenario.expectations`` (``expect:``); ``bench.scenario.loader`` reads it from YAML."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, Strict, field_serializer, field_validator, model_validator
from pydantic.fields import FieldInfo

from bench import plugins
from bench.errors import did_you_mean
from bench.limits import (
    MAX_BUDGET_S,
    MAX_NAME,
    MAX_PLUGINS,
    MAX_PROCESSES,
    MAX_REPEATS,
    MAX_SAMPLES,
    MAX_STRATEGIES,
    MAX_TASK_COUNTS,
    MAX_TASKS,
    MAX_TEXT,
    MAX_TIMEOUT_S,
    MAX_WARMUP,
)
from bench.scenario.base import Record, bad_key
from bench.scenario.expectations import Expectations
from bench.scenario.latency import Distribution, add_distribution, latency_union
from bench.scenario.target_models import TARGET_MODELS, Target, redact_userinfo, target_union
from bench.strategies import REFERENCE, StrategySpec

_ModuleName = Annotated[str, Strict(), Field(max_length=MAX_NAME)]
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_PRECISION = 0.02
"""``repeats: auto`` stops once the interval's relative half-width is at most this (2%)."""
DEFAULT_MIN_REPEATS = 5
"""``repeats: auto`` runs at least this many rounds."""
DEFAULT_MAX_REPEATS = 30
"""``repeats: auto`` runs at most this many rounds."""
DEFAULT_BUDGET_S = 20.0
"""``repeats: auto`` starts no new round after this many seconds at one task count."""


class ServerOptions(Record):
    """How the local server runs: worker processes sharing one port (SO_REUSEPORT) and the listen backlog."""

    workers: Annotated[int, Strict(), Field(ge=1, le=16)] | None = None
    """Server processes; None: as many as the scenario's client ``processes`` (one by default)."""
    backlog: Annotated[int, Strict(), Field(ge=16, le=65535)] = 1024
    loop: Literal["asyncio", "uvloop"] | None = None
    """The server's event loop; None: uvloop when installed, else asyncio (recorded in the results either way)."""


@dataclass(frozen=True)
class AdaptiveRepeats:
    """The stop rule of ``repeats: auto``: run rounds until the interval is narrow enough, within limits."""

    precision: float
    """Target relative half-width of the interval, as a fraction (0.02 for 2%)."""
    min_repeats: int
    """Rounds always run."""
    max_repeats: int
    """Rounds never exceeded."""
    budget_s: float
    """No new round starts once this many seconds have been spent at one task count."""


_PERCENT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*%\s*$")
ADAPTIVE_KEYS = ("precision", "min_repeats", "max_repeats", "budget_s")
"""The keys that only ``repeats: auto`` takes."""


class Scenario(Record):
    """One scenario: what to run, how often, and against what."""

    name: Annotated[str, Strict()]
    description: Annotated[str, Strict(), Field(max_length=MAX_TEXT)] = ""
    tasks: tuple[Annotated[int, Strict(), Field(ge=1, le=MAX_TASKS)], ...]
    """Task counts to run: one, or several for a sweep."""
    target: Target
    strategies: tuple[StrategySpec, ...] = (StrategySpec(name=REFERENCE), StrategySpec(name="gather"))
    repeats: int | Literal["auto"] = 5
    """Measured rounds per task count: a number, or ``auto`` (run rounds until ``precision`` is reached)."""
    precision: float | None = None
    """``repeats: auto`` only: the relative half-width to reach, written as a percentage (``2%``, the default).
    It is that of the speedup interval, or of the wall-time interval when there is no sequential strategy."""
    min_repeats: Annotated[int, Strict(), Field(ge=2, le=MAX_REPEATS)] | None = None
    """``repeats: auto`` only: rounds always run (default 5)."""
    max_repeats: Annotated[int, Strict(), Field(ge=2, le=MAX_REPEATS)] | None = None
    """``repeats: auto`` only: rounds never exceeded (default 30)."""
    budget_s: Annotated[float, Strict(), Field(gt=0, le=MAX_BUDGET_S, allow_inf_nan=False)] | None = None
    """``repeats: auto`` only: no new round starts after this many seconds at one task count (default 20)."""
    warmup: Annotated[int, Strict(), Field(ge=0, le=MAX_WARMUP)] = 1
    seed: Annotated[int, Strict(), Field(ge=0, le=2**63 - 1)] = 0
    timeout_s: Annotated[float, Strict(), Field(gt=0, le=MAX_TIMEOUT_S, allow_inf_nan=False)] = 30.0
    """Per-task timeout (aiohttp ``ClientTimeout(total=...)``)."""
    connector_limit: Annotated[int, Strict(), Field(ge=1, le=1_000_000)] | None = None
    """aiohttp connector limit; ``null`` (the default) means unlimited, unlike aiohttp's own default of 100."""
    loop: Literal["asyncio", "uvloop"] = "asyncio"
    """Event loop for every strategy of the scenario."""
    processes: Annotated[int, Strict(), Field(ge=1, le=MAX_PROCESSES)] = 1
    """Client processes each run is spread over, each with its own event loop and its share of the tasks."""
    gc: Annotated[bool, Strict()] = True
    """Leave CPython's garbage collector running during timed runs, as in your program (its passes are counted
    and timed); false pauses it there, as ``timeit`` and ``--benchmark-disable-gc`` do (bench.collector)."""
    server: ServerOptions = ServerOptions()
    """Options of the local server (ignored by other targets)."""
    plugins: Annotated[tuple[_ModuleName, ...], Field(max_length=MAX_PLUGINS)] = ()
    """Plugin modules the scenario needs (a strategy, target kind or distribution of its own), imported before the
    rest of the file is read (see bench.plugins)."""
    expect: Expectations = Expectations()
    """What ``iobench check`` requires of the results."""

    @field_validator("repeats", mode="plain")
    @classmethod
    def _repeats(cls, value: Any) -> int | Literal["auto"]:
        if isinstance(value, str) and value == "auto":
            return "auto"
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"expected a whole number of rounds or 'auto' (got {value!r})")
        if not 1 <= value <= MAX_REPEATS:
            raise ValueError(f"must be between 1 and {MAX_REPEATS}, or 'auto' (got {value})")
        return value

    @field_validator("precision", mode="plain")
    @classmethod
    def _percentage(cls, value: Any) -> float | None:
        if value is None:
            return None
        match = _PERCENT.match(value) if isinstance(value, str) else None
        if match is None:
            raise ValueError(f"expected a percentage such as '2%' (got {value!r})")
        fraction = float(match.group(1)) / 100
        if not 0 < fraction <= 0.5:
            raise ValueError(f"must be more than 0% and at most 50% (got {value!r})")
        return fraction

    @field_serializer("precision")
    def _as_percentage(self, value: float | None) -> str | None:
        return None if value is None else f"{value * 100:g}%"

    @model_validator(mode="after")
    def _repeats_fit(self) -> Scenario:
        if self.repeats != "auto":
            for key in ADAPTIVE_KEYS:
                if getattr(self, key) is not None:
                    raise bad_key([key], f"applies to repeats: auto only (repeats is {self.repeats})")
            return self
        adaptive = self.adaptive
        assert adaptive is not None
        if adaptive.min_repeats > adaptive.max_repeats:
            if self.min_repeats is not None:
                default = "" if self.max_repeats is not None else ", the default"
                raise bad_key(
                    ["min_repeats"], f"{adaptive.min_repeats} is above max_repeats ({adaptive.max_repeats}{default})"
                )
            raise bad_key(
                ["max_repeats"], f"{adaptive.max_repeats} is below min_repeats ({adaptive.min_repeats}, the default)"
            )
        return self

    @model_validator(mode="after")
    def _strategy_overrides_fit_the_target(self) -> Scenario:
        """A strategy's ``client`` or ``sync_callable`` replaces the target's own: the target must have one."""
        fields = type(self.target).model_fields
        for index, spec in enumerate(self.strategies):
            for key in ("client", "sync_callable"):
                if key in spec.params and key not in fields:
                    raise bad_key(
                        ["strategies", index],
                        f"{spec.label}: {key} replaces the target's own {key}, "
                        f"and a {self.target.kind} target has none",
                    )
            url = getattr(self.target, "url", "")
            if spec.params.get("client") == "minimal" and str(url).startswith("https://"):
                raise bad_key(
                    ["strategies", index],
                    f"{spec.label}: client minimal speaks plain http:// only; {url} needs aiohttp",
                )
        return self

    @model_validator(mode="after")
    def _processes_have_tasks(self) -> Scenario:
        if self.processes > min(self.tasks):
            raise bad_key(
                ["processes"],
                f"{self.processes} is more than the smallest task count ({min(self.tasks)}); "
                "every process needs at least one task",
            )
        return self

    @model_validator(mode="after")
    def _samples_fit(self) -> Scenario:
        rounds = self.adaptive.max_repeats if self.adaptive is not None else int(self.repeats)
        total = sum(self.tasks) * len(self.strategies) * rounds
        if total > MAX_SAMPLES:
            raise bad_key(
                [],
                f"{total} task runs would be recorded (task counts {sum(self.tasks)} x {len(self.strategies)} "
                f"strategies x {rounds} rounds); at most {MAX_SAMPLES} per scenario: fewer tasks, strategies or "
                "repeats",
            )
        return self

    @property
    def adaptive(self) -> AdaptiveRepeats | None:
        """The stop rule of ``repeats: auto`` with its defaults filled in; None for a fixed number of rounds."""
        if self.repeats != "auto":
            return None
        return AdaptiveRepeats(
            precision=DEFAULT_PRECISION if self.precision is None else self.precision,
            min_repeats=DEFAULT_MIN_REPEATS if self.min_repeats is None else self.min_repeats,
            max_repeats=DEFAULT_MAX_REPEATS if self.max_repeats is None else self.max_repeats,
            budget_s=DEFAULT_BUDGET_S if self.budget_s is None else self.budget_s,
        )

    @property
    def server_workers(self) -> int:
        """Local server processes: ``server.workers``, or by default one per client process."""
        return self.server.workers if self.server.workers is not None else self.processes

    @property
    def planned_repeats(self) -> int:
        """Rounds certain to run at each task count: ``repeats``, or ``min_repeats`` under ``repeats: auto``."""
        adaptive = self.adaptive
        return adaptive.min_repeats if adaptive is not None else int(self.repeats)

    @model_validator(mode="after")
    def _expectations_name_real_things(self) -> Scenario:
        labels = [s.label for s in self.strategies]
        for figure in ("speedup", "efficiency"):
            for label in getattr(self.expect, figure):
                if label not in labels:
                    raise bad_key(
                        ["expect", figure, label],
                        f"{label!r} is not a strategy of this scenario{did_you_mean(label, labels)} "
                        f"(strategies: {', '.join(labels)})",
                    )
        if self.expect.speedup and REFERENCE not in labels:
            raise bad_key(["expect", "speedup"], "speedup expectations need a sequential run to compare with")
        if self.expect.tasks is not None and self.expect.tasks not in self.tasks:
            raise bad_key(["expect", "tasks"], f"{self.expect.tasks} is not one of the task counts {list(self.tasks)}")
        return self

    @property
    def latency(self) -> Distribution | None:
        """The delay distribution, or None for targets whose delays are not ours (callable, url)."""
        latency = getattr(self.target, "latency", None)
        return latency if isinstance(latency, Distribution) else None

    @field_validator("name", mode="after")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not _NAME.match(value):
            raise ValueError(
                f"name {value!r} must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return value

    @field_validator("tasks", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return (value,)
        if isinstance(value, list):
            if not value:
                raise ValueError("give at least one task count")
            if len(value) > MAX_TASK_COUNTS:
                raise ValueError(f"at most {MAX_TASK_COUNTS} task counts per scenario (got {len(value)})")
            return tuple(value)
        raise ValueError("expected a task count or a list of them, e.g. 10 or [1, 10, 100]")

    @field_validator("tasks", mode="after")
    @classmethod
    def _each_count_once(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        for i, count in enumerate(value):
            if count in value[:i]:
                raise bad_key(["tasks", i], f"{count} is listed twice")
        return value

    @field_validator("strategies", mode="before")
    @classmethod
    def _parse_strategies(cls, value: Any) -> Any:
        if not isinstance(value, list):
            raise ValueError("expected a list of strategies, e.g. [sequential, gather]")
        if not value:
            raise ValueError("give at least one strategy")
        if len(value) > MAX_STRATEGIES:  # before each is validated: the plan's square is n x n
            raise ValueError(f"at most {MAX_STRATEGIES} strategies per scenario (got {len(value)})")
        for i, item in enumerate(value):
            name = item.get("name") if isinstance(item, dict) else None
            if isinstance(item, dict) and "name" in item and not isinstance(name, str):
                raise bad_key(["strategies", i, "name"], f"a strategy's name is text, e.g. gather (got {name!r})")
            if isinstance(item, dict) and len(item) == 1 and not isinstance(next(iter(item)), str):
                raise bad_key(["strategies", i], "a strategy is a name (gather) or a one-key mapping")
        return tuple(value)

    @field_validator("strategies", mode="after")
    @classmethod
    def _unique_labels(cls, value: tuple[StrategySpec, ...]) -> tuple[StrategySpec, ...]:
        seen: set[str] = set()
        for spec in value:
            if spec.label in seen:
                raise ValueError(f"strategy {spec.label!r} is listed twice")
            seen.add(spec.label)
        return value


_NOT_DEFINITION = frozenset({"name", "description", "expect", "repeats", "warmup", "plugins", *ADAPTIVE_KEYS})
"""Keys that do not change what one measured run does: labels, how results are judged, how many rounds run, and
where its strategies and kinds were imported from (the definition names them)."""


def definition(scenario: Scenario) -> dict[str, Any]:
    """What one measured run of the scenario does, as JSON values: the keys of ``definition_hash`` (a URL's
    password left out, as results files leave it out)."""
    data = scenario.model_dump(mode="json", exclude=set(_NOT_DEFINITION), exclude_defaults=True)
    target = data.get("target")
    if isinstance(target, dict) and isinstance(target.get("url"), str):
        target["url"] = redact_userinfo(target["url"])
    return data


def definition_hash(scenario: Scenario) -> str:
    """sha256 (hex) of the canonical JSON of ``definition(scenario)``: equal hashes, comparable measurements.

    Included: task counts, target, strategies (in order), seed, timeout, connector limit, loop, processes, gc,
    server options. Excluded: name and description (labels), expect (how results are judged), repeats, warmup
    and the adaptive settings (how many rounds run, not what a round measures). Keys at their default values
    are left out, so a key added to the schema later with a default keeps every existing hash.

    >>> from bench.scenario.loader import parse_scenario
    >>> definition_hash(parse_scenario("name: a\\ntasks: 3\\ntarget: {latency: {dist: fixed, ms: 1}}"))[:12]
    'e85bee74c979'
    """
    text = json.dumps(definition(scenario), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


DEPENDENT_MODELS: list[type[BaseModel]] = []
"""Models that embed Scenario (the results records): rebuilt when a target kind or a distribution is added."""


def _rebuild() -> None:
    """Every model that holds a latency or a target, rebuilt from the registries as they stand now."""
    union = latency_union()
    for model in TARGET_MODELS.values():
        fields = [name for name, info in model.model_fields.items() if info.discriminator == "dist"]
        for name in fields:
            model.model_fields[name] = FieldInfo.from_annotation(union)
        if fields:
            model.model_rebuild(force=True)
    Scenario.model_fields["target"] = FieldInfo.from_annotation(target_union())
    Scenario.model_rebuild(force=True)
    for dependent in DEPENDENT_MODELS:
        dependent.model_rebuild(force=True)


def register_target_kind(kind: str, model: type[BaseModel]) -> None:
    """Accept ``target: {kind: KIND, ...}`` in scenarios, validated by ``model`` (which has ``kind: Literal[KIND]``).

    ``bench.targets.register_driver`` calls it for the driver's model: a target kind is registered once.
    """
    plugins.note("target kind", kind, model.__module__)
    TARGET_MODELS[kind] = model
    _rebuild()


def register_distribution(model: type[Distribution]) -> type[Distribution]:
    """Accept ``latency: {dist: NAME, ...}`` in every target with a latency (a class decorator); ``model`` is a
    ``Distribution`` with ``dist: Literal[NAME]`` and ``draw(rng) -> float`` (ms)."""
    add_distribution(model)
    _rebuild()
    return model
