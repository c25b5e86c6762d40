"""Strategies against the local server: 20 GETs of 10 ms each, and the cost of one zero-delay round trip."""

from __future__ import annotations

from typing import Any

import pytest

from bench.pytest_plugin import AsyncBenchmark, SpeedupMeter, StrategyFactory


@pytest.mark.benchmark(group="http: one GET /delay/0ms, warm connection")
def test_zero_delay_round_trip(async_benchmark: AsyncBenchmark, iobench_strategy: StrategyFactory) -> None:
    async_benchmark(iobench_strategy("sequential", tasks=1, delay_ms=0))


@pytest.mark.benchmark(group="strategies: 20 tasks x 10 ms")
@pytest.mark.parametrize(
    "strategy",
    ["sequential", "gather", {"bounded": {"limit": 5}}],
    ids=["sequential", "gather", "bounded-5"],
)
def test_strategy(iobench_speedup: SpeedupMeter, strategy: str | dict[str, Any]) -> None:
    result = iobench_speedup(strategy, tasks=20, delay_ms=10)  # extra_info: sequential_s, speedup_vs_sequential
    if result.strategy != "sequential":
        assert result.speedup > 1  # ideal: 20x for gather, 5x for bounded(limit=5); generous on a loaded machine
