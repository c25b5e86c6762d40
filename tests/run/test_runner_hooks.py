"""The runner around the user's own code, run in this process: setup hooks once per scenario on the loop the runs
use, a connection per worker thread opened once, module-level state across scenarios and loops, strategies
stopped when every task failed, the estimate without a sequential run, and the caps nobody set, named."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.report.notes import notes
from bench.results.records import ResultsFile
from bench.results.summary import Summary, summarise
from bench.run.runner import NullProgress, run_all
from bench.scenario.loader import load_paths
from tests.userfuncs import hooks

pytestmark = pytest.mark.e2e

HOOKS = "tests.userfuncs.hooks"


def _run(paths: list[Path], out: Path) -> ResultsFile:
    hooks.reset()
    return run_all(load_paths(paths), out, ["test"], NullProgress())


def _rows(results: ResultsFile, index: int = 0) -> dict[str, Summary]:
    return {row.strategy: row for row in summarise(results.scenarios[index])}


def _notes(results: ResultsFile, index: int = 0) -> str:
    scenario = results.scenarios[index]
    return "\n".join(notes(scenario, summarise(scenario)))


def test_setup_runs_once_per_scenario_on_the_runs_loop_and_threads_connect_once(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    text = f"""\
name: hooks
target:
  callable: {HOOKS}:use_pool
  setup: {HOOKS}:open_pool
  teardown: {HOOKS}:close_pool
  sync_callable: {HOOKS}:use_connection
  thread_setup: {HOOKS}:connect
  thread_teardown: {HOOKS}:disconnect
tasks: [8, 16]
repeats: 3
strategies: [sequential, gather, {{threads: {{workers: 4}}}}]
"""
    results = _run([write_scenario(text, "hooks")], tmp_path / "r.json")
    events = [event for event, _ in hooks.CALLS]
    assert events.count("setup") == 1 and events.count("teardown") == 1  # once for the scenario, both task counts
    assert events[-1] != "setup" and events.index("teardown") > events.index("setup")
    opened = [ident for event, ident in hooks.CALLS if event == "thread_setup"]
    closed = [ident for event, ident in hooks.CALLS if event == "thread_teardown"]
    assert len(opened) == 4 and sorted(opened) == sorted(closed)  # one per worker thread, for every run of both counts
    point_runs = [run for point in results.scenarios[0].points for run in point.runs]
    assert all(run.complete for run in point_runs)  # use_connection asserts it runs on its own thread's connection


def test_a_cap_in_the_users_code_is_found_and_a_declared_one_enters_the_ideal(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    common = f"""\
  setup: {HOOKS}:open_pool
tasks: 40
repeats: 3
strategies: [sequential, gather]
"""
    hidden = write_scenario(f"name: hidden\ntarget:\n  callable: {HOOKS}:use_pool\n{common}", "hidden")
    marked = write_scenario(f"name: marked\ntarget:\n  callable: {HOOKS}:use_pool_marked\n{common}", "marked")
    told = write_scenario(
        f"name: told\ntarget:\n  callable: {HOOKS}:use_pool_marked\n  pool: {{my pool: 5}}\n{common}", "told"
    )
    results = _run([hidden, marked, told], tmp_path / "r.json")
    gather = _rows(results, 0)["gather"]
    assert gather.ideal_s is not None and gather.efficiency is not None  # from the sequential runs
    assert gather.achieved_concurrency is not None and 3.5 < gather.achieved_concurrency < 5.5  # the pool's 5
    assert "gather at 40 tasks ran as if about" in _notes(results, 0)
    assert "a limit outside iobench" in _notes(results, 0)
    # the wait for a slot is inside the user's code: iobench sees only the task's start (waits of ~1 ms, its
    # scheduling); marked with io_starts(), the wait for a slot is shown as wait (40 tasks, 5 at a time, 10 ms each)
    assert gather.wait_ms[50] * 4 < _rows(results, 1)["gather"].wait_ms[50]
    assert _rows(results, 1)["gather"].wait_ms[50] > 10
    told_gather = _rows(results, 2)["gather"]
    assert told_gather.bound_by == "my pool 5" and "capped by my pool 5" in _notes(results, 2)
    assert told_gather.efficiency is not None and told_gather.efficiency > 0.6
    assert "a limit outside iobench" not in _notes(results, 2)


def test_asyncios_default_executor_is_named_when_it_bound(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    text = f"name: executor\ntarget: {{callable: '{HOOKS}:to_thread_sleep'}}\ntasks: 40\nrepeats: 2\n"
    text += "strategies: [sequential, gather]\n"
    results = _run([write_scenario(text, "executor")], tmp_path / "r.json")
    gather = _rows(results)["gather"]
    assert gather.bound_by is not None and gather.bound_by.startswith("asyncio's default executor")
    sequential = _rows(results)["sequential"]
    assert sequential.bound_by is None and sequential.limits.get("default_executor_peak") == 1


def test_a_cpu_bound_task_is_said_to_be_bound_by_the_clients_cpu(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    body = "tasks: 30\nrepeats: 3\nstrategies: [sequential, gather]\n"
    spin = write_scenario(f"name: cpu\ntarget: {{callable: '{HOOKS}:spin'}}\n{body}", "cpu")
    wait = write_scenario(f"name: wait\ntarget: {{callable: '{HOOKS}:to_thread_sleep'}}\n{body}", "wait")
    results = _run([spin, wait], tmp_path / "r.json")
    busy, idle = _rows(results, 0)["gather"].cpu_busy, _rows(results, 1)["gather"].cpu_busy
    assert busy is not None and idle is not None and busy > 3 * idle  # spinning against waiting in threads
    if busy >= 0.8:  # on a host busy with other work this process gets less than a core
        assert "not the I/O, bound it" in _notes(results)


def test_module_level_state_lives_across_scenarios_and_fails_fast_on_the_other_loop(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    pytest.importorskip("uvloop")
    text = f"""\
