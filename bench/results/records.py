"""The records a run produces, frozen: samples, runs, points, scenarios, the whole file; and its schema history.

    RunResult(strategy="gather", ..., samples=Samples(...))    # one timed run
    ResultsFile(created_utc=..., scenarios=(ScenarioResult(...),), ...)

Reading and writing them is ``bench.results.files``; the machine they were made on ``bench.results.environment``.

Schema history (``schema_version``):
    1  first version: environment, scenarios as loaded, points (task count, delays) and runs with column samples.
    2  samples: created_ns (task created) beside start_ns (its I/O began) and end_ns, service_us (the service time
       the server says it delivered); runs: last_end_ns, not_started split out of cancelled; scenarios:
       definition_hash, calibration per client stack, server facts (loop, timer lateness), stop reason of adaptive
       repeats per point; runs: clock_offsets_ns of client processes (Ray); environment: cpu_model, uvloop.
       Version 1 files are upgraded when read (``bench.results.files``): created_ns = start_ns (waits were not
       recorded), service_us = -1 (unknown).
       Later additions with defaults (older version 2 files read as they are): runs: gc_passes and gc_ms (the
       garbage collector during the timed region, None when not recorded); scenarios: gc. Then (iobench 0.2): runs:
       stack (the client stack a run used: 'aiohttp', 'minimal', 'http.client', ...) and cap_names (which limits
       cap concurrency, by display name); scenarios: driver (what the target says of itself: description, rate
       unit, delay label, sockets); the file: plugins (plugin module -> the items it registered). Files without
       them get them filled in when read, from what their version of iobench did (``bench.results.files``).
       Runs: messages, connections_opened and cpu_ns (None or empty in older files: not recorded).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bench.scenario.model import DEPENDENT_MODELS, Scenario

SCHEMA_VERSION = 2
"""Version of the results file format this code writes and reads; history in the module docstring."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Samples(_Frozen):
    """Per-task samples of one run, as columns (index = task index)."""

    created_ns: tuple[int, ...]
    """When the strategy created the task (coroutine first scheduled, or job submitted), ns after the run's start
    (-1: never created)."""
    start_ns: tuple[int, ...]
    """When the task's own work began (after any semaphore, pool or connection wait it could see), ns after the
    run's start (-1: never started)."""
    end_ns: tuple[int, ...]
    """When the task ended, ns after the run's start (-1: never ended)."""
    status: tuple[int, ...]
    """HTTP status, 0 when no response arrived."""
    nbytes: tuple[int, ...]
    """Response body bytes read."""
    error: tuple[str, ...]
    """Error kind: '' for none, or 'http_status', 'timeout', 'connection', 'payload', 'client', 'exception',
    'cancelled' (by the strategy), 'not_started' (the strategy stopped before starting it)."""
    service_us: tuple[int, ...]
    """Service time the server reports it delivered (its ``Server-Timing: svc`` entry), in us; -1 when unknown
    (no answer, a target that is not the local server, or a version 1 file)."""
    message: tuple[int, ...] = ()
    """Each failed task's message, an index into ``RunResult.messages`` (-1: none); () in files written before
    runs kept their messages."""

    def latencies_ns(self) -> list[int]:
        """End minus creation of every task that ran to an end: waiting for a slot or a connection included."""
        return [e - c for c, e in zip(self.created_ns, self.end_ns, strict=True) if c >= 0 and e >= 0]

    def waits_ns(self) -> list[int]:
        """Start minus creation of every task that started: time spent waiting for a semaphore, pool or slot."""
        return [s - c for c, s in zip(self.created_ns, self.start_ns, strict=True) if c >= 0 and s >= 0]


