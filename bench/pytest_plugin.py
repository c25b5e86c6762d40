"""pytest plugin: async benchmarks under pytest-benchmark, timed inside one running event loop per test.

    def test_fetch(async_benchmark):
        assert async_benchmark(fetch, "http://127.0.0.1:8080/") == 200   # rounds, stats, --benchmark-save, compare
    def test_gather(iobench_speedup):
        assert iobench_speedup("gather", tasks=20, delay_ms=10).speedup > 1  # extra_info["speedup_vs_sequential"]

Fixtures
    async_benchmark    ``async_benchmark(coro_fn, *args, **kwargs)`` and ``async_benchmark.pedantic(...)``: the
                       ``benchmark`` fixture for ``async def`` functions; returns the coroutine's result
    iobench_runner     this test's ``asyncio.Runner``: one event loop, started before any timing, closed at teardown
    iobench_server     (session) base URL of the local test server (``bench.server.LocalServer``)
    iobench_strategy   ``iobench_strategy("gather", tasks=20, delay_ms=10)``: an async callable that runs that
                       strategy once over GETs of ``{server}/delay/{delay}ms`` on its own warmed ClientSession
    iobench_speedup    benchmark a strategy and store its speedup over a sequential reference in ``extra_info``
Marker and option
    @pytest.mark.iobench_loop("uvloop") / --iobench-loop=uvloop   the event loop (default: asyncio)

How timing works: pytest-benchmark calibrates, warms up and repeats a *round runner* made by
``BenchmarkFixture._make_runner`` (the hook other timing plugins extend too). For the duration of one
``async_benchmark`` call this plugin swaps in a runner that hands each round to the test's one loop
(``loop.run_until_complete``) and reads the timer *inside* the running coroutine, around
``for _ in range(iterations): await coro_fn(*args, **kwargs)``. Loop start-up, task creation and entering the loop
stay outside the timed region; inside remain the call, the ``await`` and the for-loop step: an empty coroutine
measures 0.17-0.30 µs per iteration against 0.08 µs for an empty lambda under ``benchmark`` (a per-round
``run_until_complete`` would add 20-25 µs on asyncio, 60-85 µs on uvloop; tests/benchmarks/test_harness.py).
Everything else (rounds, warm-up, min_rounds, max_time, timer, disable_gc, --benchmark-disable, storage,
compare-fail) is pytest-benchmark's own. One caveat: it sizes rounds by *timed* time, so a coroutine of a few µs
gets thousands of rounds that each pay that untimed loop entry, and the test runs well past --benchmark-max-time;
give such benchmarks ``@pytest.mark.benchmark(min_time=0.0002)``. The swap relies on ``_make_runner``, ``_timer``
and ``_disable_gc``, unchanged from pytest-benchmark 3 to 5; the fixture checks they exist.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import pytest

from bench.errors import IobenchError, RunError, UsageError, first_error
from bench.limits import MAX_DELAY_MS
from bench.loops import LOOPS, loop_factory

if TYPE_CHECKING:  # aiohttp and pydantic load only when a fixture needs them: this plugin is in every pytest run
    import aiohttp

    from bench.recording import AsyncOp
    from bench.strategies import AsyncStrategy

P = ParamSpec("P")
T = TypeVar("T")


DEFAULT_CONNECTOR_LIMIT = 100
"""Connector limit of a strategy's session unless the strategy sets ``connector_limit`` (aiohttp's default)."""


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


async def _time_once(coro_fn: Callable[[], Awaitable[Any]], timer: Callable[[], float]) -> float:
    """Seconds one ``await coro_fn()`` takes, read inside the running loop."""
    start = timer()
    await coro_fn()
    return timer() - start


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
        for attribute in ("_make_runner", "_timer", "_disable_gc"):
            if not hasattr(benchmark, attribute):
                raise RuntimeError(
                    f"async_benchmark needs BenchmarkFixture.{attribute}, which this pytest-benchmark lacks; "
                    "it was tested with pytest-benchmark 4 and 5"
                )
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
        return cast(Callable[[], float], self.benchmark._timer)

    def __call__(self, coro_fn: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Benchmark ``await coro_fn(*args, **kwargs)`` with pytest-benchmark's calibration and return its result."""
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
        if not _is_async_callable(coro_fn):
            raise TypeError(
                f"async_benchmark times async functions; {coro_fn!r} is not one (use the benchmark fixture for it)"
            )
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise RuntimeError("async_benchmark runs its own event loop: call it from a plain `def test_...`")
        benchmark, loop = self.benchmark, self.runner.get_loop()

        def make_runner(
            function: _RunOnce, args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> Callable[[range | None], float | tuple[float, Any]]:
            timer, disable_gc = benchmark._timer, bool(benchmark._disable_gc)

            def round_runner(loops_range: range | None) -> float | tuple[float, Any]:
                # run_until_complete, not Runner.run: a quarter of the untimed cost per round (no signal handlers)
                return loop.run_until_complete(
                    _timed_round(function.coro_fn, args, kwargs, loops_range, timer, disable_gc)
                )

            return round_runner

        benchmark._make_runner = make_runner
        try:
            yield
        finally:
            del benchmark._make_runner  # the class's own runner again


@dataclass(frozen=True)
class Speedup:
    """A strategy's time against its reference's, as ``iobench_speedup`` stores it in ``extra_info``."""

    strategy: str
    """Label of the benchmarked strategy, e.g. ``bounded(limit=5)``."""
    reference: str
    """Label of the reference strategy, normally ``sequential``."""
    strategy_s: float
    """Median round of the benchmark in seconds (its single run under --benchmark-disable)."""
    reference_s: float
    """One run of the reference in seconds, measured on the same loop before the timed rounds."""

    @property
    def speedup(self) -> float:
        """``reference_s / strategy_s``: how many times faster than the reference."""
        return self.reference_s / self.strategy_s


class StrategyRun:
    """One strategy over ``tasks`` GETs on its own warmed session; ``await run()`` is one round."""

    def __init__(self, label: str, strategy: AsyncStrategy, op: AsyncOp, urls: tuple[str, ...]) -> None:
        self.label = label
        """The strategy as a scenario would name it: ``gather``, ``bounded(limit=5)``."""
        self.strategy = strategy
        self.tasks = len(urls)
        """Number of tasks (GETs) per round."""
        self.urls = urls
        """The URL task ``i`` GETs."""
        self._op = op
        self._done = 0

    async def _task(self, i: int) -> None:
        status, _, _ = await self._op(i)
        if status != 200:
            from bench.strategies import TaskFailed

            raise TaskFailed(f"task {i}: HTTP {status} from {self.urls[i]}")
        self._done += 1

    async def __call__(self) -> None:
        """Run every task once with the strategy; RunError if any task did not finish."""
        self._done = 0
        await self.strategy.run(self.tasks, self._task)
        if self._done != self.tasks:
            raise RunError(f"{self.label}: only {self._done} of {self.tasks} tasks finished")

    def __repr__(self) -> str:
        return f"<StrategyRun {self.label} x{self.tasks}>"


async def _open_session(limit: int | None, timeout_s: float, warm_url: str, connections: int) -> aiohttp.ClientSession:
    """A ClientSession created inside the loop, with ``connections`` keep-alive connections already open."""
    import aiohttp

    connector = aiohttp.TCPConnector(limit=limit or 0, limit_per_host=0)
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout_s))

    from bench.targets import warm_pool

    try:
        await warm_pool(session, warm_url, connections)
    except BaseException:
        await session.close()
        raise
    return session


