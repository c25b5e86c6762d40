"""The local test server's aiohttp app: its endpoints, the precise delays, and the record ``/stats`` answers.

Endpoints (in the style of go-httpbin):
    /delay/{duration}   wait 37.5ms | 0.2s | 250us | 1 (seconds) from the request's arrival, precisely on either
                        loop (``bench.server.precise``: within about 0.1 ms); ?bytes=N&status=CODE; ?fault=reset drops
                        the connection after the delay, ?fault=hang never answers
    /bytes/{n}          n bytes of body
    /status/{code}      an empty answer with that status (200-599)
    /health             "ok"
    /stats              JSON: the server's loop, /delay requests answered and their lateness (delivered minus
                        requested) p50/p99/max in microseconds, since start or the last ``/stats?reset=1``
                        (which answers the figures so far, then starts afresh); figures of the worker that answers
Every answer carries ``Server-Timing: svc;dur=<ms>``: the service time it got, from its arrival at the app (the
first point aiohttp's public API shows; headers are parsed by then) to just before its headers are written;
/delay answers lead with ``delay;dur=<ms requested>``, e.g. ``Server-Timing: delay;dur=0.400, svc;dur=0.412``.
Malformed or out-of-range parameters get a 400 with the reason, never a silent clamp.

The garbage collector's full passes wait until no request is in flight (``bench.collector.IdleCollector``), so a
burst of thousands of requests is not held up by them. The processes that serve it, and their lifecycle, are
``bench.server``'s.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import time
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass

from aiohttp import web

from bench.errors import RunError
from bench.limits import MAX_BYTES, MAX_DELAY_S
from bench.loops import LOOPS
from bench.results.stats import quantile
from bench.server.collector import IdleCollector
from bench.server.precise import DEFAULT_MARGIN_NS, PreciseSleeper

FAULTS = frozenset({"", "reset", "hang"})
"""``/delay?fault=``: reset drops the connection after the delay, hang never answers."""
_BLOCK = bytes(range(256)) * 256  # 64 KiB of a recognisable pattern
_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "": 1.0}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)(us|µs|ms|s)?$")


MAX_LATENESS_SAMPLES = 1_000_000
"""Lateness samples a server process keeps between resets (8 MB); later answers are counted, not sampled."""
_ARRIVED = "iobench.arrived_ns"  # request key: time.perf_counter_ns() when the request reached the app
_REQUESTED = "iobench.requested_ns"  # request key: the delay asked of /delay, in ns


def running_loop_name() -> str:
    """'uvloop' or 'asyncio': the kind of the running event loop."""
    return "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"


@dataclass(frozen=True)
class ServerStats:
    """What ``/stats`` answers: one server process's loop and the lateness of its /delay answers."""

    loop: str
    """Event loop of the server process: 'asyncio' or 'uvloop'."""
    pid: int
    """The process that answered (with several workers, each keeps its own figures)."""
    requests: int
    """/delay answers since start or the last reset."""
    lateness_p50_us: float | None
    """Median of delivered minus requested delay, microseconds (None: no answers)."""
    lateness_p99_us: float | None
    """99th percentile of delivered minus requested delay, microseconds (None: no answers)."""
    lateness_max_us: float | None
    """Largest lateness, microseconds (None: no answers)."""
    spin_margin_us: float
    """Spin window of precise delays, microseconds (0: the loop's timer alone)."""
    spin_ms: float
    """Time the server's loop spun (never blocked) finishing delays, milliseconds."""
    late_wakeups: int
    """Timer wake-ups that came after the deadline itself (the spin window was too short for them)."""
    seconds: float
    """Seconds these figures cover."""

    @classmethod
    def from_json(cls, data: dict[str, object]) -> ServerStats:
        """The record from ``/stats``' JSON; RunError if a field is missing or of the wrong type."""

        def number(key: str) -> float | None:
            value = data.get(key)
            if value is None:
                return None
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise RunError(f"the local server's /stats gave {key}={value!r}, expected a number")
            return float(value)

        def whole(key: str) -> int:
            value = data.get(key)
            if isinstance(value, bool) or not isinstance(value, int):
                raise RunError(f"the local server's /stats gave {key}={value!r}, expected a whole number")
            return value

        loop = data.get("loop")
        if loop not in LOOPS:
            raise RunError(f"the local server's /stats gave loop={loop!r}, expected one of {', '.join(LOOPS)}")
        return cls(
            loop=str(loop),
            pid=whole("pid"),
            requests=whole("requests"),
            lateness_p50_us=number("lateness_p50_us"),
            lateness_p99_us=number("lateness_p99_us"),
            lateness_max_us=number("lateness_max_us"),
            spin_margin_us=number("spin_margin_us") or 0.0,
            spin_ms=number("spin_ms") or 0.0,
            late_wakeups=whole("late_wakeups"),
            seconds=number("seconds") or 0.0,
        )


