"""Summary rows from hand-made runs: exact intervals and levels, failed runs kept out of speedups, latencies and
waits from the created/start/end stamps, and summaries computed once per results file."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bench.report.notes import notes
from bench.results.files import read_results
from bench.results.frames import summary_frame
from bench.results.records import PointResult, RunResult, Samples, ScenarioResult
from bench.results.summary import Summaries, missing_reason, summarise, summarise_file, summary_record
from tests.conftest import DATA

STORED = read_results(DATA / "results-v1.json")
TEMPLATE = STORED.scenarios[1]  # 'fixture-fixed': sequential and gather, 5 tasks of 10 ms
MS = 1_000_000


def run(
    strategy: str,
    repeat: int,
    wall_ms: float,
    *,
    errors: Sequence[str] = ("",) * 5,
    created_ms: Sequence[float] = (0, 0, 0, 0, 0),
    start_ms: Sequence[float] = (0, 0, 0, 0, 0),
    end_ms: Sequence[float] = (10, 10, 10, 10, 10),
) -> RunResult:
    """A run of 5 tasks; ``errors`` gives each task's error kind ('' for ok)."""
    ended = [e for e, err in zip(end_ms, errors, strict=True) if err != "not_started"]
    return RunResult(
        strategy=strategy,
        repeat=repeat,
        position=0,
        loop="asyncio",
        wall_ns=round(wall_ms * MS),
        last_end_ns=round(max(ended) * MS),
        peak_inflight=5,
        limits={"connector_limit": None},
        finished=sum(e == "" for e in errors),
        failed=sum(e not in ("", "cancelled", "not_started") for e in errors),
        cancelled=sum(e == "cancelled" for e in errors),
        not_started=sum(e == "not_started" for e in errors),
        outcome="ok" if all(e == "" for e in errors) else "failed",
        samples=Samples(
            created_ns=tuple(round(v * MS) for v in created_ms),
            start_ns=tuple(
                -1 if err == "not_started" else round(v * MS) for v, err in zip(start_ms, errors, strict=True)
            ),
            end_ns=tuple(-1 if err == "not_started" else round(v * MS) for v, err in zip(end_ms, errors, strict=True)),
            status=tuple(200 if e == "" else 0 for e in errors),
            nbytes=(0,) * 5,
            error=tuple(errors),
            service_us=(-1,) * 5,
        ),
    )


def scenario(*runs: RunResult, delays_ms: Sequence[float] = (10.0,) * 5, rtt_ms: float | None = None) -> ScenarioResult:
    point = PointResult(tasks=5, delays_ms=tuple(delays_ms), runs=runs)
    return TEMPLATE.model_copy(update={"points": (point,), "calibration_rtt_ms": rtt_ms})


SEQUENTIAL = [run("sequential", r, wall) for r, wall in enumerate((100.0, 110.0, 120.0))]
GATHER = [run("gather", r, wall) for r, wall in enumerate((10.0, 20.0, 12.0))]


def test_intervals_state_the_level_they_reach() -> None:
    sequential, gather = summarise(scenario(*SEQUENTIAL, *GATHER))
    assert (sequential.wall_ci_s, sequential.wall_ci_level) == ((0.100, 0.120), 0.75)  # [min, max] of 3: 75%
    assert (gather.wall_ci_s, gather.wall_ci_level) == ((0.010, 0.020), 0.75)


def test_speedup_is_the_median_of_the_paired_ratios() -> None:
    _, gather = summarise(scenario(*SEQUENTIAL, *GATHER))
    # rounds: 100/10 = 10, 110/20 = 5.5, 120/12 = 10 -> median 10 (the ratio of the medians would be 110/12)
    assert gather.speedup == pytest.approx(10.0)
    assert gather.speedup_ci == pytest.approx((5.5, 10.0)) and gather.speedup_ci_level == 0.75
    assert gather.missing_reason is None and gather.complete_runs == 3
    assert gather.requests_per_s == pytest.approx(5 / 0.012)
    assert gather.efficiency == pytest.approx(0.010 / 0.012)


def test_five_rounds_reach_93_75_percent() -> None:
    walls = (100.0, 104.0, 98.0, 101.0, 99.0)
    (row,) = summarise(scenario(*(run("sequential", r, w) for r, w in enumerate(walls))))
    assert (row.wall_ci_s, row.wall_ci_level) == ((0.098, 0.104), 0.9375)


