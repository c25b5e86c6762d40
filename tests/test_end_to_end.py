"""End to end against the real local server: generous ratios only, never absolute times."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.results.files import read_results
from bench.results.summary import summarise
from bench.run.runner import NullProgress, run_all
from bench.scenario.loader import load_paths

pytestmark = pytest.mark.e2e

TWENTY_BY_50MS = """\
name: e2e
tasks: 20
target:
  latency: {dist: uniform, low_ms: 30, high_ms: 70}
  bytes: 64
strategies: [sequential, gather]
repeats: 3
warmup: 1
seed: 5
"""


@pytest.fixture(scope="module")
def run_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("e2e")
    scenario = folder / "e2e.yaml"
    scenario.write_text(TWENTY_BY_50MS, encoding="utf-8")
    out = folder / "results" / "run.json"
    run_all(load_paths([scenario]), out, ["test"], NullProgress())
    return out


def test_gather_is_at_least_3x_faster_than_sequential(run_once: Path) -> None:
    [scenario] = read_results(run_once).scenarios
    rows = {row.strategy: row for row in summarise(scenario)}
    assert rows["sequential"].wall_median_s / rows["gather"].wall_median_s >= 3.0
    assert rows["gather"].speedup is not None and rows["gather"].speedup >= 3.0


def test_every_task_finished_and_none_failed(run_once: Path) -> None:
    [scenario] = read_results(run_once).scenarios
    assert scenario.outcome == "ok"
    for run in scenario.points[0].runs:
        assert (run.finished, run.failed, run.cancelled, run.outcome) == (20, 0, 0, "ok")
        assert set(run.samples.status) == {200}
        assert set(run.samples.nbytes) == {64}
        assert set(run.samples.error) == {""}


def test_recorded_rounds_exclude_warmup_and_cover_each_strategy(run_once: Path) -> None:
    [scenario] = read_results(run_once).scenarios
    runs = scenario.points[0].runs
    assert sorted((r.strategy, r.repeat) for r in runs) == [
        ("gather", 0),
        ("gather", 1),
        ("gather", 2),
        ("sequential", 0),
        ("sequential", 1),
        ("sequential", 2),
    ]


def test_every_strategy_saw_the_same_per_task_delays(run_once: Path) -> None:
    """Each task's own planned delay (they all differ) was what the server delivered to it, under every strategy,
    and no task ended sooner than its delay: swapping two tasks' delays would fail this."""
    [scenario] = read_results(run_once).scenarios
    point = scenario.points[0]
    assert len(set(point.delays_ms)) == 20  # distinct delays, so a mix-up between tasks shows
    for run in point.runs:
        latencies_ms = [(e - s) / 1e6 for s, e in zip(run.samples.start_ns, run.samples.end_ns, strict=True)]
        assert all(lat >= delay for lat, delay in zip(latencies_ms, point.delays_ms, strict=True))
        # every task was served at least its own delay: any mix-up of distinct delays between tasks would give
        # some task a shorter one than planned
        delivered_ms = [us / 1000 for us in run.samples.service_us]
        assert all(got >= planned - 0.001 for got, planned in zip(delivered_ms, point.delays_ms, strict=True))


def test_sequential_runs_one_at_a_time_and_gather_all_at_once(run_once: Path) -> None:
    [scenario] = read_results(run_once).scenarios
    for run in scenario.points[0].runs:
        starts, ends = run.samples.start_ns, run.samples.end_ns
        if run.strategy == "sequential":
            assert run.peak_inflight == 1
            assert all(starts[i + 1] >= ends[i] for i in range(19))
        else:
            assert run.peak_inflight == 20
            assert max(starts) < min(ends)


def test_results_file_is_complete_and_latest_points_at_it(run_once: Path) -> None:
    results = read_results(run_once)
    assert results.complete
    assert (run_once.parent / "latest.json").read_text(encoding="utf-8") == '{"latest": "run.json"}\n'
    assert results.environment.command_line == ("test",)
    assert results.scenarios[0].scenario.name == "e2e"


def test_results_round_trip(run_once: Path, tmp_path: Path) -> None:
    from bench.results.files import write_results

    first = read_results(run_once)
    copy = tmp_path / "copy.json"
    write_results(copy, first)
    assert read_results(copy) == first


def test_failed_status_is_recorded_not_hidden(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    text = (
        TWENTY_BY_50MS.replace("bytes: 64", "status: 503")
        .replace("tasks: 20", "tasks: 4")
        .replace("ms: 50", "ms: 1")
        .replace("repeats: 3", "repeats: 1")
    )
    out = tmp_path / "r.json"
    results = run_all(load_paths([write_scenario(text, "fail")]), out, ["test"], NullProgress())
    runs = {r.strategy: r for r in results.scenarios[0].points[0].runs}
    seq = runs["sequential"]
    assert (seq.outcome, seq.finished, seq.failed, seq.not_started) == ("failed", 0, 1, 3)
    assert seq.samples.error == ("http_status", "not_started", "not_started", "not_started")
    assert seq.reason == "task 0: HTTP 503"
    gathered = runs["gather"]
    assert (gathered.outcome, gathered.finished, gathered.failed, gathered.cancelled) == ("failed", 0, 4, 0)
    assert gathered.samples.status == (503, 503, 503, 503)
