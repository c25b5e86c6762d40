"""Connection-level helpers: a paced pool warm-up, client sockets that leave no TIME_WAIT, and port accounting.

    connector = scale_connector(limit=0, sources=plan.sources)      # SO_LINGER 0, spread over source addresses
    async with aiohttp.ClientSession(connector=connector) as session:
        await paced_warm(session, connector, warm_url, 10_000, backlog=1024)   # WarmupError on failure
    time_wait_count()                                                 # sockets the kernel holds in TIME_WAIT
    plan = plan_sources(20_000, host="127.0.0.1")                    # PortPlan, or EnvironmentLimitError

Why these choices (measured on a 2-core Linux box, ephemeral ports 32768-60999):
- **Paced warm-up.** 10,000 simultaneous connects overflow the server's listen backlog; dropped SYNs are retried
  by the kernel after 1 s, 3 s, ... so the warm-up took 6-14 s. ``PacedConnector`` lets at most ``window`` connects
  be in flight at once (a sliding window no larger than the backlog). One GET checks the target; the other
  connections are opened bare (no request each: that halved the warm-up's client CPU, measured at 10,000
  connections: 1.6-1.8 s against 2.5-3.3 s with a request each) and held until all are open, so exactly N are
  opened. The window bounds connects in flight, not connections the server has yet to accept: a completed
  handshake waits in the accept queue until the server takes it. That queue stays short because accepting is far
  cheaper for the server than connecting is for one client loop: measured, not guaranteed (no listen overflow was
  counted in 10,000-connection warm-ups, ``TcpExt ListenOverflows``); a server too busy to accept can still make a
  SYN wait a second for its retransmission.
- **No TIME_WAIT on the client.** Every run closes its pool; the closing side keeps each 4-tuple in TIME_WAIT for
  60 s, and a few 10,000-connection runs in a row exhaust the ports. The client's sockets are closed with
  ``SO_LINGER {on, 0}`` (an RST instead of a FIN): no TIME_WAIT on either side, and every run starts from the same
  empty state, so runs stay independent. Data is never lost this way: the pool is only closed after the run, when
  every response has been read.
- **Beyond one source address.** A connected TCP socket is unique by its 4-tuple: one source address can hold at
  most one connection per ephemeral port to a given server address. With ``IP_BIND_ADDRESS_NO_PORT`` the port is
  chosen at ``connect()`` by 4-tuple, so each extra loopback source address (127.0.0.2, 127.0.0.3, ...) adds a
  full port range. ``plan_sources`` says how many addresses a run needs, or refuses naming the limit.

This module leans on aiohttp's private ``TCPConnector._create_connection`` (aiohttp >= 3.12, which also brings
``socket_factory``); the rest is aiohttp's documented API (``BaseConnector.connect``, ``Connection.release``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import math
import socket
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from bench.collector import gc_paused
from bench.errors import EnvironmentLimitError, WarmupError

TCP_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")
"""Linux's tables of TCP sockets (one line per socket, hex fields)."""
TIME_WAIT = 0x06
"""``st`` of a socket in TIME_WAIT in /proc/net/tcp (include/net/tcp_states.h)."""
WARM_WINDOW = 512
"""Most connects in flight at once during a warm-up (also capped by the server's listen backlog)."""
PORT_HEADROOM = 1024
"""Ephemeral ports left free per source address for everything else on the machine."""
MAX_SOURCES = 64
"""Most loopback source addresses a run spreads over (127.0.0.1 .. 127.0.0.64)."""
_NO_REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=None)
_LINGER_RST = struct.pack("ii", 1, 0)
_IP_BIND_ADDRESS_NO_PORT = getattr(socket, "IP_BIND_ADDRESS_NO_PORT", 24)  # Linux; absent from Python's list


# --- counting what the kernel holds -------------------------------------------------------------------------------


def count_tcp_states(table: str, state: int = TIME_WAIT, remote_port: int | None = None) -> int:
    """Sockets in ``state`` in the text of /proc/net/tcp or tcp6 (optionally only those to ``remote_port``). Pure.

    >>> rows = ["sl local rem st", "0: 0100007F:9C40 0100007F:1F90 06", "1: 0100007F:9C41 0100007F:1F90 01"]
    >>> count_tcp_states(chr(10).join(rows))
    1
    """
    count = 0
    for line in table.splitlines()[1:]:  # the first line is the header
        fields = line.split()
        if len(fields) < 4:
            continue
        try:
            st = int(fields[3], 16)
            port = int(fields[2].rpartition(":")[2], 16)
        except ValueError:
            continue
        if st == state and (remote_port is None or port == remote_port):
            count += 1
    return count


