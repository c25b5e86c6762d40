"""Numbers that hold up, end to end against the real server: each test fails on a wrong figure.

Sub-millisecond delays on both server loops never give efficiency above 100%; failed runs print no speedup and
fail exactly the planned tasks; latency includes the wait for a semaphore; a reset costs one attempt, not two;
overhead is calibrated per client stack with an interval; the timed region is the same for every run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from rich.console import Console

from bench.report.table import scenario_table
from bench.results.records import ResultsFile
from bench.results.summary import summarise
from bench.run.runner import NullProgress, run_all
from bench.scenario.loader import load_paths
from bench.targets.clients.aiohttp_client import StampingConnector, new_session

pytestmark = pytest.mark.e2e


def run(tmp_path: Path, name: str, text: str) -> ResultsFile:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return run_all(load_paths([path]), tmp_path / f"{name}.json", ["test"], NullProgress())


@pytest.mark.parametrize("server_loop", ["asyncio", "uvloop"])
def test_sub_millisecond_delays_never_beat_their_ideal(tmp_path: Path, server_loop: str) -> None:
    """0.4 ms and 2.5 ms: the ideal comes from the service times delivered, so efficiency stays at or below 100%
    (or the row is flagged, never printed as fact), and sequential shows no queueing, only model error."""
    for ms in (0.4, 2.5):
        results = run(
            tmp_path,
            f"d{str(ms).replace('.', '')}",
            f"name: d\ntasks: 10\ntarget: {{latency: {{dist: fixed, ms: {ms}}}}}\nstrategies: [sequential, gather]\n"
            f"repeats: 5\nwarmup: 1\nserver: {{loop: {server_loop}}}\n",
        )
        [result] = results.scenarios
        assert result.server is not None and result.server.loop == server_loop
        for row in summarise(result):
            assert row.ideal_source == "delivered"
            assert row.efficiency is not None
            assert row.efficiency <= 1.0 or row.unexplained, (ms, row.strategy, row.efficiency)
            if row.strategy == "sequential":
                assert row.residual_kind == "unexplained"  # one request at a time: nothing queues
        for point in result.points:
            for r in point.runs:
                assert min(r.samples.service_us) >= ms * 1000 - 1  # never shorter than requested


def test_failed_runs_fail_exactly_the_planned_tasks_and_print_no_speedup(tmp_path: Path) -> None:
    results = run(
        tmp_path,
        "err",
        "name: err\ntasks: 20\ntarget:\n  latency: {dist: fixed, ms: 5}\n  error_rate: 0.2\n"
        "strategies: [sequential, {gather: {return_exceptions: true}}]\nrepeats: 3\nwarmup: 0\nseed: 4\n",
    )
    [result] = results.scenarios
    for run_ in result.points[0].runs:
        if run_.strategy != "sequential":
            assert run_.failed == 4 and run_.finished == 16  # round(0.2 x 20), in every run
    rows = {row.strategy: row for row in summarise(result)}
    gathered = rows["gather(return_exceptions=True)"]
    assert gathered.speedup is None and gathered.efficiency is None and gathered.residual_s is None
    assert gathered.missing_reason == "3 of 3 runs had failed tasks"
    assert gathered.error_rate == 12 / 60
    console = Console(record=True, width=100)
    console.print(scenario_table(result, width=100))
    text = console.export_text()
    assert "x [" not in text  # no speedup with an interval anywhere: every run of both rows failed
    assert "3 of 3 runs had failed tasks" in text


def test_latency_includes_the_wait_for_a_semaphore(tmp_path: Path) -> None:
    """bounded(limit=2) over 10 tasks of 20 ms: task i waits about (i // 2) x 20 ms for its turn."""
    results = run(
        tmp_path,
        "wait",
        "name: wait\ntasks: 10\ntarget: {latency: {dist: fixed, ms: 20}}\n"
        "strategies: [gather, {bounded: {limit: 2}}]\nrepeats: 2\nwarmup: 0\n",
    )
    runs = {r.strategy: r for r in results.scenarios[0].points[0].runs if r.repeat == 0}
    bounded, gathered = runs["bounded(limit=2)"].samples, runs["gather"].samples
    waits_ms = [w / 1e6 for w in bounded.waits_ns()]
    assert max(waits_ms) > 60  # the last pair waited for four pairs before it
    assert max(w / 1e6 for w in gathered.waits_ns()) < 15  # gather starts everything at once
    assert max(bounded.latencies_ns()) > 3 * max(gathered.latencies_ns())  # waits count in latency
    assert all(c <= s <= e for c, s, e in zip(bounded.created_ns, bounded.start_ns, bounded.end_ns, strict=True))


def test_a_reset_costs_one_attempt_not_two(tmp_path: Path) -> None:
    """aiohttp resends an idempotent GET once on a dead pooled connection; iobench switches that off, so a reset
    task ends after one delay (with a retry it would take two)."""
    results = run(
        tmp_path,
        "reset",
        "name: reset\ntasks: 10\ntarget:\n  latency: {dist: fixed, ms: 150}\n  error_rate: 0.5\n"
        "  error_kind: reset\nstrategies: [{gather: {return_exceptions: true}}]\nrepeats: 1\nwarmup: 1\n",
    )
    [run_] = results.scenarios[0].points[0].runs
    failing = results.scenarios[0].points[0].error_tasks
    assert len(failing) == 5
    for i in failing:
        assert run_.samples.error[i] == "connection"
        assert (run_.samples.end_ns[i] - run_.samples.created_ns[i]) / 1e6 < 250  # one delay of 150 ms, not two


def test_overhead_is_calibrated_per_client_stack_with_an_interval(tmp_path: Path) -> None:
    results = run(
        tmp_path,
        "cal",
        "name: cal\ntasks: 3\ntarget: {latency: {dist: fixed, ms: 1}}\n"
        "strategies: [sequential, {threads: {workers: 3}}]\nrepeats: 2\nwarmup: 0\n",
    )
    calibration = results.scenarios[0].calibration
    assert set(calibration) == {"aiohttp", "http.client"}
    for cal in calibration.values():
        assert cal.requests >= 30
        assert cal.low_ms <= cal.median_ms <= cal.high_ms
        assert cal.level >= 0.95


def test_every_run_has_the_same_timed_region_limited_or_not() -> None:
    """No tracing callbacks for some runs only: one connector class, no trace configs, limit or none."""

    async def check(limit: int | None) -> None:
        async with new_session(None, limit, 5.0) as session:
            assert isinstance(session.connector, StampingConnector)
            assert not session.trace_configs
            assert session._retry_connection is False  # the one private attribute iobench relies on

    for limit in (None, 10):
        asyncio.run(check(limit))
