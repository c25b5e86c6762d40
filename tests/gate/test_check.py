"""The gate: the interval rule on hand-made intervals, verdicts on stored results files with exact lines, messages,
Markdown and exit codes, baselines, and one deliberate regression end to end against the real server.

Stored files (tests/data/check/, from real runs of the scenarios beside them):
    run-a.json, run-b.json  two runs of scenarios/ (tiny: sequential, gather, bounded(limit=1); flaky: 30% errors)
    run-regressed.json      scenarios-regressed/: the same names, tiny's connector capped at 2 connections
    run-failing.json        scenarios-failing/: a callable that rejects concurrent callers, so every gather run
                            fails within a millisecond while sequential succeeds (the old gate passed it at 610x)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.errors import ResultsError, UsageError
from bench.gate.baseline import judge_baseline, missing_rows, parse_tolerance
from bench.gate.check import INCONCLUSIVE, exit_code, judge, run_problems
from bench.gate.comparable import environment_mismatch, environment_note
from bench.gate.compare import change, compare, comparison_code, format_comparisons
from bench.gate.expect import efficiency_interval, error_rate, judge_expectations
from bench.gate.format import format_lines, format_markdown
from bench.gate.rule import Verdict, decide
from bench.results.files import read_results
from bench.results.records import ResultsFile
from bench.results.summary import summarise
from bench.run.runner import NullProgress, run_all
from bench.scenario.expectations import Expectations, Threshold
from bench.scenario.loader import load_paths
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


@pytest.fixture(scope="module")
def failing() -> ResultsFile:
    return read_results(CHECK / "run-failing.json")


def same_definitions(results: ResultsFile, like: ResultsFile) -> ResultsFile:
    """``results`` with the scenario definitions of ``like``: a regression of the code, not of the scenario."""
    defined = {s.scenario.name: s.scenario for s in like.scenarios}
    scenarios = tuple(s.model_copy(update={"scenario": defined[s.scenario.name]}) for s in results.scenarios)
    return results.model_copy(update={"scenarios": scenarios})


def with_hashes(results: ResultsFile, digest: str) -> ResultsFile:
    """Every scenario's definition_hash set to ``digest`` (the stored files predate schema 2)."""
    scenarios = tuple(s.model_copy(update={"definition_hash": digest}) for s in results.scenarios)
    return results.model_copy(update={"scenarios": scenarios})


def with_environment(results: ResultsFile, **changes: Any) -> ResultsFile:
    return results.model_copy(update={"environment": results.environment.model_copy(update=changes)})


def without_runs(results: ResultsFile, scenario: str, label: str) -> ResultsFile:
    """``results`` without any run of ``label`` in ``scenario``."""
    scenarios = tuple(
        s.model_copy(
            update={
                "points": tuple(
                    p.model_copy(update={"runs": tuple(r for r in p.runs if r.strategy != label)}) for p in s.points
                )
            }
        )
        if s.scenario.name == scenario
        else s
        for s in results.scenarios
    )
    return results.model_copy(update={"scenarios": scenarios})


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