def time_wait_count(remote_port: int | None = None, tables: Iterable[str] = TCP_TABLES) -> int | None:
    """Sockets this machine (network namespace) holds in TIME_WAIT, or None where /proc/net/tcp is not readable."""
    total, seen = 0, False
    for path in tables:
        try:
            text = Path(path).read_text(encoding="ascii", errors="replace")
        except OSError:
            continue
        seen = True
        total += count_tcp_states(text, TIME_WAIT, remote_port)
    return total if seen else None


def local_port_range(path: str = "/proc/sys/net/ipv4/ip_local_port_range") -> tuple[int, int] | None:
    """(low, high) of the ephemeral ports (net.ipv4.ip_local_port_range), or None if unknown."""
    try:
        low, high = Path(path).read_text(encoding="ascii").split()
    except (OSError, ValueError):
        return None
    return int(low), int(high)


# --- planning source addresses -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PortPlan:
    """How a run's connections fit in the ephemeral ports: the source addresses to spread them over."""

    connections: int
    """Connections the run may hold open at once (all client processes together)."""
    ports_per_source: int
    """Ephemeral ports usable per source address: the range, less TIME_WAIT and headroom."""
    sources: tuple[str, ...]
    """Source addresses to bind, e.g. ("127.0.0.1", "127.0.0.2"); () lets the kernel choose (one is enough)."""
    time_wait: int
    """TIME_WAIT sockets counted when the plan was made."""

    def describe(self) -> str:
        """One line for the pre-run report."""
        where = f"{len(self.sources)} source addresses" if self.sources else "1 source address"
        return (
            f"{self.connections} connections over {where}, {self.ports_per_source} usable ports each "
            f"({self.time_wait} in TIME_WAIT)"
        )


def plan_sources(
    connections: int,
    *,
    host: str,
    port_range: tuple[int, int] | None,
    time_wait: int,
    fd_limit: int | None = None,
    max_sources: int = MAX_SOURCES,
    headroom: int = PORT_HEADROOM,
) -> PortPlan:
    """How many source addresses ``connections`` to ``host`` need; EnvironmentLimitError naming the limit. Pure.

    >>> plan_sources(40_000, host="127.0.0.1", port_range=(32768, 60999), time_wait=0).sources
    ('127.0.0.1', '127.0.0.2')
    """
    if fd_limit is not None and connections > fd_limit:
        raise EnvironmentLimitError(
            f"{connections} connections open at once need {connections} file descriptors, but the limit is "
            f"{fd_limit} (ulimit -n); raise it or set connector_limit"
        )
    if port_range is None:  # not Linux, or no /proc: nothing to plan with
        return PortPlan(connections, 0, (), time_wait)
    low, high = port_range
    usable = max(high - low + 1 - time_wait - headroom, 0)
    if connections <= usable:
        return PortPlan(connections, usable, (), time_wait)
    needed = math.ceil(connections / usable) if usable else math.inf
    limit = f"net.ipv4.ip_local_port_range is {low}-{high} ({high - low + 1} ports, {time_wait} in TIME_WAIT)"
    if not _is_ipv4_loopback(host):
        raise EnvironmentLimitError(
            f"{connections} connections open at once to {host} do not fit in one source address: {limit}; "
            f"set connector_limit to at most {usable}"
        )
    if needed > max_sources:
        raise EnvironmentLimitError(
            f"{connections} connections open at once would need {needed} loopback source addresses, more than "
            f"the {max_sources} iobench spreads over: {limit}; set connector_limit"
        )
    base = int(ipaddress.IPv4Address("127.0.0.1"))
    sources = tuple(str(ipaddress.IPv4Address(base + i)) for i in range(int(needed)))
    return PortPlan(connections, usable, sources, time_wait)


def _is_ipv4_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.version == 4 and address.is_loopback


# --- the client's sockets ------------------------------------------------------------------------------------------

AddrInfo = tuple[int, int, int, str, tuple[Any, ...]]
"""One ``getaddrinfo`` entry: family, type, proto, canonname, sockaddr."""


