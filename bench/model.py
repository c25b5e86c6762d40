"""The ideal time of each strategy from the exact per-task delays: what the run would take with zero overhead.

    >>> ideal_ms("sequential", None, [100, 200, 50])
    350.0
    >>> makespan_ms([5, 1, 1, 1, 4], workers=3)      # list scheduling, tasks taken in index order
    5.0

Model: tasks cost exactly their server delay and nothing else. ``sequential`` runs them end to end (the sum);
``gather``-like strategies run all at once (the largest); a strategy limited to k at a time (a semaphore, a pool of
k threads) is k identical workers each taking the next task in index order when it frees up, i.e. Graham's list
scheduling (R. L. Graham, "Bounds on multiprocessing timing anomalies", SIAM J. Appl. Math. 17(2), 1969); its
makespan is the ideal time. Efficiency = ideal / measured.

Where the rest went: ``overhead`` is the zero-delay round trip (measured once per scenario) times the number of
requests made one after another on the critical path (n, ceil(n/k) or 1); whatever remains of
measured - ideal - overhead is queueing and contention (a connector limit, one CPU serving n sockets, the GIL).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from types import MappingProxyType

CONCURRENT = frozenset({"gather", "taskgroup", "as_completed"})
"""Strategies that start every task at once."""
LIMITED: Mapping[str, str] = MappingProxyType({"bounded": "limit", "threads": "workers"})
"""Strategies that run at most k tasks at once, and the parameter that holds k."""


def makespan_ms(delays_ms: Sequence[float], workers: int) -> float:
    """Finish time of ``workers`` identical workers taking tasks in index order (list scheduling)."""
    if workers < 1:
        raise ValueError(f"need at least 1 worker, got {workers}")
    _check_delays(delays_ms)
    if not delays_ms:
        return 0.0
    if workers >= len(delays_ms):
        return float(max(delays_ms))
    if workers == 1:
        return math.fsum(delays_ms)
    free_at = [0.0] * workers
    for delay in delays_ms:
        start = heapq.heappop(free_at)
        heapq.heappush(free_at, start + delay)
    return max(free_at)


def _check_delays(delays_ms: Sequence[float]) -> None:
    if any(not d >= 0 for d in delays_ms):  # also rejects NaN
        raise ValueError("delays must be non-negative numbers")


def ideal_ms(strategy: str, limit: int | None, delays_ms: Sequence[float]) -> float:
    """Ideal wall time of ``strategy`` over ``delays_ms``; ``limit`` is k for the strategies in LIMITED."""
    _check_delays(delays_ms)
    if strategy == "sequential":
        return math.fsum(delays_ms)
    if strategy in CONCURRENT:
        return float(max(delays_ms, default=0.0))
    if strategy in LIMITED:
        if limit is None:
            raise ValueError(f"{strategy} needs its {LIMITED[strategy]} to compute an ideal time")
        return makespan_ms(delays_ms, limit)
    raise ValueError(f"no ideal-time model for strategy {strategy!r}")


def critical_path_requests(strategy: str, limit: int | None, tasks: int) -> int:
    """Requests one after another on the longest path: n for sequential, ceil(n/k) with k at once, 1 for all."""
    if tasks <= 0:
        return 0
    if strategy == "sequential":
        return tasks
    if strategy in LIMITED and limit:
        return math.ceil(tasks / limit)
    return 1


def overhead_ms(strategy: str, limit: int | None, tasks: int, rtt_ms: float) -> float:
    """Per-request overhead on the critical path: round trips in a row x one zero-delay round trip."""
    return critical_path_requests(strategy, limit, tasks) * rtt_ms


def efficiency(ideal: float, measured: float) -> float:
    """Ideal over measured time: 1.0 is perfect, 0.5 means half the time went to overhead and queueing."""
    if measured <= 0:
        raise ValueError("measured time must be positive")
    return ideal / measured