def test_error_rate_counts_every_task_that_did_not_finish_ok(run_a: ResultsFile) -> None:
    flaky = next(s for s in run_a.scenarios if s.scenario.name == "flaky")
    # sequential stops at its first failure: 1 failed and 4 never started in each of 3 runs (15 of 30 tasks);
    # gather sees 4 failures in each of 3 runs (12 of 30). The old rule counted failures only: 15 / 60.
    assert error_rate(flaky.points[0]) == 27 / 60


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
        "✗ flaky  10 tasks  all               error rate 45.00%                      < 1%    fail",
        "✓ tiny   10 tasks  gather            speedup 8.97x [8.57, 9.27] at 93.8%    >= 3    pass",
        "✗ tiny   10 tasks  bounded(limit=1)  speedup 1.01x [1.00, 1.01] at 93.8%    >= 3    fail",
        "✓ tiny   10 tasks  gather            efficiency 0.82 [0.79, 0.85] at 93.8%  >= 0.5  pass",
        "2 passed, 2 failed, 0 inconclusive",
    ]
    assert [v.message for v in verdicts] == [
        "flaky, 10 tasks: error rate 45.00% misses < 1%",
        "tiny, 10 tasks: gather speedup 8.97x, whole 93.8% interval [8.57, 9.27] meets >= 3",
        "tiny, 10 tasks: bounded(limit=1) speedup 1.01x, whole 93.8% interval [1.00, 1.01] misses >= 3",
        "tiny, 10 tasks: gather efficiency 0.82, whole 93.8% interval [0.79, 0.85] meets >= 0.5",
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
        "✓ tiny  10 tasks  gather  speedup 8.97x [8.57, 9.27] at 93.8%  >= 3   pass",
        "✓ tiny  10 tasks  all     error rate 0.00%                     <= 0%  pass",
        "2 passed, 0 failed, 0 inconclusive",
    ]
    assert exit_code(verdicts, results) == 0


def test_interval_straddling_the_bound_is_inconclusive_exit_4_and_fails_when_strict(run_a: ResultsFile) -> None:
    results = expecting(run_a, tiny={"speedup": {"gather": ">= 9"}, "efficiency": {"gather": "< 0.8"}})
    verdicts = judge_expectations(results)
    assert format_lines(verdicts) == [
        "? tiny  10 tasks  gather  speedup 8.97x [8.57, 9.27] at 93.8%    >= 9   inconclusive",
        "? tiny  10 tasks  gather  efficiency 0.82 [0.79, 0.85] at 93.8%  < 0.8  inconclusive",
        "0 passed, 0 failed, 2 inconclusive",
    ]
    assert verdicts[0].message == (
        "tiny, 10 tasks: gather speedup 8.97x, 93.8% interval [8.57, 9.27] straddles >= 9; more repeats would decide"
    )
    assert exit_code(verdicts, results) == INCONCLUSIVE == 4
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
        "| | scenario | tasks | strategy | check | measured | interval | bound | verdict |\n"
        "|---|---|---:|---|---|---:|---|---|---|\n"
        "| ? | tiny | 10 | gather | speedup | 8.97x | 93.8% [8.57, 9.27] | `>= 9` | **inconclusive** |\n"
        "| ✗ | tiny | 10 | bounded(limit=1) | speedup | 1.01x | 93.8% [1.00, 1.01] | `>= 3` | **fail** |\n"
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
        "✗ flaky  10 tasks  all               error rate 45.00%        < 1%    fail",
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


# --- failed runs cannot pass ------------------------------------------------------------------------


def test_failed_runs_fail_speedup_and_efficiency_checks(failing: ResultsFile) -> None:
    gate = judge(failing)
    assert format_lines(list(gate.verdicts)) == [
        "✗ rejecting  10 tasks  gather  speedup 5 of 5 runs had failed tasks     >= 3    fail",
        "✗ rejecting  10 tasks  gather  efficiency 5 of 5 runs had failed tasks  >= 0.5  fail",
        "✗ rejecting  10 tasks  all     error rate 45.00%                        < 1%    fail",
        "0 passed, 3 failed, 0 inconclusive",
    ]
    assert [v.message for v in gate.verdicts[:2]] == [
        "rejecting, 10 tasks: gather speedup: 5 of 5 runs had failed tasks; no speedup is computed from them",
        "rejecting, 10 tasks: gather efficiency: 5 of 5 runs had failed tasks; no efficiency is computed from them",
    ]
    assert gate.code == 1


def test_failed_runs_fail_even_without_an_error_rate_expectation(failing: ResultsFile) -> None:
    results = expecting(failing, rejecting={"speedup": {"gather": ">= 3"}})
    assert [(v.verdict, v.figure) for v in judge_expectations(results)] == [("fail", None)]