class RunResult(_Frozen):
    """One (scenario, task count, strategy, repeat)."""

    strategy: str
    """Strategy label, e.g. 'gather' or 'bounded(limit=10)'."""
    repeat: int
    """Repeat index, 0-based."""
    position: int
    """Position of this strategy within its round (rounds are shuffled)."""
    loop: str
    """Event loop: 'asyncio' or 'uvloop'."""
    wall_ns: int
    """Wall-clock time of the batch in ns, measured inside the running loop: from the start until the strategy
    returned or raised (what the user's code experiences; a failed run's siblings may still be running then)."""
    last_end_ns: int = -1
    """When the last task ended, ns after the run's start (-1: no task ended)."""
    peak_inflight: int
    """Largest number of tasks started and not yet ended, at any moment (includes time queued for a connection)."""
    peak_queued: int = 0
    """Largest number of tasks waiting for a pooled connection at once (aiohttp connector limit reached)."""
    limits: dict[str, int | None]
    """Effective concurrency limits, by name (None: unlimited)."""
    finished: int
    """Tasks that completed without error."""
    failed: int
    """Tasks that ended with an error (see samples.error)."""
    cancelled: int
    """Tasks cancelled after they started (by the strategy, or at the drain timeout)."""
    not_started: int = 0
    """Tasks never started because the strategy stopped early."""
    outcome: Literal["ok", "failed"]
    """'failed' if the strategy itself raised (its idiom's reaction to a failed task)."""
    reason: str = ""
    """Why the run failed, if it did."""
    samples: Samples
    clock_offsets_ns: tuple[int, ...] = ()
    """Each client process's estimated clock offset from the driver (Ray engine), applied to its samples; ()
    when every process reads the same clock (one process, or client processes on one host)."""
    gc_passes: tuple[int, ...] | None = None
    """Garbage-collector passes during the timed region by generation (0, 1, 2), summed over client processes;
    None: not recorded (results written before iobench 0.2)."""
    gc_ms: float | None = None
    """Time spent in those passes, ms, in the client process that spent the most; None: not recorded."""
    messages: tuple[str, ...] = ()
    """The distinct failure messages of the run, in the exceptions' own words (at most
    ``bench.limits.MAX_FAILURE_MESSAGES``; ``Samples.message`` says which task had which)."""
    connections_opened: int | None = None
    """Connections the client opened during the timed run (reconnects included; the warm-up's excluded); None when
    not counted (a target without connections, or an older file)."""
    stack: str = ""
    """The client stack the run's tasks went through ('aiohttp', 'minimal', 'http.client', or what a driver names
    its own); its calibration in ``ScenarioResult.calibration`` is the per-request overhead. '' when it has none."""
    cap_names: dict[str, str] = Field(default_factory=dict)
    """The keys of ``limits`` that cap how many tasks run at once, with their display names ('semaphore',
    'thread pool', 'connector limit'): they enter the ideal time, and the report names the one that bound."""
    cpu_ns: int | None = None
    """CPU time this process spent during the timed region (every thread: the loop, the worker threads), ns;
    None when not recorded (client processes, older files). Near the wall time: the client's CPU bound the run."""

    @property
    def tasks(self) -> int:
        """Number of tasks in the run."""
        return len(self.samples.error)

    @property
    def complete(self) -> bool:
        """Every task finished ok: only such runs give speedups, efficiencies and queueing."""
        return self.outcome == "ok" and self.finished == self.tasks

    @property
    def not_ok(self) -> int:
        """Tasks that did not finish ok: failed, cancelled or never started."""
        return self.tasks - self.finished


class Probe(_Frozen):
    """Tasks run alone, one after another, before the timed rounds of a scenario with no sequential run: how long
    each one's I/O took when nothing competed (the ideal's estimate)."""

    tasks: tuple[int, ...]
    """The task indices probed."""
    durations_ms: tuple[float, ...]
    """Each one's duration from the start of its I/O to its end, in ms."""
    stack: str = ""
    """The client stack they went through (its calibrated overhead is taken off)."""


