"""Targets beyond the local server: a url target whose server reports its service times, and two implementations
of the same task (sync callables) paired round by round in one scenario."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.report.notes import notes
from bench.results.summary import summarise
from bench.run.runner import NullProgress, run_all
from bench.scenario.loader import load_paths

pytestmark = pytest.mark.e2e


def test_a_url_targets_server_timing_is_used_and_announced_with_its_host(
    server_url: str, write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    text = f"name: st\ntarget: {{kind: url, url: '{server_url}/delay/10ms'}}\ntasks: 10\nrepeats: 2\n"
    text += "strategies: [gather, {bounded: {limit: 5}}]\n"
    results = run_all(load_paths([write_scenario(text, "st")]), tmp_path / "r.json", ["test"], NullProgress())
    result = results.scenarios[0]
    rows = summarise(result)
    assert {row.ideal_source for row in rows} == {"reported"}
    assert all(row.ideal_s is not None and row.overhead_s is not None for row in rows)  # aiohttp calibrated
    host = server_url.removeprefix("http://")
    said = "\n".join(notes(result, rows))
    assert f"ideal from the service times {host} reports in its answers (Server-Timing: svc)" in said
    assert "a busy server's own queueing is inside them" in said


def test_two_sync_callables_are_interleaved_in_one_scenario(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    text = """\
name: two
target: {callable: 'tests.userfuncs:quick', sync_callable: 'tests.userfuncs:quick_sync'}
tasks: 8
repeats: 3
strategies:
  - sequential
  - threads: {workers: 4}
  - threads: {workers: 4, sync_callable: 'tests.userfuncs:fetch_sync'}
"""
    results = run_all(load_paths([write_scenario(text, "two")]), tmp_path / "r.json", ["test"], NullProgress())
    point = results.scenarios[0].points[0]
    plain = [r for r in point.runs if r.strategy == "threads(workers=4)"]
    other = [r for r in point.runs if r.strategy == "threads(sync_callable='tests.userfuncs:fetch_sync',workers=4)"]
    assert len(plain) == len(other) == 3
    assert all(r.complete for r in plain)
    assert all(r.failed == 1 and "RuntimeError: task 3 broke" in r.messages for r in other)  # fetch_sync's task 3
    positions = sorted((r.repeat, r.position, r.strategy) for r in point.runs)
    assert {label for _, _, label in positions[:3]} == {r.strategy for r in point.runs}  # paired in each round
