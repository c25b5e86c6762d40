"""Blocking GETs over ``http.client`` for the threads strategy (the ``http.client`` stack): one keep-alive
connection per calling thread.

    op = HttpSyncOp(urls, timeout_s=30.0)
    status, nbytes, server_timing = op(i)     # from any thread
    op.close()
"""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Callable, Iterator, Sequence
from urllib.parse import urlsplit

from bench.targets.clients.base import Answer, BlockingClient, SyncOp, register_client


class HttpSyncOp:
    """Blocking GETs with ``http.client``: one keep-alive connection per calling thread."""

    def __init__(self, urls: Sequence[str], timeout_s: float) -> None:
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

    def get(self, path: str) -> Answer:
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
        return response.status, len(body), response.getheader("Server-Timing")

    def __call__(self, i: int) -> Answer:
        """Perform task i."""
        return self.get(self.paths[i])

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()


class HttpClientStack(BlockingClient):
    """``http.client``, one keep-alive connection per thread: what pre-asyncio code does."""

    name = "http.client"

    @contextlib.contextmanager
    def open(self, urls: Sequence[str], warm_url: str, timeout_s: float) -> Iterator[tuple[SyncOp, Callable[[], None]]]:
        """One connection per worker thread, each opened by the warm-up (a GET of ``warm_url``'s path)."""
        op = HttpSyncOp(urls, timeout_s)
        path = urlsplit(warm_url).path

        def warm() -> None:
            if warm_url:
                op.get(path)

        try:
            yield op, warm
        finally:
            op.close()


register_client(HttpClientStack())
