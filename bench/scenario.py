"""Scenario files: YAML in, a validated, frozen ``Scenario`` out; every mistake named by file, key path and line.

>>> [(path, sc)] = load_paths(["scenarios/seed.yaml"])
>>> sc.tasks, [s.label for s in sc.strategies]
((10,), ['sequential', 'gather'])
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union, get_args
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Strict,
    Tag,
    ValidationError,
    field_serializer,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError

from bench.errors import Loc, ScenarioError, describe_error, did_you_mean
from bench.limits import (
    MAX_BUDGET_S,
    MAX_BYTES,
    MAX_DELAY_MS,
    MAX_PROCESSES,
    MAX_REPEATS,
    MAX_TASKS,
    MAX_TIMEOUT_S,
    MAX_WARMUP,
)
from bench.strategies import REFERENCE, StrategySpec

# Numbers as YAML writes them: no strings, no booleans posing as 0/1.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict(), Field(allow_inf_nan=False)]
NonNegMs = Annotated[float, Strict(), Field(ge=0, le=MAX_DELAY_MS, allow_inf_nan=False)]
PositiveMs = Annotated[float, Strict(), Field(gt=0, le=MAX_DELAY_MS, allow_inf_nan=False)]

_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEFAULT_PRECISION = 0.02
"""``repeats: auto`` stops once the interval's relative half-width is at most this (2%)."""
DEFAULT_MIN_REPEATS = 5
"""``repeats: auto`` runs at least this many rounds."""
DEFAULT_MAX_REPEATS = 30
"""``repeats: auto`` runs at most this many rounds."""
DEFAULT_BUDGET_S = 20.0
"""``repeats: auto`` starts no new round after this many seconds at one task count."""


class _Record(BaseModel):
    """Base of every scenario model: frozen, and unknown keys are errors with a suggestion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = set(cls.model_fields)
            for key in data:
                if key not in known:
                    hint = did_you_mean(key, known) or f"; valid keys: {', '.join(sorted(known))}"
                    raise PydanticCustomError("unknown_key", "unknown key {key}{hint}", {"key": key, "hint": hint})
        return data


# --- latency distributions (all in milliseconds) -------------------------------------------------


class Fixed(_Record):
    """Every task waits exactly ``ms``."""

    dist: Literal["fixed"]
    ms: NonNegMs


class Uniform(_Record):
    """Delays uniform between ``low_ms`` and ``high_ms``."""

    dist: Literal["uniform"]
    low_ms: NonNegMs
    high_ms: NonNegMs

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high_ms < self.low_ms:
            raise ValueError(f"high_ms ({self.high_ms:g}) is below low_ms ({self.low_ms:g})")
        return self


class Normal(_Record):
    """Normal delays with ``mean_ms`` and ``sd_ms``; draws below 0 are clipped to 0."""

    dist: Literal["normal"]
    mean_ms: NonNegMs
    sd_ms: NonNegMs


class LogNormal(_Record):
    """Log-normal delays: ``median_ms`` is exp(mu), ``sigma`` the standard deviation of the log."""

    dist: Literal["lognormal"]
    median_ms: PositiveMs
    sigma: Annotated[float, Strict(), Field(ge=0, le=5, allow_inf_nan=False)]


class Exponential(_Record):
    """Exponential delays with ``mean_ms``."""

    dist: Literal["exponential"]
    mean_ms: PositiveMs


Latency = Annotated[Fixed | Uniform | Normal | LogNormal | Exponential, Field(discriminator="dist")]
DISTRIBUTIONS: tuple[str, ...] = tuple(
    get_args(model.model_fields["dist"].annotation)[0] for model in get_args(get_args(Latency)[0])
)
"""Every ``dist`` a latency may name, read from the union above."""


class LocalTarget(_Record):
    """The built-in local aiohttp server: each task GETs ``/delay/<its delay>``."""

    kind: Literal["local"] = "local"
    latency: Latency
    bytes: Annotated[int, Strict(), Field(ge=0, le=MAX_BYTES)] = 0
    """Response body size in bytes."""
    status: Annotated[int, Strict(), Field(ge=200, le=599)] = 200
    """HTTP status the server answers with."""
    error_rate: Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    """Fraction of tasks (chosen per task index from the seed) that fail on the server's side."""
    error_kind: Literal["status", "reset", "hang"] = "status"
    """How those tasks fail: a 500 answer, a dropped connection, or no answer at all (the timeout decides)."""
    fail_on_status: Annotated[bool, Strict()] = True
    """Count a status of 400 or above as a failed task (as ``raise_for_status`` would)."""


