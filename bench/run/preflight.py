"""Pre-run checks: refuse, before any request, what this machine or this scenario cannot run.

    preflight(loaded, allow_external=False)    # raises ScenarioError, UsageError or EnvironmentLimitError

A missing event loop, a user function that is not there, load on another host nobody allowed (each target
driver's own ``check``), and more connections than the descriptor limit or the ephemeral port range allow (the
ports TIME_WAIT holds counted; beyond one source address, loopback connections are spread over 127.0.0.2, ...).
"""

from __future__ import annotations

import contextlib
import resource
from pathlib import Path

from bench.errors import EnvironmentLimitError
from bench.loops import loop_factory
from bench.scenario.model import Scenario
from bench.strategies import AsyncStrategy
from bench.targets.base import driver_class
from bench.targets.clients.net import local_port_range, plan_sources, time_wait_count

FD_HEADROOM = 64
"""Descriptors kept free for the interpreter, the results file, the server pipe and the like."""


def raise_fd_limit() -> tuple[int, int]:
    """Raise the descriptor soft limit to the hard limit; return (soft, hard) as they are now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def planned_descriptors(scenario: Scenario, per_process: bool = False) -> int:
    """The most sockets any run of the scenario will hold open at once, over all its client processes (or in the
    busiest one, ``per_process``); 0 for targets without sockets. Caps hold in each process."""
    if not driver_class(scenario.target).sockets:
        return 0
    peak = 0
    for n in scenario.tasks:
        shares = [len(range(j, n, scenario.processes)) for j in range(scenario.processes)]
        for spec in scenario.strategies:
            strategy = spec.build()
            limit = strategy.connector_limit(scenario.connector_limit) if isinstance(strategy, AsyncStrategy) else None
            held = [strategy.effective_concurrency(share, (limit,)) for share in shares if share]
            peak = max(peak, max(held) if per_process else sum(held))
    return peak


def preflight(loaded: list[tuple[Path, Scenario]], allow_external: bool = False) -> list[tuple[str, ...]]:
    """Refuse, before any request, what this machine cannot run: a missing loop, too few descriptors or ports
    (TIME_WAIT counted), a user function that is not there, load on another host nobody allowed. Returns, for
    each scenario, the loopback source addresses its connections must be spread over (() for the default one)."""
    soft, hard = raise_fd_limit()
    port_range = local_port_range()
    time_wait = time_wait_count() or 0
    sources: list[tuple[str, ...]] = []
    for path, scenario in loaded:
        loop_factory(scenario.loop)
        driver_class(scenario.target).check(str(path), scenario.target, scenario, allow_external)
        planned = planned_descriptors(scenario)
        host = str(getattr(scenario.target, "host", "127.0.0.1"))
        try:
            plan = plan_sources(planned, host=host, port_range=port_range, time_wait=time_wait)
        except EnvironmentLimitError as exc:
            raise EnvironmentLimitError(f"{path}: scenario {scenario.name!r}: {exc}") from None
        sources.append(plan.sources)
        planned = planned_descriptors(scenario, per_process=True)
        need = planned + FD_HEADROOM
        if need > soft:
            raise EnvironmentLimitError(
                f"{path}: scenario {scenario.name!r} may hold {need - FD_HEADROOM} connections open at once, but "
                f"the file-descriptor limit is {soft} (hard limit {hard}); raise it (ulimit -n {need}) "
                f"or set connector_limit in the scenario"
            )
    return sources