def test_a_failed_sequential_run_fails_the_speedup_check(run_a: ResultsFile) -> None:
    results = expecting(run_a, flaky={"speedup": {"gather": ">= 1"}})
    [verdict] = judge_expectations(results)
    assert verdict.message == (
        "flaky, 10 tasks: gather speedup: 3 of 3 runs had failed tasks; no speedup is computed from them"
    )
    assert verdict.verdict == "fail"


# --- baselines --------------------------------------------------------------------------------------


def test_same_speedups_as_the_baseline_pass_and_failed_runs_fail(run_a: ResultsFile, run_b: ResultsFile) -> None:
    verdicts = judge_baseline(run_a, run_b)
    assert format_lines(verdicts) == [
        "✗ flaky  10 tasks  gather            speedup vs baseline 3 of 3 runs had failed tasks "
        "  against the baseline                               fail",
        "✓ tiny   10 tasks  gather            speedup vs baseline 1.015 [0.971, 1.053] at 96.8%"
        "  >= 0.95 (5% tolerance; baseline 8.83x, now 8.97x)  pass",
        "✓ tiny   10 tasks  bounded(limit=1)  speedup vs baseline 1.004 [0.993, 1.019] at 96.8%"
        "  >= 0.95 (5% tolerance; baseline 1.00x, now 1.01x)  pass",
        "2 passed, 1 failed, 0 inconclusive",
    ]
    assert verdicts[1].message == (
        "tiny, 10 tasks: gather speedup vs baseline 1.015, whole 96.8% interval [0.971, 1.053] meets >= 0.95 "
        "(5% tolerance; baseline 8.83x, now 8.97x)"
    )
    assert {v.kind for v in verdicts} == {"baseline"}
    assert exit_code(verdicts, run_a) == 1
    tiny = expecting(run_a.model_copy(update={"scenarios": run_a.scenarios[1:]}))
    assert judge(tiny, run_b.model_copy(update={"scenarios": run_b.scenarios[1:]})).code == 0


def test_without_tolerance_the_same_speedups_are_inconclusive(run_a: ResultsFile, run_b: ResultsFile) -> None:
    verdicts = judge_baseline(run_a, run_b, tolerance=0.0)
    assert [(v.subject, v.bound, v.verdict) for v in verdicts] == [
        ("gather", "against the baseline", "fail"),
        ("gather", ">= 1 (0% tolerance; baseline 8.83x, now 8.97x)", "inconclusive"),
        ("bounded(limit=1)", ">= 1 (0% tolerance; baseline 1.00x, now 1.01x)", "inconclusive"),
    ]


def test_a_regression_of_the_code_fails(run_a: ResultsFile, regressed: ResultsFile) -> None:
    verdicts = judge_baseline(same_definitions(regressed, run_a), run_a, tolerance=0.10)
    assert format_lines(verdicts)[1:] == [
        "✗ tiny   10 tasks  gather            speedup vs baseline 0.220 [0.213, 0.231] at 96.8%"
        "  >= 0.9 (10% tolerance; baseline 8.97x, now 1.98x)  fail",
        "✓ tiny   10 tasks  bounded(limit=1)  speedup vs baseline 1.001 [0.946, 1.015] at 96.8%"
        "  >= 0.9 (10% tolerance; baseline 1.01x, now 1.01x)  pass",
        "1 passed, 2 failed, 0 inconclusive",
    ]
    assert verdicts[1].message == (
        "tiny, 10 tasks: gather speedup vs baseline 0.220, whole 96.8% interval [0.213, 0.231] misses >= 0.9 "
        "(10% tolerance; baseline 8.97x, now 1.98x)"
    )