class ServerState:
    """One server process's precise sleeper and its record of /delay answers (count, lateness in ns)."""

    def __init__(self, loop: str, spin_margin_ns: int | None = None) -> None:
        self.loop = loop
        self.sleeper = PreciseSleeper(DEFAULT_MARGIN_NS if spin_margin_ns is None else spin_margin_ns)
        self.collector = IdleCollector()
        self.reset()

    def reset(self) -> None:
        """Start the record afresh."""
        self.since_ns = time.perf_counter_ns()
        self.requests = 0
        self.lateness_ns = array("q")
        self.sleeper.reset_counters()

    def record(self, lateness_ns: int) -> None:
        """Count one /delay answer that came ``lateness_ns`` after its requested delay (negative: early)."""
        self.requests += 1
        if len(self.lateness_ns) < MAX_LATENESS_SAMPLES:
            self.lateness_ns.append(lateness_ns)

    def snapshot(self) -> ServerStats:
        """The figures ``/stats`` answers."""
        values = [v / 1000 for v in self.lateness_ns]

        def us(q: float) -> float | None:
            return round(quantile(values, q), 1) if values else None

        return ServerStats(
            loop=self.loop,
            pid=os.getpid(),
            requests=self.requests,
            lateness_p50_us=us(0.5),
            lateness_p99_us=us(0.99),
            lateness_max_us=round(max(values), 1) if values else None,
            spin_margin_us=self.sleeper.margin_ns / 1000,
            spin_ms=round(self.sleeper.spin_ns / 1e6, 3),
            late_wakeups=self.sleeper.late_wakeups,
            seconds=round((time.perf_counter_ns() - self.since_ns) / 1e9, 3),
        )


_STATE = web.AppKey("iobench_state", ServerState)


def parse_duration(text: str) -> float:
    """Seconds from ``37.5ms``, ``0.2s``, ``250us`` or a bare number of seconds; ValueError with the reason."""
    match = _DURATION.match(text)
    if not match:
        raise ValueError(f"malformed duration {text!r}; use e.g. 37.5ms, 0.2s, 250us")
    seconds = float(match.group(1)) * _UNITS[match.group(2) or ""]
    if seconds > MAX_DELAY_S:
        raise ValueError(f"delay {text} is above the maximum of {MAX_DELAY_S:g}s")
    return seconds


