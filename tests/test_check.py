"""The gate: the interval rule on hand-made intervals, verdicts on stored results files with exact lines, messages,
Markdown and exit codes, baselines, and one deliberate regression end to end against the real server.

Stored files (tests/data/check/, from real runs of the scenarios beside them):
    run-a.json, run-b.json  two runs of scenarios/ (tiny: sequential, gather, bounded(limit=1); flaky: 30% errors)
    run-regressed.json      scenarios-regressed/: the same names, tiny's connector capped at 2 connections
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.check import (
    Verdict,
    decide,
    efficiency_interval,
    environment_note,
    error_rate,
    exit_code,
    format_lines,
    format_markdown,
    judge_baseline,
    judge_expectations,
    parse_tolerance,
    run_problems,
)
from bench.errors import ResultsError, UsageError
from bench.results import ResultsFile, read_results
from bench.runner import NullProgress, run_all
from bench.scenario import Expectations, Threshold, load_paths
from bench.summary import summarise
from tests.conftest import DATA

CHECK = DATA / "check"


@pytest.fixture(scope="module")
def run_a() -> ResultsFile:
    return read_results(CHECK / "run-a.json")


@pytest.fixture(scope="module")
def run_b() -> ResultsFile:
    return read_results(CHECK / "run-b.json")


@pytest.fixture(scope="module")
def regressed() -> ResultsFile:
    return read_results(CHECK / "run-regressed.json")


def expecting(results: ResultsFile, **by_scenario: dict[str, Any]) -> ResultsFile:
    """The same measurements held to other expectations: ``tiny={"speedup": {"gather": ">= 9"}}``; others get none."""
    scenarios = tuple(
        s.model_copy(
            update={
                "scenario": s.scenario.model_copy(
                    update={"expect": Expectations.model_validate(by_scenario.get(s.scenario.name, {}))}
                )
            }
        )
        for s in results.scenarios
    )
    return results.model_copy(update={"scenarios": scenarios})


# --- the interval rule ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bound", "interval", "expected"),
    [
        (">= 3", (3.0, 4.0), "pass"),
        (">= 3", (2.0, 3.0), "inconclusive"),
        (">= 3", (2.0, 2.99), "fail"),
        (">= 3", (1.0, 5.0), "inconclusive"),
        ("> 3", (3.01, 4.0), "pass"),
        ("> 3", (3.0, 4.0), "inconclusive"),
        ("> 3", (2.0, 3.0), "fail"),
        ("<= 3", (2.0, 3.0), "pass"),
        ("<= 3", (3.0, 4.0), "inconclusive"),
        ("<= 3", (3.01, 4.0), "fail"),
        ("< 3", (2.0, 2.99), "pass"),
        ("< 3", (2.0, 3.0), "inconclusive"),
        ("< 3", (3.0, 4.0), "fail"),
        ("< 1%", (0.0, 0.0099), "pass"),
        ("< 1%", (0.005, 0.02), "inconclusive"),
        ("< 1%", (0.01, 0.02), "fail"),
    ],
)
def test_interval_rule_for_each_operator(bound: str, interval: tuple[float, float], expected: str) -> None:
    threshold = Threshold.model_validate(bound)
    figure = (interval[0] + interval[1]) / 2
    assert decide(threshold, figure, interval) == expected
    assert decide(threshold, figure, (interval[1], interval[0])) == expected  # ends in either order


@pytest.mark.parametrize(
    ("bound", "figure", "expected"),
    [
        (">= 3", 3.0, "pass"),
        (">= 3", 2.99, "fail"),
        ("> 3", 3.0, "fail"),
        ("<= 3", 3.0, "pass"),
        ("< 1%", 0.01, "fail"),
    ],
)
def test_figure_without_interval_is_judged_on_its_point(bound: str, figure: float, expected: str) -> None:
    assert decide(Threshold.model_validate(bound), figure) == expected


def test_parse_tolerance() -> None:
    assert parse_tolerance("10%") == pytest.approx(0.10)
    assert parse_tolerance("0.25") == 0.25
    assert parse_tolerance("0%") == 0.0
    with pytest.raises(UsageError, match=r"^--tolerance '100%': must be at least 0% and below 100%$"):
        parse_tolerance("100%")
    with pytest.raises(UsageError, match=r"^--tolerance 'ten': expected a fraction such as '10%' or '0.1'$"):
        parse_tolerance("ten")


# --- figures ----------------------------------------------------------------------------------------


def test_error_rate_counts_failed_tasks_over_every_run(run_a: ResultsFile) -> None:
    flaky = next(s for s in run_a.scenarios if s.scenario.name == "flaky")
    # sequential stops at its first failure (3 failed, 12 cancelled in 3 runs); gather sees all 12 failures.
    assert error_rate(flaky.points[0]) == 15 / 60


def test_efficiency_interval_swaps_the_wall_time_ends(run_a: ResultsFile) -> None:
    tiny = next(s for s in run_a.scenarios if s.scenario.name == "tiny")
    row = next(r for r in summarise(tiny) if r.strategy == "gather")
    assert row.ideal_s == 0.02
    assert efficiency_interval(row) == (0.02 / row.wall_ci_s[1], 0.02 / row.wall_ci_s[0])
    low, high = efficiency_interval(row) or (0.0, 0.0)
    assert low <= (row.efficiency or 0.0) <= high


# --- expectations on stored results -------------------------------------------------------------------


def test_stored_run_passes_and_fails_with_exact_lines(run_a: ResultsFile) -> None:
    verdicts = judge_expectations(run_a)
    assert format_lines(verdicts) == [
        "✗ flaky  10 tasks  all               error rate 25.00%             < 1%    fail",
        "✓ tiny   10 tasks  gather            speedup 8.97x [8.57, 9.27]    >= 3    pass",
        "✗ tiny   10 tasks  bounded(limit=1)  speedup 1.01x [1.00, 1.01]    >= 3    fail",
        "✓ tiny   10 tasks  gather            efficiency 0.82 [0.79, 0.85]  >= 0.5  pass",
        "2 passed, 2 failed, 0 inconclusive",
    ]
    assert [v.message for v in verdicts] == [
        "flaky, 10 tasks: error rate 25.00% misses < 1%",
        "tiny, 10 tasks: gather speedup 8.97x, whole 95% interval [8.57, 9.27] meets >= 3",
        "tiny, 10 tasks: bounded(limit=1) speedup 1.01x, whole 95% interval [1.00, 1.01] misses >= 3",
        "tiny, 10 tasks: gather efficiency 0.82, whole 95% interval [0.79, 0.85] meets >= 0.5",
    ]
    assert exit_code(verdicts, run_a) == 1
    assert exit_code(verdicts, run_a, strict=True) == 1


def test_verdict_record(run_a: ResultsFile) -> None:
    gather = judge_expectations(run_a)[1]
    assert (gather.scenario, gather.tasks, gather.kind, gather.subject, gather.bound, gather.verdict) == (
        "tiny",
        10,
        "speedup",
        "gather",
        ">= 3",
        "pass",
    )
    assert gather.interval is not None and gather.figure is not None
    assert gather.interval[0] <= gather.figure <= gather.interval[1]


def test_all_pass_exits_0(run_a: ResultsFile) -> None:
    results = expecting(run_a, tiny={"speedup": {"gather": ">= 3"}, "error_rate": "<= 0%"})
    verdicts = judge_expectations(results)
    assert format_lines(verdicts) == [
        "✓ tiny  10 tasks  gather  speedup 8.97x [8.57, 9.27]  >= 3   pass",
        "✓ tiny  10 tasks  all     error rate 0.00%            <= 0%  pass",
        "2 passed, 0 failed, 0 inconclusive",
    ]
    assert exit_code(verdicts, results) == 0


def test_interval_straddling_the_bound_is_inconclusive_and_fails_only_when_strict(run_a: ResultsFile) -> None:
    results = expecting(run_a, tiny={"speedup": {"gather": ">= 9"}, "efficiency": {"gather": "< 0.8"}})
    verdicts = judge_expectations(results)
    assert format_lines(verdicts) == [
        "? tiny  10 tasks  gather  speedup 8.97x [8.57, 9.27]    >= 9   inconclusive",
        "? tiny  10 tasks  gather  efficiency 0.82 [0.79, 0.85]  < 0.8  inconclusive",
        "0 passed, 0 failed, 2 inconclusive",
    ]
    assert verdicts[0].message == (
        "tiny, 10 tasks: gather speedup 8.97x, 95% interval [8.57, 9.27] straddles >= 9; more repeats would decide"
    )
    assert exit_code(verdicts, results) == 0
    assert exit_code(verdicts, results, strict=True) == 1


def test_expectations_apply_at_the_given_task_count_and_nothing_is_judged_without_them(run_a: ResultsFile) -> None:
    assert judge_expectations(expecting(run_a)) == []
    assert format_lines([]) == ["0 passed, 0 failed, 0 inconclusive"]
    assert exit_code([], run_a) == 0


def test_markdown_for_the_step_summary(run_a: ResultsFile) -> None:
    results = expecting(run_a, tiny={"speedup": {"gather": ">= 9", "bounded(limit=1)": ">= 3"}})
    markdown = format_markdown(judge_expectations(results), note="warning: some note")
    assert markdown == (
        "## iobench check\n"
        "\n"
        "> warning: some note\n"
        "\n"
        "| | scenario | tasks | strategy | check | measured | 95% interval | bound | verdict |\n"
        "|---|---|---:|---|---|---:|---|---|---|\n"
        "| ? | tiny | 10 | gather | speedup | 8.97x | [8.57, 9.27] | `>= 9` | **inconclusive** |\n"
        "| ✗ | tiny | 10 | bounded(limit=1) | speedup | 1.01x | [1.00, 1.01] | `>= 3` | **fail** |\n"
        "\n"
        "0 passed, 1 failed, 1 inconclusive\n"
    )


def test_markdown_without_verdicts_or_note() -> None:
    assert format_markdown([]) == "## iobench check\n\n0 passed, 0 failed, 0 inconclusive\n"


# --- the run itself failed: exit 3 --------------------------------------------------------------------


def test_incomplete_results_exit_3_even_when_every_check_passes(run_a: ResultsFile) -> None:
    results = expecting(run_a, tiny={"speedup": {"gather": ">= 3"}}).model_copy(update={"complete": False})
    verdicts = judge_expectations(results)
    assert [v.verdict for v in verdicts] == ["pass"]
    assert run_problems(results) == ["the results file is incomplete (the run was interrupted or crashed)"]
    assert exit_code(verdicts, results) == 3


def test_interrupted_scenario_without_its_point_is_not_measured_and_exits_3(run_a: ResultsFile) -> None:
    interrupted = tuple(
        s.model_copy(update={"outcome": "interrupted", "reason": "Ctrl-C", "points": ()})
        if s.scenario.name == "tiny"
        else s
        for s in run_a.scenarios
    )
    results = run_a.model_copy(update={"scenarios": interrupted, "complete": False})
    verdicts = judge_expectations(results)
    assert format_lines(verdicts) == [
        "✗ flaky  10 tasks  all               error rate 25.00%        < 1%    fail",
        "? tiny   10 tasks  gather            speedup not measured     >= 3    inconclusive",
        "? tiny   10 tasks  bounded(limit=1)  speedup not measured     >= 3    inconclusive",
        "? tiny   10 tasks  gather            efficiency not measured  >= 0.5  inconclusive",
        "0 passed, 1 failed, 3 inconclusive",
    ]
    assert verdicts[1].message == "tiny, 10 tasks: gather speedup not measured; cannot check >= 3"
    assert run_problems(results) == [
        "the results file is incomplete (the run was interrupted or crashed)",
        "scenario tiny interrupted: Ctrl-C",
    ]
    assert exit_code(verdicts, results) == 3


def test_failed_scenario_exits_3(run_a: ResultsFile) -> None:
    failed = tuple(s.model_copy(update={"outcome": "failed"}) for s in run_a.scenarios)
    results = run_a.model_copy(update={"scenarios": failed})
    assert run_problems(results) == ["scenario flaky failed", "scenario tiny failed"]
    assert exit_code(judge_expectations(results), results) == 3


# --- baselines --------------------------------------------------------------------------------------


def test_same_speedups_as_the_baseline_pass(run_a: ResultsFile, run_b: ResultsFile) -> None:
    verdicts = judge_baseline(run_a, run_b)
    assert format_lines(verdicts) == [
        "✓ flaky  10 tasks  gather            speedup 4.87x [4.23, 5.00]  >= 3.95 (baseline 4.39 - 10%)  pass",
        "✓ tiny   10 tasks  gather            speedup 8.97x [8.57, 9.27]  >= 7.94 (baseline 8.83 - 10%)  pass",
        "✓ tiny   10 tasks  bounded(limit=1)  speedup 1.01x [1.00, 1.01]  >= 0.90 (baseline 1.00 - 10%)  pass",
        "3 passed, 0 failed, 0 inconclusive",
    ]
    assert {v.kind for v in verdicts} == {"baseline"}
    assert exit_code(verdicts, run_a) == 0


def test_without_tolerance_the_same_speedups_are_inconclusive(run_a: ResultsFile, run_b: ResultsFile) -> None:
    verdicts = judge_baseline(run_a, run_b, tolerance=0.0)
    assert [(v.subject, v.bound, v.verdict) for v in verdicts] == [
        ("gather", ">= 4.39 (baseline 4.39 - 0%)", "inconclusive"),
        ("gather", ">= 8.83 (baseline 8.83 - 0%)", "inconclusive"),
        ("bounded(limit=1)", ">= 1.00 (baseline 1.00 - 0%)", "inconclusive"),
    ]


def test_a_regression_against_the_baseline_fails(run_a: ResultsFile, regressed: ResultsFile) -> None:
    verdicts = judge_baseline(regressed, run_a)
    assert format_lines(verdicts) == [
        "✓ flaky  10 tasks  gather            speedup 5.18x [5.06, 5.69]  >= 4.38 (baseline 4.87 - 10%)  pass",
        "✗ tiny   10 tasks  gather            speedup 1.98x [1.91, 2.04]  >= 8.08 (baseline 8.97 - 10%)  fail",
        "✓ tiny   10 tasks  bounded(limit=1)  speedup 1.01x [0.95, 1.02]  >= 0.91 (baseline 1.01 - 10%)  pass",
        "2 passed, 1 failed, 0 inconclusive",
    ]
    assert verdicts[1].message == (
        "tiny, 10 tasks: gather speedup 1.98x, whole 95% interval [1.91, 2.04] misses >= 8.08 (baseline 8.97 - 10%)"
    )
    assert exit_code(verdicts, regressed) == 1


def test_a_baseline_of_other_scenarios_is_bad_input(run_a: ResultsFile) -> None:
    other = read_results(DATA / "results-v1.json")
    with pytest.raises(ResultsError) as caught:
        judge_baseline(run_a, other)
    assert str(caught.value) == (
        "the baseline holds other scenarios than the results "
        "(missing from the baseline: flaky, tiny; missing from the results: fixture, fixture-fixed)"
    )
    assert caught.value.exit_code == 2


def test_a_baseline_with_one_scenario_fewer_names_only_that_side(run_a: ResultsFile) -> None:
    fewer = run_a.model_copy(update={"scenarios": run_a.scenarios[1:]})
    with pytest.raises(ResultsError) as caught:
        judge_baseline(run_a, fewer)
    assert str(caught.value) == "the baseline holds other scenarios than the results (missing from the baseline: flaky)"
    with pytest.raises(ResultsError) as caught:
        judge_baseline(fewer, run_a)
    assert str(caught.value) == "the baseline holds other scenarios than the results (missing from the results: flaky)"


def test_tolerance_out_of_range_is_a_usage_error(run_a: ResultsFile, run_b: ResultsFile) -> None:
    with pytest.raises(UsageError, match=r"^tolerance 1 must be at least 0 and below 1$"):
        judge_baseline(run_a, run_b, tolerance=1.0)


def test_environment_note_names_both_values(run_a: ResultsFile, run_b: ResultsFile) -> None:
    assert environment_note(run_a, run_b) is None
    elsewhere = run_b.model_copy(
        update={
            "environment": run_b.environment.model_copy(
                update={"cpu_count": 8, "python": "3.12.1", "os": "Darwin 23.4.0", "machine": "arm64"}
            )
        }
    )
    assert environment_note(run_a, elsewhere) == (
        "warning: the baseline comes from another environment (machine arm64 in the baseline, x86_64 in the results; "
        "CPU count 8 in the baseline, 2 in the results; OS Darwin 23.4.0 in the baseline, Linux 6.18.44-fc-v782 "
        "in the results; Python 3.12.1 in the baseline, 3.11.7 in the results); compare with care"
    )
    pypy = run_b.model_copy(
        update={"environment": run_b.environment.model_copy(update={"implementation": "PyPy", "python": "3.10.14"})}
    )
    assert environment_note(run_a, pypy) == (
        "warning: the baseline comes from another environment "
        "(Python PyPy 3.10.14 in the baseline, 3.11.7 in the results); compare with care"
    )


# --- the deliberate regression, end to end ---------------------------------------------------------------

REGRESSION = """\
name: regression
tasks: 20
target:
  latency: {dist: fixed, ms: 30}
strategies:
  - sequential
  - gather
  - bounded: {limit: 1}
repeats: 3
warmup: 1
seed: 21
expect:
  speedup:
    gather: ">= 3"
    bounded(limit=1): ">= 3"
"""


def judge_regression(folder: Path) -> list[Verdict]:
    """Run REGRESSION against a fresh local server and judge it (used by the test and by a repeat script)."""
    scenario = folder / "regression.yaml"
    scenario.write_text(REGRESSION, encoding="utf-8")
    results = run_all(load_paths([scenario]), folder / "results" / "run.json", ["test"], NullProgress())
    verdicts = judge_expectations(results)
    assert exit_code(verdicts, results) == (1 if any(v.verdict == "fail" for v in verdicts) else 0)
    return verdicts


@pytest.mark.e2e
def test_a_sequential_strategy_in_disguise_fails_while_gather_passes(tmp_path: Path) -> None:
    verdicts = judge_regression(tmp_path)
    assert [(v.subject, v.bound, v.verdict) for v in verdicts] == [
        ("gather", ">= 3", "pass"),
        ("bounded(limit=1)", ">= 3", "fail"),
    ]
    limited = verdicts[1]
    assert limited.interval is not None and limited.interval[1] < 1.5  # one at a time: no speedup at all
