"""Blocking GETs over ``http.client`` for the threads strategy (the ``http.client`` stack): one keep-alive
connection per worker thread, kept for as long as the thread (a scenario's pool), not for one run.

    op = HttpSyncOp(urls, timeout_s=30.0, on_opened=recorder.opened)
    status, nbytes, server_timing = op(i)     # from any thread: that thread's connection
    close_thread_connections()                # in each thread, when its pool closes
"""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from bench.targets.clients.base import Answer, BlockingClient, SyncOp, register_client

Origin = tuple[bool, str, int]
"""(https, host, port): what a connection is kept for."""

_THREAD = threading.local()
"""This thread's connections, by origin: they outlive every op, as a program's thread-local client would."""


class _Counted(http.client.HTTPConnection):
    """An HTTPConnection that says when it opens its socket: at first use, and again each time it reconnects
    (http.client does so on its own after a server's ``Connection: close``)."""

    on_opened: Callable[[], None] | None = None

    def connect(self) -> None:
        """Open the socket, and say so."""
        super().connect()
        if self.on_opened is not None:
            self.on_opened()


class _CountedTls(http.client.HTTPSConnection):
    """The same for HTTPS."""

    on_opened: Callable[[], None] | None = None

    def connect(self) -> None:
        """Open the socket and the TLS session, and say so."""
        super().connect()
        if self.on_opened is not None:
            self.on_opened()


def _connections() -> dict[Origin, _Counted | _CountedTls]:
    found: dict[Origin, _Counted | _CountedTls] | None = getattr(_THREAD, "connections", None)
    if found is None:
        found = _THREAD.connections = {}
    return found


def close_thread_connections() -> None:
    """Close the calling thread's connections."""
    connections = _connections()
    for connection in connections.values():
        connection.close()
    connections.clear()


class HttpSyncOp:
    """Blocking GETs with ``http.client`` on the calling thread's connection (opened on first use)."""

    def __init__(self, urls: Sequence[str], timeout_s: float, on_opened: Callable[[], None] | None = None) -> None:
        parts = [urlsplit(u) for u in urls] or [urlsplit("http://127.0.0.1")]
        https = parts[0].scheme == "https"
        self.origin: Origin = (https, parts[0].hostname or "127.0.0.1", parts[0].port or (443 if https else 80))
        self.paths = tuple(f"{p.path}?{p.query}" if p.query else p.path for p in parts)
        self.timeout_s = timeout_s
        self.on_opened = on_opened

    def _connection(self) -> _Counted | _CountedTls:
        connections = _connections()
        connection = connections.get(self.origin)
        if connection is None:
            https, host, port = self.origin
            kind = _CountedTls if https else _Counted
            connection = connections[self.origin] = kind(host, port, timeout=self.timeout_s)
        connection.on_opened = self.on_opened  # this run's recorder
        return connection

    def get(self, path: str) -> Answer:
        """GET ``path`` on this thread's connection; on any error drop the connection and re-raise."""
        connection = self._connection()
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        except BaseException:
            connection.close()
            _connections().pop(self.origin, None)
            raise
        return response.status, len(body), response.getheader("Server-Timing")

    def __call__(self, i: int) -> Answer:
        """Perform task i."""
        return self.get(self.paths[i])


class HttpClientStack(BlockingClient):
    """``http.client``, one keep-alive connection per thread: what pre-asyncio code does."""

    name = "http.client"

    def op(self, urls: Sequence[str], timeout_s: float, on_opened: Callable[[], None] | None = None) -> SyncOp:
        """GETs on the calling thread's connection."""
        return HttpSyncOp(urls, timeout_s, on_opened)

    def warm(self, warm_url: str, timeout_s: float) -> None:
        """Open the calling thread's connection with a GET of ``warm_url``."""
        if warm_url:
            op = HttpSyncOp((warm_url,), timeout_s)
            op.get(op.paths[0])

    def close_thread(self) -> None:
        """Close the calling thread's connections."""
        close_thread_connections()


HTTP_CLIENT = register_client(HttpClientStack())
