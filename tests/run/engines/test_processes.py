"""bench.run.engines.processes: the split and the merge (pure), the shared clock, and a pool of real client processes
against
the local server: merged samples, a common start, a failed warm-up, an interrupted run leaving no process."""

from __future__ import annotations

import dataclasses
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.errors import WarmupError
from bench.results.records import Samples
from bench.results.summary import summarise
from bench.run.engines.processes import ClientPool
from bench.run.engines.shares import RunSpec, ShareResult, merge, same_clock_everywhere, split_indices
from bench.run.runner import NullProgress, run_all
from bench.scenario.loader import load_paths
from bench.scenario.model import Scenario
from bench.scenario.plan import make_plan

pytestmark = pytest.mark.e2e


def _share(indices: tuple[int, ...], base: int, returned: int, outcome: str = "ok") -> ShareResult:
    n = len(indices)
    return ShareResult(
        indices=indices,
        samples=Samples(
            created_ns=tuple(base + i for i in indices),
            start_ns=tuple(base + i for i in indices),
            end_ns=tuple(base + 100 + i for i in indices),
            status=(200,) * n,
            nbytes=(2,) * n,
            error=("",) * n,
            service_us=(-1,) * n,
        ),
        returned_ns=returned,
        late_ns=0,
        outcome=outcome,
        reason="task 1: timeout" if outcome != "ok" else "",
        peak_inflight=n,
        connector_limit=None,
        warm_s=0.0,
        peak_rss_mb=50.0,
        pid=1,
    )


def test_split_deals_indices_in_turn() -> None:
    assert split_indices(7, 3) == ((0, 3, 6), (1, 4), (2, 5))
    assert split_indices(2, 3) == ((0,), (1,), ())
    with pytest.raises(ValueError, match="at least 1"):
        split_indices(5, 0)


def test_merge_puts_samples_back_at_their_indices_and_takes_the_latest_return() -> None:
    run = merge(5, [_share((0, 2, 4), 0, 900), _share((1, 3), 10, 1200, "failed")])
    assert run.start_ns == (0, 11, 2, 13, 4)
    assert run.end_ns == (100, 111, 102, 113, 104)
    assert run.wall_ns == 1200
    assert (run.outcome, run.reason, run.finished) == ("failed", "task 1: timeout", 5)
    assert run.peak_rss_mb == (50.0, 50.0)


def test_merge_sums_collector_passes_and_keeps_the_longest_collector_time() -> None:
    first = dataclasses.replace(_share((0,), 0, 10), gc_passes=(5, 1, 0), gc_ms=3.5)
    second = dataclasses.replace(_share((1,), 0, 10), gc_passes=(7, 2, 1), gc_ms=12.25)
    merged = merge(2, [first, second])
    assert (merged.gc_passes, merged.gc_ms) == ((12, 3, 1), 12.25)


def test_merge_applies_clock_shifts_and_leaves_unrun_tasks_not_started() -> None:
    run = merge(3, [_share((0,), 1000, 2000), _share((2,), 0, 500)], shifts_ns=(1000, 0))
    assert run.start_ns == (0, -1, 2)
    assert run.error == ("", "not_started", "")
    assert run.wall_ns == 1000
    assert run.offsets_ns == (1000, 0)


@pytest.fixture(scope="module")
def pool() -> Iterator[ClientPool]:
    with ClientPool(2) as started:
        yield started


def test_monotonic_is_one_clock_for_every_process(pool: ClientPool) -> None:
    assert same_clock_everywhere()
    for j in range(2):
        before = time.monotonic_ns()
        theirs = pool.now_ns(j)
        after = time.monotonic_ns()
        assert before <= theirs <= after


def _spec(document: dict[str, object], base_url: str = "") -> RunSpec:
    scenario = Scenario.model_validate({"name": "p", "repeats": 1, "warmup": 0, **document})
    return RunSpec(scenario, make_plan(scenario).points[0], scenario.strategies[0].label, base_url)