class PointResult(_Frozen):
    """All runs of one task count."""

    tasks: int
    delays_ms: tuple[float, ...]
    """Delay of each task in ms, exactly as sent to the server (empty when unknown: a callable target)."""
    error_tasks: tuple[int, ...] = ()
    """Tasks the server was told to fail (target.error_rate)."""
    runs: tuple[RunResult, ...]
    stop_reason: str = ""
    """Why the rounds stopped: 'fixed repeats', or for ``repeats: auto`` the precision reached, 'max rounds' or
    'time budget'."""
    probe: Probe | None = None
    """The uncontended sample taken before the rounds (a scenario with no sequential run and no delays of ours)."""
    abandoned: dict[str, str] = Field(default_factory=dict)
    """Strategies stopped because a run of theirs had every task fail, by label, with the reason."""


class Calibration(_Frozen):
    """Per-request overhead of one client stack: a warm 1 ms GET's time minus the server's delivered time."""

    median_ms: float
    low_ms: float
    high_ms: float
    """Distribution-free interval of the median, at ``level``."""
    level: float
    """Confidence the interval reaches."""
    requests: int
    """Requests timed."""


class ServerFacts(_Frozen):
    """What the local server says about itself after a scenario."""

    loop: str
    """The server's event loop: 'asyncio' or 'uvloop'."""
    lateness_p50_us: float | None = None
    """Median of delivered minus requested delay, us."""
    lateness_p99_us: float | None = None
    """99th percentile of the same, us."""


class DriverFacts(_Frozen):
    """What the target's driver says of itself, recorded so a reader needs no driver to report on it."""

    description: str
    """'local server', 'asyncio.sleep', the URL, the callable's import path."""
    rate_unit: str = "tasks/s"
    """'req/s' for targets that make requests, 'tasks/s' for the others."""
    delay_label: str | None = None
    """Name of the requested delays in the latency chart ('server delay (requested)'); None: no delays of ours."""
    sockets: bool = False
    """Tasks hold network connections (connector limits, ports and descriptors apply)."""
    service_source: str = ""
    """Who reports service times in the answers (``Server-Timing``): 'the local server', a host; '' for nobody."""


class ScenarioResult(_Frozen):
    """One scenario as loaded, and everything it measured."""

    file: str
    scenario: Scenario
    outcome: Literal["ok", "failed", "interrupted"]
    reason: str = ""
    calibration_rtt_ms: float | None = None
    """Per-request overhead in ms of the aiohttp stack (kept for version 1 readers; see ``calibration``)."""
    calibration: dict[str, Calibration] = Field(default_factory=dict)
    """Per-request overhead by client stack: 'aiohttp', 'http.client' (local server only)."""
    server: ServerFacts | None = None
    """The local server's loop and timer lateness (local server only)."""
    definition_hash: str = ""
    """sha256 of the scenario's definition (bench.scenario.definition_hash): baselines compare it."""
    points: tuple[PointResult, ...]
    peak_rss_mb: float | None = None
    """Peak resident memory of the runner process when the scenario ended, in MB."""
    driver: DriverFacts | None = None
    """What the target's driver said of itself (None only in a file that a reader could not fill it in for)."""


class Environment(_Frozen):
    """Where and how the results were obtained."""

    iobench: str
    python: str
    implementation: str
    aiohttp: str
    os: str
    machine: str
    cpu_model: str = ""
    """The processor's model name (Linux: /proc/cpuinfo), '' when unknown."""
    uvloop: str | None = None
    """uvloop's version, None when it is not installed."""
    cpu_count: int
    fd_soft_limit: int
    fd_hard_limit: int
    git_commit: str | None
    command_line: tuple[str, ...]


class ResultsFile(_Frozen):
    """The whole file."""

    schema_version: int = Field(default=SCHEMA_VERSION)
    created_utc: str
    complete: bool
    """False while running, or when interrupted before every scenario finished."""
    environment: Environment
    scenarios: tuple[ScenarioResult, ...]
    plugins: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    """Plugin module -> the items it registered ('strategy queue'): what a reader must load to read the file."""


DEPENDENT_MODELS.extend((ScenarioResult, ResultsFile))  # rebuilt when a target kind or distribution is registered
