"""pytest plugin: async benchmarks under pytest-benchmark, and strategies run exactly as ``iobench run`` runs them.

    def test_fetch(async_benchmark):
        assert async_benchmark(fetch, session, url) == 200   # rounds, stats, --benchmark-save, compare
    def test_gather(iobench_speedup):
        assert iobench_speedup("gather", tasks=20, delay_ms=10).speedup > 1  # paired rounds; terminal summary

Fixtures
    async_benchmark    ``async_benchmark(coro_fn, *args, **kwargs)`` and ``async_benchmark.pedantic(...)``: the
                       ``benchmark`` fixture for ``async def`` functions; returns the coroutine's result
    iobench_runner     this test's ``asyncio.Runner``: one event loop, started before any timing, closed at teardown
    iobench_server     (session) base URL of the local test server (``bench.server.LocalServer``)
    iobench_strategy   ``iobench_strategy("gather", tasks=20, delay_ms=10)``: an async callable that runs that
                       strategy once over GETs of ``{server}/delay/{delay}ms`` on its own warmed session
    iobench_speedup    a strategy and its reference (sequential) in warmed, interleaved, paired rounds: the median
                       per-round speedup and its interval, in extra_info and in the terminal summary
Marker and option
    @pytest.mark.iobench_loop("uvloop") / --iobench-loop=uvloop   the event loop (default: asyncio)

One run path: ``iobench_strategy`` and ``iobench_speedup`` (bench/pytest_runs.py) build the Scenario ``iobench run``
would load and run it through the same target driver, Recorder and ``bench.run.timed.execute``.

How async_benchmark times: pytest-benchmark calibrates, warms up and repeats a *round runner*. For the duration of
one ``async_benchmark`` call this plugin swaps in a runner (bench.pytest_plugin.compat: the private hooks and
the versions they were checked with) that hands each round to the test's one loop (``loop.run_until_complete``)
and reads the timer *inside* the running coroutine, around ``for _ in range(iterations): await coro_fn(...)``.
Loop start-up, task creation and entering the loop stay outside the timed region; inside remain the call, the
``await`` and the for-loop step: an empty coroutine measures 0.17-0.30 us per iteration against 0.08 us for an
empty lambda under ``benchmark`` (a per-round ``run_until_complete`` would add 20-25 us on asyncio, 60-85 us on
uvloop; tests/benchmarks/test_harness.py). Everything else (rounds, warm-up, min_rounds, max_time, timer,
disable_gc, --benchmark-disable, storage, compare-fail) is pytest-benchmark's own. One caveat: it sizes rounds by
*timed* time, so a coroutine of a few us gets thousands of rounds that each pay that untimed loop entry; give such
benchmarks ``@pytest.mark.benchmark(min_time=0.0002)``. ``iobench_speedup``'s rounds are the plan's: its stats are
the strategy's wall times as ``iobench run`` records them (``wall_ns``), not pytest-benchmark's timer.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any, ParamSpec, TypeVar, cast

import pytest

from bench.errors import IobenchError, UsageError
from bench.loops import LOOPS, loop_factory
from bench.pytest_plugin import compat
from bench.pytest_plugin.runs import SPEEDUPS, Speedup, SpeedupMeter, StrategyFactory, StrategyRun

__all__ = ["AsyncBenchmark", "Speedup", "SpeedupMeter", "StrategyFactory", "StrategyRun"]

P = ParamSpec("P")
T = TypeVar("T")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add ``--iobench-loop``."""
    group = parser.getgroup("iobench", "iobench async benchmarks")
    group.addoption(
        "--iobench-loop",
        dest="iobench_loop",
        choices=LOOPS,
        default="asyncio",
        help="event loop of async_benchmark: asyncio (default) or uvloop; the iobench_loop marker overrides it",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``iobench_loop`` marker; refuse ``--iobench-loop=uvloop`` at once when uvloop is missing."""
    config.addinivalue_line(
        "markers", "iobench_loop(name): event loop of this test's async benchmark, 'asyncio' or 'uvloop'"
    )
    try:
        loop_factory(str(config.getoption("iobench_loop")))
    except IobenchError as exc:
        raise pytest.UsageError(str(exc)) from None


def loop_name(marker: pytest.Mark | None, option: str) -> str:
    """The loop a test asked for: its ``iobench_loop`` marker if any, else the ``--iobench-loop`` option."""
    if marker is None:
        return option
    if len(marker.args) != 1 or marker.kwargs or not isinstance(marker.args[0], str):
        raise UsageError("iobench_loop takes one loop name, e.g. @pytest.mark.iobench_loop('uvloop')")
    return marker.args[0]


def _is_async_callable(function: object) -> bool:
    """True for an ``async def`` function (or partial of one) and for an object whose ``__call__`` is one."""
    if inspect.iscoroutinefunction(function):
        return True
    return callable(function) and inspect.iscoroutinefunction(type(function).__call__)


def _awaiting(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """``function`` as an ``async def``: a plain function that returns a coroutine (redis.asyncio's commands,
    ``functools.partial`` of one, a method made by a decorator) is awaited like one; one that returns something
    else is refused at its first call, with what it returned."""
    if _is_async_callable(function):
        return function

    async def call(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if not inspect.isawaitable(result):
            raise TypeError(
                f"async_benchmark awaits what {function!r} returns, and it returned {type(result).__name__}, not an "
                "awaitable: for a plain function use the benchmark fixture"
            )
        return await result

    return call


async def _await(awaitable: Awaitable[T]) -> T:
    return await awaitable


async def _timed_round(
    coro_fn: Callable[..., Awaitable[Any]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    loops_range: range | None,
    timer: Callable[[], float],
    disable_gc: bool,
) -> float | tuple[float, Any]:
    """One round as pytest-benchmark's runner times it, but awaited inside the running loop."""
    gc_enabled = gc.isenabled()
    if disable_gc:
        gc.disable()
    try:
        if loops_range:
            start = timer()
            for _ in loops_range:
                await coro_fn(*args, **kwargs)
            end = timer()
            return end - start
        start = timer()
        result = await coro_fn(*args, **kwargs)
        end = timer()
        return end - start, result
    finally:
        if gc_enabled:
            gc.enable()


class _RunOnce:
    """What pytest-benchmark sees as the benchmarked function: runs the coroutine once (untimed) on the loop."""

    def __init__(self, coro_fn: Callable[..., Awaitable[Any]], runner: asyncio.Runner) -> None:
        self.coro_fn = coro_fn
        self.runner = runner

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.runner.run(_await(self.coro_fn(*args, **kwargs)))


class AsyncBenchmark:
    """``async_benchmark(coro_fn, *args, **kwargs)``: pytest-benchmark's ``benchmark`` for ``async def`` functions."""

    def __init__(self, benchmark: Any, runner: asyncio.Runner) -> None:
        compat.check_hooks(benchmark)
        self.benchmark: Any = benchmark
        """pytest-benchmark's ``BenchmarkFixture`` for this test (rounds, stats, options)."""
        self.runner = runner
        """The test's ``asyncio.Runner``: every round runs on its one loop."""

    @property
    def enabled(self) -> bool:
        """False under ``--benchmark-disable``: the coroutine then runs once, as a plain test."""
        return bool(self.benchmark.enabled)

    @property
    def extra_info(self) -> dict[str, Any]:
        """Free-form data saved with the benchmark (``--benchmark-save``, ``--benchmark-json``)."""
        return cast(dict[str, Any], self.benchmark.extra_info)

    @property
    def stats(self) -> Any:
        """pytest-benchmark's statistics after the run (``stats.stats.median`` in seconds); None when disabled."""
        return self.benchmark.stats

    @property
    def timer(self) -> Callable[[], float]:
        """The timer pytest-benchmark was told to use (``--benchmark-timer``, default ``time.perf_counter``)."""
        return compat.timer(self.benchmark)

    def __call__(self, coro_fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Benchmark ``await coro_fn(*args, **kwargs)`` with pytest-benchmark's calibration and return its result."""
        coro_fn = _awaiting(coro_fn)
        with self._async_rounds(coro_fn):
            return cast(T, self.benchmark(_RunOnce(coro_fn, self.runner), *args, **kwargs))

    def pedantic(
        self,
        coro_fn: Callable[..., Awaitable[T]],
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
        setup: Callable[[], Any] | None = None,
        teardown: Callable[..., Any] | None = None,
        rounds: int = 1,
        warmup_rounds: int = 0,
        iterations: int = 1,
    ) -> T:
        """``benchmark.pedantic`` for async functions; ``setup``/``teardown`` may be plain or ``async def``."""
        coro_fn = _awaiting(coro_fn)
        with self._async_rounds(coro_fn):
            result = self.benchmark.pedantic(
                _RunOnce(coro_fn, self.runner),
                args=args,
                kwargs=dict(kwargs) if kwargs is not None else None,
                setup=self._on_loop(setup),
                teardown=self._on_loop(teardown),
                rounds=rounds,
                warmup_rounds=warmup_rounds,
                iterations=iterations,
            )
        return cast(T, result)

    def _on_loop(self, function: Callable[..., Any] | None) -> Callable[..., Any] | None:
        if function is None or not _is_async_callable(function):
            return function
        runner = self.runner
        return lambda *args, **kwargs: runner.run(_await(function(*args, **kwargs)))

    @contextlib.contextmanager
    def _async_rounds(self, coro_fn: Callable[..., Awaitable[Any]]) -> Iterator[None]:
        """While inside, pytest-benchmark's round runner awaits ``coro_fn`` inside the loop, timer included."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("async_benchmark runs its own event loop: call it from a plain `def test_...`")
        benchmark, loop = self.benchmark, self.runner.get_loop()

        def make_runner(function: _RunOnce, args: tuple[Any, ...], kwargs: dict[str, Any]) -> compat.RoundRunner:
            timer, disable_gc = compat.timer(benchmark), compat.disable_gc(benchmark)

            def round_runner(loops_range: range | None) -> float | tuple[float, Any]:
                # run_until_complete, not Runner.run: a quarter of the untimed cost per round (no signal handlers)
                return loop.run_until_complete(
                    _timed_round(function.coro_fn, args, kwargs, loops_range, timer, disable_gc)
                )

            return round_runner

        with compat.round_runner(benchmark, make_runner):
            yield


@pytest.hookimpl(trylast=True)  # after pytest-benchmark's table
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """List every speedup ``iobench_speedup`` measured, with its interval and the level it reaches."""
    speedups = config.stash.get(SPEEDUPS, [])
    if not speedups:
        return
    terminalreporter.write_sep("-", "iobench speedups (median of paired per-round ratios)")
    for nodeid, speedup in speedups:
        terminalreporter.write_line(f"{nodeid}: {speedup.describe()}")


def _requested_loop(request: pytest.FixtureRequest) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop factory the test asked for; a test failure with just the message (no traceback) if it cannot be."""
    try:
        name = loop_name(request.node.get_closest_marker("iobench_loop"), str(request.config.getoption("iobench_loop")))
        return loop_factory(name)
    except IobenchError as exc:
        error = str(exc)
    pytest.fail(error, pytrace=False)  # outside the except: no "during handling" chain in the report


@pytest.fixture
def iobench_runner(request: pytest.FixtureRequest) -> Iterator[asyncio.Runner]:
    """This test's ``asyncio.Runner`` (asyncio or uvloop), its loop started before any timing."""
    with asyncio.Runner(loop_factory=_requested_loop(request)) as runner:
        runner.get_loop()
        yield runner


@pytest.fixture
def async_benchmark(iobench_runner: asyncio.Runner, benchmark: Any) -> AsyncBenchmark:
    """pytest-benchmark's ``benchmark`` for ``async def`` functions, all rounds on one event loop."""
    # the loop comes first: if it cannot start, the test fails before ``benchmark`` exists to warn it went unused
    return AsyncBenchmark(benchmark, iobench_runner)


@pytest.fixture(scope="session")
def iobench_server() -> Iterator[str]:
    """Base URL of the local test server, started once per session and stopped at its end."""
    from bench.server.process import LocalServer

    server = LocalServer()
    url = server.start()
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def iobench_strategy(iobench_server: str, iobench_runner: asyncio.Runner) -> Iterator[StrategyFactory]:
    """``iobench_strategy("gather", tasks=20, delay_ms=10)``: an async callable running that strategy once."""
    factory = StrategyFactory(iobench_server, iobench_runner)
    try:
        yield factory
    finally:
        factory.close()


@pytest.fixture
def iobench_speedup(
    iobench_runner: asyncio.Runner, benchmark: Any, iobench_server: str, request: pytest.FixtureRequest
) -> SpeedupMeter:
    """``iobench_speedup("gather", tasks=20, delay_ms=10)``: paired rounds against sequential; the speedup is shown
    in the terminal summary and stored in extra_info."""
    return SpeedupMeter(benchmark, iobench_runner, iobench_server, request)
