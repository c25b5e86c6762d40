"""The pytest plugin (bench/pytest_plugin.py): async benchmarks under pytest-benchmark, one loop per test.

In-process tests run under this project's ``--benchmark-disable``; the ones that need real rounds, storage or
compare-fail run a small test file in an inline pytester session with ``--benchmark-enable`` and tiny budgets.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tomllib
from collections.abc import Awaitable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench.errors import EnvironmentLimitError, RunError, UsageError
from bench.loops import UVLOOP_MISSING, asyncio_loop, loop_factory
from bench.pytest_plugin import compat
from bench.pytest_plugin.plugin import AsyncBenchmark, loop_name
from bench.pytest_plugin.runs import SpeedupMeter, StrategyFactory
from bench.results.stats import median, paired_ratios, speedup_interval
from bench.run import timed
from tests.conftest import REPO

pytestmark = pytest.mark.e2e


pytest_plugins = ["pytester"]

FAST = ("--benchmark-enable", "--benchmark-max-time=0.05", "--benchmark-min-rounds=3")
"""Real rounds, but few of them. Inner coroutines sleep at least 0.5 ms: pytest-benchmark sizes rounds by timed time,
and a microsecond coroutine would get thousands of rounds, each paying ~20-80 µs to enter the loop (untimed)."""
LEAN = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
"""Plugins inner runs do not need (pytester drops modules imported in a run, so hypothesis would load every time)."""


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the inner test files inline with real (but short) benchmarking and warnings as errors.

    The one warning let through: ``bench`` (home of this plugin) is already imported here, so pytest cannot
    assertion-rewrite it for the inner session.
    """
    return pytester.runpytest("-W", "error", "-W", "ignore::pytest.PytestAssertRewriteWarning", *LEAN, *FAST, *args)


def output(result: pytest.RunResult) -> str:
    """Everything the inner run printed."""
    return result.stdout.str() + "\n" + result.stderr.str()


