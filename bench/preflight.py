"""Pre-run checks: refuse, before any request, what this machine or this scenario cannot run.

    preflight(loaded, allow_external=False)    # raises ScenarioError, UsageError or EnvironmentLimitError

A missing event loop, a user function that is not there, load on another host nobody allowed (each target
driver's own ``check``), and more connections than the descriptor limit or the ephemeral port range allow.
"""

from __future__ import annotations

import contextlib
import resource
from pathlib import Path

from bench.errors import EnvironmentLimitError
from bench.loops import loop_factory
from bench.scenario import Scenario
from bench.strategies import AsyncStrategy
from bench.targets import driver_class

FD_HEADROOM = 64
"""Descriptors kept free for the interpreter, the results file, the server pipe and the like."""


def raise_fd_limit() -> tuple[int, int]:
    """Raise the descriptor soft limit to the hard limit; return (soft, hard) as they are now."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def planned_descriptors(scenario: Scenario) -> int:
    """The most sockets any run of the scenario will hold open at once (0 for targets without sockets)."""
    if not driver_class(scenario.target).sockets:
        return 0
    peak = 0
    for n in scenario.tasks:
        for spec in scenario.strategies:
            strategy = spec.build()
            limit = strategy.connector_limit(scenario.connector_limit) if isinstance(strategy, AsyncStrategy) else None
            peak = max(peak, strategy.effective_concurrency(n, limit))
    return peak


def ephemeral_ports() -> int | None:
    """How many local ports the kernel hands out for outgoing connections (Linux), or None if unknown."""
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text(encoding="utf-8").split()
    except (OSError, ValueError):
        return None
    return int(high) - int(low) + 1


def preflight(loaded: list[tuple[Path, Scenario]], allow_external: bool = False) -> None:
    """Refuse, before any request, what this machine cannot run: a missing loop, too few descriptors or ports,
    a user function that is not there, load on another host nobody allowed."""
    soft, hard = raise_fd_limit()
    ports = ephemeral_ports()
    for path, scenario in loaded:
        loop_factory(scenario.loop)
        driver_class(scenario.target).check(str(path), scenario.target, scenario, allow_external)
        planned = planned_descriptors(scenario)
        if ports is not None and planned > ports:
            raise EnvironmentLimitError(
                f"{path}: scenario {scenario.name!r} may hold {planned} connections open at "
                f"once, but only {ports} local ports exist (net.ipv4.ip_local_port_range); set connector_limit"
            )
        need = planned + FD_HEADROOM
        if need > soft:
            raise EnvironmentLimitError(
                f"{path}: scenario {scenario.name!r} may hold {need - FD_HEADROOM} connections open at once, but "
                f"the file-descriptor limit is {soft} (hard limit {hard}); raise it (ulimit -n {need}) "
                f"or set connector_limit in the scenario"
            )
