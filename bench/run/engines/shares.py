"""The records of a run split over client processes: what a share is told (``RunSpec``), what it measured
(``ShareResult``), the deal of task indices, and the merge back into one run (``MergedRun``). Pure and picklable.

    split_indices(10, 3)               # ((0, 3, 6, 9), (1, 4, 7), (2, 5, 8)): task i goes to process i mod k
    run = merge(10, [share_0, share_1, share_2])   # samples back at their task indices; wall = latest return

Used by the subprocess pool (``bench.run.engines.processes``), each share's worker (``bench.run.engines.share_worker``)
and the Ray engine (``bench.run.engines.ray_actors``)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.results.records import Samples
from bench.scenario.model import Scenario
from bench.scenario.plan import Point, make_plan
from bench.strategies import Strategy


@dataclass(frozen=True)
class RunSpec:
    """Everything one run needs, as data a child (or a Ray actor) rebuilds the run from: the scenario as loaded,
    the task count's plan, the strategy's label, the local server's URL and the source addresses to bind."""

    scenario: Scenario
    point: Point
    label: str
    """The strategy, as the scenario labels it (``bounded(limit=10)``)."""
    base_url: str = ""
    sources: tuple[str, ...] = ()

    @property
    def tasks(self) -> int:
        """Tasks in the whole run (all processes)."""
        return self.point.tasks

    def strategy(self) -> Strategy:
        """A fresh instance of the labelled strategy."""
        return next(s for s in self.scenario.strategies if s.label == self.label).build()

    @classmethod
    def local(cls, base_url: str, tasks: int, delay_ms: float, strategy: str = "gather", **keys: object) -> RunSpec:
        """A run of ``tasks`` GETs of ``delay_ms`` on the local server at ``base_url`` (``keys``: more scenario
        keys, e.g. ``timeout_s=120``), or of ``asyncio.sleep`` with ``kind="sleep"``; ``client="minimal"`` for
        the minimal HTTP client."""
        kind = keys.pop("kind", "local")
        client = {"client": keys.pop("client")} if "client" in keys else {}
        document: dict[str, object] = {
            "name": "spec",
            "tasks": tasks,
            "target": {"kind": kind, "latency": {"dist": "fixed", "ms": delay_ms}, **client},
            "strategies": [strategy],
            "repeats": 1,
            "warmup": 0,
            **keys,
        }
        scenario = Scenario.model_validate(document)
        return cls(scenario, make_plan(scenario).points[0], scenario.strategies[0].label, base_url)


@dataclass(frozen=True)
class ShareResult:
    """What one process measured over its share; times are ns after the common start, on its own clock."""

    indices: tuple[int, ...]
    samples: Samples
    """The share's samples, in the order of ``indices``."""
    returned_ns: int
    """When the strategy returned or raised."""
    late_ns: int
    """How late this process left its wait for the common start."""
    outcome: str
    reason: str
    peak_inflight: int
    connector_limit: int | None
    warm_s: float
    peak_rss_mb: float
    pid: int
    gc_passes: tuple[int, ...] = (0, 0, 0)
    """Garbage-collector passes during the share's timed region, by generation."""
    gc_ms: float = 0.0
    """Time spent in them, ms."""
    messages: tuple[str, ...] = ()
    """The share's distinct failure messages (its samples' ``message`` indices point into them)."""
    connections: int | None = None
    """Connections the share's client opened during the timed run."""


