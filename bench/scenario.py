"""Scenario files: YAML in, a validated, frozen ``Scenario`` out; every mistake named by file, key path and line.

>>> [(path, sc)] = load_paths(["scenarios/seed.yaml"])
>>> sc.tasks, [s.label for s in sc.strategies]
((10,), ['sequential', 'gather'])
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal
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
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bench.errors import ScenarioError
from bench.strategies import StrategySpec

# Numbers as YAML writes them: no strings, no booleans posing as 0/1.
Int = Annotated[int, Strict()]
Float = Annotated[float, Strict(), Field(allow_inf_nan=False)]
NonNegMs = Annotated[float, Strict(), Field(ge=0, le=60_000, allow_inf_nan=False)]

_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
MAX_DELAY_MS = 60_000.0
"""Upper bound of one task's delay; the local server refuses longer ones."""
MAX_TASKS = 100_000
"""Upper bound of one task count; beyond this a single process is the bottleneck, not the I/O."""
MAX_BYTES = 100 * 1024 * 1024
"""Upper bound of one response body; the local server refuses larger ones."""


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
                    close = difflib.get_close_matches(str(key), sorted(known), n=1)
                    hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(sorted(known))}"
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
    median_ms: Annotated[float, Strict(), Field(gt=0, le=60_000, allow_inf_nan=False)]
    sigma: Annotated[float, Strict(), Field(ge=0, le=5, allow_inf_nan=False)]


class Exponential(_Record):
    """Exponential delays with ``mean_ms``."""

    dist: Literal["exponential"]
    mean_ms: Annotated[float, Strict(), Field(gt=0, le=60_000, allow_inf_nan=False)]


Latency = Annotated[Fixed | Uniform | Normal | LogNormal | Exponential, Field(discriminator="dist")]


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


Target = Annotated[
    Annotated[LocalTarget, Tag("local")]
    | Annotated[SleepTarget, Tag("sleep")]
    | Annotated[CallableTarget, Tag("callable")]
    | Annotated[UrlTarget, Tag("url")],
    Discriminator(_target_kind),
]


class ServerOptions(_Record):
    """How the local server runs: worker processes sharing one port (SO_REUSEPORT) and the listen backlog."""

    workers: Annotated[int, Strict(), Field(ge=1, le=16)] = 1
    backlog: Annotated[int, Strict(), Field(ge=16, le=65535)] = 1024


_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<)\s*([0-9]+(?:\.[0-9]+)?)\s*(%?)\s*$")


class Threshold(_Record):
    """A bound such as ``>= 5`` or ``< 1%``, parsed from its text."""

    op: Literal[">=", ">", "<=", "<"]
    value: float
    text: str

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if isinstance(data, str):
            match = _THRESHOLD.match(data)
            if not match:
                raise ValueError(f"expected a bound such as '>= 5' or '< 1%', got {data!r}")
            op, number, percent = match.groups()
            value = float(number) / (100 if percent else 1)
            return {"op": op, "value": value, "text": data.strip()}
        if isinstance(data, int | float) and not isinstance(data, bool):
            raise ValueError(f"expected a bound with its comparison, e.g. '>= {data}'")
        return data

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