class StrategyFactory:
    """``iobench_strategy(strategy, tasks=20, delay_ms=10)``: a StrategyRun against the local server."""

    def __init__(self, base_url: str, runner: asyncio.Runner) -> None:
        self.base_url = base_url
        self.runner = runner
        self._sessions: list[aiohttp.ClientSession] = []

    def __call__(
        self, strategy: str | Mapping[str, Any], tasks: int = 20, delay_ms: float = 10.0, *, timeout_s: float = 30.0
    ) -> StrategyRun:
        """Build ``strategy`` (``"gather"``, ``{"bounded": {"limit": 5}}``) with a warmed session of its own."""
        from pydantic import ValidationError

        from bench.strategies import AsyncStrategy, StrategySpec
        from bench.targets import http_op

        try:
            spec = StrategySpec.model_validate(strategy)
        except ValidationError as exc:
            raise UsageError(f"iobench_strategy: {first_error(exc)}") from None
        built = spec.build()
        if not isinstance(built, AsyncStrategy):
            raise UsageError(
                f"iobench_strategy supports asyncio strategies only; {spec.name!r} is not one "
                "(compare it with `iobench run` instead)"
            )
        if not isinstance(tasks, int) or tasks < 1:
            raise UsageError(f"iobench_strategy: tasks must be a whole number of at least 1, got {tasks!r}")
        if not 0 <= delay_ms <= MAX_DELAY_MS:
            raise UsageError(f"iobench_strategy: delay_ms must be between 0 and {MAX_DELAY_MS:g}, got {delay_ms!r}")
        limit = built.connector_limit(DEFAULT_CONNECTOR_LIMIT)
        planned = built.planned_concurrency(tasks)
        connections = min(planned, limit) if limit else planned
        session = self.runner.run(_open_session(limit, timeout_s, f"{self.base_url}/health", connections))
        self._sessions.append(session)
        urls = tuple(f"{self.base_url}/delay/{delay_ms:.3f}ms" for _ in range(tasks))
        return StrategyRun(spec.label, built, http_op(session, urls), urls)

    def close(self) -> None:
        """Close every session this factory opened, on the loop that opened it."""
        while self._sessions:
            self.runner.run(self._sessions.pop().close())


