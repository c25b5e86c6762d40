"""Strategies against the local server: 20 GETs of 10 ms each, and the cost of one zero-delay round trip."""

from __future__ import annotations

from typing import Any

import pytest

from bench.pytest_plugin.plugin import AsyncBenchmark
from bench.pytest_plugin.runs import SpeedupMeter, StrategyFactory

pytestmark = pytest.mark.e2e


@pytest.mark.benchmark(group="http: one GET /delay/0ms, warm connection")
def test_zero_delay_round_trip(async_benchmark: AsyncBenchmark, iobench_strategy: StrategyFactory) -> None:
    async_benchmark(iobench_strategy("sequential", tasks=1, delay_ms=0))


@pytest.mark.benchmark(group="strategies: 20 tasks x 10 ms, paired with sequential")
@pytest.mark.parametrize(
    "strategy",
    ["gather", {"bounded": {"limit": 5}}, {"threads": {"workers": 5}}],
    ids=["gather", "bounded-5", "threads-5"],
)
def test_strategy(iobench_speedup: SpeedupMeter, strategy: str | dict[str, Any]) -> None:
    result = iobench_speedup(strategy, tasks=20, delay_ms=10)  # the terminal summary lists it with its interval
    assert result.speedup > 1  # ideal: 20x for gather, 5x for 5 at a time; generous on a loaded machine