def test_a_baseline_of_another_definition_is_inconclusive_and_says_why(
    run_a: ResultsFile, regressed: ResultsFile
) -> None:
    gate = judge(expecting(regressed), run_a)
    assert [v.verdict for v in gate.verdicts] == ["fail", "inconclusive", "inconclusive"]
    assert gate.verdicts[1].message == (
        "tiny, 10 tasks: gather speedup vs baseline 0.220; not compared with >= 0.95 "
        "(5% tolerance; baseline 8.97x, now 1.98x): "
        "the baseline was made from another definition of tiny (connector_limit differ)"
    )
    assert gate.warnings[-1] == (
        "warning: the baseline was made from another definition of tiny (connector_limit differ); "
        "its baseline comparisons are inconclusive"
    )
    assert gate.warnings[1] == (
        "warning: the baseline and the results record no definition hash for flaky; "
        "compared the scenario definitions as stored instead"
    )


def test_definition_hashes_decide_when_both_files_have_them(run_a: ResultsFile, run_b: ResultsFile) -> None:
    ours = with_hashes(expecting(run_a), "a" * 64)
    same = judge(ours, with_hashes(run_b, "a" * 64))
    assert same.warnings == ("warning: the baseline and the results record no CPU model, so it was not compared",)
    other = judge(ours, with_hashes(run_b, "b" * 64))
    assert other.warnings[1:] == (
        "warning: the baseline was made from another definition of flaky (hash bbbbbbbbbbbb in the baseline, "
        "aaaaaaaaaaaa in the results); its baseline comparisons are inconclusive",
        "warning: the baseline was made from another definition of tiny (hash bbbbbbbbbbbb in the baseline, "
        "aaaaaaaaaaaa in the results); its baseline comparisons are inconclusive",
    )
    assert [v.verdict for v in other.verdicts] == ["fail", "inconclusive", "inconclusive"]


def test_another_environment_makes_every_comparison_inconclusive(run_a: ResultsFile, run_b: ResultsFile) -> None:
    ours = with_environment(expecting(run_a), cpu_model="AMD EPYC")
    theirs = with_environment(run_b, aiohttp="3.9.0", uvloop="0.19.0", cpu_model="Intel Xeon")
    gate = judge(ours, theirs)
    assert gate.warnings[0] == (
        "warning: the baseline comes from another environment (CPU model Intel Xeon in the baseline, AMD EPYC in "
        "the results; aiohttp 3.9.0 in the baseline, 3.14.5 in the results; uvloop 0.19.0 in the baseline, none in "
        "the results); every baseline comparison is inconclusive"
    )
    assert [v.verdict for v in gate.verdicts] == ["fail", "inconclusive", "inconclusive"]
    tiny_only = ours.model_copy(update={"scenarios": ours.scenarios[1:]})
    assert judge(tiny_only, theirs.model_copy(update={"scenarios": theirs.scenarios[1:]})).code == INCONCLUSIVE


def test_a_baseline_row_missing_from_the_results_warns_or_fails_when_strict(run_a: ResultsFile) -> None:
    fewer = without_runs(expecting(run_a), "tiny", "bounded(limit=1)")
    assert [str(row) for row in missing_rows(fewer, run_a)] == [
        "tiny, 10 tasks: bounded(limit=1) is in the baseline but not in the results"
    ]
    lenient = judge(fewer, run_a)
    assert lenient.warnings[-1] == (
        "warning: tiny, 10 tasks: bounded(limit=1) is in the baseline but not in the results; "
        "it was not checked (a failure with --strict)"
    )
    assert [v.verdict for v in lenient.verdicts] == ["fail", "pass"]
    strict = judge(fewer, run_a, strict=True)
    assert format_lines(list(strict.verdicts))[1:] == [
        "✓ tiny   10 tasks  gather            speedup vs baseline 1.000 [0.955, 1.047] at 96.8%"
        "  >= 0.95 (5% tolerance; baseline 8.97x, now 8.97x)  pass",
        "✗ tiny   10 tasks  bounded(limit=1)  speedup vs baseline missing from the results     "
        "  in the baseline                                    fail",
        "1 passed, 2 failed, 0 inconclusive",
    ]
    assert strict.verdicts[-1].message == "tiny, 10 tasks: bounded(limit=1) is in the baseline but not in the results"
    assert strict.code == 1


