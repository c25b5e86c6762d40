"""Tables, Markdown and DataFrames from a stored results file: exact output, no timing involved."""

from __future__ import annotations

import pytest
from rich.console import Console

from bench.report import fmt_range, fmt_ratio, fmt_seconds, markdown_report, scenario_table
from bench.results import read_results, runs_frame, samples_frame
from bench.summary import summarise, summary_frame
from tests.conftest import DATA

STORED = read_results(DATA / "results-v1.json")

EXPECTED_MARKDOWN = """## iobench report

2026-11-25T21:54:15+00:00 · Python 3.11.7 · aiohttp 3.14.5 · Linux 6.18.44-fc-v782 · 2 CPUs

### fixture — small stored run for report and chart tests

| tasks | strategy | median | 95% CI | speedup [95% CI] | ideal | overhead | queueing | eff. | errors |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|
| 3 | sequential | 51.2 ms | 51.1–51.3 ms | 1.00x | 43.1 ms | — | — | 84% | 0 |
| 3 | gather | 24.0 ms | 23.8–26.2 ms | 2.13x [1.95–2.15] | 21.3 ms | — | — | 89% | 0 |
| 8 | sequential | 124.7 ms | 124.4–125.0 ms | 1.00x | 106.6 ms | — | — | 86% | 0 |
| 8 | gather | 24.5 ms | 23.6–64.5 ms | 5.08x [1.93–5.28] | 21.3 ms | — | — | 87% | 0 |

- connector limit: none (aiohttp's default of 100 is lifted); loop: asyncio
- warning: gather at 3 tasks: 1 outlier by the modified z-score
- warning: gather at 8 tasks: spread (IQR) is 83% of the median; the machine may be busy
- warning: gather at 8 tasks: 1 outlier by the modified z-score

### fixture-fixed — small stored run for report and chart tests

| tasks | strategy | median | 95% CI | speedup [95% CI] | ideal | overhead | queueing | eff. | errors |
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|
| 5 | sequential | 60.1 ms | 59.7–60.2 ms | 1.00x | 50.0 ms | — | — | 83% | 0 |
| 5 | gather | 13.6 ms | 13.6–13.9 ms | 4.38x [4.31–4.44] | 10.0 ms | — | — | 73% | 0 |

- connector limit: none (aiohttp's default of 100 is lifted); loop: asyncio
"""


def test_markdown_report_is_exact() -> None:
    assert markdown_report(STORED) == EXPECTED_MARKDOWN


def test_calibration_splits_the_time_into_ideal_overhead_and_queueing() -> None:
    fixed = STORED.scenarios[1].model_copy(update={"calibration_rtt_ms": 1.0})
    sequential, gather = summarise(fixed)
    assert sequential.overhead_s == pytest.approx(0.005)  # 5 requests in a row x 1 ms
    assert gather.overhead_s == pytest.approx(0.001)  # all at once: one request on the critical path
    assert sequential.residual_s == pytest.approx(sequential.wall_median_s - 0.050 - 0.005)
    lines = markdown_report(STORED.model_copy(update={"scenarios": (fixed,)})).splitlines()
    assert "| 5 | sequential | 60.1 ms | 59.7–60.2 ms | 1.00x | 50.0 ms | 5.0 ms | 5.1 ms | 83% | 0 |" in lines
    assert (
        "- per-request overhead: 1.000 ms, measured (overhead = that x requests in a row; "
        "queueing = median - ideal - overhead)"
    ) in lines


def test_rich_table_has_every_column_and_row() -> None:
    console = Console(width=160, record=True)
    console.print(scenario_table(STORED.scenarios[0]))
    text = console.export_text()
    header = next(line for line in text.splitlines() if "strategy" in line)
    assert header.split() == [
        "tasks",
        "strategy",
        "median",
        "95%",
        "CI",
        "speedup",
        "[95%",
        "CI]",
        "ideal",
        "overhead",
        "queueing",
        "eff.",
        "errors",
    ]
    assert "5.08x [1.93–5.28]" in text
    assert "warning: gather at 8 tasks: spread (IQR) is 83% of the median; the machine may be busy" in text


@pytest.mark.parametrize(
    ("seconds", "text"), [(2.0841, "2.084 s"), (0.3305, "330.5 ms"), (0.000746, "746 us"), (-0.0021, "-2.1 ms")]
)
def test_fmt_seconds(seconds: float, text: str) -> None:
    assert fmt_seconds(seconds) == text


def test_fmt_range_and_ratio() -> None:
    assert fmt_range(2.0812, 2.0853) == "2.081–2.085 s"
    assert fmt_range(0.0236, 0.0645) == "23.6–64.5 ms"
    assert fmt_ratio(None) == "—"
    assert fmt_ratio(6.304) == "6.30x"


def test_frames_are_long_format() -> None:
    samples = samples_frame(STORED)
    assert len(samples) == sum(p.tasks * len(p.runs) for s in STORED.scenarios for p in s.points)
    assert list(samples.columns) == [
        "scenario",
        "tasks",
        "strategy",
        "repeat",
        "task",
        "delay_ms",
        "start_ms",
        "end_ms",
        "latency_ms",
        "status",
        "bytes",
        "error",
    ]
    assert (samples["latency_ms"] >= samples["delay_ms"]).all()
    runs = runs_frame(STORED)
    assert len(runs) == 18 and set(runs["strategy"]) == {"sequential", "gather"}
    summary = summary_frame(STORED)
    assert len(summary) == 6
    assert {"wall_ci_low_s", "wall_ci_high_s", "speedup_ci_low", "latency_p99_ms", "warnings"} <= set(summary.columns)
