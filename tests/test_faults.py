"""The fault suite: a failing target, a dying server, signals, kill -9 and 10,000 tasks, through the real CLI.

Each test runs ``python -m bench run`` in a child process, records every process it starts (by PID, from /proc),
and asserts that none is left once it ends. The test process makes itself a child subreaper, so server processes
orphaned by a killed runner become its children: it can reap them, and ``os.kill(pid, 0)`` then tells "gone"
apart from "exited but never reaped" even where PID 1 does not reap orphans.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bench.results.files import read_results
from bench.results.records import ResultsFile, RunResult
from tests.conftest import REPO

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc and uses prctl (Linux only)"),
]

PR_SET_CHILD_SUBREAPER = 36


@pytest.fixture(autouse=True)
def subreaper() -> Iterator[None]:
    """Orphans of the runner become ours (not PID 1's) while a test runs, so they can be reaped and counted."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        pytest.skip(f"prctl(PR_SET_CHILD_SUBREAPER) failed: {os.strerror(ctypes.get_errno())}")
    yield
    libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def descendants(pid: int) -> dict[int, str]:
    """Every living process below ``pid``, with its command line.

    ``/proc/<pid>/task/*/children`` needs CONFIG_PROC_CHILDREN, which not every kernel has; the parent links in
    ``/proc/*/stat`` are always there.
    """
    parent_of: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(entry.path, "stat").read_text(encoding="utf-8", errors="replace")
                parent_of[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found: dict[int, str] = {}
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parent_of.items() if parent in frontier and child not in found}
        for child in frontier:
            with contextlib.suppress(OSError):
                found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
    return found


class Watched:
    """``python -m bench ARGS`` in a child process; a thread records every process below it until it ends."""

    def __init__(self, args: list[str], folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.out_path, self.err_path = folder / "stdout.txt", folder / "stderr.txt"
        with self.out_path.open("wb") as out, self.err_path.open("wb") as err:
            self.proc = subprocess.Popen(  # its own process group, as a command started from a shell
                [sys.executable, "-m", "bench", *args], cwd=REPO, stdout=out, stderr=err, start_new_session=True
            )
        self.started = time.monotonic()
        self.seen: dict[int, str] = {}
        """Every PID seen below the runner (in the order first seen), with its command line."""
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while self.proc.poll() is None:
            found = descendants(self.proc.pid)
            with self._lock:
                for pid, cmdline in found.items():
                    self.seen.setdefault(pid, cmdline)
            time.sleep(0.01)

    def servers(self) -> list[int]:
        """PIDs of the local server processes seen so far."""
        with self._lock:
            return [pid for pid, cmdline in self.seen.items() if "bench.server" in cmdline]

    def wait_for_server(self, timeout_s: float = 15.0) -> int:
        """The first server PID, once it is there."""
        deadline = time.monotonic() + timeout_s
        while not self.servers():
            assert self.proc.poll() is None, f"the runner ended before starting a server: {self.stderr()}"
            assert time.monotonic() < deadline, "no server process appeared"
            time.sleep(0.01)
        return self.servers()[0]

    def wait_for_connections(self, pid: int, timeout_s: float = 15.0) -> None:
        """Until server ``pid`` holds an established connection: it is up and the runner is talking to it."""
        deadline = time.monotonic() + timeout_s
        while not established(pid):
            assert self.proc.poll() is None, f"the runner ended early: {self.stderr()}"
            assert time.monotonic() < deadline, f"server {pid} never got a connection"
            time.sleep(0.01)

    def wait(self, timeout_s: float) -> int:
        """The exit code; the runner is killed (and the test fails) if it takes longer than ``timeout_s``."""
        try:
            code = self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"the runner did not end within {timeout_s:g}s")
        self._thread.join(5)
        return code

    def stdout(self) -> str:
        return self.out_path.read_text(encoding="utf-8")

    def stderr(self) -> str:
        return self.err_path.read_text(encoding="utf-8")

    def close(self) -> None:
        """Kill the runner if a failed assertion left it running."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._thread.join(5)


@contextlib.contextmanager
def watched(args: list[str], folder: Path) -> Iterator[Watched]:
    run = Watched(args, folder)
    try:
        yield run
    finally:
        run.close()


def assert_all_gone(pids: dict[int, str], within_s: float = 3.0) -> None:
    """Every PID has exited (reaping those that became ours), allowing ``within_s`` for slow exits."""
    deadline = time.monotonic() + within_s
    alive = dict(pids)
    while alive:
        for pid in list(alive):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                del alive[pid]
        if alive and time.monotonic() > deadline:
            pytest.fail(f"processes left behind after {within_s:g}s: {alive}")
        time.sleep(0.05)


def write(folder: Path, name: str, text: str) -> str:
    path = folder / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def scenario(name: str, tasks: int, ms: float, strategies: str, repeats: int, extra: str = "") -> str:
    return (
        f"name: {name}\ntasks: {tasks}\ntarget:\n  latency: {{dist: fixed, ms: {ms}}}\n{extra}"
        f"strategies: {strategies}\nrepeats: {repeats}\nwarmup: 0\n"
    )


def established(pid: int) -> bool:
    """Whether process ``pid`` has an established TCP connection (its sockets' inodes in /proc/net/tcp*)."""
    try:
        inodes = {
            os.readlink(f"/proc/{pid}/fd/{fd}")[8:-1]
            for fd in os.listdir(f"/proc/{pid}/fd")
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:[")
        }
    except OSError:
        return False
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as handle:
            for line in handle.readlines()[1:]:
                fields = line.split()
                if fields[3] == "01" and fields[9] in inodes:  # 01: ESTABLISHED
                    return True
    return False


def run_args(*paths: str, output: Path) -> list[str]:
    return ["run", *paths, "-o", str(output), "-q", "--no-plots"]


def wait_for_scenarios(path: Path, count: int, run: Watched, timeout_s: float = 20.0) -> None:
    """Poll the results file until it holds ``count`` finished scenarios."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert run.proc.poll() is None, f"the runner ended early: {run.stderr()}"
        with contextlib.suppress(OSError, ValueError):
            if len(json.loads(path.read_text(encoding="utf-8"))["scenarios"]) >= count:
                return
        time.sleep(0.02)
    pytest.fail(f"{path} did not show {count} finished scenario(s) within {timeout_s:g}s")


# --- 1. the target fails: 5xx, reset, hang ----------------------------------------------------------

FAULT_KINDS = {"status": "http_status", "reset": "connection", "hang": "timeout"}


@dataclass(frozen=True)
class Ended:
    """A finished CLI run: exit code, seconds it took, stderr, the results file, every PID seen below it."""

    code: int
    elapsed_s: float
    stderr: str
    results: ResultsFile
    seen: dict[int, str]


@pytest.fixture(scope="module")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> Ended:
    """One run of three scenarios, a quarter of whose 20 tasks fail in each of the three ways."""
    folder = tmp_path_factory.mktemp("faults")
    paths = [
        write(
            folder,
            f"fault-{kind}",
            scenario(
                f"fault-{kind}",
                20,
                5,
                "[sequential, {gather: {return_exceptions: true}}]",
                1,
                f"  error_rate: 0.25\n  error_kind: {kind}\ntimeout_s: 0.3\nseed: 3\n",
            ),
        )
        for kind in FAULT_KINDS
    ]
    out = folder / "r" / "run.json"
    with watched(run_args(*paths, output=out), folder) as run:
        code = run.wait(60)
        return Ended(code, time.monotonic() - run.started, run.stderr(), read_results(out), run.seen)


def test_faults_finish_in_bounded_time_and_leave_no_process(fault_run: Ended) -> None:
    assert (fault_run.code, fault_run.stderr) == (0, "")  # failed tasks are results, not a failed run
    assert fault_run.elapsed_s < 30  # the hanging tasks end at the 0.3 s timeout, not after the server's 60 s
    assert fault_run.results.complete
    assert [s.outcome for s in fault_run.results.scenarios] == ["ok", "ok", "ok"]
    assert fault_run.seen
    assert_all_gone(fault_run.seen)


@pytest.mark.parametrize(("kind", "recorded"), FAULT_KINDS.items())
def test_each_fault_is_recorded_with_its_kind(fault_run: Ended, kind: str, recorded: str) -> None:
    [point] = next(s for s in fault_run.results.scenarios if s.scenario.name == f"fault-{kind}").points
    failing = point.error_tasks
    assert len(failing) == 5  # error_rate 0.25 of 20 tasks: exactly 5, chosen by the seed
    runs: dict[str, RunResult] = {r.strategy: r for r in point.runs}
    for run in runs.values():
        assert run.finished + run.failed + run.cancelled + run.not_started == 20
        assert run.finished == run.samples.error.count("")
        assert run.failed == sum(1 for e in run.samples.error if e not in ("", "cancelled", "not_started"))

    gathered = runs["gather(return_exceptions=True)"]
    assert (gathered.outcome, gathered.finished, gathered.failed, gathered.cancelled) == ("ok", 15, 5, 0)
    assert gathered.samples.error == tuple(recorded if i in failing else "" for i in range(20))

    sequential = runs["sequential"]
    first = failing[0]
    assert (sequential.outcome, sequential.finished, sequential.failed) == ("failed", first, 1)
    assert sequential.samples.error == ("",) * first + (recorded,) + ("not_started",) * (19 - first)
    assert sequential.reason.startswith(f"task {first}: ")
    if kind == "status":
        assert set(gathered.samples.status[i] for i in failing) == {500}
    if kind == "hang":  # each failing task was cut at the scenario's timeout
        latency_ms = [(e - s) / 1e6 for s, e in zip(gathered.samples.start_ns, gathered.samples.end_ns, strict=True)]
        assert all(290 <= latency_ms[i] < 2000 for i in failing)


# --- 2. the server dies mid-run -----------------------------------------------------------------------


def test_server_killed_mid_run_fails_that_scenario_and_the_next_gets_a_fresh_server(tmp_path: Path) -> None:
    doomed = write(tmp_path, "doomed", scenario("doomed", 40, 50, "[sequential]", 2))
    after = write(tmp_path, "after", scenario("after", 5, 20, "[sequential, gather]", 1))
    out = tmp_path / "r" / "run.json"
    with watched(run_args(doomed, after, output=out), tmp_path) as run:
        first = run.wait_for_server()
        run.wait_for_connections(first)  # started, however long that took on a busy machine
        time.sleep(0.6)  # calibration is over; the first 2 s run is under way
        os.kill(first, signal.SIGKILL)
        code = run.wait(30)
    assert code == 3
    assert run.stderr() == ""
    results = read_results(out)
    assert results.complete
    dead, survivor = results.scenarios
    assert dead.outcome == "failed"
    assert dead.reason == (
        f"the local server exited during the run (pid {first} killed by SIGKILL); it is restarted for what follows"
    )
    assert survivor.outcome == "ok", survivor.reason
    assert all(r.outcome == "ok" and r.finished == 5 for r in survivor.points[0].runs)
    servers = run.servers()
    assert len(servers) == 2 and servers[0] == first != servers[1]
    assert_all_gone(run.seen)


# --- 3. Ctrl-C and SIGTERM ----------------------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_signal_stops_within_seconds_and_keeps_what_finished(tmp_path: Path, sig: signal.Signals) -> None:
    quick = write(tmp_path, "quick", scenario("quick", 3, 1, "[sequential, gather]", 1))
    long = write(tmp_path, "long", scenario("long", 20, 100, "[sequential, gather]", 10))
    out = tmp_path / "r" / "run.json"
    with watched(run_args(quick, long, output=out), tmp_path) as run:
        wait_for_scenarios(out, 1, run)
        time.sleep(0.5)  # into the long scenario's first run
        if sig == signal.SIGINT:  # Ctrl-C reaches the whole foreground process group; the server ignores it
            os.killpg(run.proc.pid, sig)
        else:
            os.kill(run.proc.pid, sig)
        sent = time.monotonic()
        code = run.wait(10)
        took = time.monotonic() - sent
    assert code == (130 if sig == signal.SIGINT else 143)  # 128 + the signal, as a shell reports it
    assert took < 3.0
    assert run.stderr() == f"iobench: interrupted; what finished is saved in {out}\n"
    results = read_results(out)
    assert not results.complete
    finished, cut = results.scenarios
    assert (finished.scenario.name, finished.outcome) == ("quick", "ok")
    assert (cut.scenario.name, cut.outcome, cut.reason) == ("long", "interrupted", "interrupted")
    assert len([r for p in cut.points for r in p.runs]) < 20  # partial runs at most
    assert run.servers()
    assert_all_gone(run.seen)


# --- 4. kill -9 loses nothing ------------------------------------------------------------------------


def test_kill_9_at_random_points_never_leaves_a_truncated_file(tmp_path: Path) -> None:
    """Eight short scenarios: a results write every ~0.35 s from ~2.5 s after start (imports and the server's
    start take that long) to ~5 s. One seeded random kill in each fifth of 0.3-5 s: some before the first write,
    most between writes."""
    paths = [
        write(tmp_path, f"s{i}", scenario(f"s{i}", 5, 20, "[sequential, gather]", 2, f"seed: {i}\n")) for i in range(8)
    ]
    rng = random.Random(20261125)
    attempts, low, high = 5, 0.3, 5.0
    leftovers: list[str] = []
    for attempt in range(attempts):
        folder = tmp_path / f"kill{attempt}"
        out = folder / "r" / "run.json"
        delay = low + (attempt + rng.random()) * (high - low) / attempts
        with watched(run_args(*paths, output=out), folder) as run:
            time.sleep(delay)
            run.proc.kill()
            run.wait(10)
        names = sorted(os.listdir(out.parent)) if out.parent.exists() else []
        temps = [n for n in names if n.endswith(".tmp")]
        assert len(temps) <= 1, temps
        assert all(n.startswith((".run.json.", ".latest.json.")) for n in temps), temps
        leftovers += [f"after {delay:.2f}s: {n}" for n in temps]
        saved = "no file"
        if out.exists():
            results = read_results(out)  # never truncated: the old file or the new one, whole
            assert all(s.outcome == "ok" for s in results.scenarios)
            assert results.complete == (len(results.scenarios) == 8)
            assert json.loads((out.parent / "latest.json").read_text(encoding="utf-8")) == {"latest": "run.json"}
            saved = f"{len(results.scenarios)} scenario(s), complete={results.complete}"
        print(f"kill -9 after {delay:.2f}s: {saved}; temporary files: {temps}")
        assert_all_gone(run.seen)  # the orphaned servers stop when their stdin closes
    if leftovers:
        print("temporary files left beside the results:", leftovers)


# --- 5. resource limits --------------------------------------------------------------------------------


def test_ten_thousand_task_gather(tmp_path: Path) -> None:
    big = write(
        tmp_path,
        "big",
        scenario("big", 10_000, 0, "[gather]", 1, "server: {workers: 2, backlog: 4096}\n"),
    )
    out = tmp_path / "r" / "run.json"
    with watched(run_args(big, output=out), tmp_path) as run:
        code = run.wait(90)
        elapsed = time.monotonic() - run.started
    assert (code, run.stderr()) == (0, "")
    [sc] = read_results(out).scenarios
    [run_result] = sc.points[0].runs
    assert (sc.outcome, run_result.outcome) == ("ok", "ok")
    assert (run_result.finished, run_result.failed, run_result.cancelled) == (10_000, 0, 0)
    assert 1 < run_result.peak_inflight <= 10_000  # requests in flight at once (tasks may end before the last starts)
    assert sc.peak_rss_mb is not None
    print(
        f"10,000-task gather: peak RSS {sc.peak_rss_mb} MB, run wall {run_result.wall_ns / 1e9:.1f}s, "
        f"command {elapsed:.1f}s"
    )
    assert sc.peak_rss_mb < 500
    assert_all_gone(run.seen)


# --- 6. kill -9 while the charts are drawn ----------------------------------------------------------------------


def test_kill_9_during_chart_export_leaves_no_process(tmp_path: Path) -> None:
    """The chart pool's workers (spawned interpreters) and multiprocessing's resource tracker die with the runner:
    none is left 10 s after a kill -9 (they once went on drawing charts for minutes)."""
    paths = [
        write(
            tmp_path,
            f"c{i}",
            f"name: c{i}\ntasks: [2, 4]\ntarget: {{kind: sleep, latency: {{dist: fixed, ms: 1}}}}\n"
            "strategies: [sequential, gather]\nrepeats: 2\nwarmup: 0\n",
        )
        for i in range(4)
    ]
    args = ["run", *paths, "-o", str(tmp_path / "r" / "run.json"), "-q", "--plots-dir", str(tmp_path / "plots")]
    with watched(args, tmp_path) as run:
        deadline = time.monotonic() + 60
        while not any("multiprocessing" in cmdline for cmdline in dict(run.seen).values()):
            assert run.proc.poll() is None, f"the runner ended before exporting in workers: {run.stderr()}"
            assert time.monotonic() < deadline, "no export worker appeared"
            time.sleep(0.01)
        time.sleep(0.3)  # the workers are importing matplotlib or drawing
        run.proc.kill()
        run.wait(10)
        workers = {pid: cmd for pid, cmd in dict(run.seen).items() if "multiprocessing" in cmd}
    assert workers
    assert_all_gone(run.seen, within_s=10)


# --- 7. SIGTERM under Ray ------------------------------------------------------------------------------------------


def test_sigterm_under_ray_exits_143_and_saves(tmp_path: Path) -> None:
    """Ray's own SIGTERM handler (installed by ray.init) once replaced iobench's: exit 1 and the scenario lost."""
    pytest.importorskip("ray")
    quick = write(tmp_path, "quick", scenario("quick", 4, 1, "[sequential, gather]", 1, "processes: 2\n"))
    long = write(tmp_path, "long", scenario("long", 20, 100, "[sequential, gather]", 20, "processes: 2\n"))
    out = tmp_path / "r" / "run.json"
    with watched([*run_args(quick, long, output=out), "--engine", "ray"], tmp_path) as run:
        wait_for_scenarios(out, 1, run, timeout_s=180)
        time.sleep(1.0)  # into the long scenario's runs
        os.kill(run.proc.pid, signal.SIGTERM)
        sent = time.monotonic()
        code = run.wait(60)
        took = time.monotonic() - sent
    assert code == 143, run.stderr()
    assert took < 30  # Ray's shutdown included
    assert run.stderr().endswith(f"iobench: interrupted; what finished is saved in {out}\n"), run.stderr()
    results = read_results(out)
    assert not results.complete
    assert [(s.scenario.name, s.outcome) for s in results.scenarios] == [("quick", "ok"), ("long", "interrupted")]
    assert_all_gone(run.seen, within_s=15)


def test_a_ray_run_stops_every_ray_process_it_started(tmp_path: Path) -> None:
    """Ray's agents once outlived the run by 30-150 s."""
    pytest.importorskip("ray")
    path = write(tmp_path, "r", scenario("r", 4, 1, "[sequential, gather]", 1, "processes: 2\n"))
    out = tmp_path / "r" / "run.json"
    with watched([*run_args(path, output=out), "--engine", "ray"], tmp_path) as run:
        code = run.wait(180)
    assert code == 0, run.stderr()
    assert any("raylet" in cmdline for cmdline in run.seen.values())
    assert_all_gone(run.seen, within_s=5)
