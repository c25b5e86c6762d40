"""The pool of client processes: one strategy's run split over k processes, each with its own event loop, started
together; the parent's side (``ClientPool``) and the child's (``child_main``, run as
``python -m bench.run.engines.processes``).

    with ClientPool(k=2, loop="uvloop") as pool:          # k fresh interpreters, started once per scenario
        run = pool.run(RunSpec.local(url, tasks=10_000, delay_ms=20))
        run.wall_ns, run.start_ns[i], run.error[i]        # one merged run, offsets from the common start

How one run goes (the parent drives, every child does the same):
1. ``prepare``: each child receives its share of the task indices (strided: task i goes to process i mod k, so
   every share has the same mix of delays), builds the strategy from its label, opens its target and warms it
   (paced, see ``bench.targets.clients.net``). Nothing of this is timed.
2. barrier: the parent waits until every child is warm, then picks a common start instant ``t0`` a little ahead
   on CLOCK_MONOTONIC and sends it to all.
3. ``go``: each child sleeps, then spins, until ``t0``; runs the strategy over its share; records every task's
   start and end as offsets from ``t0`` and when its strategy returned; drains what is left; closes its target.
4. merge: the parent puts the samples back at their task indices; the run's wall time is the latest return.

The records and the merge are ``bench.run.engines.shares``; a child's work is
``bench.run.engines.share_worker.ShareWorker``. A child loads the parent's plugins (``bench.plugins``) and the
installed entry points before it says it is ready, so a plugin's strategy or target kind exists there too; an
exception in a child comes back as a ClientProcessError naming it.

Clock: on Linux, ``time.monotonic_ns`` and ``time.perf_counter_ns`` both read CLOCK_MONOTONIC
(``time.get_clock_info`` says ``clock_gettime(CLOCK_MONOTONIC)`` for both), a single system-wide clock since boot,
so an instant taken in one process means the same in every other process of the host (``same_clock_everywhere``
checks it; tests/run/engines/test_processes.py verifies a child's reading lies between two of the parent's).

Children are ``python -m bench.run.engines.processes`` (fresh interpreters: the user's ``__main__`` is never
re-imported), talk over their stdin/stdout with length-prefixed pickles of tuples of those records, ignore Ctrl-C (the
parent stops them), die with the parent (PR_SET_PDEATHSIG) and stop when their stdin closes. ``ClientPool.stop`` closes,
terminates, then kills, and waits for every PID: an interrupted run leaves no process behind."""

from __future__ import annotations

import contextlib
import ctypes
import pickle
import select
import signal
import struct
import subprocess
import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import IO, Any

from bench import plugins as plugin_modules
from bench.errors import ClientProcessError, IobenchError, RunError, WarmupError
from bench.run.engines.share_worker import (
    ShareWorker,
)
from bench.run.engines.shares import MergedRun, RunSpec, merge, split_indices

START_AHEAD_NS = 50_000_000
"""How far ahead of the barrier the common start is set: time for every child to read it and get ready."""
_HEADER = struct.Struct("!I")


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

    def __init__(
        self, k: int, loop: str = "asyncio", start_timeout_s: float = 30.0, plugins: Sequence[str] = ()
    ) -> None:
        if k < 1:
            raise ValueError(f"processes must be at least 1, got {k}")
        self.k, self.loop, self.start_timeout_s = k, loop, start_timeout_s
        self.plugins = tuple(plugins)
        """Plugin modules each child loads before its first run (the parent's ``bench.plugins.loaded()``)."""
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
                    [sys.executable, "-m", "bench.run.engines.processes", self.loop, *self.plugins],
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
            if name == "WarmupError":
                raise WarmupError(message)
            raise ClientProcessError(f"client process {proc.pid} failed: {name}: {message}")
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


# --- the child's side ----------------------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Ask Linux to SIGKILL this process when its parent dies (no orphan survives a killed runner)."""
    if sys.platform != "linux":
        return
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def child_main(loop: str, plugins: Sequence[str] = ()) -> int:
    """A client process: load the parent's plugins, then answer its messages on stdin/stdout until stdin closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's; it stops us
    _die_with_parent()
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing else may write on the message pipe
    try:
        plugin_modules.load_entry_points()
        plugin_modules.load(plugins, where="client process")
    except IobenchError as exc:
        _send(out, ("error", type(exc).__name__, str(exc)))
        return 2
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


if __name__ == "__main__":  # python -m bench.run.engines.processes LOOP (started by ClientPool)
    # Run the imported module's copy: one bench.run.engines.processes in the child, not a second one named __main__ (the
    # records
    # it pickles live in bench.run.engines.shares either way).
    from bench.run.engines.processes import child_main as _imported_main

    raise SystemExit(_imported_main(sys.argv[1] if len(sys.argv) > 1 else "asyncio", sys.argv[2:]))
