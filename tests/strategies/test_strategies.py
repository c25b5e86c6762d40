"""Every strategy on the local server, each keeping its real error semantics; caps made visible."""

from __future__ import annotations

import resource
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.errors import EnvironmentLimitError, ScenarioError
from bench.loops import loop_factory
from bench.results.records import ResultsFile, RunResult
from bench.results.summary import summarise
from bench.run.preflight import preflight
from bench.run.runner import NullProgress, run_all
from bench.scenario.latency import Uniform
from bench.scenario.loader import load_paths
from bench.scenario.plan import draw_delays, draw_errors
from tests.conftest import REPO

pytestmark = pytest.mark.e2e

ALL = (
    "[sequential, gather, {gather: {return_exceptions: true}}, taskgroup, as_completed,"
    " {bounded: {limit: 4}}, {threads: {workers: 4}}]"
)

# Seed 8 with 20 tasks, error_rate 0.2, delays uniform 10-300 ms: exactly 4 tasks (8, 15, 16, 18) answer 500;
# the quickest of them fails after 16 ms, while 10 healthy tasks take more than 76 ms.
ERRORS = f"""\
name: errors
tasks: 20
target:
  latency: {{dist: uniform, low_ms: 10, high_ms: 300}}
  error_rate: 0.2
strategies: {ALL}
repeats: 1
warmup: 0
seed: 8
"""
LATENCY = Uniform(dist="uniform", low_ms=10, high_ms=300)
FAILING = draw_errors(0.2, 20, 8)
DELAYS = draw_delays(LATENCY, 20, 8)
FIRST_FAILURE_MS = min(DELAYS[i] for i in FAILING)
SLOW_HEALTHY = [i for i in range(20) if i not in FAILING and DELAYS[i] > FIRST_FAILURE_MS + 60]


def run(write: Callable[[str, str], Path], text: str, name: str, tmp: Path) -> ResultsFile:
    return run_all(load_paths([write(text, name)]), tmp / f"{name}.json", ["test"], NullProgress())


@pytest.fixture(scope="module")
def error_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, RunResult]:
    folder = tmp_path_factory.mktemp("errors")
    path = folder / "errors.yaml"
    path.write_text(ERRORS, encoding="utf-8")
    results = run_all(load_paths([path]), folder / "r.json", ["test"], NullProgress())
    return {r.strategy: r for r in results.scenarios[0].points[0].runs}


def test_the_seeded_plan_is_what_the_tests_assume() -> None:
    assert FAILING == (8, 15, 16, 18)
    assert FIRST_FAILURE_MS < 20
    assert len(SLOW_HEALTHY) == 10


def test_failing_tasks_are_exactly_the_seeded_ones(error_runs: dict[str, RunResult]) -> None:
    for label, run in error_runs.items():
        if label in ("sequential", "taskgroup", "threads(workers=4)"):  # these stop or cancel on failure
            continue
        failed = tuple(i for i, e in enumerate(run.samples.error) if e == "http_status")
        assert failed == FAILING, label
        assert all(run.samples.status[i] == 500 for i in FAILING), label


def test_sequential_stops_at_the_first_failure(error_runs: dict[str, RunResult]) -> None:
    run = error_runs["sequential"]
    assert (run.outcome, run.finished, run.failed, run.cancelled, run.not_started) == ("failed", 8, 1, 0, 11)
    assert run.reason == "task 8: HTTP 500"
    assert run.samples.error[9:] == ("not_started",) * 11


@pytest.mark.parametrize("label", ["gather", "as_completed", "bounded(limit=4)"])
def test_first_failure_propagates_and_siblings_still_run(error_runs: dict[str, RunResult], label: str) -> None:
    run = error_runs[label]
    assert (run.outcome, run.finished, run.failed, run.cancelled) == ("failed", 16, 4, 0)
    assert run.reason.startswith("task ") and run.reason.endswith(": HTTP 500")


def test_thread_pool_map_drops_queued_tasks_after_a_failure(error_runs: dict[str, RunResult]) -> None:
    """Executor.map cancels the futures not yet started when the first failure is raised from its iterator."""
    run = error_runs["threads(workers=4)"]
    assert run.outcome == "failed" and run.reason.endswith(": HTTP 500")
    assert run.not_started > 0
    assert {run.samples.error[i] for i in range(20) if run.samples.start_ns[i] < 0} == {"not_started"}
    assert run.finished + run.failed + run.cancelled + run.not_started == 20
    assert run.samples.error[8] == "http_status"


def test_gather_with_return_exceptions_collects_failures(error_runs: dict[str, RunResult]) -> None:
    run = error_runs["gather(return_exceptions=True)"]
    assert (run.outcome, run.finished, run.failed, run.cancelled) == ("ok", 16, 4, 0)


def test_taskgroup_cancels_the_siblings(error_runs: dict[str, RunResult]) -> None:
    run = error_runs["taskgroup"]
    assert run.outcome == "failed"
    assert run.reason.endswith(": HTTP 500")
    cancelled = {i for i, e in enumerate(run.samples.error) if e == "cancelled"}
    assert set(SLOW_HEALTHY) <= cancelled
    assert run.cancelled == len(cancelled) and run.finished + run.failed + run.cancelled + run.not_started == 20


def test_every_run_accounts_for_every_task(error_runs: dict[str, RunResult]) -> None:
    for run in error_runs.values():
        assert run.finished + run.failed + run.cancelled + run.not_started == 20
        assert all((s >= 0) == (e >= 0) for s, e in zip(run.samples.start_ns, run.samples.end_ns, strict=True))