class SleepTarget(_Record):
    """No I/O at all: each task is ``asyncio.sleep`` (``time.sleep`` in threads) of its delay."""

    kind: Literal["sleep"]
    latency: Latency


class CallableTarget(_Record):
    """The user's own function, ``package.module:function``, called with the task index."""

    kind: Literal["callable"] = "callable"
    callable: Annotated[str, Strict()]
    """``package.module:function``: an ``async def f(i)`` for the asyncio strategies."""
    sync_callable: Annotated[str, Strict()] | None = None
    """``package.module:function``: a plain ``def f(i)`` for the threads strategy."""

    @field_validator("callable", "sync_callable", mode="after")
    @classmethod
    def _importable(cls, value: str | None) -> str | None:
        if value is not None and not _CALLABLE.match(value):
            raise ValueError(f"expected 'package.module:function', got {value!r}")
        return value


class UrlTarget(_Record):
    """Any HTTP(S) URL, fetched once per task. Not on loopback? Then it needs ``allow_external: true`` here
    *and* ``--allow-external`` on the command line: iobench never points load at a host by accident."""

    kind: Literal["url"]
    url: Annotated[str, Strict()]
    allow_external: Annotated[bool, Strict()] = False
    fail_on_status: Annotated[bool, Strict()] = True
    """Count a status of 400 or above as a failed task."""

    @field_validator("url", mode="after")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"expected an http:// or https:// URL with a host, got {value!r}")
        return value

    @property
    def host(self) -> str:
        """The URL's host name."""
        return urlsplit(self.url).hostname or ""


def _target_kind(value: Any) -> str | None:
    if isinstance(value, Mapping):
        kind = value.get("kind", "callable" if "callable" in value else "local")
        return kind if isinstance(kind, str) else None
    return getattr(value, "kind", None)


TARGET_MODELS: dict[str, type[BaseModel]] = {
    "local": LocalTarget,
    "sleep": SleepTarget,
    "callable": CallableTarget,
    "url": UrlTarget,
}
"""The scenario model of every target ``kind``; ``register_target_kind`` adds one."""


def _target_union() -> Any:
    members = tuple(Annotated[model, Tag(kind)] for kind, model in TARGET_MODELS.items())
    return Annotated[Union[members], Discriminator(_target_kind)]  # noqa: UP007 (a runtime-built union)


if TYPE_CHECKING:  # what the type checker sees; at run time, the union of TARGET_MODELS as it stands
    Target: TypeAlias = LocalTarget | SleepTarget | CallableTarget | UrlTarget
else:
    Target = _target_union()
TARGET_KINDS: tuple[str, ...] = tuple(TARGET_MODELS)
"""Every target ``kind``, read from TARGET_MODELS."""
_TAG_OWNERS = {dist: f"dist: {dist}" for dist in DISTRIBUTIONS} | {kind: f"kind: {kind}" for kind in TARGET_KINDS}
"""The tags pydantic puts in an error's location, as the YAML that chose them."""


