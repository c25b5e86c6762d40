"""Strategy runs for the pytest plugin, through the code ``iobench run`` uses (see bench/pytest_plugin.py).

    run = StrategyFactory(base_url, runner)("gather", tasks=20, delay_ms=10)   # iobench_strategy
    runner.run(run())                                                       # one run, every task recorded
    SpeedupMeter(benchmark, runner, base_url, request)("gather")              # iobench_speedup: paired rounds

Each builds the Scenario ``iobench run`` would load (``local_scenario``: the local server, a fixed delay, every
other key at its default, so no connector limit) and runs it with the same pieces: the target driver
(``bench.targets``: session, warm-up), the Recorder (``bench.run.recording``: per-task stamps, a status of 400 or more
fails a task), and for speedups whole runs of ``bench.run.timed.execute`` in the plan's balanced round order, the
speedup being the median of per-round paired ratios with ``bench.results.stats.speedup_interval``'s interval.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pytest

from bench.errors import RunError, UsageError, describe_error
from bench.limits import MAX_DELAY_MS
from bench.pytest_plugin import compat
from bench.strategies import REFERENCE

if TYPE_CHECKING:  # aiohttp and the runner load when a fixture runs: the plugin imports this in every pytest run
    from pydantic import ValidationError

    from bench.results.stats import Interval
    from bench.scenario.model import Scenario
    from bench.strategies import AsyncStrategy
    from bench.targets.base import Driver
    from bench.targets.clients.base import AsyncOp


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

    from bench.scenario.model import Scenario

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
    ``await run()`` is one run, every task recorded by bench.run.recording.Recorder."""

    def __init__(self, label: str, strategy: AsyncStrategy, driver: Driver[Any]) -> None:
        from bench.run.recording import Recorder
        from bench.run.timed import run_limits

        self.label = label
        """The strategy as a scenario would name it: ``gather``, ``bounded(limit=5)``."""
        self.strategy = strategy
        self.driver = driver
        self.tasks = driver.point.tasks
        """Number of tasks (GETs) per run."""
        self.urls: tuple[str, ...] = getattr(driver, "urls", ())
        """The URL task ``i`` GETs."""
        self.limits = run_limits(strategy, driver).values
        """The limits of each run, as ``iobench run`` records them (``connector_limit``: None means unlimited)."""
        self.recorder = Recorder(self.tasks, driver.fail_on_status)
        """The last run's per-task stamps (created, start, end), statuses and errors."""
        self._stack = contextlib.AsyncExitStack()
        self._op: AsyncOp | None = None

    async def open(self) -> None:
        """Open the session (the target's client stack) and warm as many connections as run at once."""
        limit = self.limits["connector_limit"]
        connections = self.strategy.effective_concurrency(self.tasks, (limit,))
        self._op = await self._stack.enter_async_context(
            self.driver.open_async(self.recorder, self.strategy, connections)
        )

    async def close(self) -> None:
        """Close the session."""
        await self._stack.aclose()

    async def __call__(self) -> None:
        """Run every task once with the strategy; RunError naming the first failure if any task did not finish ok."""
        from bench.run.timed import drain, first_failure

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
        from bench.scenario.plan import make_plan
        from bench.strategies import AsyncStrategy
        from bench.targets.base import driver_for

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
        from bench.results.stats import paired_ratios

        return paired_ratios(self.reference_walls_s, self.strategy_walls_s)

    @property
    def speedup(self) -> float:
        """The median per-round speedup: how many times faster than the reference."""
        from bench.results.stats import median

        return median(self.ratios)

    @property
    def interval(self) -> Interval:
        """Distribution-free interval of that median, with the level it really reaches (0 for one round)."""
        from bench.results.stats import speedup_interval

        return speedup_interval(self.ratios)

    @property
    def strategy_s(self) -> float:
        """Median wall time of the strategy, in seconds."""
        from bench.results.stats import median

        return median(self.strategy_walls_s)

    @property
    def reference_s(self) -> float:
        """Median wall time of the reference, in seconds."""
        from bench.results.stats import median

        return median(self.reference_walls_s)

    def describe(self) -> str:
        """One line: ``gather 9.84x vs sequential, CI 93%: 9.61x-10.1x, 5 paired rounds, 20 tasks x 10 ms``."""
        from bench.report.cells import fmt_level, fmt_sig

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
        reference: str | Mapping[str, Any] = REFERENCE,
        rounds: int = 5,
        warmup: int = 1,
        timeout_s: float = 30.0,
    ) -> Speedup:
        """Run ``warmup`` then ``rounds`` rounds of both, in a balanced order, each run as ``iobench run`` runs it.

        pytest-benchmark's stats hold the strategy's wall times; ``extra_info`` the reference's median wall time
        (``<reference>_s``), the median paired speedup (``speedup_vs_<reference>``) and its interval.
        Under --benchmark-disable: the warm-up rounds and one measured round.
        """
        from bench.run.threads import ScenarioThreads
        from bench.run.timed import execute
        from bench.scenario.plan import make_plan
        from bench.targets.base import driver_for

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
        threads = ScenarioThreads()  # a blocking strategy's pool, kept for every round as iobench run keeps it
        self.request.addfinalizer(threads.close)

        def one_round() -> float:
            """The next round of the plan, each run by bench.run.timed.execute; the strategy's wall time in seconds."""
            rnd = point.round(next(counter))
            wall: dict[str, float] = {}
            for position, name in enumerate(rnd.order):
                result = self.runner.run(
                    execute(
                        specs[name].build(),
                        name,
                        driver,
                        scenario,
                        repeat=rnd.repeat,
                        position=position,
                        threads=threads,
                    )
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