def saved_benchmarks(root: Path) -> dict[str, dict[str, Any]]:
    """The benchmarks of the one JSON file saved under ``root``, by test name."""
    (path,) = root.glob("*/0001_*.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    return {bench["name"]: bench for bench in data["benchmarks"]}


# --- in-process, benchmarks disabled (this project's default): the coroutine runs once, as a test -------------------


def test_disabled_runs_the_coroutine_once_and_returns_its_result(async_benchmark: AsyncBenchmark) -> None:
    calls: list[int] = []

    async def work(x: int, *, y: int) -> int:
        calls.append(x)
        return x + y

    assert not async_benchmark.enabled
    assert async_benchmark(work, 2, y=3) == 5
    assert calls == [2]


def test_disabled_pedantic_runs_once(async_benchmark: AsyncBenchmark) -> None:
    calls: list[int] = []

    async def work(x: int) -> int:
        calls.append(x)
        return x * 10

    assert async_benchmark.pedantic(work, args=(4,), rounds=5, warmup_rounds=2) == 40
    assert calls == [4]


def test_plain_functions_are_refused_with_a_pointer_to_benchmark(async_benchmark: AsyncBenchmark) -> None:
    with pytest.raises(TypeError, match=r"it returned int, not an awaitable: for a plain function use the benchmark"):
        async_benchmark(lambda: 1)  # type: ignore[arg-type, return-value]  # the mistake under test


def test_a_plain_function_that_returns_a_coroutine_is_awaited(async_benchmark: AsyncBenchmark) -> None:
    class Client:  # redis.asyncio's commands: plain methods that return coroutines
        def get(self, key: str) -> Awaitable[str]:
            return self._get(key)

        async def _get(self, key: str) -> str:
            await asyncio.sleep(0)
            return key.upper()

    assert async_benchmark(Client().get, "k") == "K"


def test_loop_factory_names_the_extra_when_uvloop_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # makes `import uvloop` raise ImportError
    with pytest.raises(EnvironmentLimitError) as caught:
        loop_factory("uvloop")
    assert str(caught.value) == "uvloop is not installed; install it with: pip install 'iobench[uvloop]'"
    assert loop_factory("asyncio") is asyncio_loop
    with pytest.raises(UsageError, match=r"unknown event loop 'trio' \(valid: asyncio, uvloop\)"):
        loop_factory("trio")


def test_the_marker_wins_over_the_option() -> None:
    assert loop_name(None, "uvloop") == "uvloop"
    assert loop_name(pytest.mark.iobench_loop("asyncio").mark, "uvloop") == "asyncio"
    with pytest.raises(UsageError, match=r"iobench_loop takes one loop name"):
        loop_name(pytest.mark.iobench_loop().mark, "asyncio")


def test_strategy_refuses_thread_pools_and_bad_sizes(iobench_strategy: StrategyFactory) -> None:
    with pytest.raises(UsageError, match=r"asyncio strategies only; 'threads' is not one"):
        iobench_strategy({"threads": {"workers": 4}})
    with pytest.raises(UsageError, match=r"unknown strategy 'gahter'; did you mean 'gather'"):
        iobench_strategy("gahter")
    with pytest.raises(UsageError, match=r"tasks must be a whole number of at least 1, got 0"):
        iobench_strategy("gather", tasks=0)
    with pytest.raises(UsageError, match=r"^iobench_strategy: status: must be at most 599 \(got 700\)$"):
        iobench_strategy("gather", status=700)


# --- one run path: the defaults, failure rule and recording of `iobench run` ---------------------------------------


def test_the_pytest_benchmark_hooks_the_plugin_uses_are_there(benchmark: Any) -> None:
    """Fails, naming the hook and the version, when pytest-benchmark changes a private hook the plugin relies on."""
    assert compat.hook_problems(benchmark) == []
    (bound,) = (
        d
        for d in tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
        if d.startswith("pytest-benchmark")
    )
    assert bound == f"pytest-benchmark{compat.SUPPORTED}"
    benchmark(lambda: None)  # a fixture left unused makes pytest-benchmark warn


def test_a_changed_hook_is_named_with_the_version() -> None:
    fixture = SimpleNamespace(_timer=lambda: 0.0, _disable_gc=False)
    assert compat.hook_problems(fixture, installed="6.0.0") == [
        "BenchmarkFixture._make_runner is missing in pytest-benchmark 6.0.0 (iobench supports >=4.0,<6); iobench "
        "needs it: method (function_to_benchmark, args, kwargs) -> runner(loops_range)",
        "pytest-benchmark 6.0.0 (iobench supports >=4.0,<6): its private hooks _make_runner, _timer, _disable_gc "
        "were not checked against this version",
    ]
    fixture.__dict__["_make_runner"] = lambda function, args: None
    assert compat.hook_problems(fixture, installed="5.1.0") == [
        "BenchmarkFixture._make_runner takes (function, args) in pytest-benchmark 5.1.0 (iobench supports "
        ">=4.0,<6); iobench needs: method (function_to_benchmark, args, kwargs) -> runner(loops_range)"
    ]
    with pytest.raises(RuntimeError, match=r"^iobench's pytest plugin cannot run here: BenchmarkFixture._timer is"):
        compat.check_hooks(SimpleNamespace(_make_runner=lambda f, a, k: None, _disable_gc=False))


def test_no_connector_limit_by_default_as_in_scenarios(
    iobench_strategy: StrategyFactory, iobench_runner: asyncio.Runner
) -> None:
    run = iobench_strategy("gather", tasks=120, delay_ms=300)
    assert run.limits["connector_limit"] is None  # the old plugin capped sessions at aiohttp's 100
    iobench_runner.run(run())
    assert run.peak_inflight > 100  # all 120 overlap within their 300 ms; a limit of 100 would cap this at 100


def test_the_failure_rule_is_the_recorders(iobench_strategy: StrategyFactory, iobench_runner: asyncio.Runner) -> None:
    iobench_runner.run(iobench_strategy("gather", tasks=3, delay_ms=1, status=203)())  # below 400: a success
    failing = iobench_strategy("gather", tasks=3, delay_ms=1, status=404)
    with pytest.raises(RunError, match=r"^gather: task \d: HTTP 404$"):
        iobench_runner.run(failing())
    assert failing.recorder.error == ["http_status"] * 3
    iobench_runner.run(iobench_strategy("sequential", tasks=2, delay_ms=1, status=500, fail_on_status=False)())


def test_every_task_is_recorded_as_iobench_run_records_it(
    iobench_strategy: StrategyFactory, iobench_runner: asyncio.Runner
) -> None:
    run = iobench_strategy({"bounded": {"limit": 2}}, tasks=6, delay_ms=5)
    for _ in range(2):  # a second run starts from empty buffers
        iobench_runner.run(run())
        samples = run.recorder.samples()
        assert samples.error == ("",) * 6
        assert samples.status == (200,) * 6
        assert all(
            0 <= c <= s < e for c, s, e in zip(samples.created_ns, samples.start_ns, samples.end_ns, strict=True)
        )
        assert all(timing is not None for timing in run.recorder.timing)  # the server's Server-Timing, kept
    assert run.peak_inflight == 2  # the semaphore, seen in the recorded start/end stamps


def test_speedup_without_rounds_warms_then_pairs_one_round(
    iobench_speedup: SpeedupMeter, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, int]] = []
    real = timed.execute

    async def watched(strategy: Any, label: str, *args: Any, repeat: int, position: int, **kwargs: Any) -> Any:
        calls.append((label, repeat))
        return await real(strategy, label, *args, repeat=repeat, position=position, **kwargs)

    monkeypatch.setattr(timed, "execute", watched)  # observed, not replaced: every run still hits the server
    result = iobench_speedup("gather", tasks=5, delay_ms=20)
    assert sorted(calls) == [("gather", -1), ("gather", 0), ("sequential", -1), ("sequential", 0)]
    extra = iobench_speedup.extra_info
    assert (result.strategy, result.reference) == ("gather", "sequential")
    assert result.speedup > 1.5  # 5 overlapping 20 ms waits against 5 in a row: ideal 5x
    assert result.interval.level == 0.0  # one pair gives a figure, not an interval
    assert extra["speedup_vs_sequential"] == result.speedup == result.reference_s / result.strategy_s
    assert extra["sequential_s"] == result.reference_s
    assert (extra["strategy"], extra["tasks"], extra["delay_ms"], extra["rounds"]) == ("gather", 5, 20, 1)


