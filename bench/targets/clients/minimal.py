"""A minimal HTTP/1.1 client for load (``client: minimal``): keep-alive GETs over asyncio protocols, a fraction of
aiohttp's CPU per request.

    pool = MinimalPool("http://127.0.0.1:8080", limit=None, sources=(), on_connected=recorder.connected)
    await pool.warm("/health", 10_000, backlog=1024)      # one GET checks the target; the rest are opened bare
    status, nbytes, server_timing, keep_alive = await pool.get(pool.request("/delay/20ms"))
    pool.close()                                           # every socket closed with an RST: no TIME_WAIT

Why: aiohttp spends about 100-150 us of a client loop's CPU on each request (measured on a 2-core machine), so past a
few thousand requests per second a load test measures the client, not the server. This client does what a load test
needs and nothing more, as Locust's FastHttpUser does beside its HttpUser: GET over HTTP/1.1 with keep-alive; bodies
delimited by Content-Length, chunked, or the connection's close; informational (1xx) answers skipped. No TLS, proxies,
redirects, cookies or compression: ``client: minimal`` refuses https URLs. A response it cannot parse
(``bench.targets.clients.http_parse``) fails its task with ``MalformedResponse`` and its connection is dropped; so does
a connection the server closes mid-answer (``ConnectionResetError``)."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import http.client
import socket
from collections.abc import AsyncIterator, Callable, Sequence
from urllib.parse import urlsplit

from bench.collector import gc_paused
from bench.errors import WarmupError
from bench.targets.clients.base import AsyncClient, AsyncOp, PoolOptions, register_client
from bench.targets.clients.http_parse import MalformedResponse, Response, ResponseParser, request_bytes
from bench.targets.clients.net import AddrInfo, client_socket_factory, warm_window, warmup_failure


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser()
        self.waiter: asyncio.Future[Response] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport (uvloop's are not ``asyncio.Transport`` subclasses, so it is not checked)."""
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        """Parse; hand a completed answer to the request waiting for it."""
        try:
            answers = self.parser.feed(data)
        except MalformedResponse as exc:
            self._fail(exc)
            return
        for answer in answers:
            if self.waiter is None or self.waiter.done():
                self._fail(MalformedResponse("an answer arrived that no request asked for"))
                return
            self.waiter.set_result(answer)
            self.waiter = None

    def usable(self) -> bool:
        """Open, and not closing: it may carry a request."""
        return not self.closed and self.transport is not None and not self.transport.is_closing()

    def eof_received(self) -> bool:
        """The server closed its side: a close-delimited answer ends here."""
        self.closed = True  # no request may start on it now
        try:
            answer = self.parser.feed_eof()
        except ConnectionResetError as exc:
            self._fail(exc)
            return False
        if answer is not None and self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(answer)
            self.waiter = None
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Closed: a request still waiting fails."""
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionResetError("the server closed the connection"))
            self.waiter = None

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
            self.waiter = None
        self.abort()

    def abort(self) -> None:
        """Close at once (an RST: the client's sockets linger 0)."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    async def request(self, data: bytes) -> Response:
        """Send one request and wait for its answer."""
        if not self.usable() or self.transport is None:
            raise ConnectionResetError("the connection is closed")
        waiter: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.waiter = waiter
        self.transport.write(data)
        return await waiter


class MinimalPool:
    """Keep-alive connections to one ``http://host:port``: at most ``limit`` open at once (None: no limit), handed to
    requests first come, first served; ``on_connected`` is called when a request gets its connection."""

    def __init__(
        self,
        base_url: str,
        limit: int | None = None,
        sources: Sequence[str] = (),
        on_connected: Callable[[], None] | None = None,
        on_opened: Callable[[], None] | None = None,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"client: minimal speaks plain http:// only, got {base_url!r}")
        self.host = parts.hostname
        self.port = parts.port or 80
        self.limit = limit or None
        self._factory = client_socket_factory(sources)
        self._on_connected = on_connected
        self._on_opened = on_opened
        self._idle: collections.deque[_Connection] = collections.deque()
        self._waiters: collections.deque[asyncio.Future[_Connection | None]] = collections.deque()
        self._all: set[_Connection] = set()
        self._count = 0
        """Connections open or opening, and slots handed to waiting requests."""
        self.created = 0
        """Connections this pool opened."""
        self._resolved: asyncio.Future[list[AddrInfo]] | None = None
        self._closed = False

    def request(self, target: str) -> bytes:
        """The bytes of a GET of ``target`` (path and query) on this pool's host."""
        return request_bytes(self.host, self.port, target)

    async def _addresses(self) -> list[AddrInfo]:
        """The host's addresses, resolved once for every connection (the one that worked first)."""
        if self._resolved is None:
            loop = asyncio.get_running_loop()

            async def resolve() -> list[AddrInfo]:
                return list(await loop.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM))

            self._resolved = loop.create_task(resolve())
        return list(await asyncio.shield(self._resolved))

    async def _open(self) -> _Connection:
        """A new connection, counted already: each address in turn until one answers."""
        loop = asyncio.get_running_loop()
        addresses = await self._addresses()
        failure: OSError | None = None
        for address in addresses:
            sock = self._factory(address)
            try:
                sock.setblocking(False)
                await loop.sock_connect(sock, address[4])
                _, connection = await loop.create_connection(_Connection, sock=sock)  # TCP_NODELAY set by the loop
            except OSError as exc:
                sock.close()
                failure = failure or exc
                continue
            except BaseException:
                sock.close()
                raise
            if address is not addresses[0] and self._resolved is not None:  # next time, this one first
                self._resolved = _done(loop, [address, *(a for a in addresses if a is not address)])
            self.created += 1
            if self._on_opened is not None:
                self._on_opened()
            if self._closed:  # the pool was closed while this one connected
                connection.abort()
                raise ConnectionResetError("the pool was closed")
            self._all.add(connection)
            return connection
        raise failure or OSError(f"{self.host} has no address")

    async def _open_reserved(self) -> _Connection:
        """Open a connection whose slot is already counted; give the slot on if that fails."""
        try:
            return await self._open()
        except BaseException:
            self._count -= 1
            self._wake_one(None)
            raise

    async def _open_counted(self) -> _Connection:
        self._count += 1
        return await self._open_reserved()

    async def acquire(self) -> _Connection:
        """A connection for one request: an idle one, a new one under the limit, or the next one freed (first come,
        first served: a slot freed while requests wait is theirs, so the limit holds)."""
        if self._closed:
            raise ConnectionResetError("the pool is closed")
        while self._idle:
            connection = self._idle.popleft()
            if connection.usable():
                return connection
            self._drop(connection)
        if self.limit is None or self._count < self.limit:
            return await self._open_counted()
        waiter: asyncio.Future[_Connection | None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            handed = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:  # handed over as we were
                given = waiter.result()  # cancelled: pass it on
                if given is None:
                    self._count -= 1
                    self._wake_one(None)
                else:
                    self.release(given, True)
            raise
        return handed if handed is not None else await self._open_reserved()

    def _wake_one(self, connection: _Connection | None) -> bool:
        """Give ``connection`` (None: a slot to open one in, counted here) to the first waiting request; False if
        none waits."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                if connection is None:
                    self._count += 1  # the slot is the waiter's from now: nobody else may take it
                waiter.set_result(connection)
                return True
        return False

    def _drop(self, connection: _Connection) -> None:
        """Close a connection for good and free its slot for a waiting request."""
        connection.abort()
        if connection in self._all:
            self._all.discard(connection)
            self._count -= 1
            self._wake_one(None)

    def release(self, connection: _Connection, reusable: bool) -> None:
        """Give a connection back after a request: to a waiting request or the idle ones, or drop it."""
        if reusable and connection.usable() and not self._closed:
            if not self._wake_one(connection):
                self._idle.append(connection)
            return
        self._drop(connection)

    async def get(self, data: bytes) -> Response:
        """One request (bytes from ``request``) on a pooled connection; its answer."""
        connection = await self.acquire()
        reusable = False
        try:
            if self._on_connected is not None:
                self._on_connected()
            answer = await connection.request(data)
            reusable = answer.keep_alive
            return answer
        finally:
            self.release(connection, reusable)

    async def warm(self, target: str, connections: int, backlog: int | None = None, timeout_s: float = 60.0) -> float:
        """Open ``connections`` idle connections: one GET of ``target`` first (the server answers, below 400), the
        rest bare, at most ``warm_window(backlog)`` connecting at once; seconds taken, or WarmupError saying why."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        url = f"http://{self.host}:{self.port}{target}"
        held: list[_Connection] = []
        gate = asyncio.Semaphore(warm_window(backlog))

        async def one() -> None:
            async with gate:
                held.append(await self._open_counted())

        with gc_paused():
            try:
                async with asyncio.timeout(timeout_s):
                    checked = await self.get(self.request(target))
                    if checked.status >= 400:
                        raise WarmupError(f"warm-up request to {url} answered HTTP {checked.status}")
                    if self._idle:
                        held.append(self._idle.popleft())
                    async with asyncio.TaskGroup() as group:
                        for _ in range(connections - len(held)):
                            group.create_task(one())
            except (OSError, http.client.HTTPException, BaseExceptionGroup) as error:
                kinds = (OSError, http.client.HTTPException)
                failure = warmup_failure(error, kinds, len(held), connections, url, timeout_s)
                if failure is None:
                    raise
                raise failure from (None if isinstance(error, TimeoutError) else error)
            finally:
                self._idle.extend(held)
        return loop.time() - start

    def close(self) -> None:
        """Close every connection at once (RST); requests still waiting for one fail."""
        self._closed = True
        for connection in list(self._all):
            connection.abort()
        self._all.clear()
        self._idle.clear()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(ConnectionResetError("the pool was closed"))


def _done(loop: asyncio.AbstractEventLoop, value: list[AddrInfo]) -> asyncio.Future[list[AddrInfo]]:
    future: asyncio.Future[list[AddrInfo]] = loop.create_future()
    future.set_result(value)
    return future


def _target(url: str) -> str:
    """Path and query of ``url``: what the request line asks for."""
    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


class MinimalClient(AsyncClient):
    """iobench's own keep-alive HTTP/1.1 client for load (``client: minimal``)."""

    name = "minimal"
    limit_name = "connection limit"

    def limit_note(self, limit: int | None) -> str:
        """'minimal HTTP client, connection limit N'."""
        return f"minimal HTTP client, connection limit {limit or 'none'}"

    @contextlib.asynccontextmanager
    async def open(self, urls: Sequence[str], warm_url: str, options: PoolOptions) -> AsyncIterator[AsyncOp]:
        """An operation ``op(i)`` that GETs ``urls[i]`` (all on one http:// origin) through a MinimalPool warmed
        with ``options.connections`` connections (when ``warm_url`` is set), each request cut off at its deadline."""
        o = options
        limit, timeout_s = o.limit, o.timeout_s
        pool = MinimalPool(urls[0] if urls else warm_url, limit, o.sources, o.on_connected, o.on_opened)
        requests = tuple(pool.request(_target(url)) for url in urls)
        get = pool.get
        try:
            if warm_url:
                await pool.warm(_target(warm_url), min(o.connections, limit or o.connections), o.backlog)

            async def op(i: int) -> tuple[int, int, str | None]:
                async with asyncio.timeout(timeout_s):
                    answer = await get(requests[i])
                return answer.status, answer.nbytes, answer.server_timing

            yield op
        finally:
            pool.close()


MINIMAL = register_client(MinimalClient())
