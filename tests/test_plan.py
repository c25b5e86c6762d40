"""Planning is pure: the same delays for every strategy and repeat, seeded shuffles, prefixes across a sweep."""

from __future__ import annotations

import pytest

from bench.plan import draw_delays, make_plan
from bench.runner import task_urls
from bench.scenario import Exponential, Fixed, LogNormal, Normal, Uniform, parse_scenario

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