# --- inner pytest runs with real rounds ----------------------------------------------------------------------------


def test_autosave_stores_the_async_benchmark_with_its_stats(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_sleepy="""
        import asyncio

        async def nap(seconds):
            await asyncio.sleep(seconds)
            return "rested"

        def test_nap(async_benchmark):
            assert async_benchmark(nap, 0.002) == "rested"
            async_benchmark.extra_info["note"] = "kept"
        """
    )
    result = run(pytester, "--benchmark-autosave")
    assert result.ret == 0, output(result)
    bench = saved_benchmarks(pytester.path / ".benchmarks")["test_nap"]
    assert bench["extra_info"] == {"note": "kept"}
    stats = bench["stats"]
    assert stats["rounds"] >= 3
    assert stats["iterations"] == 1
    assert stats["min"] > 0.001  # the sleep itself is inside the timed region


def test_compare_fail_trips_on_a_slowed_down_coroutine(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(
        test_work="""
        import asyncio, os

        async def work():
            await asyncio.sleep(float(os.environ["IOBENCH_TEST_SLEEP_S"]))

        def test_work(async_benchmark):
            async_benchmark(work)
        """
    )
    storage = f"--benchmark-storage=file://{pytester.path / 'store'}"
    monkeypatch.setenv("IOBENCH_TEST_SLEEP_S", "0.005")
    first = run(pytester, storage, "--benchmark-save=base")
    assert first.ret == 0, output(first)
    assert saved_benchmarks(pytester.path / "store")["test_work"]["stats"]["rounds"] >= 3

    monkeypatch.setenv("IOBENCH_TEST_SLEEP_S", "0.02")
    second = run(pytester, storage, "--benchmark-compare=0001", "--benchmark-compare-fail=mean:50%")
    assert second.ret != 0
    assert "Performance has regressed" in output(second)


def test_every_round_and_every_timer_read_is_on_the_one_loop(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_loop="""
        import asyncio, itertools, time
        import pytest

        TIMER_READS = []   # id of the running loop at each timer read, None outside any loop
        ROUND_LOOPS = []

        def recording_timer():
            try:
                TIMER_READS.append(id(asyncio.get_running_loop()))
            except RuntimeError:
                TIMER_READS.append(None)
            return time.perf_counter()

        async def record():
            ROUND_LOOPS.append(id(asyncio.get_running_loop()))
            await asyncio.sleep(0.0005)

        @pytest.mark.benchmark(timer=recording_timer)
        def test_one_loop(async_benchmark, iobench_runner):
            async_benchmark(record)
            loop_id = id(iobench_runner.get_loop())  # created at fixture set-up, before any timing
            stats = async_benchmark.stats.stats
            assert set(ROUND_LOOPS) == {loop_id}
            assert len(ROUND_LOOPS) >= stats.rounds
            # pytest-benchmark measures the timer's precision first, outside any loop; every read after that
            # (calibration, rounds) happens inside the running coroutine, so loop start-up is never timed
            inside = list(itertools.dropwhile(lambda read: read is None, TIMER_READS))
            assert set(inside) == {loop_id}
            assert len(inside) >= 2 * stats.rounds

        def test_pedantic(async_benchmark):
            calls = []

            async def work(x):
                calls.append(x)
                await asyncio.sleep(0)
                return x

            assert async_benchmark.pedantic(work, args=(7,), rounds=4, warmup_rounds=2, iterations=3) == 7
            assert len(calls) == (2 + 4) * 3 + 1   # warm-up, timed rounds, then one call for the result
            assert (async_benchmark.stats.stats.rounds, async_benchmark.stats.iterations) == (4, 3)

        def test_pedantic_async_setup(async_benchmark):
            seen = []

            async def setup():
                await asyncio.sleep(0)
                return (len(seen),), {}

            async def work(x):
                seen.append(x)

            async_benchmark.pedantic(work, setup=setup, rounds=3)
            assert seen == [0, 1, 2]
        """
    )
    result = run(pytester)
    assert result.ret == 0, output(result)
    result.assert_outcomes(passed=3)


def test_uvloop_by_marker_or_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_uv="""
        import asyncio
        import pytest
        import uvloop

        async def loop_type():
            await asyncio.sleep(0.0005)
            return type(asyncio.get_running_loop())

        @pytest.mark.iobench_loop("uvloop")
        def test_marker(async_benchmark):
            assert async_benchmark(loop_type) is uvloop.Loop

        def test_option(async_benchmark, request):
            expected = uvloop.Loop if request.config.getoption("iobench_loop") == "uvloop" else asyncio.BaseEventLoop
            assert issubclass(async_benchmark(loop_type), expected)

        @pytest.mark.iobench_loop("asyncio")
        def test_marker_beats_option(async_benchmark):
            assert not issubclass(async_benchmark(loop_type), uvloop.Loop)
        """
    )
    for args in ((), ("--iobench-loop=uvloop",)):
        result = run(pytester, *args)
        assert result.ret == 0, output(result)
        result.assert_outcomes(passed=3)


