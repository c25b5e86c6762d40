"""The local test server: aiohttp, in its own process, on 127.0.0.1 and an ephemeral port.

    with LocalServer(loop="uvloop") as url:     # spawns the process, waits until it listens
        ...  GET f"{url}/delay/37.5ms?bytes=1024"

Endpoints (in the style of go-httpbin):
    /delay/{duration}   wait 37.5ms | 0.2s | 250us | 1 (seconds) from the request's arrival, precisely on either
                        loop (``bench.precise``: within about 0.1 ms); ?bytes=N&status=CODE; ?fault=reset drops
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

Lifecycle (the runner's view): ``LocalServer.ensure(current, workers=, backlog=, loop=)`` gives a running, healthy
server with those options; ``restart_if_dead()`` restarts a dead one (same port when free) and says how it died;
``stats(reset=True)`` reads ``/stats`` as a ``ServerStats`` record.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import ipaddress
import json
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import IO

from aiohttp import web

from bench.errors import EnvironmentLimitError, RunError, UsageError
from bench.limits import MAX_BYTES, MAX_DELAY_S
from bench.loops import LOOPS, fastest_available, loop_factory
from bench.precise import DEFAULT_MARGIN_NS, PreciseSleeper
from bench.stats import quantile

FAULTS = frozenset({"", "reset", "hang"})
"""``/delay?fault=``: reset drops the connection after the delay, hang never answers."""
_BLOCK = bytes(range(256)) * 256  # 64 KiB of a recognisable pattern
_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "": 1.0}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)(us|µs|ms|s)?$")


MAX_LATENESS_SAMPLES = 1_000_000
"""Lateness samples a server process keeps between resets (8 MB); later answers are counted, not sampled."""
SWITCH_INTERVAL_S = 0.0002
"""GIL switch interval of a server process: a busy loop hands the GIL to the delay timer thread within 0.2 ms."""
_ARRIVED = "iobench.arrived_ns"  # request key: time.perf_counter_ns() when the request reached the app
_REQUESTED = "iobench.requested_ns"  # request key: the delay asked of /delay, in ns


def running_loop_name() -> str:
    """'uvloop' or 'asyncio': the kind of the running event loop."""
    return "uvloop" if type(asyncio.get_running_loop()).__module__.startswith("uvloop") else "asyncio"


class ServerState:
    """One server process's precise sleeper and its record of /delay answers (count, lateness in ns)."""

    def __init__(self, loop: str, spin_margin_ns: int | None = None) -> None:
        self.loop = loop
        self.sleeper = PreciseSleeper(DEFAULT_MARGIN_NS if spin_margin_ns is None else spin_margin_ns)
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

    def snapshot(self) -> dict[str, str | int | float | None]:
        """The figures ``/stats`` answers (see ``ServerStats``)."""
        values = [v / 1000 for v in self.lateness_ns]

        def us(q: float) -> float | None:
            return round(quantile(values, q), 1) if values else None

        return {
            "loop": self.loop,
            "pid": os.getpid(),
            "requests": self.requests,
            "lateness_p50_us": us(0.5),
            "lateness_p99_us": us(0.99),
            "lateness_max_us": round(max(values), 1) if values else None,
            "spin_margin_us": self.sleeper.margin_ns / 1000,
            "spin_ms": round(self.sleeper.spin_ns / 1e6, 3),
            "late_wakeups": self.sleeper.late_wakeups,
            "seconds": round((time.perf_counter_ns() - self.since_ns) / 1e9, 3),
        }


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


def parse_server_timing(value: str) -> dict[str, float]:
    """Durations in ms by metric name from a ``Server-Timing`` value: ``"delay;dur=0.4, svc;dur=0.41"``.

    >>> parse_server_timing("delay;dur=0.400, svc;dur=0.412")
    {'delay': 0.4, 'svc': 0.412}

    Metrics without a readable ``dur`` are left out (the header is the server's word, not a contract to enforce).
    """
    durations: dict[str, float] = {}
    for metric in value.split(","):
        name, *params = (part.strip() for part in metric.split(";"))
        for param in params:
            key, _, number = param.partition("=")
            if key.strip().lower() == "dur" and name:
                with contextlib.suppress(ValueError):
                    durations[name] = float(number.strip().strip('"'))
    return durations


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
    return web.json_response(figures)


