"""Ray engine: the client processes of ``bench.run.engines.processes`` as Ray actors, for clients on many hosts.

    with RayPool(k=2, address=None) as pool:        # ray.init(address) if Ray is not running yet
        run = pool.run(spec)                          # the same RunSpec and MergedRun as ClientPool
        pool.offsets_ns                               # each actor's clock minus the driver's, as estimated

Each actor is a ``ShareWorker`` (its own event loop, its share of the task indices), so Ray's per-actor
concurrency never binds: one actor call runs a whole share. Actors on other hosts do not share the driver's
CLOCK_MONOTONIC, so each actor's offset is estimated NTP-style: the driver reads its clock (t1), asks the actor
for its own (ta), reads again (t2); over ``CLOCK_PROBES`` round trips, the one with the smallest t2 - t1 gives
offset = ta - (t1 + t2) / 2, good to within half that round trip (Mills, RFC 5905 section 8, the minimum-delay
filter). The common start is sent to each actor on its own clock (t0 + offset); samples come back relative to it,
so they merge without further shifting; the offsets and the round trips are kept on the run.

Needs the ``ray`` extra: ``pip install 'iobench[ray]'``.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

from bench import plugins as plugin_modules
from bench.errors import ClientProcessError, EnvironmentLimitError, IobenchError, WarmupError
from bench.run.engines.processes import START_AHEAD_NS
from bench.run.engines.share_worker import ShareWorker
from bench.run.engines.shares import MergedRun, RunSpec, ShareResult, merge, split_indices

CLOCK_PROBES = 15
"""Round trips per actor for its clock offset."""
RAY_MISSING = "the Ray engine needs Ray; install it with: pip install 'iobench[ray]'"
LOCAL_CLUSTER = {"include_dashboard": False, "_node_ip_address": "127.0.0.1"}
"""How a cluster started for one run is started: no dashboard (an HTTP server), and registered on loopback."""
STOP_WAIT_S = 10.0
"""How long Ray's own processes get to end after ``ray.shutdown`` before they are stopped by signal."""


def _descendants() -> set[int]:
    """PIDs of every living process below this one (Linux: /proc; elsewhere none)."""
    parent_of: dict[int, int] = {}
    with contextlib.suppress(OSError):
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with (
                    contextlib.suppress(OSError, IndexError, ValueError),
                    open(f"{entry.path}/stat", encoding="utf-8", errors="replace") as handle,
                ):
                    parent_of[int(entry.name)] = int(handle.read().rsplit(")", 1)[1].split()[1])
    found: set[int] = set()
    frontier = {os.getpid()}
    while frontier:
        frontier = {child for child, parent in parent_of.items() if parent in frontier and child not in found}
        found |= frontier
    return found


def _stop_all(pids: set[int], wait_s: float) -> None:
    """Wait up to ``wait_s`` for ``pids`` (processes this one started) to exit; SIGTERM, then SIGKILL, the rest."""
    for sig in (None, signal.SIGTERM, signal.SIGKILL):
        if sig is not None:
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, sig)
        deadline = time.monotonic() + (wait_s if sig is None else 2.0)
        while True:
            for pid in list(pids):
                with contextlib.suppress(ChildProcessError, OSError):
                    os.waitpid(pid, os.WNOHANG)
                if not os.path.exists(f"/proc/{pid}") or _zombie(pid):
                    pids.discard(pid)
            if not pids or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if not pids:
            return


def _restore(handlers: dict[signal.Signals, Any]) -> None:
    """Put back the signal handlers ``ray.init`` replaced (only the main thread may)."""
    if threading.current_thread() is threading.main_thread():
        for sig, handler in handlers.items():
            if handler is not None:
                signal.signal(sig, handler)