def test_a_baseline_scenario_missing_from_the_results_is_reported(run_a: ResultsFile) -> None:
    tiny_only = expecting(run_a.model_copy(update={"scenarios": run_a.scenarios[1:]}))
    gate = judge(tiny_only, run_a)
    assert "warning: scenario flaky is in the baseline but not in the results; it was not checked " \
        "(a failure with --strict)" in gate.warnings  # fmt: skip
    assert "warning: scenario flaky has no baseline; only its expectations count" in judge(run_a, tiny_only).warnings


def test_a_baseline_sharing_no_scenario_is_bad_input(run_a: ResultsFile) -> None:
    other = read_results(DATA / "results-v1.json")
    with pytest.raises(ResultsError) as caught:
        judge_baseline(run_a, other)
    assert str(caught.value) == (
        "the baseline shares no scenario with the results (baseline: fixture, fixture-fixed; results: flaky, tiny)"
    )
    assert caught.value.exit_code == 2


def test_nothing_to_check_names_what_is_missing(run_a: ResultsFile) -> None:
    plain = expecting(run_a)
    with pytest.raises(UsageError) as caught:
        judge(plain, source="run-a.json")
    assert str(caught.value) == (
        "run-a.json: nothing to check: no scenario has an 'expect:' block and no --baseline was given"
    )
    sequential_only = without_runs(without_runs(without_runs(plain, "tiny", "gather"), "tiny", "bounded(limit=1)"),
                                   "flaky", "gather")  # fmt: skip
    with pytest.raises(UsageError) as caught:
        judge(sequential_only, sequential_only, source="run-a.json", baseline_source="baseline.json")
    assert str(caught.value) == (
        "run-a.json: nothing to check: no scenario has an 'expect:' block and baseline.json has no speedup "
        "to compare with"
    )


def test_tolerance_out_of_range_is_a_usage_error(run_a: ResultsFile, run_b: ResultsFile) -> None:
    with pytest.raises(UsageError, match=r"^tolerance 1 must be at least 0 and below 1$"):
        judge_baseline(run_a, run_b, tolerance=1.0)


def test_environment_note_names_both_values(run_a: ResultsFile, run_b: ResultsFile) -> None:
    known = with_environment(run_a, cpu_model="AMD EPYC")
    assert environment_note(known, with_environment(run_b, cpu_model="AMD EPYC")) is None
    elsewhere = with_environment(
        run_b, cpu_count=8, os="Darwin 23.4.0", machine="arm64", cpu_model="Apple M3", python="3.12.1"
    )
    assert environment_note(known, elsewhere) == (
        "warning: the baseline comes from another machine (machine arm64 in the baseline, x86_64 in the results; "
        "CPU count 8 in the baseline, 2 in the results; OS Darwin 23.4.0 in the baseline, Linux 6.18.44-fc-v782 "
        "in the results); compare with care"
    )
    pypy = with_environment(run_b, implementation="PyPy", python="3.10.14")
    assert environment_note(run_a, pypy) == (
        "warning: the baseline and the results record no CPU model, so it was not compared"
    )
    assert environment_mismatch(run_a, pypy) == (
        "the baseline comes from another environment (Python PyPy 3.10.14 in the baseline, 3.11.7 in the results)"
    )


# --- compare two results files ------------------------------------------------------------------------