@web.middleware
async def _stamp_arrival(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Note when the request reached the app: the start of its service time and of its delay."""
    request[_ARRIVED] = time.perf_counter_ns()
    return await handler(request)


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


async def _close_sleeper(app: web.Application) -> None:
    app[_STATE].sleeper.close()


def create_app(loop: str = "asyncio", spin_margin_ns: int | None = None) -> web.Application:
    """The aiohttp application with every endpoint, for a server running on ``loop`` ('asyncio' or 'uvloop')."""
    app = web.Application(middlewares=[_stamp_arrival])
    app[_STATE] = ServerState(loop, spin_margin_ns)
    app.on_response_prepare.append(_stamp_service)
    app.on_cleanup.append(_close_sleeper)
    app.router.add_get("/delay/{duration}", _delay)
    app.router.add_get("/bytes/{n}", _bytes)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/health", _health)
    app.router.add_get("/stats", _stats)
    return app


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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


def _child_main(argv: list[str]) -> int:
    """Entry point of a server process: bind, print ``ready PORT LOOP``, serve until stdin closes or SIGTERM."""
    parser = argparse.ArgumentParser(prog="python -m bench.server", description="one iobench server process")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--backlog", type=int, default=1024)
    parser.add_argument("--reuse-port", action="store_true", help="share the port with other workers")
    parser.add_argument("--loop", choices=LOOPS, default=None, help="event loop (default: uvloop when installed)")
    parser.add_argument("--spin-margin-us", type=int, default=None, help="spin window of precise delays; 0: none")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    try:
        factory = fastest_available() if args.loop is None else loop_factory(args.loop)
    except EnvironmentLimitError as exc:
        print(f"error {exc}", flush=True)
        return 2
    try:
        sock = bind_socket(args.host, args.port, args.backlog, args.reuse_port)
    except OSError as exc:
        print(f"error cannot listen on {args.host}:{args.port}: {exc.strerror}", flush=True)
        return 2
    margin_ns = None if args.spin_margin_us is None else args.spin_margin_us * 1000
    sys.setswitchinterval(SWITCH_INTERVAL_S)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)

        def on_stdin() -> None:  # the parent closed our stdin, or died: either way, stop
            if not os.read(sys.stdin.fileno(), 4096):
                stop.set()
                loop.remove_reader(sys.stdin.fileno())

        loop.add_reader(sys.stdin.fileno(), on_stdin)
        task = asyncio.ensure_future(serve(sock, stop, margin_ns, args.backlog))
        await asyncio.sleep(0)
        print(f"ready {sock.getsockname()[1]} {running_loop_name()}", flush=True)
        await task

    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main())
    return 0


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


def _resolve_loop(loop: str | None) -> str:
    """The loop a server will run: ``loop`` checked (an IobenchError naming the fix), or the fastest installed."""
    if loop is None:
        return "asyncio" if fastest_available() is None else "uvloop"
    loop_factory(loop)
    return loop


class LocalServer:
    """The test server in child processes (fresh interpreters), always stopped on exit, error or Ctrl-C.

    Each child is ``python -m bench.server``; it stops when its stdin closes, so it cannot outlive the parent.
    ``loop``: 'asyncio', 'uvloop' or None (uvloop when installed); ``LocalServer.loop`` is the one that runs.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        workers: int = 1,
        backlog: int = 1024,
        loop: str | None = None,
        spin_margin_us: int | None = None,
        start_timeout_s: float = 15.0,
        allow_non_loopback: bool = False,
    ) -> None:
        if not is_loopback(host) and not allow_non_loopback:
            raise UsageError(f"refusing to serve on {host}: the test server binds loopback addresses only")
        self.host, self.port, self.workers, self.backlog = host, port, workers, backlog
        self.loop = _resolve_loop(loop)
        """Event loop of the server processes: 'asyncio' or 'uvloop' (each child confirms it at start)."""
        self.spin_margin_us = spin_margin_us
        self.start_timeout_s = start_timeout_s
        self._procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

    @classmethod
    def ensure(
        cls, current: LocalServer | None, *, workers: int = 1, backlog: int = 1024, loop: str | None = None
    ) -> LocalServer:
        """``current`` if it is alive, healthy and has these options; else ``current`` stopped and a new one started.

        server = LocalServer.ensure(server, workers=2, backlog=4096, loop="asyncio")
        """
        wanted = _resolve_loop(loop)
        if current is not None:
            if (current.workers, current.backlog, current.loop) == (workers, backlog, wanted) and current.healthy():
                return current
            current.stop()
        server = cls(workers=workers, backlog=backlog, loop=wanted)
        server.start()
        return server

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43127``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def pids(self) -> list[int]:
        """PIDs of the server processes."""
        return [p.pid for p in self._procs]

    def alive(self) -> bool:
        """True while every server process runs."""
        return bool(self._procs) and all(p.poll() is None for p in self._procs)

    def healthy(self, timeout_s: float = 2.0) -> bool:
        """True if every process runs and ``/health`` answers "ok" within ``timeout_s``."""
        if not self.alive():
            return False
        try:
            status, body = self._get("/health", timeout_s)
        except (OSError, http.client.HTTPException):
            return False
        return status == 200 and body == b"ok"

    def exit_status(self) -> str:
        """How the server processes ended, e.g. 'pid 4242 killed by SIGKILL'."""
        parts = []
        for proc in self._procs:
            code = proc.poll()
            if code is None:
                continue
            how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
            parts.append(f"pid {proc.pid} {how}")
        return ", ".join(parts) or "running"

    def death(self) -> str | None:
        """None while every process runs; else how they ended, e.g. 'pid 4242 killed by SIGKILL'."""
        if self.alive():
            return None
        return self.exit_status() if self._procs else "not started"

    def restart_if_dead(self) -> str | None:
        """None if the server runs; else restart it (same port when free) and say how it had ended."""
        reason = self.death()
        if reason is not None:
            self.restart()
        return reason

    def stats(self, reset: bool = False, timeout_s: float = 5.0) -> ServerStats:
        """``/stats`` of a server process; ``reset``: its figures so far, then it starts afresh. RunError if none."""
        try:
            status, body = self._get("/stats?reset=1" if reset else "/stats", timeout_s)
            data = json.loads(body) if status == 200 else None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise RunError(f"the local server's /stats did not answer: {exc}") from None
        if not isinstance(data, dict):
            raise RunError(f"the local server's /stats answered status {status}: {body[:200]!r}")
        return ServerStats.from_json(data)

    def _get(self, path: str, timeout_s: float) -> tuple[int, bytes]:
        """A blocking GET on a fresh connection: (status, body)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=timeout_s)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()

    def _spawn_one(self, port: int) -> int:
        log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child; closed in stop()
        self._logs.append(log)
        args = [sys.executable, "-m", "bench.server", "--host", self.host, "--port", str(port)]
        args += ["--backlog", str(self.backlog), "--loop", self.loop]
        if self.workers > 1:
            args.append("--reuse-port")
        if self.spin_margin_us is not None:
            args += ["--spin-margin-us", str(self.spin_margin_us)]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, close_fds=True)
        self._procs.append(proc)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], self.start_timeout_s)
        line = proc.stdout.readline().decode(errors="replace").strip() if ready else ""
        if line.startswith("ready "):
            _, bound, loop = line.split()
            if loop != self.loop:
                raise RunError(f"the local server runs on {loop}, not on the {self.loop} it was asked for")
            return int(bound)
        if not ready:
            raise RunError(f"the local server did not start within {self.start_timeout_s:g}s")
        if line.startswith("error "):
            raise RunError(line.removeprefix("error "))
        proc.wait(5)
        log.seek(0)
        tail = log.read().decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise RunError(f"the local server exited at start (exit code {proc.returncode}): {tail[0]}")

    def start(self) -> str:
        """Start the server processes and return the base URL."""
        try:
            self.port = self._spawn_one(self.port)
            for _ in range(self.workers - 1):
                self._spawn_one(self.port)
        except BaseException:
            self.stop()
            raise
        return self.url

    def stop(self) -> None:
        """Close every child's stdin (it stops gracefully), then terminate or kill whatever is still there."""
        for proc in self._procs:
            if proc.stdin is not None:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
        for proc in self._procs:
            for action in (None, proc.terminate, proc.kill):
                if action is not None:
                    action()
                try:
                    proc.wait(3.0)
                    break
                except subprocess.TimeoutExpired:
                    continue
            if proc.stdout is not None:
                proc.stdout.close()
        for log in self._logs:
            log.close()
        self._procs.clear()
        self._logs.clear()

    def restart(self) -> str:
        """Stop whatever is left and start afresh: on the same port when it is free, else on a new one."""
        self.stop()
        try:
            return self.start()
        except RunError:
            if self.port == 0:
                raise
            self.port = 0
            return self.start()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_foreground(
    host: str, port: int, on_ready: Callable[[str], None], backlog: int = 1024, loop: str | None = None
) -> None:
    """Serve in this process until Ctrl-C or SIGTERM (``iobench serve``); ``on_ready`` gets the URL."""

    async def main() -> None:
        sock = bind_socket(host, port, backlog, reuse_port=False)
        stop = asyncio.Event()
        running = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            running.add_signal_handler(sig, stop.set)
        bound = sock.getsockname()
        shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        on_ready(f"http://{shown}:{bound[1]}")
        await serve(sock, stop, backlog=backlog)

    factory = fastest_available() if loop is None else loop_factory(loop)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main())


if __name__ == "__main__":  # python -m bench.server --host H --port P [--loop L] (started by LocalServer)
    raise SystemExit(_child_main(sys.argv[1:]))