class ServerOptions(_Record):
    """How the local server runs: worker processes sharing one port (SO_REUSEPORT) and the listen backlog."""

    workers: Annotated[int, Strict(), Field(ge=1, le=16)] | None = None
    """Server processes; None: as many as the scenario's client ``processes`` (one by default)."""
    backlog: Annotated[int, Strict(), Field(ge=16, le=65535)] = 1024
    loop: Literal["asyncio", "uvloop"] | None = None
    """The server's event loop; None: uvloop when installed, else asyncio (recorded in the results either way)."""


_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<)?\s*([0-9]+(?:\.[0-9]+)?)\s*(%|x)?\s*$")
_BOUND_EXAMPLES = "'>= 5x', '>= 90%' or '< 1%'"


class Threshold(_Record):
    """A bound such as ``>= 5x``, ``>= 0.9`` or ``< 1%``, parsed from its text (``%`` divides by 100, ``x`` is a
    speedup's unit). A bare figure such as ``5x`` means "at least"; the ``error_rate`` expectation reads a bare
    figure as "at most" (``Expectations`` adds the comparison before the text gets here)."""

    op: Literal[">=", ">", "<=", "<"]
    value: float
    text: str

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if isinstance(data, str):
            match = _THRESHOLD.match(data)
            if not match:
                raise ValueError(f"expected a bound such as {_BOUND_EXAMPLES}, got {data!r}")
            op, number, unit = match.groups()
            if op is None:
                raise ValueError(f"expected a bound with its comparison, e.g. '>= {data.strip()}'")
            value = float(number) / (100 if unit == "%" else 1)
            return {"op": op, "value": value, "text": f"{op} {number}{unit or ''}"}
        if isinstance(data, int | float) and not isinstance(data, bool):
            raise ValueError(f"expected a bound with its comparison, e.g. '>= {data}'")
        return data

    @property
    def unit(self) -> str:
        """``x``, ``%`` or ``""``, as written."""
        return self.text[-1] if self.text[-1] in "x%" else ""

    def holds(self, figure: float) -> bool:
        """True when ``figure`` satisfies the bound."""
        match self.op:
            case ">=":
                return figure >= self.value
            case ">":
                return figure > self.value
            case "<=":
                return figure <= self.value
            case "<":
                return figure < self.value


class Expectations(_Record):
    """Thresholds ``iobench check`` holds the results to (k6-style), at one task count."""

    speedup: dict[str, Threshold] = {}
    """Per strategy label: its speedup over sequential (paired, with a bootstrap interval)."""
    efficiency: dict[str, Threshold] = {}
    """Per strategy label: ideal time / measured time."""
    error_rate: Threshold | None = None
    """Failed tasks / all tasks, over every strategy."""
    tasks: Annotated[int, Strict(), Field(ge=1)] | None = None
    """The task count the expectations apply to; default: the largest."""

    @model_validator(mode="before")
    @classmethod
    def _bare_figures(cls, data: Any) -> Any:
        """``5x`` and ``90%`` mean at least that; a bare ``error_rate: 1%`` means at most that."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for figure in ("speedup", "efficiency"):
            if isinstance(data.get(figure), Mapping):
                data[figure] = {k: _with_comparison(v, ">=") for k, v in data[figure].items()}
        if "error_rate" in data:
            data["error_rate"] = _with_comparison(data["error_rate"], "<=")
        return data

    @model_validator(mode="after")
    def _units_fit(self) -> Expectations:
        for figure in ("efficiency", "error_rate"):
            value = getattr(self, figure)
            bounds = value if isinstance(value, dict) else {None: value} if value is not None else {}
            for label, bound in bounds.items():
                if bound.unit == "x":
                    path = ["expect", figure] if label is None else ["expect", figure, label]
                    example = ">= 90%" if figure == "efficiency" else "< 1%"
                    raise _bad_key(
                        path,
                        f"'x' is the unit of speedups; write {figure} as a fraction or a percentage, e.g. {example!r}",
                    )
        return self


_HAS_COMPARISON = re.compile(r"^\s*(>=|<=|>|<)")


def _with_comparison(value: Any, op: str) -> Any:
    """``5x`` -> ``>= 5x``: a bare figure in text gets the figure's usual comparison; anything else is left alone."""
    if isinstance(value, str) and _THRESHOLD.match(value) and not _HAS_COMPARISON.match(value):
        return f"{op} {value.strip()}"
    return value


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
_ADAPTIVE_KEYS = ("precision", "min_repeats", "max_repeats", "budget_s")