class Scenario(_Record):
    """One scenario: what to run, how often, and against what."""

    name: Annotated[str, Strict()]
    description: Annotated[str, Strict()] = ""
    tasks: tuple[Annotated[int, Strict(), Field(ge=1, le=MAX_TASKS)], ...]
    """Task counts to run: one, or several for a sweep."""
    target: Target
    strategies: tuple[StrategySpec, ...] = (StrategySpec(name="sequential"), StrategySpec(name="gather"))
    repeats: Annotated[int, Strict(), Field(ge=1, le=1000)] = 5
    warmup: Annotated[int, Strict(), Field(ge=0, le=100)] = 1
    seed: Annotated[int, Strict(), Field(ge=0, le=2**63 - 1)] = 0
    timeout_s: Annotated[float, Strict(), Field(gt=0, le=3600, allow_inf_nan=False)] = 30.0
    """Per-task timeout (aiohttp ``ClientTimeout(total=...)``)."""
    connector_limit: Annotated[int, Strict(), Field(ge=1, le=1_000_000)] | None = None
    """aiohttp connector limit; ``null`` (the default) means unlimited, unlike aiohttp's own default of 100."""
    loop: Literal["asyncio", "uvloop"] = "asyncio"
    """Event loop for every strategy of the scenario."""
    server: ServerOptions = ServerOptions()
    """Options of the local server (ignored by other targets)."""
    expect: Expectations = Expectations()
    """What ``iobench check`` requires of the results."""

    @model_validator(mode="after")
    def _expectations_name_real_things(self) -> Scenario:
        labels = [s.label for s in self.strategies]
        for figure in ("speedup", "efficiency"):
            for label in getattr(self.expect, figure):
                if label not in labels:
                    close = difflib.get_close_matches(label, labels, n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    raise PydanticCustomError(
                        "bad_key",
                        "{message}",
                        {
                            "message": f"{label!r} is not a strategy of this scenario; "
                            f"{hint}(strategies: {', '.join(labels)})",
                            "path": ["expect", figure, label],
                        },
                    )
        if self.expect.speedup and "sequential" not in labels:
            raise PydanticCustomError(
                "bad_key",
                "{message}",
                {
                    "message": "speedup expectations need a sequential run to compare with",
                    "path": ["expect", "speedup"],
                },
            )
        if self.expect.tasks is not None and self.expect.tasks not in self.tasks:
            raise PydanticCustomError(
                "bad_key",
                "{message}",
                {
                    "message": f"{self.expect.tasks} is not one of the task counts {list(self.tasks)}",
                    "path": ["expect", "tasks"],
                },
            )
        return self

    @property
    def latency(self) -> Latency | None:
        """The delay distribution, or None for targets whose delays are not ours (callable, url)."""
        return self.target.latency if isinstance(self.target, LocalTarget | SleepTarget) else None

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


def _describe(err: Mapping[str, Any], lines: Mapping[Path_, int]) -> str:
    loc = list(err["loc"])
    ctx = err.get("ctx") or {}
    if err["type"] == "bad_key":
        loc = list(ctx["path"])
        message = ctx["message"]
    elif err["type"] == "unknown_key":
        loc.append(ctx["key"])
        message = f"unknown key {ctx['key']!r}{ctx['hint']}"
    elif err["type"] == "union_tag_invalid" and ctx.get("discriminator") == "'dist'":
        message = f"unknown distribution {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
        loc.append("dist")
    elif err["type"] == "union_tag_invalid":
        message = f"unknown target kind {ctx.get('tag')!r}; expected one of {ctx.get('expected_tags')}"
        loc.append("kind")
    elif err["type"] == "union_tag_not_found" and ctx.get("discriminator") == "'dist'":
        message = "missing key 'dist' (one of 'fixed', 'uniform', 'normal', 'lognormal', 'exponential')"
    elif err["type"] == "union_tag_not_found":
        message = (
            "expected a mapping: {latency: ...} (local server), {kind: sleep, latency: ...}, {callable: mod:fn} "
            "or {kind: url, url: ...}"
        )
    elif err["type"] == "missing":
        message = f"missing required key {loc[-1]!r}"
        loc = loc[:-1]
    else:
        message = str(err["msg"]).removeprefix("Value error, ").replace("Input should be", "should be", 1)
        value = err.get("input")
        if err["type"] not in {"value_error", "assertion_error"} and not isinstance(value, dict | list):
            message += f" (got {value!r})"
    path, line = _locate(loc, lines)
    return f"{line}: {_dotted(path) or '<top>'}: {message}"


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Parse and validate one scenario document, raising ScenarioError that names source, key path and line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is None:
            raise ScenarioError(f"{source}: the file is empty; a scenario needs at least 'name', 'tasks' and 'target'")
        data = yaml.load(text, Loader=yaml.SafeLoader)
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
    lines: dict[Path_, int] = {}
    problems: list[str] = []
    _index_lines(node, (), lines, problems)
    if problems:
        raise ScenarioError("\n".join(f"{source}:{p}" for p in problems))
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}:1: <top>: a scenario is a mapping of keys (name, tasks, target, ...)")
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


def load_paths(paths: Iterable[str | Path]) -> list[tuple[Path, Scenario]]:
    """Load every scenario in the given files and folders (non-recursive); names must be unique."""
    loaded = [(path, load_file(path)) for path in _expand(paths)]
    if not loaded:
        raise ScenarioError("no scenario files given")
    first: dict[str, Path] = {}
    for path, scenario in loaded:
        if scenario.name in first:
            raise ScenarioError(
                f"{path}: name: scenario name {scenario.name!r} is already used by {first[scenario.name]}"
            )
        first[scenario.name] = path
    return loaded
