"""bench.processes: the split and the merge (pure), the shared clock, and a pool of real client processes against
the local server: merged samples, a common start, a failed warm-up, an interrupted run leaving no process."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator

import pytest

from bench.errors import WarmupError
from bench.processes import (
    ClientPool,
    RunSpec,
    ShareResult,
    merge,
    run_in_processes,
    same_clock_everywhere,
    split_indices,
)

GATHER = {"name": "gather", "params": {}}


def _share(indices: tuple[int, ...], base: int, returned: int, outcome: str = "ok") -> ShareResult:
    n = len(indices)
    return ShareResult(
        indices=indices,
        start_ns=tuple(base + i for i in indices),
        end_ns=tuple(base + 100 + i for i in indices),
        status=(200,) * n,
        nbytes=(2,) * n,
        error=("",) * n,
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


def test_a_run_over_two_processes_merges_every_task(pool: ClientPool, server_url: str) -> None:
    n = 200
    urls = tuple(f"{server_url}/delay/{100 + (i % 4) * 10}ms" for i in range(n))
    spec = RunSpec(strategy=GATHER, tasks=n, urls=urls, warm_url=f"{server_url}/health")
    run = run_in_processes(pool, spec)
    assert run.outcome == "ok"
    assert run.finished == n
    assert len({s.pid for s in run.shares}) == 2
    assert os.getpid() not in {s.pid for s in run.shares}
    assert all(s >= 0 for s in run.start_ns)
    assert all(e - s >= 100e6 for s, e in zip(run.start_ns, run.end_ns, strict=True))
    ideal_ns = 130e6  # the longest delay: every task runs at once
    assert ideal_ns <= run.wall_ns < 20 * ideal_ns
    assert max(run.end_ns) <= run.wall_ns + 5e6  # nothing ends after the last strategy returned (gather)
    assert run.limits_per_process == {"processes": 2, "connector_limit": None}


def test_the_processes_start_together(pool: ClientPool) -> None:
    run = pool.run(RunSpec(strategy=GATHER, tasks=40, delays_ms=(50.0,) * 40))
    firsts = [min(s.start_ns) for s in run.shares]
    assert all(0 <= f < 200e6 for f in firsts)  # each started at the common instant, not one after the other
    assert run.finished == 40


def test_a_failed_warm_up_fails_the_run_and_the_pool_runs_on(pool: ClientPool, server_url: str) -> None:
    bad = RunSpec(strategy=GATHER, tasks=4, urls=(f"{server_url}/health",) * 4, warm_url=f"{server_url}/status/500")
    with pytest.raises(WarmupError, match="answered HTTP 500"):
        pool.run(bad)
    good = RunSpec(strategy=GATHER, tasks=4, urls=(f"{server_url}/health",) * 4, warm_url=f"{server_url}/health")
    assert pool.run(good).finished == 4


def test_a_bounded_strategy_keeps_its_limit_in_each_process(pool: ClientPool) -> None:
    spec = RunSpec(strategy={"name": "bounded", "params": {"limit": 3}}, tasks=30, delays_ms=(20.0,) * 30)
    run = pool.run(spec)
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
        pool.run(RunSpec(strategy=GATHER, tasks=10, delays_ms=(30_000.0,) * 10))
    timer.cancel()
    assert pids
    assert not any(_alive(p) for p in pids)
