"""Results files: the frozen records a run produces, written atomically, read back and validated.

    write_results(path, results)        # temp file + fsync + rename: the old file or the new, never half
    results = read_results(path)        # ResultsError naming the file on anything unreadable

Schema history (``schema_version``):
    1  first version: environment, scenarios as loaded, points (task count, delays) and runs with column samples.
    2  samples: created_ns (task created) beside start_ns (its I/O began) and end_ns, service_us (the service time
       the server says it delivered); runs: last_end_ns, not_started split out of cancelled; scenarios:
       definition_hash, calibration per client stack, server facts (loop, timer lateness), stop reason of adaptive
       repeats per point; runs: clock_offsets_ns of client processes (Ray); environment: cpu_model, uvloop.
       Version 1 files are upgraded when read (see ``_upgrade_v1``): created_ns = start_ns (waits were not
       recorded), service_us = -1 (unknown).
       Later additions with defaults (older version 2 files read as they are): runs: gc_passes and gc_ms (the
       garbage collector during the timed region, None when not recorded); scenarios: gc.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import resource
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bench import __version__
from bench.errors import ResultsError, first_error
from bench.scenario import DEPENDENT_MODELS, Scenario

if TYPE_CHECKING:  # pandas loads only when a DataFrame is asked for: it costs ~50 MB and a second at start-up
    import pandas as pd

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


DEPENDENT_MODELS.extend((ScenarioResult, ResultsFile))  # rebuilt when a target kind is registered


def _git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def cpu_model() -> str:
    """The processor's model name from /proc/cpuinfo (Linux), else platform.processor(), else ''."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _uvloop_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("uvloop")
    except PackageNotFoundError:
        return None


def capture_environment(argv: list[str]) -> Environment:
    """Describe this machine and process."""
    import aiohttp

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return Environment(
        iobench=__version__,
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        aiohttp=aiohttp.__version__,
        os=f"{platform.system()} {platform.release()}",
        machine=platform.machine(),
        cpu_model=cpu_model(),
        uvloop=_uvloop_version(),
        cpu_count=os.cpu_count() or 1,
        fd_soft_limit=soft,
        fd_hard_limit=hard,
        git_commit=_git_commit(),
        command_line=tuple(argv),
    )


def utc_stamp(now: datetime | None = None) -> str:
    """``20261125T214519Z`` for file names."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def current_umask() -> int:
    """The process's file-mode creation mask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, fsync, rename.

    The file gets the mode any new file would (0644 under the usual umask 022), not mkstemp's private 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_results(path: Path, results: ResultsFile) -> None:
    """Write a results file atomically, and point ``latest.json`` beside it at it."""
    write_atomic(path, results.model_dump_json())
    latest = path.parent / "latest.json"
    if path.name != latest.name:
        write_atomic(latest, json.dumps({"latest": path.name}) + "\n")


def resolve(path: Path | None, results_dir: Path = Path("results")) -> Path:
    """The results file meant: ``path`` itself, or the newest one named by ``results/latest.json``.

    ``path`` may be a results folder or a ``latest.json`` pointer, which are followed to the file they name.
    """
    if path is not None:
        if path.is_dir():
            return resolve(None, path)
        if path.name == "latest.json":
            return resolve(None, path.parent)
        return path
    pointer = results_dir / "latest.json"
    try:
        name = json.loads(pointer.read_text(encoding="utf-8"))["latest"]
    except FileNotFoundError:
        raise ResultsError(f"{pointer}: no results yet; run `iobench run` (or `make bench`) first") from None
    except (ValueError, KeyError, TypeError):
        raise ResultsError(f"{pointer}: not a valid pointer file; pass a results file explicitly") from None
    return results_dir / str(name)


