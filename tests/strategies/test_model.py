"""Exact tests of bench.strategies.model (the mathematics of the ideal time) and of each strategy's own model, and
Hypothesis
invariants of list scheduling."""

from __future__ import annotations

import math

import pytest
from hypothesis import given

from bench.strategies import Strategy, StrategySpec
from bench.strategies.model import critical_path_requests, efficiency, makespan_ms
from tests.hypotheses import delays_ms, worker_counts

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


# --- critical path -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tasks", "workers", "expected"), [(10, 1, 10), (10, 3, 4), (10, 10, 1), (10, 50, 1), (0, 3, 0)]
)
def test_critical_path_is_ceil_of_tasks_over_workers(tasks, workers, expected):
    assert critical_path_requests(tasks, workers) == expected


def test_critical_path_needs_a_worker():
    with pytest.raises(ValueError, match=r"^need at least 1 worker, got 0$"):
        critical_path_requests(10, 0)


# --- each strategy's own model (bench.strategies) -----------------------------------------------------------


def _strategy(spec: object) -> Strategy:
    return StrategySpec.model_validate(spec).build()


def test_sequential_is_the_sum():
    assert _strategy("sequential").ideal_ms(DELAYS) == 12.0
    assert _strategy("sequential").ideal_ms([100, 200, 50]) == 350.0


@pytest.mark.parametrize("name", ["gather", "taskgroup", "as_completed"])
def test_concurrent_strategies_take_the_largest(name):
    assert _strategy(name).ideal_ms(DELAYS) == 5.0
    assert _strategy(name).ideal_ms([]) == 0.0


@pytest.mark.parametrize("name", ["bounded", "threads"])
@pytest.mark.parametrize(("k", "expected"), [(1, 12.0), (2, 7.0), (3, 5.0), (5, 5.0), (50, 5.0)])
def test_limited_strategies_take_the_makespan(name, k, expected):
    key = "limit" if name == "bounded" else "workers"
    assert _strategy({name: {key: k}}).ideal_ms(DELAYS) == expected == makespan_ms(DELAYS, k)


@pytest.mark.parametrize(("limit", "expected"), [(None, 5.0), (2, 7.0), (1, 12.0)])
def test_the_connector_limit_caps_a_gather(limit, expected):
    # 1,000 tasks under a connector limit of 100 run in waves: the ideal is the makespan of 100, not the largest
    assert _strategy("gather").ideal_ms(DELAYS, (limit,)) == expected
    assert _strategy("gather").effective_concurrency(5, (limit,)) == (limit or 5)


def test_the_smaller_of_semaphore_and_connector_limit_binds():
    bounded = _strategy({"bounded": {"limit": 3}})
    assert bounded.effective_concurrency(5, (None,)) == 3
    assert bounded.effective_concurrency(5, (2,)) == 2
    assert bounded.ideal_ms(DELAYS, (2,)) == 7.0


@pytest.mark.parametrize(
    ("spec", "tasks", "limit", "expected"),
    [
        ("sequential", 10, None, 10),
        ("gather", 10, None, 1),
        ("gather", 1000, 100, 10),
        ({"bounded": {"limit": 3}}, 10, None, 4),
    ],
)
def test_critical_path_of_each_strategy(spec, tasks, limit, expected):
    assert _strategy(spec).critical_path(tasks, (limit,)) == expected


def test_one_request_in_flight_has_no_queueing_only_model_error():
    assert _strategy("sequential").remainder_label(10) == "unexplained"
    assert _strategy({"bounded": {"limit": 1}}).remainder_label(10) == "unexplained"
    assert _strategy("gather").remainder_label(10, (1,)) == "unexplained"
    assert _strategy("gather").remainder_label(10) == "queueing"


# --- efficiency ----------------------------------------------------------------------------------------------


def test_efficiency_is_ideal_over_measured():
    assert efficiency(50.0, 100.0) == 0.5
    assert efficiency(100.0, 100.0) == 1.0


@pytest.mark.parametrize("measured", [0.0, -1.0])
def test_efficiency_needs_a_positive_measured_time(measured):
    with pytest.raises(ValueError, match=r"^measured time must be positive$"):
        efficiency(1.0, measured)


# --- properties ----------------------------------------------------------------------------------------------
# makespan_ms(delays, 1) uses fsum, which is exact, while larger k add delays one by one: the two may differ in the
# last bit, so comparisons across them allow for rounding (see at_most).


def at_most(a: float, b: float) -> bool:
    """a <= b, allowing a to exceed b by rounding only."""
    return a <= b or a == pytest.approx(b, rel=1e-12)


@given(delays_ms, worker_counts)
def test_sequential_then_bounded_then_gather(delays, k):
    sequential = _strategy("sequential").ideal_ms(delays)
    bounded = _strategy({"bounded": {"limit": k}}).ideal_ms(delays)
    gather = _strategy("gather").ideal_ms(delays)
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
    assert makespan_ms(delays, 1) == pytest.approx(math.fsum(delays), rel=1e-12)
    assert makespan_ms(delays, max(len(delays), 1)) == max(delays, default=0.0)


@pytest.mark.parametrize("delays", [[1.0, -5.0, 3.0], [float("nan")]])
def test_negative_or_nan_delays_are_refused(delays: list[float]) -> None:
    with pytest.raises(ValueError, match=r"^delays must be non-negative numbers$"):
        makespan_ms(delays, 2)
    with pytest.raises(ValueError, match=r"^delays must be non-negative numbers$"):
        _strategy("sequential").ideal_ms(delays)


def test_client_processes_each_run_their_share():
    # task i runs in process i mod k: shares [5, 1, 4] and [1, 1]
    assert _strategy("sequential").ideal_ms(DELAYS, processes=2) == 10.0  # the slower process's sum
    assert _strategy("gather").ideal_ms(DELAYS, processes=2) == 5.0
    assert _strategy({"bounded": {"limit": 1}}).ideal_ms(DELAYS, processes=2) == 10.0  # a semaphore per process
    assert _strategy("sequential").critical_path(5, processes=2) == 3
    assert _strategy("sequential").remainder_label(10, processes=2) == "queueing"  # two requests in flight