def _bad_key(path: list[str | int], message: str) -> PydanticCustomError:
    """An error the loader reports at ``path`` (from the top of the document) with our own ``message``."""
    return PydanticCustomError("bad_key", "{message}", {"message": message, "path": path})


class Scenario(_Record):
    """One scenario: what to run, how often, and against what."""

    name: Annotated[str, Strict()]
    description: Annotated[str, Strict()] = ""
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
    server: ServerOptions = ServerOptions()
    """Options of the local server (ignored by other targets)."""
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
            for key in _ADAPTIVE_KEYS:
                if getattr(self, key) is not None:
                    raise _bad_key([key], f"applies to repeats: auto only (repeats is {self.repeats})")
            return self
        adaptive = self.adaptive
        assert adaptive is not None
        if adaptive.min_repeats > adaptive.max_repeats:
            if self.min_repeats is not None:
                default = "" if self.max_repeats is not None else ", the default"
                raise _bad_key(
                    ["min_repeats"], f"{adaptive.min_repeats} is above max_repeats ({adaptive.max_repeats}{default})"
                )
            raise _bad_key(
                ["max_repeats"], f"{adaptive.max_repeats} is below min_repeats ({adaptive.min_repeats}, the default)"
            )
        return self

    @model_validator(mode="after")
    def _processes_have_tasks(self) -> Scenario:
        if self.processes > min(self.tasks):
            raise _bad_key(
                ["processes"],
                f"{self.processes} is more than the smallest task count ({min(self.tasks)}); "
                "every process needs at least one task",
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
                    raise _bad_key(
                        ["expect", figure, label],
                        f"{label!r} is not a strategy of this scenario{did_you_mean(label, labels)} "
                        f"(strategies: {', '.join(labels)})",
                    )
        if self.expect.speedup and REFERENCE not in labels:
            raise _bad_key(["expect", "speedup"], "speedup expectations need a sequential run to compare with")
        if self.expect.tasks is not None and self.expect.tasks not in self.tasks:
            raise _bad_key(["expect", "tasks"], f"{self.expect.tasks} is not one of the task counts {list(self.tasks)}")
        return self

    @property
    def latency(self) -> Latency | None:
        """The delay distribution, or None for targets whose delays are not ours (callable, url)."""
        latency = getattr(self.target, "latency", None)
        return latency if isinstance(latency, Fixed | Uniform | Normal | LogNormal | Exponential) else None

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
            return tuple(value)
        raise ValueError("expected a task count or a list of them, e.g. 10 or [1, 10, 100]")

    @field_validator("strategies", mode="before")
    @classmethod
    def _parse_strategies(cls, value: Any) -> Any:
        if not isinstance(value, list):
            raise ValueError("expected a list of strategies, e.g. [sequential, gather]")
        if not value:
            raise ValueError("give at least one strategy")
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


# --- YAML with line numbers ------------------------------------------------------------------------

Path_ = tuple[str | int, ...]


def _key_text(node: yaml.Node) -> str | None:
    """Scalar mapping keys as text; anything else (a list used as a key) is not a valid key."""
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _index_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int], errors: list[str]) -> None:
    """Record the 1-based line of every key path; report duplicate and non-scalar keys."""
    stack: list[tuple[yaml.Node, Path_]] = [(node, path)]
    seen_nodes: set[int] = set()
    while stack:
        current, here = stack.pop()
        lines.setdefault(here, current.start_mark.line + 1)
        if id(current) in seen_nodes:  # aliases share nodes; walk each once
            continue
        seen_nodes.add(id(current))
        if isinstance(current, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in current.value:
                key = _key_text(key_node)
                line = key_node.start_mark.line + 1
                if key is None:
                    errors.append(f"{line}: {_dotted(here) or '<top>'}: keys must be plain names")
                    continue
                if key == "<<":  # merge keys are expanded by the constructor
                    continue
                if key in keys:
                    errors.append(f"{line}: {_dotted((*here, key))}: duplicate key {key!r}")
                keys.add(key)
                lines[(*here, key)] = line
                stack.append((value_node, (*here, key)))
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                stack.append((item, (*here, i)))


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in path)