def client_socket_factory(sources: Sequence[str] = ()) -> Any:
    """A ``socket_factory`` for aiohttp: SO_LINGER 0 (no TIME_WAIT), bound in turn to each of ``sources``."""
    turn = itertools.cycle(sources) if sources else None

    def factory(addr_info: AddrInfo) -> socket.socket:
        family, type_, proto, _, _ = addr_info
        sock = socket.socket(family=family, type=type_, proto=proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
            if turn is not None and family == socket.AF_INET:
                sock.setsockopt(socket.IPPROTO_IP, _IP_BIND_ADDRESS_NO_PORT, 1)
                sock.bind((next(turn), 0))
        except BaseException:
            sock.close()
            raise
        return sock

    return factory


class PacedConnector(aiohttp.TCPConnector):
    """A TCPConnector that counts the connections it opens and can pace them: while pacing, at most ``window``
    connects are in flight at once (from the socket's creation until the handshake completes)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._gate: asyncio.Semaphore | None = None
        self.created = 0
        """Connections this connector opened."""

    def pace(self, window: int | None) -> None:
        """Let at most ``window`` connects be in flight at once from now on; None lifts the limit."""
        self._gate = asyncio.Semaphore(window) if window else None

    async def _create_connection(self, req: Any, traces: Any, timeout: Any) -> Any:
        async with self._gate or contextlib.nullcontext():
            self.created += 1
            return await super()._create_connection(req, traces, timeout)


def scale_connector(limit: int | None, sources: Sequence[str] = (), **kwargs: Any) -> PacedConnector:
    """The connector for a timed run: ``limit`` (None or 0: unlimited), RST on close, spread over ``sources``."""
    return PacedConnector(limit=limit or 0, limit_per_host=0, socket_factory=client_socket_factory(sources), **kwargs)


def warm_window(backlog: int | None, window: int = WARM_WINDOW) -> int:
    """Connects in flight during a warm-up: ``window``, and no more than the server's listen backlog."""
    return max(1, min(window, backlog)) if backlog else window


async def paced_warm(
    session: aiohttp.ClientSession,
    connector: PacedConnector,
    url: str,
    connections: int,
    *,
    backlog: int | None = None,
    timeout_s: float = 60.0,
) -> float:
    """Open ``connections`` pooled keep-alive connections to ``url``; seconds taken, or WarmupError saying why.

    One GET first (the target answers, and without an error status); then the rest are opened as bare connections
    through the connector (``BaseConnector.connect``), each held until all are open, so each is a new one, and
    released into the pool together. At most ``warm_window(backlog)`` connects are in flight at once (a bound on
    connects, not on the server's accept queue: see the module docstring).
    """
    loop = asyncio.get_running_loop()
    start = loop.time()
    held: list[aiohttp.connector.Connection] = []

    async def one() -> None:
        held.append(await connector.connect(request, [], _NO_REQUEST_TIMEOUT))

    with gc_paused():  # untimed, so without collector passes: with thousands of connections they were a third of it
        request = aiohttp.ClientRequest("GET", URL(url), loop=loop)
        connector.pace(warm_window(backlog))
        try:
            async with asyncio.timeout(timeout_s):
                async with session.get(url, timeout=_NO_REQUEST_TIMEOUT) as response:  # the warm-up bounds it
                    await response.read()
                    if response.status >= 400:
                        raise WarmupError(f"warm-up request to {url} answered HTTP {response.status}")
                async with asyncio.TaskGroup() as group:  # the first failure cancels the rest, none is left behind
                    for _ in range(connections):  # the first takes the checked connection from the pool
                        group.create_task(one())
        except (aiohttp.ClientError, OSError, BaseExceptionGroup) as error:
            failure = warmup_failure(error, (aiohttp.ClientError, OSError), len(held), connections, url, timeout_s)
            if failure is None:
                raise
            raise failure from (None if isinstance(error, TimeoutError) else _first_leaf(error))
        finally:
            connector.pace(None)
            for connection in held:
                connection.release()
    return loop.time() - start


def warmup_failure(
    error: BaseException,
    kinds: tuple[type[BaseException], ...],
    opened: int,
    connections: int,
    url: str,
    timeout_s: float,
) -> WarmupError | None:
    """The WarmupError a warm-up's failure stands for: its own timeout (a bare TimeoutError), or the first error of
    ``kinds`` inside (nested) exception groups; None for anything else, to be raised as it is."""
    if isinstance(error, TimeoutError):
        return WarmupError(
            f"the warm-up opened {opened} of {connections} connections to {url} in {timeout_s:g} s and was stopped"
        )
    first = _first_leaf(error)
    if isinstance(first, kinds):
        return WarmupError(
            f"the warm-up failed after {opened} of {connections} connections to {url}: {type(first).__name__}: {first}"
        )
    return None


def _first_leaf(error: BaseException) -> BaseException:
    """The first exception inside nested exception groups."""
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error