def read_results(path: Path) -> ResultsFile:
    """Read and validate a results file; every problem becomes a ResultsError naming the file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read: {exc}") from None
    try:
        data: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(raw.rstrip()) or exc.msg.startswith("Unterminated string")
        what = "truncated" if cut else "not JSON"
        raise ResultsError(f"{path}: {what} (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ResultsError(f"{path}: not an iobench results file (no schema_version)")
    if data["schema_version"] == 1:
        data = _upgrade_v1(data)
    if data["schema_version"] != SCHEMA_VERSION:
        raise ResultsError(
            f"{path}: schema_version {data['schema_version']!r} is not supported by iobench {__version__} "
            f"(it reads versions 1 to {SCHEMA_VERSION}); regenerate it with `iobench run` on the same scenarios"
        )
    try:
        return ResultsFile.model_validate(data)
    except ValidationError as exc:
        raise ResultsError(f"{path}: {first_error(exc)}") from None


def _upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A version 1 file as version 2: waits unknown (created = started), service times unknown, not_started split."""
    data = json.loads(json.dumps(data))  # a deep copy; the caller's dict stays as read
    for scenario in data.get("scenarios", ()):
        for point in scenario.get("points", ()):
            for run in point.get("runs", ()):
                samples = run.get("samples", {})
                starts = samples.get("start_ns", [])
                samples.setdefault("created_ns", list(starts))
                samples.setdefault("service_us", [-1] * len(starts))
                errors = samples.get("error", [])
                not_started = sum(1 for e in errors if e == "not_started")
                run.setdefault("not_started", not_started)
                run["cancelled"] = run.get("cancelled", 0) - not_started
                run.setdefault("last_end_ns", max(samples.get("end_ns", []), default=-1))
            point.setdefault("stop_reason", "fixed repeats")
    data["schema_version"] = 2
    return data


def now_utc() -> str:
    """The current time as ISO 8601 UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def samples_frame(results: ResultsFile) -> pd.DataFrame:
    """Every task of every recorded run, long format: one row per (scenario, tasks, strategy, repeat, task)."""
    import pandas as pd

    columns: dict[str, list[Any]] = {
        k: []
        for k in (
            "scenario", "tasks", "strategy", "repeat", "task", "delay_ms", "start_ms", "end_ms", "latency_ms",
            "status", "bytes", "error",
        )
    }  # fmt: skip
    for sr in results.scenarios:
        for point in sr.points:
            delays = point.delays_ms or (float("nan"),) * point.tasks
            for run in point.runs:
                s = run.samples
                n = len(s.start_ns)
                columns["scenario"] += [sr.scenario.name] * n
                columns["tasks"] += [point.tasks] * n
                columns["strategy"] += [run.strategy] * n
                columns["repeat"] += [run.repeat] * n
                columns["task"] += list(range(n))
                columns["delay_ms"] += list(delays)
                columns["start_ms"] += [v / 1e6 if v >= 0 else float("nan") for v in s.start_ns]
                columns["end_ms"] += [v / 1e6 if v >= 0 else float("nan") for v in s.end_ns]
                columns["latency_ms"] += [
                    (e - b) / 1e6 if b >= 0 and e >= 0 else float("nan")
                    for b, e in zip(s.start_ns, s.end_ns, strict=True)
                ]
                columns["status"] += list(s.status)
                columns["bytes"] += list(s.nbytes)
                columns["error"] += list(s.error)
    return pd.DataFrame(columns)


def runs_frame(results: ResultsFile) -> pd.DataFrame:
    """Every recorded run, one row each: wall time, counts, peaks."""
    import pandas as pd

    rows = [
        {
            "scenario": sr.scenario.name,
            "tasks": point.tasks,
            "strategy": run.strategy,
            "repeat": run.repeat,
            "position": run.position,
            "loop": run.loop,
            "wall_s": run.wall_ns / 1e9,
            "finished": run.finished,
            "failed": run.failed,
            "cancelled": run.cancelled,
            "peak_inflight": run.peak_inflight,
            "peak_queued": run.peak_queued,
            "outcome": run.outcome,
        }
        for sr in results.scenarios
        for point in sr.points
        for run in point.runs
    ]
    return pd.DataFrame(rows)
