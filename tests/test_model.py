"""Exact tests of bench.model (the ideal time of each strategy), and Hypothesis invariants of list scheduling."""

from __future__ import annotations

import pytest
from hypothesis import given

from bench.model import CONCURRENT, LIMITED, efficiency, ideal_ms, makespan_ms
from tests.strategies import delays_ms, worker_counts

DELAYS = [5, 1, 1, 1, 4]

# --- makespan ------------------------------------------------------------------------------------------------


def test_makespan_is_list_scheduling_in_index_order():
    # 3 workers: 5 | 1, 1 then 4 (ends at 5) | 1 -> every worker done by 5
    assert makespan_ms(DELAYS, 3) == 5.0
    # 2 workers: 5 | 1, 1, 1 then 4 (starts at 3) -> 7
    assert makespan_ms(DELAYS, 2) == 7.0
    # index order, not longest first: 1, 1 go first, so the 5 starts at 1
    assert makespan_ms([1, 1, 5, 4], 2) == 6.0


def test_makespan_with_one_worker_is_the_sum():
    assert makespan_ms(DELAYS, 1) == 12.0


@pytest.mark.parametrize("workers", [5, 6, 100])
def test_makespan_with_a_worker_per_task_is_the_largest(workers):
    assert makespan_ms(DELAYS, workers) == 5.0


def test_makespan_of_no_tasks_is_zero():
    assert makespan_ms([], 3) == 0.0


@pytest.mark.parametrize("workers", [0, -1])
def test_makespan_needs_a_worker(workers):
    with pytest.raises(ValueError, match=r"^need at least 1 worker, got -?[0-9]+$"):
        makespan_ms(DELAYS, workers)


# --- ideal time per strategy ---------------------------------------------------------------------------------


def test_sequential_is_the_sum():
    assert ideal_ms("sequential", None, DELAYS) == 12.0
    assert ideal_ms("sequential", None, [100, 200, 50]) == 350.0


@pytest.mark.parametrize("strategy", ["gather", "taskgroup", "as_completed"])
def test_concurrent_strategies_take_the_largest(strategy):
    assert strategy in CONCURRENT
    assert ideal_ms(strategy, None, DELAYS) == 5.0
    assert ideal_ms(strategy, None, []) == 0.0


@pytest.mark.parametrize("strategy", ["bounded", "threads"])
@pytest.mark.parametrize(("k", "expected"), [(1, 12.0), (2, 7.0), (3, 5.0), (5, 5.0), (50, 5.0)])
def test_limited_strategies_take_the_makespan(strategy, k, expected):
    assert ideal_ms(strategy, k, DELAYS) == expected == makespan_ms(DELAYS, k)


def test_limited_strategies_name_their_parameter():
    assert LIMITED == {"bounded": "limit", "threads": "workers"}


@pytest.mark.parametrize(("strategy", "parameter"), [("bounded", "limit"), ("threads", "workers")])
def test_limited_strategy_without_its_limit_is_an_error(strategy, parameter):
    with pytest.raises(ValueError, match=rf"^{strategy} needs its {parameter} to compute an ideal time$"):
        ideal_ms(strategy, None, DELAYS)


def test_limited_strategy_with_no_worker_is_an_error():
    with pytest.raises(ValueError, match=r"^need at least 1 worker, got -?[0-9]+$"):
        ideal_ms("bounded", 0, DELAYS)


def test_unknown_strategy_is_an_error():
    with pytest.raises(ValueError, match=r"^no ideal-time model for strategy 'warp'$"):
        ideal_ms("warp", None, DELAYS)


# --- efficiency ----------------------------------------------------------------------------------------------


def test_efficiency_is_ideal_over_measured():
    assert efficiency(50.0, 100.0) == 0.5
    assert efficiency(100.0, 100.0) == 1.0


@pytest.mark.parametrize("measured", [0.0, -1.0])
def test_efficiency_needs_a_positive_measured_time(measured):
    with pytest.raises(ValueError, match=r"^measured time must be positive$"):
        efficiency(1.0, measured)


# --- properties ----------------------------------------------------------------------------------------------
# ideal_ms("sequential") uses sum(), which on Python 3.12+ is compensated, while makespan_ms adds delays one by
# one: the two may differ in the last bit, so comparisons across them allow for rounding (see at_most).


def at_most(a: float, b: float) -> bool:
    """a <= b, allowing a to exceed b by rounding only."""
    return a <= b or a == pytest.approx(b, rel=1e-12)


@given(delays_ms, worker_counts)
def test_sequential_then_bounded_then_gather(delays, k):
    sequential = ideal_ms("sequential", None, delays)
    bounded = ideal_ms("bounded", k, delays)
    gather = ideal_ms("gather", None, delays)
    assert at_most(bounded, sequential)
    assert bounded >= gather


@given(delays_ms, worker_counts)
def test_makespan_does_not_grow_with_more_workers(delays, k):
    assert makespan_ms(delays, k + 1) <= makespan_ms(delays, k)


@given(delays_ms, worker_counts)
def test_makespan_is_at_least_the_average_load_and_the_largest_task(delays, k):
    span = makespan_ms(delays, k)
    assert span >= max(delays, default=0.0)
    assert at_most(sum(delays) / k, span)


@given(delays_ms)
def test_one_worker_is_sequential_and_enough_workers_is_gather(delays):
    assert makespan_ms(delays, 1) == pytest.approx(ideal_ms("sequential", None, delays), rel=1e-12)
    assert makespan_ms(delays, max(len(delays), 1)) == ideal_ms("gather", None, delays)


@pytest.mark.parametrize("delays", [[1.0, -5.0, 3.0], [float("nan")]])
def test_negative_or_nan_delays_are_refused(delays: list[float]) -> None:
    with pytest.raises(ValueError, match=r"^delays must be non-negative numbers$"):
        makespan_ms(delays, 2)
    with pytest.raises(ValueError, match=r"^delays must be non-negative numbers$"):
        ideal_ms("sequential", None, delays)