def test_a_change_is_the_two_sample_ratio_of_locations_with_its_level() -> None:
    before, after = [1.0, 1.1, 0.9, 1.05], [0.9, 0.99, 0.81, 0.945]  # every value 10% lower
    c = change(1.025, 0.9225, before, after)
    assert (c.before, c.after, c.ratio) == (1.025, 0.9225, pytest.approx(0.9))
    assert c.interval == (pytest.approx(0.9 * 0.9 / 1.1), pytest.approx(0.9 * 1.1 / 0.9))  # k = 1 of 16 ratios
    assert c.level == pytest.approx(1 - 2 / 70)  # 4 and 4 values: 1 - 2 / C(8, 4)
    assert change(1.0, 2.0, [], [2.0]) == type(c)(1.0, 2.0, 2.0, None, None)


def test_comparison_exit_codes(run_a: ResultsFile, run_b: ResultsFile) -> None:
    tiny_a = run_a.model_copy(update={"scenarios": run_a.scenarios[1:]})
    tiny_b = run_b.model_copy(update={"scenarios": run_b.scenarios[1:]})
    assert comparison_code(compare(tiny_a, tiny_b, tolerance=0.10)) == 0
    assert comparison_code(compare(tiny_a, tiny_b)) == INCONCLUSIVE  # gather's -1.5% [-5.0%, +3.0%] straddles -5%
    assert comparison_code(compare(tiny_a, tiny_b), strict=True) == 1
    assert comparison_code(compare(run_a, run_b, tolerance=0.10)) == 1


def test_compare_two_runs_of_the_same_code(run_a: ResultsFile, run_b: ResultsFile) -> None:
    comparisons = compare(run_a, run_b, tolerance=0.10)
    assert format_comparisons(comparisons) == [
        "✗ flaky  10 tasks  sequential        wall 39.6 -> 40.7 ms +2.9% [+1.6%, +7.3%]"
        "                                                 fail",
        "✗ flaky  10 tasks  gather            wall 8.1 -> 9.6 ms +4.4% [-11.4%, +23.0%]"
        "                                                 fail",
        "✓ tiny   10 tasks  sequential        wall 218.9 -> 218.6 ms +0.2% [-1.0%, +1.5%]"
        "                                               pass",
        "✓ tiny   10 tasks  gather            wall 24.3 -> 25.1 ms +1.8% [-3.2%, +6.1%]"
        "    speedup 8.97x -> 8.83x -1.5% [-5.0%, +3.0%]  pass",
        "✓ tiny   10 tasks  bounded(limit=1)  wall 217.9 -> 219.7 ms +0.6% [-0.1%, +1.4%]"
        "  speedup 1.01x -> 1.00x -0.4% [-1.8%, +0.7%]  pass",
        "3 passed, 2 failed, 0 inconclusive",
    ]
    assert [c.message for c in comparisons[1:4]] == [
        "flaky, 10 tasks: gather wall 8.1 -> 9.6 ms +4.4% [-11.4%, +23.0%]; 3 of 3 runs had failed tasks in B, "
        "so no speedup is computed from them",
        "tiny, 10 tasks: sequential wall 218.9 -> 218.6 ms +0.2% [-1.0%, +1.5%]; wall time whole 96.8% interval "
        "[-1.0%, +1.5%] within the +10% tolerance",
        "tiny, 10 tasks: gather wall 24.3 -> 25.1 ms +1.8% [-3.2%, +6.1%], speedup 8.97x -> 8.83x -1.5% "
        "[-5.0%, +3.0%]; speedup whole 96.8% interval [-5.0%, +3.0%] within the -10% tolerance",
    ]
    gather = comparisons[3]
    assert gather.speedup is not None and gather.speedup.level == pytest.approx(1 - 2 / 63)  # 5 and 5 rounds


def test_compare_finds_a_regression_and_an_inconclusive_definition(run_a: ResultsFile, regressed: ResultsFile) -> None:
    code_regressed = compare(run_a, same_definitions(regressed, run_a))
    assert code_regressed[3].verdict == "fail"
    assert code_regressed[3].message == (
        "tiny, 10 tasks: gather wall 24.3 -> 112.2 ms +360.8% [+341.3%, +377.8%], speedup 8.97x -> 1.98x -78.0% "
        "[-78.7%, -76.9%]; speedup whole 96.8% interval [-78.7%, -76.9%] worse than -5%"
    )
    other_definition = compare(run_a, regressed)
    assert other_definition[3].verdict == "inconclusive"
    assert other_definition[3].message.endswith(
        "; not compared: the baseline was made from another definition of tiny (connector_limit differ)"
    )


