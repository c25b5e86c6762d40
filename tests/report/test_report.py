"""Tables, Markdown and DataFrames from a stored results file: exact output, no timing involved."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from bench.report.cells import (
    fmt_level,
    fmt_percentiles,
    fmt_range,
    fmt_ratio,
    fmt_seconds,
    fmt_sig,
    row_cells,
    speedup_measured,
)
from bench.report.markdown import markdown_glossary, markdown_report
from bench.report.notes import GLOSSARY
from bench.report.table import layout, scenario_table
from bench.results.files import read_results
from bench.results.frames import runs_frame, samples_frame, summary_frame
from bench.results.records import ScenarioResult
from bench.results.summary import summarise, summarise_file
from bench.strategies import StrategySpec
from tests.conftest import DATA

STORED = read_results(DATA / "results-v1.json")

HEADER = (
    "| tasks | strategy | median | CI 75% | speedup [CI 75%] | ideal | overhead | queueing | eff. | conc. | cpu "
    "| req/s | p50/p90/p99 | errors |"
)
WIDE = (  # [min, max] of 23.6, 24.5, 64.5 ms reaches 75%; 64.5 / 23.6 = 2.7 > 1.6 (bench.results.stats.WIDE_RATIO)
    "the 75% interval spans a factor 2.7 (0.0236 to 0.0645), too wide to tell strategies apart; "
    "run more rounds (repeats: 10) on a quieter machine"
)
EXPECTED_MARKDOWN = f"""## iobench report

2026-11-25T21:54:15+00:00 · Python 3.11.7 · aiohttp 3.14.5 · Linux 6.18.44-fc-v782 · 2 CPUs

### fixture — small stored run for report and chart tests

{HEADER}
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| 3 | sequential | 51.2 ms | 51.1–51.3 ms | 1.00x | 43.1 ms | - | - | 84% | 0.843 | - | 58.6 | 15.5/23.8/23.9 ms | 0 |
| 3 | gather | 24.0 ms | 23.8–26.2 ms | 2.13x [1.95–2.15] | 21.3 ms | - | - | 89% | 1.80 | - | 125 | 15.0/23.7/25.7 ms | 0 |
| 8 | sequential | 124.7 ms | 124.4–125.0 ms | 1.00x | 106.6 ms | - | - | 86% | 0.855 | - | 64.2 | 15.9/22.6/23.4 ms | 0 |
| 8 | gather | 24.5 ms | 23.6–64.5 ms | 5.08x [1.93–5.28] | 21.3 ms | - | - | 87% | 4.36 | - | 327 | 20.3/45.6/61.1 ms | 0 |