def test_a_failed_run_gives_no_speedup_and_says_why() -> None:
    broken = run("gather", 1, 3.0, errors=("connection", "", "", "", ""))
    _, gather = summarise(scenario(*SEQUENTIAL, GATHER[0], broken, GATHER[2]))
    assert gather.speedup is None and gather.speedup_ci is None and gather.speedup_ci_level is None
    assert gather.efficiency is None and gather.residual_s is None and gather.requests_per_s is None
    assert gather.speedup_vs_ideal_sequential is None and gather.unexplained is None
    assert gather.missing_reason == "1 of 3 runs had failed tasks"
    assert (gather.failed_tasks, gather.complete_runs, gather.error_rate) == (1, 2, 1 / 15)
    assert gather.wall_median_s == pytest.approx(0.010)  # wall times stay: what the user's code experienced


def test_a_failed_sequential_run_removes_the_speedups_it_would_pair() -> None:
    broken = run("sequential", 2, 30.0, errors=("", "", "http_status", "not_started", "not_started"))
    sequential, gather = summarise(scenario(*SEQUENTIAL[:2], broken, *GATHER))
    assert sequential.missing_reason == "1 of 3 runs had failed tasks"
    assert gather.speedup is None and gather.missing_reason == "no speedup: sequential: 1 of 3 runs had failed tasks"
    assert gather.efficiency == pytest.approx(0.010 / 0.012)  # its own runs are complete


def test_error_rate_counts_every_task_that_did_not_finish_ok() -> None:
    stopped = run("gather", 0, 2.0, errors=("timeout", "cancelled", "not_started", "not_started", ""))
    (row,) = summarise(scenario(stopped, *GATHER[1:]))
    assert (row.failed_tasks, row.cancelled_tasks, row.not_started_tasks) == (1, 3, 2)
    assert row.error_rate == pytest.approx(4 / 15)


def test_missing_reason() -> None:
    assert missing_reason(GATHER) is None
    broken = run("gather", 0, 1.0, errors=("timeout", "", "", "", ""))
    assert missing_reason([broken]) == "1 of 1 run had failed tasks"
    assert missing_reason([broken, broken, *GATHER], "gather") == "gather: 2 of 5 runs had failed tasks"


def test_latency_includes_the_wait_and_waits_are_reported() -> None:
    runs = [run("gather", r, 15.0, start_ms=(0, 1, 2, 3, 4), end_ms=(10, 11, 12, 13, 14)) for r in range(3)]
    (row,) = summarise(scenario(*runs))
    assert row.wait_ms == {50: 2.0, 90: 4.0, 99: 4.0}
    assert row.latency_ms == {50: 12.0, 90: 14.0, 99: 14.0}  # end - created, not end - start (always 10)


def test_latency_and_waits_skip_tasks_that_did_not_finish_ok() -> None:
    errors = ("", "", "", "", "timeout")
    (row,) = summarise(
        scenario(run("gather", 0, 15.0, errors=errors, start_ms=(0, 1, 2, 3, 4), end_ms=(10, 11, 12, 13, 1000)))
    )
    assert row.latency_ms[99] < 14 and row.wait_ms[99] < 4


