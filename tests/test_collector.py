"""The garbage collector around timed runs: its passes counted exactly, paused on request, and the local server's
collections kept out of bursts."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import weakref

import pytest

import bench.targets.clients.minimal
import bench.targets.clients.net
from bench.cli.select import apply_overrides
from bench.collector import GcWatch, gc_paused
from bench.results.records import RunResult
from bench.run.timed import execute
from bench.scenario.model import Scenario
from bench.scenario.plan import make_plan
from bench.server.collector import IdleCollector
from bench.targets.base import driver_for
from bench.targets.clients.aiohttp_client import new_session, warm_pool
from bench.targets.clients.minimal import MinimalPool


def _callable_run(function: str, tasks: int, gc_on: bool = True) -> RunResult:
    scenario = Scenario.model_validate(
        {
            "name": "g",
            "tasks": tasks,
            "repeats": 1,
            "warmup": 0,
            "gc": gc_on,
            "target": {"callable": f"tests.userfuncs:{function}"},
            "strategies": ["gather"],
        }
    )
    point = make_plan(scenario).points[0]
    strategy = scenario.strategies[0]
    driver = driver_for(scenario, point, "")
    return asyncio.run(execute(strategy.build(), strategy.label, driver, scenario, repeat=0, position=0))


@pytest.mark.slow
def test_the_watch_counts_every_full_pass_of_a_run_exactly() -> None:
    run = _callable_run("collect_twice", 5)
    assert run.complete
    assert run.gc_passes is not None and run.gc_passes[2] == 10  # 5 tasks x 2 explicit collections, no more
    assert run.gc_ms is not None and run.gc_ms > 0


def test_the_collector_passes_during_a_run_and_not_when_paused() -> None:
    running = _callable_run("make_cycles", 3)
    assert running.gc_passes is not None and running.gc_passes[0] > 0  # 60,000 cycles: automatic passes ran
    paused = _callable_run("make_cycles", 3, gc_on=False)
    assert paused.complete
    assert paused.gc_passes == (0, 0, 0)
    assert gc.isenabled()  # and it is back on after the run


def test_the_watch_restores_the_collector_as_it_found_it() -> None:
    gc.disable()
    try:
        with GcWatch(pause=True):
            assert not gc.isenabled()
        assert not gc.isenabled()  # was off before: stays off
    finally:
        gc.enable()
    with GcWatch(pause=True):
        assert not gc.isenabled()
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    assert all(getattr(cb, "__self__", None).__class__ is not GcWatch for cb in gc.callbacks)


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_server_collects_when_quiet_and_not_while_busy() -> None:
    async def scenario() -> tuple[bool, bool, int]:
        collector = IdleCollector(idle_after=1_000, cap=10**9, period_s=0.01)
        collector.start()
        try:
            assert not gc.isenabled()
            garbage = _Cycle()
            ref = weakref.ref(garbage)
            del garbage
            while gc.get_count()[0] <= max(collector.idle_after, collector.alive // 4):  # CPython's rule: 1/4
                _Cycle()
            collector.inflight = 1
            await asyncio.sleep(0.1)
            busy_alive = ref() is not None  # a request in flight: nothing collected
            collector.inflight = 0
            await asyncio.sleep(0.1)
            return busy_alive, ref() is None, collector.collections
        finally:
            collector.stop()

    busy_alive, collected, collections = asyncio.run(scenario())
    assert busy_alive and collected and collections >= 1
    assert gc.isenabled()


def test_past_the_cap_the_server_collects_even_while_busy() -> None:
    collector = IdleCollector(idle_after=10, cap=10)
    collector.inflight = 3
    gc.collect()
    keep = [[i] for i in range(1_000)]
    assert collector.due()
    collector.cap = 10**9
    assert not collector.due()
    del keep


def test_disable_gc_on_the_command_line() -> None:
    scenario = Scenario.model_validate(
        {"name": "g", "tasks": 3, "target": {"latency": {"dist": "fixed", "ms": 1}}, "strategies": ["gather"]}
    )
    assert scenario.gc
    assert apply_overrides(scenario, disable_gc=True).gc is False
    assert apply_overrides(scenario) is scenario


def test_a_warm_up_runs_without_collector_passes(server_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    async def warm() -> list[int]:
        async with new_session(None, None, 30.0) as session:
            with GcWatch() as watch:  # counts automatic passes; does not pause
                await warm_pool(session, f"{server_url}/health", 300, 1024)
            return watch.passes

    paused = asyncio.run(warm())
    assert sum(paused) <= 1  # at most the one pass that falls due when it is turned back on
    assert gc.isenabled()
    monkeypatch.setattr(bench.targets.clients.net, "gc_paused", contextlib.nullcontext)
    assert asyncio.run(warm())[0] > 1  # what the pause spares: 300 connections allocate past several young passes


def test_the_minimal_clients_warm_up_runs_without_collector_passes(
    server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def warm() -> list[int]:
        pool = MinimalPool(server_url)
        try:
            with GcWatch() as watch:
                await pool.warm("/health", 300, 1024)
            return watch.passes
        finally:
            pool.close()

    paused = asyncio.run(warm())
    assert sum(paused) <= 1
    monkeypatch.setattr(bench.targets.clients.minimal, "gc_paused", contextlib.nullcontext)
    assert asyncio.run(warm())[0] > 1


def test_pauses_may_overlap_in_any_order() -> None:
    watch = GcWatch(pause=True)
    paused = gc_paused()
    watch.__enter__()
    paused.__enter__()
    watch.__exit__(None, None, None)  # the timed region ends first: the warm-up's pause still holds
    assert not gc.isenabled()
    paused.__exit__(None, None, None)
    assert gc.isenabled()