def _int_param(text: str, name: str, low: int, high: int) -> int:
    if not text.isdigit():
        raise web.HTTPBadRequest(text=f"{name} must be a whole number, got {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise web.HTTPBadRequest(text=f"{name} must be between {low} and {high}, got {value}")
    return value


async def _body(request: web.Request, nbytes: int, status: int, headers: dict[str, str]) -> web.StreamResponse:
    if nbytes <= len(_BLOCK):
        return web.Response(body=_BLOCK[:nbytes], status=status, headers=headers)
    response = web.StreamResponse(status=status, headers=headers)
    response.content_length = nbytes
    await response.prepare(request)
    left = nbytes
    while left:
        chunk = min(left, len(_BLOCK))
        await response.write(_BLOCK[:chunk])
        left -= chunk
    await response.write_eof()
    return response


async def _delay(request: web.Request) -> web.StreamResponse:
    try:
        seconds = parse_duration(request.match_info["duration"])
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    nbytes = _int_param(request.query.get("bytes", "0"), "bytes", 0, MAX_BYTES)
    status = _int_param(request.query.get("status", "200"), "status", 200, 599)
    fault = request.query.get("fault", "")
    if fault not in FAULTS:
        raise web.HTTPBadRequest(text=f"fault must be one of {', '.join(sorted(FAULTS))}, got {fault!r}")
    requested_ns = round(seconds * 1e9)
    await request.app[_STATE].sleeper.sleep_until(request[_ARRIVED] + requested_ns)
    if fault == "reset":  # drop the connection without an answer
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    if fault == "hang":  # never answer; the client's timeout decides
        await asyncio.sleep(MAX_DELAY_S)
    request[_REQUESTED] = requested_ns
    return await _body(request, nbytes, status, {"Server-Timing": f"delay;dur={seconds * 1000:.3f}"})


async def _bytes(request: web.Request) -> web.StreamResponse:
    nbytes = _int_param(request.match_info["n"], "n", 0, MAX_BYTES)
    return await _body(request, nbytes, 200, {})


async def _status(request: web.Request) -> web.StreamResponse:
    code = _int_param(request.match_info["code"], "code", 200, 599)
    return web.Response(status=code, text="" if code in (204, 304) else None)


async def _health(request: web.Request) -> web.StreamResponse:
    return web.Response(text="ok")


async def _stats(request: web.Request) -> web.StreamResponse:
    reset = request.query.get("reset", "0")
    if reset not in ("0", "1"):
        raise web.HTTPBadRequest(text=f"reset must be 0 or 1, got {reset!r}")
    state = request.app[_STATE]
    figures = state.snapshot()
    if reset == "1":
        state.reset()
    return web.json_response(asdict(figures))


@web.middleware
async def _stamp_arrival(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Note when the request reached the app: the start of its service time and of its delay; count it in flight."""
    request[_ARRIVED] = time.perf_counter_ns()
    collector = request.app[_STATE].collector
    collector.inflight += 1
    try:
        return await handler(request)
    finally:
        collector.inflight -= 1


async def _stamp_service(request: web.Request, response: web.StreamResponse) -> None:
    """Just before the headers go out: add ``svc;dur=`` to Server-Timing and record a /delay answer's lateness."""
    now = time.perf_counter_ns()
    arrived = request.get(_ARRIVED)
    if arrived is None:
        return
    delivered = now - arrived
    timing = f"svc;dur={delivered / 1e6:.3f}"
    previous = response.headers.get("Server-Timing")
    response.headers["Server-Timing"] = f"{previous}, {timing}" if previous else timing
    requested = request.get(_REQUESTED)
    if requested is not None:
        request.app[_STATE].record(delivered - requested)


async def _start_collector(app: web.Application) -> None:
    app[_STATE].collector.start()


async def _close_sleeper(app: web.Application) -> None:
    app[_STATE].collector.stop()
    app[_STATE].sleeper.close()


def create_app(loop: str = "asyncio", spin_margin_ns: int | None = None) -> web.Application:
    """The aiohttp application with every endpoint, for a server running on ``loop`` ('asyncio' or 'uvloop')."""
    app = web.Application(middlewares=[_stamp_arrival])
    app[_STATE] = ServerState(loop, spin_margin_ns)
    app.on_response_prepare.append(_stamp_service)
    app.on_startup.append(_start_collector)
    app.on_cleanup.append(_close_sleeper)
    app.router.add_get("/delay/{duration}", _delay)
    app.router.add_get("/bytes/{n}", _bytes)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/health", _health)
    app.router.add_get("/stats", _stats)
    return app


def bind_socket(host: str, port: int, backlog: int, reuse_port: bool) -> socket.socket:
    """A listening TCP socket; ``reuse_port`` lets several worker processes share one port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuse_port:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


async def serve(
    sock: socket.socket, stop: asyncio.Event, spin_margin_ns: int | None = None, backlog: int = 1024
) -> None:
    """Serve the app on ``sock`` until ``stop`` is set, then shut down within about a second.

    ``backlog`` must be given again: the loop calls ``listen()`` anew with it (aiohttp's default is 128).
    """
    app = create_app(running_loop_name(), spin_margin_ns)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock, shutdown_timeout=1.0, backlog=backlog)
    await site.start()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