def test_a_run_over_two_processes_merges_every_task(pool: ClientPool, server_url: str) -> None:
    n = 200
    spec = _spec(
        {
            "tasks": n,
            "target": {"latency": {"dist": "uniform", "low_ms": 100, "high_ms": 130}},
            "strategies": ["gather"],
        },
        server_url,
    )
    run = pool.run(spec)
    assert run.outcome == "ok"
    assert run.finished == n
    assert len({s.pid for s in run.shares}) == 2
    assert os.getpid() not in {s.pid for s in run.shares}
    assert all(s >= 0 for s in run.start_ns)
    assert all(e - s >= 100e6 for s, e in zip(run.start_ns, run.end_ns, strict=True))
    assert all(us >= 100_000 for us in run.samples.service_us)  # the server's delivered times came back too
    ideal_ns = max(spec.point.delays_ms) * 1e6  # the longest delay: every task runs at once
    assert ideal_ns <= run.wall_ns < 20 * ideal_ns
    assert max(run.end_ns) <= run.wall_ns + 5e6  # nothing ends after the last strategy returned (gather)


def test_the_processes_start_together(pool: ClientPool) -> None:
    run = pool.run(RunSpec.local("", 40, 50.0, kind="sleep"))
    firsts = [min(s.samples.start_ns) for s in run.shares]
    assert all(0 <= f < 200e6 for f in firsts)  # each started at the common instant, not one after the other
    assert run.finished == 40


def test_a_failed_warm_up_fails_the_run_and_the_pool_runs_on(pool: ClientPool, server_url: str) -> None:
    bad = _spec({"tasks": 4, "target": {"kind": "url", "url": f"{server_url}/status/500"}, "strategies": ["gather"]})
    with pytest.raises(WarmupError, match="answered HTTP 500"):
        pool.run(bad)
    good = RunSpec.local(server_url, 4, 1.0)
    assert pool.run(good).finished == 4


def test_a_bounded_strategy_keeps_its_limit_in_each_process(pool: ClientPool) -> None:
    run = pool.run(RunSpec.local("", 30, 20.0, {"bounded": {"limit": 3}}, kind="sleep"))  # type: ignore[arg-type]
    assert [s.peak_inflight for s in run.shares] == [3, 3]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_an_interrupted_run_leaves_no_process_behind() -> None:
    main = threading.get_ident()
    timer = threading.Timer(1.0, signal.pthread_kill, (main, signal.SIGINT))  # Ctrl-C, mid-run
    pids: list[int] = []
    with pytest.raises(KeyboardInterrupt), ClientPool(2) as pool:
        pids = pool.pids
        assert len(pids) == 2
        assert all(_alive(p) for p in pids)
        timer.start()
        pool.run(RunSpec.local("", 10, 30_000.0, kind="sleep"))
    timer.cancel()
    assert pids
    assert not any(_alive(p) for p in pids)


def test_a_scenario_with_two_client_processes_runs_end_to_end(tmp_path: Path) -> None:
    """`processes: 2` through the runner: one merged run per strategy and round, the ideal from the delivered
    service times, the caps per process, the server's workers matched to the processes."""
    path = tmp_path / "two.yaml"
    path.write_text(
        "name: two\ntasks: 40\ntarget: {latency: {dist: fixed, ms: 50}}\n"
        "strategies: [sequential, gather, {bounded: {limit: 4}}]\nrepeats: 2\nwarmup: 1\nprocesses: 2\n",
        encoding="utf-8",
    )
    results = run_all(load_paths([path]), tmp_path / "r.json", ["test"], NullProgress())
    [result] = results.scenarios
    assert result.outcome == "ok", result.reason
    runs = result.points[0].runs
    assert all(r.limits["processes"] == 2 and r.finished == 40 for r in runs)
    rows = {row.strategy: row for row in summarise(result)}
    # from the service times the server delivered: 50 ms and its lateness, which a busy host makes larger
    assert rows["bounded(limit=4)"].ideal_s == pytest.approx(40 / 8 * 0.05, rel=0.15)  # 4 at once in each of 2
    assert rows["sequential"].ideal_s == pytest.approx(20 * 0.05, rel=0.15)  # one at a time in each process
    assert rows["gather"].speedup is not None and rows["gather"].speedup > 5
    assert rows["gather"].efficiency is not None and rows["gather"].efficiency <= 1.0