def _command(pid: int) -> str:
    """A process's command line ('' once it is gone)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise EnvironmentLimitError(RAY_MISSING) from None
    return ray


@dataclass(frozen=True)
class ClockProbe:
    """One round trip: the driver's clock before and after, the actor's in between (ns)."""

    sent_ns: int
    actor_ns: int
    received_ns: int

    @property
    def rtt_ns(self) -> int:
        """Round-trip time."""
        return self.received_ns - self.sent_ns


@dataclass(frozen=True)
class ClockOffset:
    """An actor's clock minus the driver's, from its fastest round trip, and that round trip."""

    offset_ns: int
    rtt_ns: int


def estimate_offset(probes: list[ClockProbe]) -> ClockOffset:
    """offset = actor - midpoint of the driver's readings, at the smallest round trip (NTP's filter). Pure."""
    if not probes:
        raise ValueError("no clock probes")
    best = min(probes, key=lambda p: p.rtt_ns)
    return ClockOffset(offset_ns=best.actor_ns - (best.sent_ns + best.received_ns) // 2, rtt_ns=best.rtt_ns)


class _Actor:
    """The actor's body: a ShareWorker behind Ray's method calls."""

    def __init__(self, loop: str, plugins: Sequence[str] = ()) -> None:
        self.problem = ""
        """Why the actor cannot run (a plugin that would not import), '' when it can."""
        try:
            plugin_modules.load_entry_points()
            plugin_modules.load(plugins, where="Ray actor")
        except IobenchError as exc:
            self.problem = str(exc)
        self.worker = ShareWorker(loop)

    def trouble(self) -> str:
        return self.problem

    def now_ns(self) -> int:
        return self.worker.now_ns()

    def prepare(self, spec: RunSpec, indices: tuple[int, ...]) -> tuple[str, Any]:
        if self.problem:
            return "IobenchError", self.problem
        try:
            return "warm", self.worker.prepare(spec, indices)
        except Exception as exc:  # carried back as data: Ray would wrap it in its own error type
            return type(exc).__name__, str(exc) or repr(exc)

    def go(self, t0_ns: int) -> ShareResult:
        return self.worker.go(t0_ns)

    def abandon(self) -> None:
        self.worker.abandon()

    def pid(self) -> int:
        import os

        return os.getpid()


class RayPool:
    """k Ray actors, one client process each, kept for every run of a scenario (the ClientPool of many hosts)."""

    def __init__(
        self, k: int, loop: str = "asyncio", address: str | None = None, plugins: Sequence[str] = (), **init: Any
    ) -> None:
        self.k, self.loop, self.address, self._init = k, loop, address, init
        self.plugins = tuple(plugins)
        """Plugin modules each actor loads before its first run."""
        self._actors: list[Any] = []
        self._started_ray = False
        self._before: set[int] = set()
        """The processes below this one before Ray started: the rest that name Ray are its (GCS, raylet, agents,
        workers), stopped with the cluster."""
        self.offsets: list[ClockOffset] = []

    @property
    def offsets_ns(self) -> tuple[int, ...]:
        """Each actor's estimated clock offset from the driver."""
        return tuple(o.offset_ns for o in self.offsets)

    def start(self) -> None:
        """Connect to (or start) Ray, create the actors, estimate their clocks."""
        ray = _ray()
        if not ray.is_initialized():
            self._before = _descendants()
            options = {**(LOCAL_CLUSTER if self.address is None else {}), **self._init}
            handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                ray.init(address=self.address, **options)
            except BaseException as exc:  # a signal while Ray starts: stop what it started, then the caller's way
                _restore(handlers)
                self._started_ray = True
                self.stop(graceful=False)
                if isinstance(exc, SystemExit) and exc.code == signal.SIGTERM:  # Ray's handler: sys.exit(15)
                    signal.raise_signal(signal.SIGTERM)  # delivered again, to the caller's handler
                raise
            _restore(handlers)  # ray.init installs its own SIGTERM handler (exit 15, nothing saved)
            self._started_ray = True
        try:
            remote = ray.remote(num_cpus=0)(_Actor)  # an I/O client: it must not wait for a free CPU slot
            self._actors = [remote.remote(self.loop, self.plugins) for _ in range(self.k)]
            troubles = [t for t in ray.get([a.trouble.remote() for a in self._actors], timeout=120) if t]
            if troubles:
                raise ClientProcessError(f"a Ray actor cannot run: {troubles[0]}")
            self.offsets = [self._probe(a) for a in self._actors]
        except BaseException:  # the caller holds no pool yet: nothing of this one may outlive it
            self.stop(graceful=False)
            raise

    def _probe(self, actor: Any) -> ClockOffset:
        ray = _ray()
        probes = []
        for _ in range(CLOCK_PROBES):
            sent = time.monotonic_ns()
            theirs = ray.get(actor.now_ns.remote())
            probes.append(ClockProbe(sent, theirs, time.monotonic_ns()))
        return estimate_offset(probes)

    def pids(self) -> list[int]:
        """PIDs of the actor processes (on their own hosts)."""
        ray = _ray()
        return list(ray.get([a.pid.remote() for a in self._actors]))

    def run(self, spec: RunSpec) -> MergedRun:
        """One timed run over the actors: prepare all, barrier, a common start on each actor's clock, merge."""
        ray = _ray()
        shares = split_indices(spec.tasks, self.k)
        answers = ray.get([a.prepare.remote(spec, idx) for a, idx in zip(self._actors, shares, strict=True)])
        failed = [(kind, message) for kind, message in answers if kind != "warm"]
        if failed:
            ray.get([a.abandon.remote() for a in self._actors])
            kind, message = failed[0]
            if kind == "WarmupError":
                raise WarmupError(message)
            raise ClientProcessError(f"a Ray actor failed: {kind}: {message}")
        t0 = time.monotonic_ns() + max(START_AHEAD_NS, 4 * max(o.rtt_ns for o in self.offsets))
        results = ray.get([a.go.remote(t0 + o.offset_ns) for a, o in zip(self._actors, self.offsets, strict=True)])
        return replace(merge(spec.tasks, results), offsets_ns=self.offsets_ns)

    def stop(self, graceful: bool = True) -> None:
        """Kill the actors (gracefully or not: actors are killed either way); shut Ray down if this pool started
        it, and stop whatever of its processes outlives the shutdown."""
        ray = _ray()
        for actor in self._actors:
            ray.kill(actor)
        self._actors = []
        if self._started_ray:
            ours = {pid for pid in _descendants() - self._before if "ray" in _command(pid)}  # before they orphan
            ray.shutdown()
            self._started_ray = False
            _stop_all(ours, STOP_WAIT_S if graceful else 0.5)  # its agents outlived it by 30-150 s

    def __enter__(self) -> RayPool:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