- target: local server; connector limit: none (aiohttp's default of 100 is lifted); loop: asyncio
- ideal from the delays asked for
- (-) overhead, queueing: no per-request overhead was measured
- warning: gather at 8 tasks: {WIDE}

### fixture-fixed — small stored run for report and chart tests

{HEADER}
|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
| 5 | sequential | 60.1 ms | 59.7–60.2 ms | 1.00x | 50.0 ms | - | - | 83% | 0.832 | - | 83.2 | 12.0/12.2/12.7 ms | 0 |
| 5 | gather | 13.6 ms | 13.6–13.9 ms | 4.38x [4.31–4.44] | 10.0 ms | - | - | 73% | 3.67 | - | 367 | 12.9/13.3/13.5 ms | 0 |

- target: local server; connector limit: none (aiohttp's default of 100 is lifted); loop: asyncio
- ideal from the delays asked for
- (-) overhead, queueing: no per-request overhead was measured

"""  # noqa: E501 (the rows of a Markdown table, as written)


def test_markdown_report_is_exact() -> None:
    assert markdown_report(STORED) == EXPECTED_MARKDOWN + markdown_glossary()


def test_glossary_explains_every_column_and_mark() -> None:
    terms = {term for term, _ in GLOSSARY}
    assert {"median", "CI NN%", "speedup [CI]", "ideal", "overhead", "queueing", "eff.", "req/s"} <= terms
    assert {"p50/p90/p99", "errors", "*", "-", "!"} <= terms
    assert markdown_glossary().startswith("#### Reading the tables\n\n- `median`: median wall time")


def test_calibration_splits_the_time_into_ideal_overhead_and_queueing() -> None:
    fixed = STORED.scenarios[1].model_copy(update={"calibration_rtt_ms": 1.0})
    sequential, gather = summarise(fixed)
    assert sequential.overhead_s == pytest.approx(0.005)  # 5 requests in a row x 1 ms
    assert gather.overhead_s == pytest.approx(0.001)  # all at once: one request on the critical path
    assert sequential.residual_s == pytest.approx(sequential.wall_median_s - 0.050 - 0.005)
    lines = markdown_report(STORED.model_copy(update={"scenarios": (fixed,)})).splitlines()
    assert (
        "| 5 | sequential | 60.1 ms | 59.7–60.2 ms | 1.00x | 50.0 ms | 5.0 ms | (5.1 ms) | 83% | 0.832 | - | 83.2 "
        "| 12.0/12.2/12.7 ms | 0 |"
    ) in lines
    assert (  # all at once: the remainder is queueing, not in brackets (13.63 - 10 - 1 ms)
        "| 5 | gather | 13.6 ms | 13.6–13.9 ms | 4.38x [4.31–4.44] | 10.0 ms | 1.0 ms | 2.6 ms | 73% | 3.67 | - | 367 "
        "| 12.9/13.3/13.5 ms | 0 |"
    ) in lines
    assert "- (queueing in brackets): one request at a time, so nothing queues; the remainder is model error" in lines
    assert (
        "- per-request overhead: 1.000 ms, measured (overhead = that x requests in a row; "
        "queueing = median - ideal - overhead)"
    ) in lines
    assert not any("(-)" in line for line in lines)  # every figure known: no "not available" note


@pytest.mark.parametrize(
    ("seconds", "text"), [(2.0841, "2.084 s"), (0.3305, "330.5 ms"), (0.000746, "746 us"), (-0.0021, "-2.1 ms")]
)
def test_fmt_seconds(seconds: float, text: str) -> None:
    assert fmt_seconds(seconds) == text


def test_fmt_range_and_ratio() -> None:
    assert fmt_range(2.0812, 2.0853) == "2.081–2.085 s"
    assert fmt_range(0.0236, 0.0645) == "23.6–64.5 ms"
    assert fmt_ratio(None) == "-"
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
    summary = summary_frame(summarise_file(STORED))
    assert len(summary) == 6
    assert {"wall_ci_low_s", "wall_ci_high_s", "speedup_ci_low", "latency_p99_ms", "warnings"} <= set(summary.columns)


def test_number_formats() -> None:
    assert [fmt_sig(v) for v in (0.0321, 5.08, 15, 99.96, 580, 12_400)] == [
        "0.0321",
        "5.08",
        "15.0",
        "100",
        "580",
        "12,400",
    ]
    assert fmt_percentiles((15, 23.71, 25.66)) == "15.0/23.7/25.7 ms"
    assert fmt_percentiles(None) == "-"

    assert [fmt_level(x) for x in (0.75, 0.9375, 0.95)] == ["CI 75%", "CI 93%", "CI 95%"]
    text = _render(STORED.scenarios[0], 160)
    assert "CI 75%" in text and "speedup [CI 75%]" in text  # three runs: never "95%"
    assert "95%" not in text


# --- the table at every width ------------------------------------------------------------------------------------


def _render(result: ScenarioResult, width: int) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(scenario_table(result, width=width))
    return console.export_text()


def _rename(result: ScenarioResult, old: str, spec: StrategySpec) -> ScenarioResult:
    """``result`` with strategy ``old`` relabelled as ``spec`` (its runs too)."""
    specs = tuple(spec if s.label == old else s for s in result.scenario.strategies)
    points = tuple(
        p.model_copy(
            update={
                "runs": tuple(r.model_copy(update={"strategy": spec.label}) if r.strategy == old else r for r in p.runs)
            }
        )
        for p in result.points
    )
    return result.model_copy(
        update={"scenario": result.scenario.model_copy(update={"strategies": specs}), "points": points}
    )


def _with_failures(result: ScenarioResult) -> ScenarioResult:
    """The last point's non-sequential runs: 3 failed tasks in one run, 9 cancelled in each (27 in all)."""
    last = result.points[-1]
    runs = tuple(
        r
        if r.strategy == "sequential"
        else r.model_copy(update={"failed": 3 if r.repeat == 0 else 0, "cancelled": 9, "finished": 0})
        for r in last.runs
    )
    return result.model_copy(update={"points": (*result.points[:-1], last.model_copy(update={"runs": runs}))})


HARD = _with_failures(
    _rename(STORED.scenarios[0], "gather", StrategySpec.model_construct(name="bounded", params={"limit": 100}))
)
"""A table with a long label and failure counts: the widest cells a real run gives."""


@pytest.mark.parametrize("width", [80, 100, 120, 160])
@pytest.mark.parametrize("result", [STORED.scenarios[0], STORED.scenarios[1], HARD], ids=["sweep", "fixed", "hard"])
def test_table_fits_the_width_and_cuts_nothing(result: ScenarioResult, width: int) -> None:
    text = _render(result, width)
    assert "…" not in text
    table = [line for line in text.splitlines() if not line.startswith(("warning", "connector", "("))]
    assert max(len(line.rstrip()) for line in table) <= width
    rows = summarise(result)
    measured = speedup_measured(rows)
    for row in rows:
        cells = row_cells(row, measured)
        for figure in (cells.strategy, *cells.figures.values()):
            assert figure in text, (figure, width)


def test_layout_follows_the_width() -> None:
    assert layout(STORED.scenarios[0], 160).name == "wide"
    assert [layout(STORED.scenarios[0], w).name for w in (80, 100, 120)] == ["compact"] * 3
    assert layout(HARD, 60).name == "block"
    assert max(len(text) for text, _ in layout(HARD, 60).lines) <= 60


def test_compact_table_at_80_columns_is_exact() -> None:
    lines = [line.rstrip() for line in _render(HARD, 80).splitlines()]
    assert lines[:19] == [
        "fixture — small stored run for report and chart tests",
        "strategy              median          CI 75%   speedup [CI 75%]  eff.  errors",
        "─" * 77,
        "3 tasks",
        "sequential           51.2 ms    51.1–51.3 ms              1.00x   84%       0",
        "  ideal 43.1 ms · overhead - · queueing - · concurrency 0.843 · 58.6 req/s",
        "  p50/p90/p99 15.5/23.8/23.9 ms",
        "bounded(limit=100)   24.0 ms    23.8–26.2 ms  2.13x [1.95–2.15]   89%       0",
        "  ideal 21.3 ms · overhead - · queueing - · concurrency 1.80 · 125 req/s",
        "  p50/p90/p99 15.0/23.7/25.7 ms",
        "8 tasks",
        "sequential          124.7 ms  124.4–125.0 ms              1.00x   86%       0",
        "  ideal 106.6 ms · overhead - · queueing - · concurrency 0.855 · 64.2 req/s",
        "  p50/p90/p99 15.9/22.6/23.4 ms",
        "bounded(limit=100)   24.5 ms    23.6–64.5 ms                  -     -      30",
        "  ideal 21.3 ms · overhead - · queueing - · concurrency - · req/s -",
        "  p50/p90/p99 20.3/45.6/61.1 ms · errors: 3 failed, 27 cancelled",
        "target: local server; connector limit: none (aiohttp's default of 100 is",
        "lifted); loop: asyncio",
    ]


def test_wide_table_has_every_column() -> None:
    text = _render(STORED.scenarios[0], 160)
    header = next(line for line in text.splitlines() if "strategy" in line)
    assert header.split() == [
        "tasks",
        "strategy",
        "median",
        "CI",
        "75%",
        "speedup",
        "[CI",
        "75%]",
        "ideal",
        "overhead",
        "queueing",
        "eff.",
        "conc.",
        "cpu",
        "req/s",
        "p50/p90/p99",
        "errors",
    ]
    assert "       gather       24.5 ms    23.6–64.5 ms  5.08x [1.93–5.28]   21.3 ms" in text


def test_failures_are_counted_and_withheld_figures_explained() -> None:
    text = _render(HARD, 80)
    assert "errors: 3 failed, 27 cancelled" in text
    wide = _render(HARD, 160)
    assert (
        "(-) bounded(limit=100) at 8 tasks: 3 of 3 runs had failed tasks (3 failed, 27 cancelled); "
        "no speedup, efficiency, queueing or req/s is computed from them"
    ) in wide
    assert "3 failed, 27 cancelled" in wide


def test_a_row_the_model_cannot_explain_says_so() -> None:
    fixed = STORED.scenarios[1]
    point = fixed.points[0]
    slow = point.model_copy(update={"delays_ms": tuple(d * 1.5 for d in point.delays_ms)})  # ideal above the median
    odd = fixed.model_copy(update={"points": (slow,)})
    text = _render(odd, 200)  # each note on one line
    assert (  # ideal 15.0 ms over the interval's high end 13.95 ms: 108% at best, 110% at the median
        "(!) model cannot explain gather at 5 tasks: faster than the ideal over its whole 75% interval "
        "(efficiency 108% at best): the delays delivered were shorter than modelled"
    ) in text
    assert "(!) model cannot explain sequential at 5 tasks: faster than the ideal over its whole 75% interval " in text
    assert "110%!" in text and "125%!" in text
    assert "model cannot explain" in _render(odd, 80)


def test_a_failed_sequential_withholds_only_the_speedup_of_the_other_rows() -> None:
    """Sequential was measured (one of its runs failed): no speedup* over the ideal, and gather keeps its efficiency."""
    fixed = STORED.scenarios[1]
    point = fixed.points[0]
    runs = tuple(
        r.model_copy(update={"failed": 1, "finished": 4}) if (r.strategy, r.repeat) == ("sequential", 0) else r
        for r in point.runs
    )
    broken = fixed.model_copy(update={"points": (point.model_copy(update={"runs": runs}),)})
    lines = [line.rstrip() for line in _render(broken, 160).splitlines()]
    assert lines[3:] == [
        "    5  sequential  60.1 ms  59.7–60.2 ms             -  50.0 ms         -         -     -      -    -      -  "
        "12.0/12.2/12.7 ms  1 failed",
        "       gather      13.6 ms  13.6–13.9 ms             -  10.0 ms         -         -   73%   3.67    -    367  "
        "12.9/13.3/13.5 ms         0",
        "target: local server; connector limit: none (aiohttp's default of 100 is lifted); loop: asyncio",
        "ideal from the delays asked for",
        "(-) overhead, queueing: no per-request overhead was measured",
        "(-) sequential at 5 tasks: 1 of 3 runs had failed tasks (1 failed); no speedup, efficiency, queueing or req/s "
        "is computed from them",
        "(-) gather at 5 tasks: no speedup: sequential: 1 of 3 runs had failed tasks",
    ]
