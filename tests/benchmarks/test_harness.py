"""The floor of async_benchmark: an empty coroutine, and the naive per-round ``run_until_complete`` it avoids.

Rounds last at least 0.2 ms (``min_time``): entering the loop between rounds costs 20-80 µs of untimed wall time,
and pytest-benchmark sizes rounds by timed time only.
"""

from __future__ import annotations

import asyncio
from importlib.util import find_spec

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from bench.pytest_plugin.plugin import AsyncBenchmark

NO_UVLOOP = pytest.mark.skipif(find_spec("uvloop") is None, reason="uvloop is not installed (extra: iobench[uvloop])")
LOOPS = [
    pytest.param("asyncio", marks=pytest.mark.iobench_loop("asyncio")),
    pytest.param("uvloop", marks=[pytest.mark.iobench_loop("uvloop"), NO_UVLOOP]),
]
pytestmark = pytest.mark.benchmark(group="harness: one empty coroutine", min_time=0.0002)


async def nothing() -> None:
    """The empty coroutine: what is left is the call, the await and the loop step of the harness."""


@pytest.mark.parametrize("loop", LOOPS)
def test_empty_coroutine(async_benchmark: AsyncBenchmark, loop: str) -> None:
    async_benchmark(nothing)


@pytest.mark.parametrize("loop", LOOPS)
def test_empty_coroutine_run_until_complete_per_call(
    benchmark: BenchmarkFixture, iobench_runner: asyncio.Runner, loop: str
) -> None:
    """What async_benchmark avoids timing: the usual ``benchmark(lambda: loop.run_until_complete(f()))``."""
    run = iobench_runner.get_loop().run_until_complete
    benchmark(lambda: run(nothing()))