@dataclass(frozen=True)
class MergedRun:
    """One run over all processes, samples back at their task indices. ``offsets_ns`` is set by the Ray engine."""

    wall_ns: int
    """Latest time any process's strategy returned, after the common start."""
    samples: Samples
    outcome: str
    """ok, or failed if any process's strategy raised."""
    reason: str
    shares: tuple[ShareResult, ...]
    offsets_ns: tuple[int, ...] = field(default=())
    """Clock offset of each process from the driver (Ray), as estimated; () when all share one clock."""
    messages: tuple[str, ...] = ()
    """Every share's distinct failure messages, each once (the samples' ``message`` indices point into them)."""

    @property
    def connections(self) -> int | None:
        """Connections opened during the run, over every process; None when no share counted them."""
        counted = [s.connections for s in self.shares if s.connections is not None]
        return sum(counted) if counted else None

    @property
    def start_ns(self) -> tuple[int, ...]:
        """When each task's I/O started."""
        return self.samples.start_ns

    @property
    def end_ns(self) -> tuple[int, ...]:
        """When each task ended."""
        return self.samples.end_ns

    @property
    def error(self) -> tuple[str, ...]:
        """Each task's error kind ('' for none)."""
        return self.samples.error

    @property
    def finished(self) -> int:
        """Tasks that finished ok."""
        return sum(1 for e in self.samples.error if e == "")

    @property
    def gc_passes(self) -> tuple[int, ...]:
        """Garbage-collector passes by generation, summed over the processes."""
        return tuple(sum(column) for column in zip(*(s.gc_passes for s in self.shares), strict=True))

    @property
    def gc_ms(self) -> float:
        """Time in garbage-collector passes in the process that spent the most, ms."""
        return max((s.gc_ms for s in self.shares), default=0.0)

    @property
    def peak_rss_mb(self) -> tuple[float, ...]:
        """Peak resident memory of each client process, MB."""
        return tuple(s.peak_rss_mb for s in self.shares)


def split_indices(n: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Task indices 0..n-1 dealt to k processes in turn: (0, k, 2k, ...), (1, k+1, ...), ... Pure."""
    if k < 1:
        raise ValueError(f"processes must be at least 1, got {k}")
    return tuple(tuple(range(j, n, k)) for j in range(k))


_COLUMNS = ("created_ns", "start_ns", "end_ns", "status", "nbytes", "error", "service_us", "message")
_EMPTY: dict[str, object] = {"status": 0, "nbytes": 0, "error": "not_started", "service_us": -1, "message": -1}
_TIMES = ("created_ns", "start_ns", "end_ns")


def merge(n: int, shares: Sequence[ShareResult], shifts_ns: Sequence[int] = ()) -> MergedRun:
    """Put each share's samples back at their task indices; ``shifts_ns`` (per share) is subtracted from its times.

    A task no share ran keeps error 'not_started'. Pure.
    """
    shifts = tuple(shifts_ns) or (0,) * len(shares)
    columns: dict[str, list[Any]] = {c: [_EMPTY.get(c, -1)] * n for c in _COLUMNS}
    messages: dict[str, int] = {}
    for share, shift in zip(shares, shifts, strict=True):
        remap = [messages.setdefault(text, len(messages)) for text in share.messages]
        for name in _COLUMNS:
            values = getattr(share.samples, name) or (-1,) * len(share.indices)
            for pos, i in enumerate(share.indices):
                value = values[pos]
                if name in _TIMES:
                    value = value - shift if value >= 0 else -1
                elif name == "message":
                    value = remap[value] if value >= 0 else -1
                columns[name][i] = value
    failed = [s for s in shares if s.outcome != "ok"]
    return MergedRun(
        wall_ns=max((s.returned_ns - shift for s, shift in zip(shares, shifts, strict=True)), default=0),
        samples=Samples(**{name: tuple(values) for name, values in columns.items()}),
        outcome="failed" if failed else "ok",
        reason=failed[0].reason if failed else "",
        shares=tuple(shares),
        offsets_ns=tuple(shifts_ns),
        messages=tuple(messages),
    )


def same_clock_everywhere() -> bool:
    """True where monotonic_ns and perf_counter_ns are both CLOCK_MONOTONIC (one clock for every process)."""
    return all(
        "CLOCK_MONOTONIC" in time.get_clock_info(name).implementation
        and "RAW" not in time.get_clock_info(name).implementation
        for name in ("monotonic", "perf_counter")
    )