def test_version_1_files_have_latencies_from_start_and_no_waits() -> None:
    rows = summarise(STORED.scenarios[1])
    sequential_runs = [r for r in STORED.scenarios[1].points[0].runs if r.strategy == "sequential"]
    lat = sorted(
        (e - s) / 1e6 for r in sequential_runs for s, e in zip(r.samples.start_ns, r.samples.end_ns, strict=True)
    )
    assert rows[0].wait_ms == {}
    assert rows[0].latency_ms[50] == lat[len(lat) // 2]  # 15 latencies: p50 is the 8th


def test_faster_than_the_ideal_is_flagged_not_printed_as_fact() -> None:
    _, gather = summarise(scenario(*SEQUENTIAL, *GATHER, delays_ms=(25.0,) * 5))
    assert gather.efficiency == pytest.approx(0.025 / 0.012)
    assert gather.unexplained == (
        "faster than the ideal over its whole 75% interval (efficiency 125% at best): "
        "the delays delivered were shorter than modelled"
    )
    _, gather = summarise(scenario(*SEQUENTIAL, *GATHER, delays_ms=(5.0,) * 5))
    assert gather.unexplained is not None and gather.unexplained.startswith(  # 10x, 5.5x and 10x with 5 tasks
        "a speedup above the task count (5) over its whole 75% interval (5.5x at least)"
    )
    slower = [run("gather", r, wall) for r, wall in enumerate((30.0, 40.0, 35.0))]
    _, gather = summarise(scenario(*SEQUENTIAL, *slower, delays_ms=(5.0,) * 5))
    assert gather.unexplained is None


def test_negative_queueing_is_flagged() -> None:
    _, gather = summarise(scenario(*SEQUENTIAL, *GATHER, delays_ms=(8.0,) * 5, rtt_ms=20.0))
    assert gather.residual_s == pytest.approx(0.012 - 0.008 - 0.020)
    assert gather.unexplained == (
        "negative queueing over its whole 75% interval (-8 ms at most): the model overstates the per-request overhead"
    )


def test_warnings_are_on_the_walls_in_round_order() -> None:
    walls = (300.0, 100.0, 102.0, 98.0, 101.0)
    (row,) = summarise(scenario(*(run("sequential", r, w) for r, w in enumerate(walls))))
    assert row.warnings == (
        "the first run took 3.0x the median of the others; the warm-up was too short: raise warmup in the scenario",
    )


def test_summaries_once_per_file() -> None:
    summaries = summarise_file(STORED)
    assert isinstance(summaries, Summaries)
    assert summaries.scenarios == tuple(tuple(summarise(s)) for s in STORED.scenarios)
    assert len(summaries.rows) == 6 and summaries.point(0, 8) == summaries.scenarios[0][2:4]
    assert summaries.get("fixture-fixed", 5, "gather") == summaries.scenarios[1][1]
    assert summaries.get("fixture-fixed", 5, "threads") is None


def test_summary_frame_takes_the_summaries_and_has_the_levels() -> None:
    summaries = summarise_file(STORED)
    frame = summary_frame(summaries)
    assert list(frame.columns) == list(summary_record(summaries.rows[0]))
    assert {"wall_ci_level", "speedup_ci_level", "error_rate", "missing_reason", "latency_p99_ms"} <= set(frame.columns)
    assert list(frame["wall_ci_level"]) == [0.75] * 6


def test_one_serialisation_of_a_row_for_the_csv_and_json(tmp_path: Path) -> None:
    row = summarise_file(STORED).rows[3]
    record = summary_record(row)
    assert json.loads(json.dumps(record)) == record  # flat JSON values
    assert (record["wall_median_s"], record["wall_ci_low_s"], record["wall_ci_high_s"]) == (
        row.wall_median_s,
        *row.wall_ci_s,
    )
    assert record["latency_p99_ms"] == row.latency_ms[99] and record["strategy"] == row.strategy


def test_a_results_file_is_summarised_once_for_every_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``iobench report`` prints the tables and writes every export from one set of summaries."""
    import bench.results.summary as summary
    from bench.cli import main

    copy = tmp_path / "r.json"
    shutil.copy(DATA / "results-v1.json", copy)
    counted: Counter[tuple[str, int]] = Counter()
    point = summary.summarise_point

    def counting(scenario: str, *args: Any, **kwargs: Any) -> list[summary.Summary]:
        rows = point(scenario, *args, **kwargs)
        counted[scenario, rows[0].tasks if rows else -1] += 1
        return rows

    monkeypatch.setattr(summary, "summarise_point", counting)
    assert main(["report", str(copy)]) == 0
    assert set(counted.values()) == {1}
    assert len(counted) == sum(len(s.points) for s in STORED.scenarios)


def test_adaptive_repeats_judge_the_same_paired_speedups_the_summary_prints() -> None:
    from bench.run.runner import precision_series

    runs = [run("sequential", 0, 50.0), run("gather", 0, 10.0), run("sequential", 1, 60.0), run("gather", 1, 12.0)]
    broken = run("gather", 2, 1.0, errors=("connection", "", "", "", ""))
    assert precision_series([*runs, run("sequential", 2, 55.0), broken]) == [[5.0, 5.0]]  # round 2 failed: no pair
    assert precision_series([r for r in runs if r.strategy == "gather"]) == [[0.010, 0.012]]  # no reference: walls
    assert precision_series([broken]) == [[]]  # a strategy that keeps failing never looks precise


def test_collector_time_is_summarised_and_noted_where_it_costs_most() -> None:
    passes = [(40, 4, 1), (50, 5, 2), (45, 4, 9)]  # medians, not means: 2 full passes (the mean is 4)
    timed = [
        g.model_copy(update={"gc_ms": ms, "gc_passes": p})
        for g, ms, p in zip(GATHER, (3.0, 30.0, 6.0), passes, strict=True)  # the mean would be 13 ms
    ]
    result = scenario(*SEQUENTIAL, *timed)
    sequential, gather = summarise(result)
    assert (gather.gc_ms, gather.gc_full_passes) == (6.0, 2.0)
    assert sequential.gc_ms is None  # not recorded (older results): no figure, and no note from it
    lines = [line for line in notes(result, [sequential, gather]) if line.startswith("garbage collector")]
    assert lines == [
        "garbage collector: 50% of gather's wall time at 5 tasks (6.0 ms, 2 full passes per run); gc: false "
        "(or --disable-gc) pauses it during runs, to see the I/O's own limit"
    ]
    cheap = scenario(*SEQUENTIAL, *(g.model_copy(update={"gc_ms": 0.5, "gc_passes": (1, 0, 0)}) for g in GATHER))
    assert not [line for line in notes(cheap, summarise(cheap)) if line.startswith("garbage collector")]
    paused = result.model_copy(update={"scenario": result.scenario.model_copy(update={"gc": False})})
    assert "garbage collector: paused during timed runs" in " ".join(notes(paused, summarise(paused)))


# --- service times from the sequential runs, achieved concurrency, failures in their words ----------------------


def _staggered(strategy: str, repeat: int, wall_ms: float, stack: str, *, durations: float = 10.0) -> RunResult:
    """A run whose 5 tasks each did ``durations`` ms of I/O, in the stack ``stack``."""
    starts = [i * wall_ms / 5 if strategy == "sequential" else 0.0 for i in range(5)]
    made = run(strategy, repeat, wall_ms, start_ms=starts, end_ms=[s + durations for s in starts], created_ms=starts)
    return made.model_copy(update={"stack": stack})


def test_without_delays_or_headers_the_service_times_come_from_the_sequential_runs() -> None:
    runs = [_staggered("sequential", r, 50.0, "asyncio task") for r in range(3)]
    runs += [_staggered("gather", r, 25.0, "asyncio task") for r in range(3)]
    result = scenario(*runs, delays_ms=())
    _, gather = summarise(result)
    assert gather.ideal_source == "sequential" and gather.ideal_s == pytest.approx(0.010)
    assert gather.achieved_concurrency == pytest.approx(0.050 / 0.025)  # 5 x 10 ms of service in 25 ms
    assert gather.expected_concurrency == pytest.approx(0.050 / 0.010)
    assert "ideal from each task alone in the sequential runs" in "\n".join(notes(result, summarise(result)))


def test_faster_than_a_sequential_reference_of_other_code_says_so() -> None:
    runs = [_staggered("sequential", r, 100.0, "aiohttp", durations=20.0) for r in range(3)]
    runs += [_staggered("gather", r, 15.0, "minimal") for r in range(3)]
    _, gather = summarise(scenario(*runs, delays_ms=()))
    assert gather.unexplained is not None
    assert "its tasks run as minimal, the sequential runs as aiohttp" in gather.unexplained


def test_failures_are_grouped_by_message_with_counts() -> None:
    words = ("MaxConnectionsError: Too many connections", "ConnectionError: max number of clients reached")
    failed = run("gather", 0, 10.0, errors=("", "connection", "connection", "connection", "client"))
    samples = failed.samples.model_copy(update={"message": (-1, 0, 0, 1, 0)})
    failed = failed.model_copy(update={"samples": samples, "messages": words})
    _, gather = summarise(scenario(*SEQUENTIAL, failed))
    assert gather.failures == ((words[0], 3), (words[1], 1))
    assert gather.failure_text() == f"{words[0]} ×3; {words[1]} ×1"
    assert summary_record(gather)["failures"] == gather.failure_text()
