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

One run path: ``iobench_strategy`` and ``iobench_speedup`` build the Scenario ``iobench run`` would load (the local
server, a fixed delay, every other key at its default: no connector limit) and run it through the same code: the
target driver (``bench.targets``: session, warm-up), the Recorder (``bench.recording``: per-task stamps; a status
of 400 or more fails a task), and for ``iobench_speedup`` whole runs of ``bench.timed.execute`` in the plan's
balanced round order (``bench.plan``), speedups from ``bench.stats``.

How async_benchmark times: pytest-benchmark calibrates, warms up and repeats a *round runner*. For the duration of
one ``async_benchmark`` call this plugin swaps in a runner (bench._pytest_benchmark_compat: the private hooks and
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
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

import pytest

from bench import _pytest_benchmark_compat as compat
from bench.errors import IobenchError, RunError, UsageError, describe_error
from bench.limits import MAX_DELAY_MS
from bench.loops import LOOPS, loop_factory

if TYPE_CHECKING:  # aiohttp and the runner load only when a fixture needs them: this plugin is in every pytest run
    from pydantic import ValidationError

    from bench.recording import AsyncOp
    from bench.scenario import Scenario
    from bench.stats import Interval
    from bench.strategies import AsyncStrategy
    from bench.targets import Driver

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


def local_scenario(
    where: str,
    strategies: Sequence[str | Mapping[str, Any]],
    tasks: int,
    delay_ms: float,
    *,
    timeout_s: float = 30.0,
    repeats: int = 5,
    warmup: int = 1,
    target: Mapping[str, Any] | None = None,
) -> Scenario:
    """The scenario ``iobench run`` would load for these arguments: the local server, a fixed delay per task.

    ``target`` adds LocalTarget keys (``status``, ``bytes``, ``error_rate``, ``error_kind``, ``fail_on_status``);
    every other setting (connector limit, seed, loop) is the scenario default. UsageError names ``where``.
    """
    from pydantic import ValidationError

    from bench.scenario import Scenario

    if not isinstance(tasks, int) or isinstance(tasks, bool) or tasks < 1:
        raise UsageError(f"{where}: tasks must be a whole number of at least 1, got {tasks!r}")
    if not isinstance(delay_ms, int | float) or not 0 <= delay_ms <= MAX_DELAY_MS:
        raise UsageError(f"{where}: delay_ms must be between 0 and {MAX_DELAY_MS:g}, got {delay_ms!r}")
    data = {
        "name": "pytest",
        "tasks": [tasks],
        "target": {"latency": {"dist": "fixed", "ms": float(delay_ms)}, **(target or {})},
        "strategies": list(strategies),
        "repeats": repeats,
        "warmup": warmup,
        "timeout_s": float(timeout_s),
    }
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise UsageError(f"{where}: {_argument_error(exc)}") from None


def _argument_error(exc: ValidationError) -> str:
    """The first error of a scenario built from arguments, named by the argument: ``status: must be at most 599``."""
    loc, message = describe_error(exc.errors(include_url=False)[0])
    keys = [str(p) for p in loc if p != "local"]  # the target's union tag is no key of the caller's
    if keys[:1] == ["target"]:
        keys = ["delay_ms"] if keys[1:2] == ["latency"] else keys[1:]
    if keys[:1] == ["strategies"]:
        keys = []  # the message names the strategy
    return f"{keys[0]}: {message}" if keys else message


class StrategyRun:
    """One strategy over the local server on a session of its own, opened and warmed as ``iobench run`` does;
    ``await run()`` is one run, every task recorded by bench.recording.Recorder."""

    def __init__(self, label: str, strategy: AsyncStrategy, driver: Driver[Any]) -> None:
        from bench.recording import Recorder
        from bench.timed import run_limits

        self.label = label
        """The strategy as a scenario would name it: ``gather``, ``bounded(limit=5)``."""
        self.strategy = strategy
        self.driver = driver
        self.tasks = driver.point.tasks
        """Number of tasks (GETs) per run."""
        self.urls: tuple[str, ...] = getattr(driver, "urls", ())
        """The URL task ``i`` GETs."""
        self.limits = run_limits(strategy, driver, driver.scenario)
        """The caps of each run, as ``iobench run`` records them (``connector_limit``: None means unlimited)."""
        self.recorder = Recorder(self.tasks, driver.fail_on_status)
        """The last run's per-task stamps (created, start, end), statuses and errors."""
        self._stack = contextlib.AsyncExitStack()
        self._op: AsyncOp | None = None

    async def open(self) -> None:
        """Open the session (bench.targets.new_session) and warm as many connections as run at once."""
        limit = self.limits["connector_limit"]
        connections = self.strategy.effective_concurrency(self.tasks, limit)
        self._op = await self._stack.enter_async_context(self.driver.open_async(self.recorder, connections, limit))

    async def close(self) -> None:
        """Close the session."""
        await self._stack.aclose()

    async def __call__(self) -> None:
        """Run every task once with the strategy; RunError naming the first failure if any task did not finish ok."""
        from bench.timed import drain, first_failure

        assert self._op is not None, "StrategyRun.open() first"
        recorder = self.recorder
        recorder.reset()
        task = recorder.task_fn(self._op)
        recorder.begin()
        try:
            await self.strategy.run(self.tasks, task)
        except Exception as exc:  # the idiom's reaction to a failed task: wait for its siblings, then fail the test
            await drain(self.driver.scenario.timeout_s + 1.0)
            raise RunError(f"{self.label}: {first_failure(exc)}") from None
        counts = recorder.counts()
        if counts.finished != self.tasks:
            raise RunError(f"{self.label}: only {counts.finished} of {self.tasks} tasks finished ok ({counts})")

    @property
    def peak_inflight(self) -> int:
        """Most tasks doing I/O at once in the last run."""
        return self.recorder.peak_inflight()

    def __repr__(self) -> str:
        return f"<StrategyRun {self.label} x{self.tasks}>"


class StrategyFactory:
    """``iobench_strategy(strategy, tasks=20, delay_ms=10)``: a StrategyRun against the local server."""

    def __init__(self, base_url: str, runner: asyncio.Runner) -> None:
        self.base_url = base_url
        self.runner = runner
        self._opened: list[StrategyRun] = []

    def __call__(
        self,
        strategy: str | Mapping[str, Any],
        tasks: int = 20,
        delay_ms: float = 10.0,
        *,
        timeout_s: float = 30.0,
        **target: Any,
    ) -> StrategyRun:
        """Build ``strategy`` (``"gather"``, ``{"bounded": {"limit": 5}}``) with a warmed session of its own.

        Keyword arguments beyond ``timeout_s`` are the local target's keys: ``status=404``, ``fail_on_status=False``.
        """
        from bench.plan import make_plan
        from bench.strategies import AsyncStrategy
        from bench.targets import driver_for

        scenario = local_scenario("iobench_strategy", [strategy], tasks, delay_ms, timeout_s=timeout_s, target=target)
        (spec,) = scenario.strategies
        built = spec.build()
        if not isinstance(built, AsyncStrategy):
            raise UsageError(
                f"iobench_strategy supports asyncio strategies only; {spec.name!r} is not one "
                "(iobench_speedup and `iobench run` time it)"
            )
        run = StrategyRun(spec.label, built, driver_for(scenario, make_plan(scenario).points[0], self.base_url))
        self.runner.run(run.open())
        self._opened.append(run)
        return run

    def close(self) -> None:
        """Close every session this factory opened, on the loop that opened it."""
        while self._opened:
            self.runner.run(self._opened.pop().close())


@dataclass(frozen=True)
class Speedup:
    """A strategy against its reference over paired rounds, as ``iobench_speedup`` measured it."""

    strategy: str
    """Label of the benchmarked strategy, e.g. ``bounded(limit=5)``."""
    reference: str
    """Label of the reference strategy, normally ``sequential``."""
    tasks: int
    """Tasks per run."""
    delay_ms: float
    """Server delay of every task, in ms."""
    strategy_walls_s: tuple[float, ...]
    """The strategy's wall time in each measured round, in seconds."""
    reference_walls_s: tuple[float, ...]
    """The reference's wall time in the same rounds, in seconds."""

    @property
    def ratios(self) -> tuple[float, ...]:
        """Per-round paired speedups: reference wall / strategy wall of the same round."""
        from bench.stats import paired_ratios

        return paired_ratios(self.reference_walls_s, self.strategy_walls_s)

    @property
    def speedup(self) -> float:
        """The median per-round speedup: how many times faster than the reference."""
        from bench.stats import median

        return median(self.ratios)

    @property
    def interval(self) -> Interval:
        """Distribution-free interval of that median, with the level it really reaches (0 for one round)."""
        from bench.stats import speedup_interval

        return speedup_interval(self.ratios)

    @property
    def strategy_s(self) -> float:
        """Median wall time of the strategy, in seconds."""
        from bench.stats import median

        return median(self.strategy_walls_s)

    @property
    def reference_s(self) -> float:
        """Median wall time of the reference, in seconds."""
        from bench.stats import median

        return median(self.reference_walls_s)

    def describe(self) -> str:
        """One line: ``gather 9.84x vs sequential, CI 93%: 9.61x-10.1x, 5 paired rounds, 20 tasks x 10 ms``."""
        from bench.report import fmt_level, fmt_sig

        rounds = len(self.ratios)
        spread = (
            f"{fmt_level(self.interval.level)}: {fmt_sig(self.interval.low)}x-{fmt_sig(self.interval.high)}x, "
            f"{rounds} paired rounds"
            if rounds > 1
            else "1 paired round, no interval (--benchmark-enable runs more)"
        )
        return (
            f"{self.strategy} {fmt_sig(self.speedup)}x vs {self.reference}, {spread}, "
            f"{self.tasks} tasks x {self.delay_ms:g} ms"
        )


SPEEDUPS = pytest.StashKey[list[tuple[str, Speedup]]]()
"""Every speedup measured in this session, by test id, for the terminal summary."""


class SpeedupMeter:
    """``iobench_speedup(strategy, tasks=20, delay_ms=10)``: a strategy and its reference in paired rounds."""

    def __init__(self, benchmark: Any, runner: asyncio.Runner, base_url: str, request: pytest.FixtureRequest) -> None:
        compat.check_hooks(benchmark)
        self.benchmark: Any = benchmark
        """pytest-benchmark's fixture: its stats are the strategy's wall times, one per measured round."""
        self.runner = runner
        self.base_url = base_url
        self.request = request

    @property
    def extra_info(self) -> dict[str, Any]:
        """What is saved with the benchmark (``--benchmark-json``, ``--benchmark-save``)."""
        return cast(dict[str, Any], self.benchmark.extra_info)

    def __call__(
        self,
        strategy: str | Mapping[str, Any],
        tasks: int = 20,
        delay_ms: float = 10.0,
        *,
        reference: str | Mapping[str, Any] = "sequential",
        rounds: int = 5,
        warmup: int = 1,
        timeout_s: float = 30.0,
    ) -> Speedup:
        """Run ``warmup`` then ``rounds`` rounds of both, in a balanced order, each run as ``iobench run`` runs it.

        pytest-benchmark's stats hold the strategy's wall times; ``extra_info`` the reference's median wall time
        (``<reference>_s``), the median paired speedup (``speedup_vs_<reference>``) and its interval.
        Under --benchmark-disable: the warm-up rounds and one measured round.
        """
        from bench.plan import make_plan
        from bench.targets import driver_for
        from bench.timed import execute

        names = [reference, strategy] if _label(strategy) != _label(reference) else [strategy]
        scenario = local_scenario(
            "iobench_speedup", names, tasks, delay_ms, timeout_s=timeout_s, repeats=rounds, warmup=warmup
        )
        ref_label, label = scenario.strategies[0].label, scenario.strategies[-1].label
        specs = {s.label: s for s in scenario.strategies}
        point = make_plan(scenario).points[0]
        driver = driver_for(scenario, point, self.base_url)
        measured = rounds if self.benchmark.enabled else 1
        walls: list[dict[str, float]] = []
        counter = iter(range(-warmup, 1 << 30))

        def one_round() -> float:
            """The next round of the plan, each run by bench.timed.execute; the strategy's wall time in seconds."""
            rnd = point.round(next(counter))
            wall: dict[str, float] = {}
            for position, name in enumerate(rnd.order):
                result = self.runner.run(
                    execute(specs[name].build(), name, driver, scenario, repeat=rnd.repeat, position=position)
                )
                if not result.complete:
                    raise RunError(
                        f"iobench_speedup: {name}, round {rnd.repeat}: {result.reason or 'tasks did not finish'} "
                        f"({result.finished} of {tasks} finished ok)"
                    )
                wall[name] = result.wall_ns / 1e9
            if 0 <= rnd.repeat < measured:
                walls.append(wall)
            return wall[label]

        def make_runner(function: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> compat.RoundRunner:
            def round_runner(loops_range: range | None) -> float | tuple[float, Any]:
                seconds = one_round()
                return seconds if loops_range else (seconds, None)

            return round_runner

        if not self.benchmark.enabled:
            for _ in range(warmup):
                one_round()
        with compat.round_runner(self.benchmark, make_runner):
            self.benchmark.pedantic(one_round, rounds=rounds, warmup_rounds=warmup)
        result = Speedup(
            label,
            ref_label,
            tasks,
            float(delay_ms),
            tuple(w[label] for w in walls),
            tuple(w[ref_label] for w in walls),
        )
        interval = result.interval
        self.extra_info.update(
            {
                "strategy": label,
                "reference": ref_label,
                "tasks": tasks,
                "delay_ms": delay_ms,
                "rounds": len(walls),
                f"{ref_label}_s": result.reference_s,
                f"speedup_vs_{ref_label}": result.speedup,
                "speedup_interval": [interval.low, interval.high],
                "speedup_level": interval.level,
            }
        )
        self.request.config.stash.setdefault(SPEEDUPS, []).append((self.request.node.nodeid, result))
        return result


def _label(strategy: str | Mapping[str, Any]) -> str:
    """The label a strategy argument has (as validated later), or its repr when it is not one."""
    from pydantic import ValidationError

    from bench.strategies import StrategySpec

    try:
        return StrategySpec.model_validate(strategy).label
    except ValidationError:
        return repr(strategy)


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
def iobench_speedup(
    iobench_runner: asyncio.Runner, benchmark: Any, iobench_server: str, request: pytest.FixtureRequest
) -> SpeedupMeter:
    """``iobench_speedup("gather", tasks=20, delay_ms=10)``: paired rounds against sequential; the speedup is shown
    in the terminal summary and stored in extra_info."""
    return SpeedupMeter(benchmark, iobench_runner, iobench_server, request)
