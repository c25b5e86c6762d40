"""Planning is pure: the same delays for every strategy and repeat, exact failing tasks, balanced seeded orders."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.scenario.latency import Exponential, Fixed, LogNormal, Normal, Uniform
from bench.scenario.loader import load_file, parse_scenario
from bench.scenario.plan import (
    draw_delays,
    draw_errors,
    failing_count,
    make_plan,
    plan_round,
    round_order,
    williams_rows,
)
from bench.targets.local import task_urls
from tests.conftest import REPO
from tests.hypotheses import FUZZ_EXAMPLES, error_rates, strategy_labels

SWEEP = """\
name: p
tasks: [3, 10]
target:
  latency: {dist: lognormal, median_ms: 180, sigma: 0.4}
strategies: [sequential, gather]
repeats: 4
warmup: 2
seed: 11
"""


def test_delays_are_a_pure_function_of_distribution_count_and_seed() -> None:
    latency = LogNormal(dist="lognormal", median_ms=180, sigma=0.4)
    assert draw_delays(latency, 10, 1) == draw_delays(latency, 10, 1)
    assert draw_delays(latency, 10, 1) != draw_delays(latency, 10, 2)


def test_fixed_delays_are_exact() -> None:
    assert draw_delays(Fixed(dist="fixed", ms=20), 3, 0) == (20.0, 20.0, 20.0)


@pytest.mark.parametrize(
    "latency",
    [
        Uniform(dist="uniform", low_ms=5, high_ms=10),
        Normal(dist="normal", mean_ms=1, sd_ms=50),
        LogNormal(dist="lognormal", median_ms=100, sigma=3),
        Exponential(dist="exponential", mean_ms=30000),
    ],
)
def test_draws_stay_in_range_and_are_rounded_to_the_microsecond(latency: object) -> None:
    delays = draw_delays(latency, 500, 3)  # type: ignore[arg-type]
    assert all(0.0 <= d <= 60_000.0 for d in delays)
    assert all(round(d, 3) == d for d in delays)


def test_uniform_draws_within_bounds() -> None:
    assert all(5 <= d <= 10 for d in draw_delays(Uniform(dist="uniform", low_ms=5, high_ms=10), 200, 0))


def test_sweep_points_are_prefixes_of_one_draw() -> None:
    plan = make_plan(parse_scenario(SWEEP))
    small, large = plan.points
    assert (small.tasks, large.tasks) == (3, 10)
    assert large.delays_ms[:3] == small.delays_ms


def test_rounds_cover_every_strategy_and_warmups_come_first() -> None:
    plan = make_plan(parse_scenario(SWEEP))
    point = plan.points[0]
    assert [r.repeat for r in point.rounds] == [-2, -1, 0, 1, 2, 3]
    assert [r.warmup for r in point.rounds] == [True, True, False, False, False, False]
    assert all(sorted(r.order) == ["gather", "sequential"] for r in point.rounds)
    assert plan.total_runs == 2 * 6 * 2


def test_round_order_is_seeded_and_shuffled() -> None:
    sc = parse_scenario(SWEEP.replace("repeats: 4", "repeats: 40"))
    orders = [r.order for r in make_plan(sc).points[0].rounds]
    assert orders == [r.order for r in make_plan(sc).points[0].rounds]
    assert len(set(orders)) == 2  # both orders occur over 42 rounds


def test_urls_carry_each_delay_and_the_target_options() -> None:
    sc = parse_scenario(SWEEP.replace("  latency", "  bytes: 512\n  status: 503\n  latency"))
    point = make_plan(sc).points[0]
    urls = task_urls("http://127.0.0.1:1", sc.target, point.delays_ms)
    assert urls == tuple(f"http://127.0.0.1:1/delay/{d:.3f}ms?bytes=512&status=503" for d in point.delays_ms)


# --- failing tasks: exactly round(rate x tasks) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rate", "n", "count"),
    [(0.2, 20, 4), (0.2, 10, 2), (0.35, 10, 4), (0.25, 10, 3), (0.05, 10, 1), (0.04, 10, 0), (1.0, 7, 7), (0.0, 9, 0)],
)
def test_failing_count_rounds_half_up_on_the_rate_as_written(rate: float, n: int, count: int) -> None:
    assert failing_count(rate, n) == count


@settings(max_examples=FUZZ_EXAMPLES * 200 // 300, deadline=None)
@given(error_rates, st.integers(1, 400), st.integers(0, 2**32))
def test_error_rate_fails_exactly_its_share_of_distinct_seeded_tasks(rate: float, n: int, seed: int) -> None:
    failing = draw_errors(rate, n, seed)
    assert len(failing) == len(set(failing)) == failing_count(rate, n)
    assert abs(len(failing) - rate * n) <= 0.5 + 1e-9
    assert all(0 <= i < n for i in failing)
    assert list(failing) == sorted(failing)
    assert draw_errors(rate, n, seed) == failing


def test_different_seeds_fail_different_tasks() -> None:
    assert len({draw_errors(0.2, 20, seed) for seed in range(10)}) > 1


def test_every_task_count_of_a_sweep_fails_exactly_its_share() -> None:
    text = SWEEP.replace("tasks: [3, 10]", "tasks: [5, 10, 20]").replace("  latency", "  error_rate: 0.2\n  latency")
    points = make_plan(parse_scenario(text)).points
    assert [len(p.error_tasks) for p in points] == [1, 2, 4]
    assert [p.error_tasks for p in points] == [draw_errors(0.2, n, 11) for n in (5, 10, 20)]
    assert all(i < p.tasks for p in points for i in p.error_tasks)


# --- balanced order ------------------------------------------------------------------------------------------------


def position_counts(orders: list[tuple[str, ...]]) -> Counter[tuple[str, int]]:
    return Counter((label, position) for order in orders for position, label in enumerate(order))


@pytest.mark.parametrize("n", range(1, 9))
def test_williams_rows_are_latin_squares_with_every_label_following_every_other_equally(n: int) -> None:
    rows = williams_rows(n)
    assert len(rows) == (n if n % 2 == 0 else 2 * n)
    for block in (rows[:n], rows[n:] or rows[:n]):
        assert all(sorted(row) == list(range(n)) for row in block)
        assert all(sorted(row[p] for row in block) == list(range(n)) for p in range(n))
    pairs = Counter((row[i], row[i + 1]) for row in rows for i in range(n - 1))
    assert set(pairs) == {(a, b) for a in range(n) for b in range(n) if a != b}
    assert len(set(pairs.values())) <= 1


@settings(max_examples=150, deadline=None)
@given(strategy_labels, st.integers(1, 6), st.integers(0, 2**32))
def test_every_label_takes_every_position_equally_often_over_whole_blocks(
    labels: tuple[str, ...], blocks: int, seed: int
) -> None:
    orders = [round_order(labels, f"{seed}", k) for k in range(blocks * len(labels))]
    assert all(sorted(order) == sorted(labels) for order in orders)
    assert position_counts(orders) == {(label, p): blocks for label in labels for p in range(len(labels))}


@settings(max_examples=150, deadline=None)
@given(strategy_labels, st.integers(1, 40), st.integers(0, 2**32))
def test_at_any_number_of_rounds_position_counts_differ_by_at_most_one(
    labels: tuple[str, ...], rounds: int, seed: int
) -> None:
    counts = position_counts([round_order(labels, f"{seed}", k) for k in range(rounds)])
    n = len(labels)
    values = [counts[(label, p)] for label in labels for p in range(n)]
    assert min(values) >= rounds // n
    assert max(values) <= -(-rounds // n)


@settings(max_examples=60, deadline=None)
@given(strategy_labels.filter(lambda labels: len(labels) > 1), st.integers(0, 2**32))
def test_over_a_whole_design_every_label_follows_every_other_equally_often(labels: tuple[str, ...], seed: int) -> None:
    period = len(williams_rows(len(labels)))
    orders = [round_order(labels, f"{seed}", k) for k in range(period, 2 * period)]  # the second period
    pairs = Counter((order[i], order[i + 1]) for order in orders for i in range(len(order) - 1))
    assert len(pairs) == len(labels) * (len(labels) - 1)
    assert len(set(pairs.values())) == 1


def test_orders_are_seeded() -> None:
    labels = ("a", "b", "c", "d")
    assert [round_order(labels, "1", k) for k in range(8)] == [round_order(labels, "1", k) for k in range(8)]
    assert len({tuple(round_order(labels, str(seed), k) for k in range(8)) for seed in range(10)}) > 1


THREE = SWEEP.replace("tasks: [3, 10]", "tasks: 4").replace(
    "strategies: [sequential, gather]", "strategies: [sequential, gather, {bounded: {limit: 2}}]"
)


def test_measured_rounds_are_balanced_and_warmups_are_separate() -> None:
    point = make_plan(parse_scenario(THREE.replace("repeats: 4", "repeats: 6"))).points[0]
    warmups = [r for r in point.rounds if r.warmup]
    measured = [r for r in point.rounds if not r.warmup]
    assert [r.repeat for r in warmups] == [-2, -1]
    assert [r.repeat for r in measured] == list(range(6))
    labels = ("sequential", "gather", "bounded(limit=2)")
    assert position_counts([r.order for r in measured]) == {(label, p): 2 for label in labels for p in range(3)}


def test_the_seed_scenario_no_longer_runs_gather_first_in_every_round() -> None:
    sc = load_file(REPO / "scenarios" / "seed.yaml")
    measured = [r.order for r in make_plan(sc).points[0].rounds if not r.warmup]
    firsts = Counter(order[0] for order in measured)
    assert firsts["gather"] == firsts["sequential"] or sc.planned_repeats % 2 == 1
    assert abs(firsts["gather"] - firsts["sequential"]) <= 1


def test_any_round_is_a_pure_function_of_its_index_for_adaptive_repeats() -> None:
    sc = parse_scenario(THREE.replace("repeats: 4", "repeats: auto\nmin_repeats: 3"))
    point = make_plan(sc).points[0]
    assert [r.repeat for r in point.rounds] == [-2, -1, 0, 1, 2]  # warm-ups and min_repeats
    assert point.rounds == tuple(point.round(k) for k in range(-2, 3))
    assert point.round(11) == plan_round(point.labels, 11, 4, 11)
    further = [point.round(k).order for k in range(30)]
    assert position_counts(further) == {(label, p): 10 for label in point.labels for p in range(3)}