name: NAME
target: {{callable: '{HOOKS}:lazy_module_state'}}
tasks: 10
repeats: 2
timeout_s: 30
strategies: [sequential, gather]
"""
    first = write_scenario(text.replace("NAME", "first"), "first")
    second = write_scenario(text.replace("NAME", "second"), "second")
    again = write_scenario(text.replace("NAME", "third").replace("timeout_s: 30", "timeout_s: 30\nloop: uvloop"), "u")
    results = _run([first, second, again], tmp_path / "r.json")
    for index in (0, 1):  # the same loop: what the first scenario made still works in the second
        assert all(run.complete for point in results.scenarios[index].points for run in point.runs)
    other = [run for point in results.scenarios[2].points for run in point.runs]
    assert other and not any(run.complete for run in other)
    assert all(run.wall_ns < 30e9 / 10 for run in other)  # failed at once, never waiting out timeout_s
    assert any("different event loop" in message for run in other for message in run.messages)
    notes = _notes(results, 2)
    assert "made on another event loop" in notes and "setup hook" in notes
    assert "was stopped: every task of a run failed" in notes  # its later runs were not paid for


def test_a_strategy_whose_every_task_failed_is_stopped_with_its_reason(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    text = f"name: down\ntarget: {{callable: '{HOOKS}:always_fails'}}\ntasks: 5\nrepeats: 4\n"
    text += "strategies: [sequential, gather]\n"
    results = _run([write_scenario(text, "down")], tmp_path / "r.json")
    point = results.scenarios[0].points[0]
    assert set(point.abandoned) == {"sequential", "gather"}
    assert len(point.runs) == 2  # one run each; the other rounds were skipped
    assert "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 6390)" in point.abandoned["gather"]
    assert "failures of gather at 5 tasks: ConnectionRefusedError" in _notes(results) and "×5" in _notes(results)


def test_without_a_sequential_run_the_ideal_is_an_estimate_from_a_probe(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    text = f"name: probe\ntarget: {{callable: '{HOOKS}:use_pool', setup: '{HOOKS}:open_pool'}}\ntasks: 30\n"
    text += "repeats: 2\nstrategies: [gather, {bounded: {limit: 5}}]\n"
    results = _run([write_scenario(text, "probe")], tmp_path / "r.json")
    probe = results.scenarios[0].points[0].probe
    assert probe is not None and len(probe.durations_ms) == 20 and min(probe.durations_ms) >= 9.0
    bounded = _rows(results)["bounded(limit=5)"]
    assert bounded.ideal_source == "estimate" and bounded.efficiency is not None
    assert "an estimate" in _notes(results)