def _locate(loc: Sequence[str | int], lines: Mapping[Path_, int]) -> tuple[Path_, int]:
    """Map a pydantic error location onto the YAML key path, skipping union tags pydantic adds."""
    path: Path_ = ()
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
    return path, lines.get(path, 1)


def _required_keys() -> str:
    names = [repr(name) for name, field in Scenario.model_fields.items() if field.is_required()]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def _describe(err: Mapping[str, Any], lines: Mapping[Path_, int]) -> str:
    """One pydantic error as ``line: key.path: message``, in iobench's words."""
    loc: Loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "bad_key":
        loc, message = tuple(ctx["path"]), ctx["message"]
    elif kind == "unknown_key":
        loc, message = (*loc, ctx["key"]), f"unknown key {ctx['key']!r}{ctx['hint']}"
    elif kind == "union_tag_invalid" and ctx.get("discriminator") == "'dist'":
        loc, message = (
            (*loc, "dist"),
            f"unknown distribution {ctx.get('tag')!r}; expected one of {_quoted(DISTRIBUTIONS)}",
        )
    elif kind == "union_tag_invalid":
        loc, message = (
            (*loc, "kind"),
            f"unknown target kind {ctx.get('tag')!r}; expected one of {_quoted(TARGET_KINDS)}",
        )
    elif kind == "union_tag_not_found" and ctx.get("discriminator") == "'dist'":
        message = f"missing key 'dist' (one of {_quoted(DISTRIBUTIONS)})"
    elif kind == "union_tag_not_found":
        message = (
            f"expected a mapping with a 'kind' (one of {_quoted(TARGET_KINDS)}), "
            "e.g. {latency: {dist: fixed, ms: 20}}"
        )
    else:
        owner = ""
        if kind == "missing":
            tag = loc[-2] if len(loc) > 1 else None
            owner = _TAG_OWNERS.get(tag, "") if isinstance(tag, str) else "every scenario" if len(loc) == 1 else ""
        loc, message = describe_error(err, owner)
    path, line = _locate(loc, lines)
    return f"{line}: {_dotted(path) or '<top>'}: {message}"


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(name) for name in names)


def _compose(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    """Parse the YAML once: the node tree (for line numbers) and the values built from that same tree."""
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)  # the reader checks the characters here already
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(f"{source}: the file is empty; a scenario needs at least {_required_keys()}")
        lines: dict[Path_, int] = {}
        problems: list[str] = []
        _index_lines(node, (), lines, problems)  # before constructing: merge keys rewrite the tree in place
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        opened = exc.context_mark
        context = (
            f" ({exc.context} at {opened.line + 1}:{opened.column + 1})"
            if exc.context and opened is not None and opened is not mark
            else ""
        )
        raise ScenarioError(f"{source}:{where}: not valid YAML: {exc.problem or exc.context}{context}") from None
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError) as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if problems:
        raise ScenarioError("\n".join(f"{source}:{p}" for p in problems))
    return data, lines


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Parse and validate one scenario document, raising ScenarioError that names source, key path and line."""
    data, lines = _compose(text, source)
    if not isinstance(data, dict):
        fields = ", ".join(name for name, f in Scenario.model_fields.items() if f.is_required())
        raise ScenarioError(f"{source}:1: <top>: a scenario is a mapping of keys ({fields}, ...)")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        details = [_describe(e, lines) for e in exc.errors(include_url=False)]
        raise ScenarioError("\n".join(f"{source}:{d}" for d in details)) from None
    except RecursionError:
        raise ScenarioError(f"{source}: the document is nested too deeply") from None


def load_file(path: Path) -> Scenario:
    """Read and validate one scenario file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_scenario(text, str(path))


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
            if not found:
                raise ScenarioError(f"{path}: no scenario files (*.yaml, *.yml) in this folder")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise ScenarioError(f"{path}: no such file or folder")
    return files