def test_peak_in_flight_matches_each_strategy(error_runs: dict[str, RunResult]) -> None:
    assert error_runs["sequential"].peak_inflight == 1
    assert error_runs["bounded(limit=4)"].peak_inflight == 4
    assert error_runs["threads(workers=4)"].peak_inflight == 4
    assert error_runs["gather"].peak_inflight == 20
    assert error_runs["bounded(limit=4)"].limits["semaphore"] == 4
    assert error_runs["threads(workers=4)"].limits["thread_workers"] == 4


def test_connector_limit_binds_and_is_named(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    text = """\
name: caps-small
tasks: 40
target: {latency: {dist: fixed, ms: 40}}
strategies: [{gather: {connector_limit: 5}}, {gather: {connector_limit: null}}]
repeats: 2
warmup: 0
"""
    results = run(write_scenario, text, "caps", tmp_path)
    rows = {r.strategy: r for r in summarise(results.scenarios[0])}
    limited, free = rows["gather(connector_limit=5)"], rows["gather(connector_limit=None)"]
    assert limited.bound_by == "connector limit 5"
    assert limited.peak_queued >= 30
    assert limited.limits["connector_limit"] == 5
    assert free.bound_by is None and free.peak_queued == 0 and free.limits["connector_limit"] is None
    assert limited.wall_median_s / free.wall_median_s >= 3.0  # 8 waves against 1


def test_sleep_target_needs_no_server(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    text = """\
name: sleepy
tasks: 20
target: {kind: sleep, latency: {dist: fixed, ms: 30}}
strategies: [sequential, gather, taskgroup, {threads: {workers: 20}}]
repeats: 1
warmup: 0
"""
    results = run(write_scenario, text, "sleep", tmp_path)
    rows = {r.strategy: r for r in summarise(results.scenarios[0])}
    for label in ("gather", "taskgroup", "threads(workers=20)"):
        assert rows[label].speedup is not None and rows[label].speedup >= 3.0, label
        assert rows[label].failed_tasks == 0


def test_callable_target_runs_the_users_functions(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    text = """\
name: mine
tasks: 8
target: {callable: "tests.userfuncs:fetch", sync_callable: "tests.userfuncs:fetch_sync"}
strategies: [sequential, {gather: {return_exceptions: true}}, {threads: {workers: 8}}]
repeats: 1
warmup: 0
"""
    results = run(write_scenario, text, "mine", tmp_path)
    point = results.scenarios[0].points[0]
    assert point.delays_ms == ()
    runs = {r.strategy: r for r in point.runs}
    assert (runs["sequential"].finished, runs["sequential"].failed, runs["sequential"].not_started) == (3, 1, 4)
    for label in ("gather(return_exceptions=True)", "threads(workers=8)"):
        assert (runs[label].finished, runs[label].failed) == (7, 1), label
        assert runs[label].samples.error[3] == "exception"
    rows = {r.strategy: r for r in summarise(results.scenarios[0])}
    assert rows["sequential"].ideal_s is None and rows["sequential"].efficiency is None


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            '{callable: "tests.userfuncs:fetch_sync"}',
            "target.callable: tests.userfuncs:fetch_sync must be an async def",
        ),
        ('{callable: "tests.nowhere:f"}', "target.callable: cannot import module 'tests.nowhere'"),
        (
            '{callable: "tests.userfuncs:missing"}',
            "target.callable: module 'tests.userfuncs' has no function 'missing'",
        ),
    ],
)
def test_callable_mistakes_are_refused_before_running(
    write_scenario: Callable[[str, str], Path], target: str, message: str
) -> None:
    path = write_scenario(f"name: c\ntasks: 2\ntarget: {target}\n", "c")
    with pytest.raises(ScenarioError) as info:
        preflight(load_paths([path]))
    assert message in str(info.value)


def test_threads_with_callable_needs_a_sync_function(write_scenario: Callable[[str, str], Path]) -> None:
    path = write_scenario(
        'name: c\ntasks: 2\ntarget: {callable: "tests.userfuncs:quick"}\nstrategies: [{threads: {workers: 2}}]\n', "c"
    )
    with pytest.raises(ScenarioError) as info:
        preflight(load_paths([path]))
    assert str(info.value) == f"{path}: target.sync_callable: the threads strategy needs a plain def; name one here"


def test_uvloop_missing_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # makes `import uvloop` raise ImportError
    with pytest.raises(EnvironmentLimitError) as info:
        loop_factory("uvloop")
    assert str(info.value) == "uvloop is not installed; install it with: pip install 'iobench[uvloop]'"


def test_uvloop_runs_when_installed(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    pytest.importorskip("uvloop")
    text = "name: uv\ntasks: 5\ntarget: {latency: {dist: fixed, ms: 5}}\nloop: uvloop\nrepeats: 1\nwarmup: 0\n"
    results = run(write_scenario, text, "uv", tmp_path)
    runs = results.scenarios[0].points[0].runs
    assert {r.loop for r in runs} == {"uvloop"}
    assert all(r.finished == 5 for r in runs)


def test_low_descriptor_limit_is_refused_before_any_request(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_scenario(
        "name: big\ntasks: 1000\ntarget: {latency: {dist: fixed, ms: 1}}\nstrategies: [gather]\n", "big"
    )

    def low_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    done = subprocess.run(
        [sys.executable, "-m", "bench", "run", str(path), "--results-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=low_limit,
        cwd=REPO,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr == (
        f"iobench: error: {path}: scenario 'big' may hold 1000 connections open at once, but the file-descriptor "
        "limit is 256 (hard limit 256); raise it (ulimit -n 1064) or set connector_limit in the scenario\n"
    )
    assert not (tmp_path / "r").exists()  # refused before the server started or anything was written
