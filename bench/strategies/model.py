"""The mathematics of the ideal time: what a run would take if every task cost exactly its service time.

    >>> makespan_ms([100, 200, 50], workers=1)          # one at a time: the sum
    350.0
    >>> makespan_ms([5, 1, 1, 1, 4], workers=3)         # list scheduling, tasks taken in index order
    5.0
    >>> critical_path_requests(tasks=10, workers=3)     # requests one after another on the longest path
    4

Only numbers live here; which concurrency a strategy reaches (its semaphore, its pool, the connector limit) is the
strategy's own knowledge (``Strategy.effective_concurrency`` in bench.strategies), and the strategies call these
functions with it.

Model: k identical workers (k = the effective concurrency) each take the next task in index order when they free
up: Graham's list scheduling (R. L. Graham, "Bounds on multiprocessing timing anomalies", SIAM J. Appl. Math.
17(2), 1969). With k = 1 that is the sum of the service times, with k >= n the largest; in between, the
makespan. Efficiency = ideal / measured.

Where the rest went: ``overhead`` is the per-request cost of the client stack (calibrated per stack) times the
requests made one after another on the critical path (ceil(n/k)); whatever remains of measured - ideal - overhead
is queueing and contention (a connector limit, one CPU serving n sockets, the GIL) when k > 1, and plain model
error when k = 1 (nothing queues with one request in flight).
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence


def _check_delays(delays_ms: Sequence[float]) -> None:
    if any(not d >= 0 for d in delays_ms):  # also rejects NaN
        raise ValueError("delays must be non-negative numbers")


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


def critical_path_requests(tasks: int, workers: int) -> int:
    """Requests one after another on the longest path: ceil(n / k) (n for k = 1, 1 for k >= n)."""
    if workers < 1:
        raise ValueError(f"need at least 1 worker, got {workers}")
    return math.ceil(tasks / workers) if tasks > 0 else 0


def efficiency(ideal: float, measured: float) -> float:
    """Ideal over measured time: 1.0 is perfect, 0.5 means half the time went to overhead and queueing."""
    if measured <= 0:
        raise ValueError("measured time must be positive")
    return ideal / measured