def test_compare_reports_rows_in_one_file_only(run_a: ResultsFile) -> None:
    fewer = without_runs(run_a, "tiny", "bounded(limit=1)")
    [only_a] = [c for c in compare(run_a, fewer) if c.wall is None]
    assert (only_a.verdict, only_a.message) == (
        "inconclusive",
        "tiny, 10 tasks: bounded(limit=1) is only in A",
    )
    [only_b] = [c for c in compare(fewer, run_a) if c.wall is None]
    assert only_b.message == "tiny, 10 tasks: bounded(limit=1) is only in B"


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
    return judge_expectations(results)


@pytest.mark.e2e
def test_a_sequential_strategy_in_disguise_fails_while_gather_passes(tmp_path: Path) -> None:
    verdicts = judge_regression(tmp_path)
    assert [(v.subject, v.bound, v.verdict) for v in verdicts] == [
        ("gather", ">= 3", "pass"),
        ("bounded(limit=1)", ">= 3", "fail"),
    ]
    limited = verdicts[1]
    assert limited.interval is not None and limited.interval[1] < 1.5  # one at a time: no speedup at all


# --- the power script resamples runs and lets judge() decide ------------------------------------------------


def test_power_script_draws_rounds_by_the_stop_rule_and_judges_them(run_a: ResultsFile, run_b: ResultsFile) -> None:
    import random

    from bench.perf.gate_power import _rounds, decisions, draw_rounds

    tiny_a = expecting(run_a.model_copy(update={"scenarios": run_a.scenarios[1:]}))  # the baseline checks only
    tiny_b = expecting(run_b.model_copy(update={"scenarios": run_b.scenarios[1:]}))
    pool = _rounds(tiny_a)["tiny"] + _rounds(tiny_b)["tiny"]
    tiny = tiny_a.scenarios[0].scenario
    assert len(pool) == 10 and tiny.repeats == 5
    drawn = draw_rounds(pool, tiny, random.Random(1))
    assert sorted({r.repeat for r in drawn}) == [0, 1, 2, 3, 4] and len(drawn) == 15  # 5 rounds of 3 strategies
    loose = tiny.model_copy(update={"repeats": "auto", "precision": 0.5, "min_repeats": 6, "max_repeats": 8})
    assert len({r.repeat for r in draw_rounds(pool, loose, random.Random(1))}) == 6  # precise once 95% is reached
    tight = loose.model_copy(update={"precision": 1e-6})
    assert len({r.repeat for r in draw_rounds(pool, tight, random.Random(1))}) == 8  # never precise: max rounds
    codes, rounds = decisions([tiny_a, tiny_b], [tiny_a, tiny_b], 0.10, trials=4, seed=0, per_draw=1)
    assert codes == {"pass": 4, "fail": 0, "inconclusive": 0} and rounds == [5] * 8  # what judge() says (above)
    codes, _ = decisions([tiny_a, tiny_b], [tiny_a, tiny_b], 0.0, trials=4, seed=0, per_draw=1)
    assert codes == {"pass": 0, "fail": 0, "inconclusive": 4}


def test_notes_name_the_one_file_without_a_hash_or_cpu_model(run_a: ResultsFile, run_b: ResultsFile) -> None:
    hashed = with_environment(with_hashes(expecting(run_a), "a" * 64), cpu_model="AMD EPYC")
    assert judge(hashed, run_b).warnings[:2] == (
        "warning: the baseline records no CPU model, so it was not compared",
        "warning: the baseline records no definition hash for flaky; compared the scenario definitions as stored "
        "instead",
    )
