"""Client processes: one strategy's run split over k processes, each with its own event loop, started together.

    with ClientPool(k=2, loop="uvloop") as pool:          # k fresh interpreters, started once per scenario
        run = pool.run(RunSpec(strategy={"name": "gather", "params": {}}, tasks=10_000, urls=urls, ...))
        run.wall_ns, run.start_ns[i], run.error[i]        # one merged run, offsets from the common start

How one run goes (the parent drives, every child does the same):
1. ``prepare``: each child receives its share of the task indices (strided: task i goes to process i mod k, so
   every share has the same mix of delays), builds the strategy from its name and parameters, opens its
   ClientSession and warms its pool (paced, see ``bench.net``). Nothing of this is timed.
2. barrier: the parent waits until every child is warm, then picks a common start instant ``t0`` a little ahead
   on CLOCK_MONOTONIC and sends it to all.
3. ``go``: each child sleeps, then spins, until ``t0``; runs the strategy over its share; records every task's
   start and end as offsets from ``t0`` and when its strategy returned; drains what is left; closes its session.
4. merge: the parent puts the samples back at their task indices; the run's wall time is the latest return.

Clock: on Linux, ``time.monotonic_ns`` and ``time.perf_counter_ns`` both read CLOCK_MONOTONIC
(``time.get_clock_info`` says ``clock_gettime(CLOCK_MONOTONIC)`` for both), a single system-wide clock since boot,
so an instant taken in one process means the same in every other process of the host (``same_clock_everywhere``
checks it; tests/test_processes.py verifies a child's reading lies between two of the parent's).

Children are ``python -m bench.processes`` (fresh interpreters: the user's ``__main__`` is never re-imported), talk
over their stdin/stdout with length-prefixed pickles of the records below, ignore Ctrl-C (the parent stops them),
die with the parent (PR_SET_PDEATHSIG) and stop when their stdin closes. ``ClientPool.stop`` closes, terminates,
then kills, and waits for every PID: an interrupted run leaves no process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import IO, Any

from bench.errors import RunError, WarmupError
from bench.loops import loop_factory
from bench.plan import Point, make_plan
from bench.recording import Answer, AsyncOp, Recorder
from bench.results import Samples
from bench.scenario import Scenario
from bench.strategies import AsyncStrategy, Strategy
from bench.targets import driver_for
from bench.timed import collect_garbage, drain, first_failure, peak_rss_mb, quiet_task_failures, run_limits

START_AHEAD_NS = 50_000_000
"""How far ahead of the barrier the common start is set: time for every child to read it and get ready."""
SPIN_NS = 2_000_000
"""The last part of the wait for the common start is a busy loop on the clock (sleeping is too coarse)."""
_HEADER = struct.Struct("!I")


# --- the records that cross the process boundary (picklable) -----------------------------------------------------


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
        keys, e.g. ``timeout_s=120``), or of ``asyncio.sleep`` with ``kind="sleep"``."""
        kind = keys.pop("kind", "local")
        document: dict[str, object] = {
            "name": "spec",
            "tasks": tasks,
            "target": {"kind": kind, "latency": {"dist": "fixed", "ms": delay_ms}},
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
    def peak_rss_mb(self) -> tuple[float, ...]:
        """Peak resident memory of each client process, MB."""
        return tuple(s.peak_rss_mb for s in self.shares)


def split_indices(n: int, k: int) -> tuple[tuple[int, ...], ...]:
    """Task indices 0..n-1 dealt to k processes in turn: (0, k, 2k, ...), (1, k+1, ...), ... Pure."""
    if k < 1:
        raise ValueError(f"processes must be at least 1, got {k}")
    return tuple(tuple(range(j, n, k)) for j in range(k))


_COLUMNS = ("created_ns", "start_ns", "end_ns", "status", "nbytes", "error", "service_us")
_EMPTY: dict[str, object] = {"status": 0, "nbytes": 0, "error": "not_started", "service_us": -1}
_TIMES = ("created_ns", "start_ns", "end_ns")


def merge(n: int, shares: Sequence[ShareResult], shifts_ns: Sequence[int] = ()) -> MergedRun:
    """Put each share's samples back at their task indices; ``shifts_ns`` (per share) is subtracted from its times.

    A task no share ran keeps error 'not_started'. Pure.
    """
    shifts = tuple(shifts_ns) or (0,) * len(shares)
    columns: dict[str, list[Any]] = {c: [_EMPTY.get(c, -1)] * n for c in _COLUMNS}
    for share, shift in zip(shares, shifts, strict=True):
        for name in _COLUMNS:
            values = getattr(share.samples, name)
            for pos, i in enumerate(share.indices):
                value = values[pos]
                columns[name][i] = (value - shift if value >= 0 else -1) if name in _TIMES else value
    failed = [s for s in shares if s.outcome != "ok"]
    return MergedRun(
        wall_ns=max((s.returned_ns - shift for s, shift in zip(shares, shifts, strict=True)), default=0),
        samples=Samples(**{name: tuple(values) for name, values in columns.items()}),
        outcome="failed" if failed else "ok",
        reason=failed[0].reason if failed else "",
        shares=tuple(shares),
        offsets_ns=tuple(shifts_ns),
    )


def same_clock_everywhere() -> bool:
    """True where monotonic_ns and perf_counter_ns are both CLOCK_MONOTONIC (one clock for every process)."""
    return all(
        "CLOCK_MONOTONIC" in time.get_clock_info(name).implementation
        and "RAW" not in time.get_clock_info(name).implementation
        for name in ("monotonic", "perf_counter")
    )


# --- one process's share: used by the subprocess children and by the Ray actors ----------------------------------


class ShareWorker:
    """Runs one process's share of each run on its own event loop, through the same driver, recorder and strategy
    code as a single-process run: ``prepare`` (open and warm, untimed), then ``go(t0)``."""

    def __init__(self, loop: str = "asyncio") -> None:
        self._runner = asyncio.Runner(loop_factory=loop_factory(loop))
        self._stack: contextlib.AsyncExitStack | None = None
        self._job: tuple[RunSpec, AsyncStrategy, Recorder, AsyncOp, int | None] | None = None
        self._indices: tuple[int, ...] = ()
        self._warm_s = 0.0

    def now_ns(self) -> int:
        """This process's CLOCK_MONOTONIC reading (for clock checks and offset estimates)."""
        return time.monotonic_ns()

    def prepare(self, spec: RunSpec, indices: tuple[int, ...]) -> float:
        """Open the target for ``indices`` and warm it; seconds the warm-up took (WarmupError on failure)."""
        self._indices = indices
        return self._runner.run(self._prepare(spec, indices))

    async def _prepare(self, spec: RunSpec, indices: tuple[int, ...]) -> float:
        strategy = spec.strategy()
        if not isinstance(strategy, AsyncStrategy):
            raise RunError(f"strategy {strategy.name!r} cannot run in client processes (it is not asyncio)")
        driver = driver_for(spec.scenario, spec.point, spec.base_url, spec.sources)
        limit = run_limits(strategy, driver, spec.scenario)["connector_limit"]
        recorder = Recorder(len(indices), driver.fail_on_status)
        stack = contextlib.AsyncExitStack()
        started = time.monotonic()
        try:
            whole = await stack.enter_async_context(
                driver.open_async(recorder, strategy.planned_concurrency(len(indices)), limit)
            )
        except BaseException:
            await stack.aclose()
            raise
        self._warm_s = time.monotonic() - started

        async def share_op(j: int) -> Answer:
            return await whole(indices[j])

        self._stack, self._job = stack, (spec, strategy, recorder, share_op, limit)
        return self._warm_s

    def go(self, t0_ns: int) -> ShareResult:
        """Wait for the common start ``t0_ns`` (CLOCK_MONOTONIC), run the share, drain, close; the samples."""
        assert self._job is not None, "prepare() first"
        try:
            return self._runner.run(self._go(t0_ns))
        finally:
            self._job = None

    async def _go(self, t0: int) -> ShareResult:
        assert self._job is not None and self._stack is not None
        spec, strategy, recorder, op, limit = self._job
        asyncio.get_running_loop().set_exception_handler(quiet_task_failures)
        task = recorder.task_fn(op)
        collect_garbage()
        late = await _wait_until(t0)
        recorder.t0 = t0  # perf_counter_ns and monotonic_ns read the same clock here (same_clock_everywhere)
        outcome, reason = "ok", ""
        try:
            await strategy.run(len(self._indices), task)
        except Exception as exc:
            outcome, reason = "failed", first_failure(exc)
        returned = recorder.elapsed()
        await drain(spec.scenario.timeout_s + 1.0)
        stack, self._stack = self._stack, None
        await stack.aclose()
        return ShareResult(
            indices=self._indices,
            samples=recorder.samples(),
            returned_ns=returned,
            late_ns=late,
            outcome=outcome,
            reason=reason,
            peak_inflight=recorder.peak_inflight(),
            connector_limit=limit,
            warm_s=self._warm_s,
            peak_rss_mb=peak_rss_mb(),
            pid=os.getpid(),
        )

    def abandon(self) -> None:
        """Close what was opened for a run that will not go (another process failed its warm-up)."""
        if self._stack is not None:
            self._runner.run(self._stack.aclose())
            self._stack = None
        self._job = None

    def close(self) -> None:
        """Close what is open, and the loop."""
        self.abandon()
        self._runner.close()


async def _wait_until(t0: int) -> int:
    """Sleep, then spin, until CLOCK_MONOTONIC reaches ``t0``; how late we left (ns)."""
    left = t0 - time.monotonic_ns()
    if left > SPIN_NS:
        await asyncio.sleep((left - SPIN_NS) / 1e9)
    while (now := time.monotonic_ns()) < t0:
        pass
    return now - t0


# --- the parent's side: a pool of k child processes, kept for a whole scenario -----------------------------------


def _send(stream: IO[bytes], message: object) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("the other side closed the pipe")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("the other side closed the pipe mid-message")
    return pickle.loads(data)


class ClientPool:
    """k client processes (fresh interpreters), started once and kept for every run of a scenario.

    ``run(spec)`` is one timed run over all of them; ``stop()`` (or leaving the ``with``) ends every process.
    """

    def __init__(self, k: int, loop: str = "asyncio", start_timeout_s: float = 30.0) -> None:
        if k < 1:
            raise ValueError(f"processes must be at least 1, got {k}")
        self.k, self.loop, self.start_timeout_s = k, loop, start_timeout_s
        self._procs: list[subprocess.Popen[bytes]] = []

    @property
    def pids(self) -> list[int]:
        """PIDs of the client processes."""
        return [p.pid for p in self._procs]

    def start(self) -> None:
        """Start the k processes and wait until each has its loop ready."""
        try:
            for _ in range(self.k):
                proc = subprocess.Popen(
                    [sys.executable, "-m", "bench.processes", self.loop],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    close_fds=True,
                )
                self._procs.append(proc)
            for proc in self._procs:
                self._expect(proc, "ready", self.start_timeout_s)
        except BaseException:
            self.stop(graceful=False)
            raise

    def _expect(self, proc: subprocess.Popen[bytes], kind: str, timeout_s: float | None) -> Any:
        assert proc.stdout is not None
        if timeout_s is not None:
            ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
            if not ready:
                raise RunError(f"client process {proc.pid} did not answer within {timeout_s:g} s")
        try:
            answer = _receive(proc.stdout)
        except EOFError:
            proc.wait(5)
            raise RunError(f"client process {proc.pid} exited (exit code {proc.returncode})") from None
        if answer[0] == "error":
            _, name, message = answer
            raise (WarmupError if name == "WarmupError" else RunError)(message)
        if answer[0] != kind:
            raise RunError(f"client process {proc.pid} answered {answer[0]!r}, expected {kind!r}")
        return answer[1] if len(answer) > 1 else None

    def now_ns(self, j: int) -> int:
        """Child j's CLOCK_MONOTONIC reading."""
        proc = self._procs[j]
        assert proc.stdin is not None
        _send(proc.stdin, ("now",))
        value: int = self._expect(proc, "now", 10.0)
        return value

    def run(self, spec: RunSpec) -> MergedRun:
        """One timed run of ``spec`` over the k processes: prepare all, barrier, common start, merge."""
        shares = split_indices(spec.tasks, self.k)
        for proc, indices in zip(self._procs, shares, strict=True):
            assert proc.stdin is not None
            _send(proc.stdin, ("prepare", spec, indices))
        failure: BaseException | None = None
        warm = []
        for proc in self._procs:  # the barrier: every child warm (or failed) before anyone starts
            try:
                warm.append(self._expect(proc, "warm", None))
            except RunError as exc:
                failure = failure or exc
        if failure is not None:
            for proc in self._procs:  # children that did warm up drop their session and wait for the next run
                assert proc.stdin is not None
                with contextlib.suppress(OSError):
                    _send(proc.stdin, ("abandon",))
            for proc in self._procs:
                with contextlib.suppress(RunError):
                    self._expect(proc, "abandoned", 30.0)
            raise failure
        t0 = time.monotonic_ns() + START_AHEAD_NS
        for proc in self._procs:
            assert proc.stdin is not None
            _send(proc.stdin, ("go", t0))
        results = [self._expect(proc, "done", None) for proc in self._procs]
        return merge(spec.tasks, results)

    def stop(self, graceful: bool = True) -> None:
        """Close every child's stdin (it exits), then terminate and kill whatever is left, and reap each PID.

        ``graceful=False`` (an exception, Ctrl-C) terminates at once: a child in the middle of a run is not
        reading its stdin.
        """
        for proc in self._procs:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        steps = (None, "terminate", "kill") if graceful else ("terminate", "kill")
        for step in steps:
            left = [p for p in self._procs if p.poll() is None]
            if not left:
                break
            for proc in left:
                if step is not None:
                    with contextlib.suppress(OSError):
                        getattr(proc, step)()
            deadline = time.monotonic() + 3.0
            for proc in left:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(max(deadline - time.monotonic(), 0.01))
        for proc in self._procs:
            proc.wait()  # reaped: no zombie either
            if proc.stdout is not None:
                proc.stdout.close()
        self._procs.clear()

    def __enter__(self) -> ClientPool:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop(graceful=exc is None)


def run_in_processes(pool: ClientPool, spec: RunSpec) -> MergedRun:
    """One timed run of ``spec`` over the pool's processes (the runner calls this once per run)."""
    return pool.run(spec)


# --- the child's side ----------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphan survives a killed runner)."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def child_main(loop: str) -> int:
    """A client process: answer the parent's messages on stdin/stdout until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; it stops us
    _die_with_parent()
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write on the message pipe
    worker = ShareWorker(loop)
    _send(out, ("ready",))
    try:
        while True:
            try:
                message = _receive(inp)
            except EOFError:
                return 0
            kind = message[0]
            try:
                if kind == "now":
                    _send(out, ("now", worker.now_ns()))
                elif kind == "prepare":
                    _send(out, ("warm", worker.prepare(message[1], message[2])))
                elif kind == "go":
                    _send(out, ("done", worker.go(message[1])))
                elif kind == "abandon":
                    worker.abandon()
                    _send(out, ("abandoned",))
            except Exception as exc:  # reported to the parent, which raises it as the run's failure
                _send(out, ("error", type(exc).__name__, str(exc) or repr(exc)))
    finally:
        worker.close()


if __name__ == "__main__":  # python -m bench.processes LOOP (started by ClientPool)
    # Run the imported module's copy, so what the child pickles is bench.processes.ShareResult, not __main__'s.
    from bench.processes import child_main as _imported_main

    raise SystemExit(_imported_main(sys.argv[1] if len(sys.argv) > 1 else "asyncio"))