class SpeedupMeter:
    """``iobench_speedup(strategy, tasks=20, delay_ms=10)``: benchmark a strategy, record its speedup."""

    def __init__(self, async_benchmark: AsyncBenchmark, strategies: StrategyFactory) -> None:
        self.async_benchmark = async_benchmark
        self.strategies = strategies

    def __call__(
        self,
        strategy: str | Mapping[str, Any],
        tasks: int = 20,
        delay_ms: float = 10.0,
        *,
        reference: str | Mapping[str, Any] = "sequential",
    ) -> Speedup:
        """Time ``reference`` once, benchmark ``strategy``; store ``<reference>_s`` and ``speedup_vs_<reference>``."""
        bench = self.async_benchmark
        target = self.strategies(strategy, tasks, delay_ms)
        baseline = self.strategies(reference, tasks, delay_ms)
        reference_s = bench.runner.run(_time_once(baseline, bench.timer))
        if bench.enabled:
            bench(target)
            strategy_s = float(bench.stats.stats.median)
        else:  # no rounds, no stats: the one run times itself (harness overhead does not matter here)
            strategy_s = bench(_time_once, target, bench.timer)
        result = Speedup(target.label, baseline.label, strategy_s, reference_s)
        bench.extra_info.update(
            {
                "strategy": result.strategy,
                "tasks": tasks,
                "delay_ms": delay_ms,
                f"{result.reference}_s": result.reference_s,
                f"speedup_vs_{result.reference}": result.speedup,
            }
        )
        return result


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
    from bench.server import LocalServer

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
def iobench_speedup(async_benchmark: AsyncBenchmark, iobench_strategy: StrategyFactory) -> SpeedupMeter:
    """``iobench_speedup("gather", tasks=20, delay_ms=10)``: benchmark it and store its speedup in extra_info."""
    return SpeedupMeter(async_benchmark, iobench_strategy)
