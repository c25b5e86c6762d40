"""Targets: what one task does. An operation ``op(i)`` performs task ``i`` and returns (status, body bytes).

    op = http_op(session, urls)          # the local server (aiohttp), one GET per task
    op = sleep_op(delays_ms)             # asyncio.sleep only: the scheduler's floor, no sockets
    op = callable_op(user_function)      # the user's own ``async def f(i)``

Each has a blocking twin for thread-pool strategies (``http_sync_op``, ``sleep_sync_op``, the user's plain
function). The runner wraps an operation with timing and bookkeeping; the strategy decides the schedule.
"""

from __future__ import annotations

import asyncio
import http.client
import importlib
import inspect
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from bench.errors import ScenarioError

AsyncOp = Callable[[int], Awaitable[tuple[int, int]]]
"""``await op(i)`` -> (HTTP status or 0, body bytes); raises on failure."""
SyncOp = Callable[[int], tuple[int, int]]
"""The blocking twin of AsyncOp."""


def http_op(session: aiohttp.ClientSession, urls: tuple[str, ...]) -> AsyncOp:
    """GET ``urls[i]`` with the session and read the whole body."""
    get = session.get

    async def op(i: int) -> tuple[int, int]:
        async with get(urls[i]) as response:
            body = await response.read()
            return response.status, len(body)

    return op


def sleep_op(delays_ms: tuple[float, ...]) -> AsyncOp:
    """``asyncio.sleep`` for task i's delay: no sockets, only the event loop's timers."""
    delays_s = tuple(d / 1000 for d in delays_ms)
    sleep = asyncio.sleep

    async def op(i: int) -> tuple[int, int]:
        await sleep(delays_s[i])
        return 0, 0

    return op


def callable_op(function: Callable[[int], Awaitable[Any]]) -> AsyncOp:
    """The user's ``async def f(i)``; its return value is ignored."""

    async def op(i: int) -> tuple[int, int]:
        await function(i)
        return 0, 0

    return op


class HttpSyncOp:
    """Blocking GETs with ``http.client``: one keep-alive connection per calling thread."""

    def __init__(self, urls: tuple[str, ...], timeout_s: float) -> None:
        parts = [urlsplit(u) for u in urls] or [urlsplit("http://127.0.0.1")]
        self.host = parts[0].hostname or "127.0.0.1"
        self.https = parts[0].scheme == "https"
        self.port = parts[0].port or (443 if self.https else 80)
        self.paths = tuple(f"{p.path}?{p.query}" if p.query else p.path for p in parts)
        self.timeout_s = timeout_s
        self._local = threading.local()
        self._lock = threading.Lock()
        self._all: list[http.client.HTTPConnection] = []

    def _connection(self) -> http.client.HTTPConnection:
        conn: http.client.HTTPConnection | None = getattr(self._local, "conn", None)
        if conn is None:
            kind = http.client.HTTPSConnection if self.https else http.client.HTTPConnection
            conn = kind(self.host, self.port, timeout=self.timeout_s)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    def get(self, path: str) -> tuple[int, int]:
        """GET ``path`` on this thread's connection; on any error drop the connection and re-raise."""
        conn = self._connection()
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            body = response.read()
        except BaseException:
            conn.close()
            self._local.conn = None
            raise
        return response.status, len(body)

    def __call__(self, i: int) -> tuple[int, int]:
        """Perform task i."""
        return self.get(self.paths[i])

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


def sleep_sync_op(delays_ms: tuple[float, ...]) -> SyncOp:
    """``time.sleep`` for task i's delay."""
    delays_s = tuple(d / 1000 for d in delays_ms)

    def op(i: int) -> tuple[int, int]:
        time.sleep(delays_s[i])
        return 0, 0

    return op


def callable_sync_op(function: Callable[[int], Any]) -> SyncOp:
    """The user's plain ``def f(i)``; its return value is ignored."""

    def op(i: int) -> tuple[int, int]:
        function(i)
        return 0, 0

    return op


def import_callable(spec: str, where: str) -> Callable[..., Any]:
    """Import ``package.module:function``; ScenarioError naming ``where`` when it cannot be found."""
    module_name, _, attr = spec.partition(":")
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ScenarioError(f"{where}: cannot import module {module_name!r} ({exc})") from None
    function = getattr(module, attr, None)
    if function is None or not callable(function):
        raise ScenarioError(f"{where}: module {module_name!r} has no function {attr!r}")
    return function  # type: ignore[no-any-return]


def is_async(function: Callable[..., Any]) -> bool:
    """True for an ``async def`` function (what the asyncio strategies need)."""
    return inspect.iscoroutinefunction(function)