def validate(paths: Iterable[str | Path]) -> list[tuple[Path, Scenario]]:
    """Every check the loader makes, over every file given; one ScenarioError listing every file's problems.

    >>> [(path, scenario)] = validate(["scenarios/seed.yaml"])   # what `iobench validate` runs
    """
    problems: list[str] = []
    loaded: list[tuple[Path, Scenario]] = []
    files: list[Path] = []
    for raw in paths:
        try:
            files.extend(_expand([raw]))
        except ScenarioError as exc:
            problems.append(str(exc))
    for path in files:
        try:
            loaded.append((path, load_file(path)))
        except ScenarioError as exc:
            problems.append(str(exc))
    first: dict[str, Path] = {}
    for path, scenario in loaded:
        if scenario.name in first:
            problems.append(f"{path}: name: scenario name {scenario.name!r} is already used by {first[scenario.name]}")
        first.setdefault(scenario.name, path)
    if problems:
        raise ScenarioError("\n".join(problems))
    if not loaded:
        raise ScenarioError("no scenario files given")
    return loaded


def load_paths(paths: Iterable[str | Path]) -> list[tuple[Path, Scenario]]:
    """Load every scenario in the given files and folders (non-recursive); names must be unique."""
    return validate(paths)


_NOT_DEFINITION = frozenset({"name", "description", "expect", "repeats", "warmup", *_ADAPTIVE_KEYS})
"""Keys that do not change what one measured run does: labels, how results are judged, how many rounds run."""


def definition(scenario: Scenario) -> dict[str, Any]:
    """What one measured run of the scenario does, as JSON values: the keys of ``definition_hash``."""
    return scenario.model_dump(mode="json", exclude=set(_NOT_DEFINITION), exclude_defaults=True)


def definition_hash(scenario: Scenario) -> str:
    """sha256 (hex) of the canonical JSON of ``definition(scenario)``: equal hashes, comparable measurements.

    Included: task counts, target, strategies (in order), seed, timeout, connector limit, loop, processes,
    server options. Excluded: name and description (labels), expect (how results are judged), repeats, warmup
    and the adaptive settings (how many rounds run, not what a round measures). Keys at their default values
    are left out, so a key added to the schema later with a default keeps every existing hash.

    >>> definition_hash(parse_scenario("name: a\\ntasks: 3\\ntarget: {latency: {dist: fixed, ms: 1}}"))[:12]
    'e85bee74c979'
    """
    text = json.dumps(definition(scenario), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


DEPENDENT_MODELS: list[type[BaseModel]] = []
"""Models that embed Scenario (the results records): rebuilt when a target kind is added."""


def register_target_kind(kind: str, model: type[BaseModel]) -> None:
    """Accept ``target: {kind: KIND, ...}`` in scenarios, validated by ``model`` (which has ``kind: Literal[KIND]``).

    Pair it with a driver (``bench.targets.register_driver``): together they are a new target kind.
    """
    global TARGET_KINDS
    TARGET_MODELS[kind] = model
    TARGET_KINDS = tuple(TARGET_MODELS)
    _TAG_OWNERS[kind] = f"kind: {kind}"
    Scenario.model_fields["target"] = FieldInfo.from_annotation(_target_union())
    Scenario.model_rebuild(force=True)
    for dependent in DEPENDENT_MODELS:
        dependent.model_rebuild(force=True)