def test_missing_uvloop_gives_the_exact_message(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    pytester.makepyfile(
        test_uv="""
        import pytest

        async def nothing():
            pass

        @pytest.mark.iobench_loop("uvloop")
        def test_marker(async_benchmark):
            async_benchmark(nothing)
        """
    )
    monkeypatch.setitem(sys.modules, "uvloop", None)
    by_marker = run(pytester)
    by_marker.assert_outcomes(errors=1)
    assert UVLOOP_MISSING in by_marker.stdout.lines  # the whole report of the error: the message, no traceback
    assert "Traceback" not in output(by_marker)

    by_option = run(pytester, "--iobench-loop=uvloop", "-k", "not test_marker")
    assert by_option.ret == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: {UVLOOP_MISSING}" in output(by_option)


def test_speedup_rounds_are_paired_balanced_and_shown_in_the_terminal(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_strategy="""
        from bench.run import timed

        def test_gather(iobench_speedup, monkeypatch):
            orders = {}
            real = timed.execute

            async def watched(strategy, label, *args, repeat, position, **kwargs):
                orders.setdefault(repeat, []).append(label)
                return await real(strategy, label, *args, repeat=repeat, position=position, **kwargs)

            monkeypatch.setattr(timed, "execute", watched)
            assert iobench_speedup("gather", tasks=10, delay_ms=20, rounds=4, warmup=1).speedup > 2
            assert sorted(orders) == [-1, 0, 1, 2, 3]   # the warm-up round runs the reference too
            assert all(sorted(o) == ["gather", "sequential"] for o in orders.values())
            assert sorted(orders[r][0] for r in range(4)) == ["gather", "gather", "sequential", "sequential"]
        """
    )
    result = run(pytester, "--benchmark-json=out.json")
    assert result.ret == 0, output(result)
    (bench,) = json.loads((pytester.path / "out.json").read_text(encoding="utf-8"))["benchmarks"]
    extra = bench["extra_info"]
    assert bench["stats"]["rounds"] == extra["rounds"] == 4  # pytest-benchmark's stats are the strategy's walls
    assert extra["strategy"] == "gather"
    assert extra["speedup_vs_sequential"] > 2  # ideal 10x; generous for a loaded CI machine
    assert extra["sequential_s"] > bench["stats"]["median"]
    assert extra["speedup_level"] == 0.875  # [min, max] of 4 paired ratios
    low, high = extra["speedup_interval"]
    assert low <= extra["speedup_vs_sequential"] <= high
    lines = result.stdout.lines
    header = next(i for i, line in enumerate(lines) if "iobench speedups (median of paired per-round ratios)" in line)
    speedup = extra["speedup_vs_sequential"]
    assert lines[header + 1].startswith(
        f"test_strategy.py::test_gather: gather {speedup:#.3g}x vs sequential, CI 87%: "
    )
    assert lines[header + 1].endswith(", 4 paired rounds, 10 tasks x 20 ms")


def test_speedup_record_is_the_median_of_paired_ratios() -> None:
    from bench.pytest_plugin.runs import Speedup

    result = Speedup("gather", "sequential", 10, 20.0, (0.05, 0.04, 0.10), (0.2, 0.2, 0.2))
    assert result.ratios == paired_ratios((0.2, 0.2, 0.2), (0.05, 0.04, 0.10)) == (4.0, 5.0, 2.0)
    assert result.speedup == median(result.ratios) == 4.0  # not 0.2 / median(0.05, 0.04, 0.10) = 4.0 by chance
    assert result.interval == speedup_interval((4.0, 5.0, 2.0))
    assert result.describe() == "gather 4.00x vs sequential, CI 75%: 2.00x-5.00x, 3 paired rounds, 10 tasks x 20 ms"


def test_asyncio_means_asyncio_even_under_uvloops_policy() -> None:
    """Ray's workers install uvloop's event loop policy: a scenario on asyncio must still run on asyncio."""
    uvloop = pytest.importorskip("uvloop")
    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    try:
        with asyncio.Runner(loop_factory=loop_factory("asyncio")) as runner:
            kind = runner.run(_running_loop_module())
    finally:
        asyncio.set_event_loop_policy(previous)
    assert kind == "asyncio.unix_events"


async def _running_loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__
