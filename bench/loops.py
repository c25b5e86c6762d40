"""Event loops by name, for ``asyncio.Runner(loop_factory=...)``. Light on purpose: the pytest plugin imports it.

with asyncio.Runner(loop_factory=loop_factory("uvloop")) as runner: ...
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable

from bench.errors import EnvironmentLimitError, UsageError

LOOPS = ("asyncio", "uvloop")
"""Event loops a scenario or a test can ask for."""
UVLOOP_MISSING = "uvloop is not installed; install it with: pip install 'iobench[uvloop]'"
"""The error when uvloop is asked for and cannot be imported."""


def asyncio_loop() -> asyncio.AbstractEventLoop:
    """A new loop of asyncio's own, whatever event loop policy is installed (Ray's workers install uvloop's)."""
    if sys.platform == "win32":
        return asyncio.ProactorEventLoop()
    return asyncio.SelectorEventLoop()


def loop_factory(name: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The loop factory for ``name``; an IobenchError naming the fix."""
    if name == "asyncio":
        return asyncio_loop
    if name != "uvloop":
        raise UsageError(f"unknown event loop {name!r} (valid: {', '.join(LOOPS)})")
    try:
        import uvloop
    except ImportError:
        raise EnvironmentLimitError(UVLOOP_MISSING) from None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def fastest_available() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop when installed (it serves about twice the requests per core), else asyncio's own loop."""
    try:
        return loop_factory("uvloop")
    except EnvironmentLimitError:
        return None
