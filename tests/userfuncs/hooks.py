"""User functions written the way users write them around real clients: state made by a setup hook, a connection
per worker thread, a lazily made module-level object, a cap of their own, an executor, a CPU-bound task. Each
records what happened to it in ``CALLS`` (the tests run the scenarios in this process and read it)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

from bench.targets import io_starts

CALLS: list[tuple[str, Any]] = []
"""(event, detail) in the order they happened: setup, teardown, thread_setup, thread_teardown."""


def reset() -> None:
    """Forget what earlier scenarios did (the tests call it first)."""
    CALLS.clear()
    _LAZY.clear()


class Pool:
    """A stand-in for a client's pool: bound to the loop that made it, ``size`` uses at once."""

    def __init__(self, size: int) -> None:
        self.loop = asyncio.get_running_loop()
        self.slots = asyncio.Semaphore(size)
        self.closed = False


async def open_pool() -> Pool:
    """setup: the pool, made on the loop the runs use."""
    pool = Pool(5)
    CALLS.append(("setup", id(pool.loop)))
    return pool


async def close_pool(pool: Pool) -> None:
    """teardown."""
    pool.closed = True
    CALLS.append(("teardown", id(pool.loop)))


async def use_pool(i: int, pool: Pool) -> None:
    """10 ms holding one of the pool's 5 slots; the wait for a slot is not marked (a cap iobench cannot see)."""
    assert asyncio.get_running_loop() is pool.loop and not pool.closed
    async with pool.slots:
        await asyncio.sleep(0.01)


async def use_pool_marked(i: int, pool: Pool) -> None:
    """The same, with the end of the wait marked by io_starts()."""
    async with pool.slots:
        io_starts()
        await asyncio.sleep(0.01)


def connect() -> int:
    """thread_setup: this thread's 'connection' (its identity)."""
    ident = threading.get_ident()
    CALLS.append(("thread_setup", ident))
    return ident


def disconnect(ident: int) -> None:
    """thread_teardown, in the same thread."""
    assert ident == threading.get_ident()
    CALLS.append(("thread_teardown", ident))


def use_connection(i: int, ident: int) -> None:
    """10 ms on this thread's own connection."""
    assert ident == threading.get_ident(), "a connection used from another thread"
    time.sleep(0.01)


_LAZY: dict[str, asyncio.Event] = {}


async def lazy_module_state(i: int) -> None:
    """The obvious way to share a client without a setup hook: made on first use, kept in the module. It binds
    to the first loop that waits on it; on another loop it raises (asyncio's 'bound to a different event loop')."""
    event = _LAZY.setdefault("event", asyncio.Event())
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(event.wait(), 0.01)


async def always_fails(i: int) -> None:
    """Every task fails, in words a user would search for."""
    await asyncio.sleep(0.001)
    raise ConnectionRefusedError(111, "Connect call failed ('127.0.0.1', 6390)")


async def to_thread_sleep(i: int) -> None:
    """Blocking work handed to asyncio's default executor, as aiofiles does: its threads are the cap."""
    await asyncio.to_thread(time.sleep, 0.01)


async def spin(i: int) -> None:
    """2 ms of the CPU and no I/O: one event loop runs these one at a time."""
    end = time.perf_counter() + 0.002
    while time.perf_counter() < end:
        pass
    await asyncio.sleep(0)
