"""The local test server: aiohttp, in its own process, on 127.0.0.1 and an ephemeral port.

    with LocalServer() as url:          # spawns the process, waits until it listens
        ...  GET f"{url}/delay/37.5ms?bytes=1024"

Endpoints (in the style of go-httpbin):
    /delay/{duration}   sleep (asyncio) for 37.5ms | 0.2s | 250us | 1 (seconds); ?bytes=N&status=CODE;
                        answers with a ``Server-Timing: delay;dur=<ms>`` header
    /bytes/{n}          n bytes of body
    /status/{code}      an empty answer with that status (200-599)
    /health             "ok"
Malformed or out-of-range parameters get a 400 with the reason, never a silent clamp.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import multiprocessing
import multiprocessing.connection
import re
import signal
import socket
from collections.abc import Callable
from types import TracebackType

from aiohttp import web

from bench.errors import RunError, UsageError

MAX_DELAY_S = 60.0
"""Longest delay the server accepts."""
MAX_BYTES = 100 * 1024 * 1024
"""Largest body the server sends."""
_BLOCK = bytes(range(256)) * 256  # 64 KiB of a recognisable pattern
_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "": 1.0}
_DURATION = re.compile(r"^(\d+(?:\.\d+)?|\.\d+)(us|µs|ms|s)?$")


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
    if seconds > 0:
        await asyncio.sleep(seconds)
    return await _body(request, nbytes, status, {"Server-Timing": f"delay;dur={seconds * 1000:.3f}"})


async def _bytes(request: web.Request) -> web.StreamResponse:
    nbytes = _int_param(request.match_info["n"], "n", 0, MAX_BYTES)
    return await _body(request, nbytes, 200, {})


async def _status(request: web.Request) -> web.StreamResponse:
    code = _int_param(request.match_info["code"], "code", 200, 599)
    return web.Response(status=code, text="" if code in (204, 304) else None)


async def _health(request: web.Request) -> web.StreamResponse:
    return web.Response(text="ok")


def create_app() -> web.Application:
    """The aiohttp application with every endpoint."""
    app = web.Application()
    app.router.add_get("/delay/{duration}", _delay)
    app.router.add_get("/bytes/{n}", _bytes)
    app.router.add_get("/status/{code}", _status)
    app.router.add_get("/health", _health)
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


async def serve(sock: socket.socket, stop: asyncio.Event) -> None:
    """Serve the app on ``sock`` until ``stop`` is set, then shut down within about a second."""
    runner = web.AppRunner(create_app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock, shutdown_timeout=1.0)
    await site.start()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _child_main(conn: multiprocessing.connection.Connection, host: str, port: int, backlog: int, reuse: bool) -> None:
    """Entry point of the server process: bind, report the port, serve until told to stop or orphaned."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    try:
        sock = bind_socket(host, port, backlog, reuse)
    except OSError as exc:
        conn.send(("error", f"cannot listen on {host}:{port}: {exc.strerror}"))
        return

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)

        def on_message() -> None:  # "stop", or EOF because the parent died: either way, stop
            with contextlib.suppress(EOFError, OSError):
                conn.recv()
            stop.set()
            loop.remove_reader(conn.fileno())

        loop.add_reader(conn.fileno(), on_message)
        task = asyncio.ensure_future(serve(sock, stop))
        await asyncio.sleep(0)
        conn.send(("ready", sock.getsockname()[1]))
        await task

    asyncio.run(main())


class LocalServer:
    """The test server in child processes (spawned), always stopped on exit, error or Ctrl-C."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        workers: int = 1,
        backlog: int = 1024,
        start_timeout_s: float = 15.0,
        allow_non_loopback: bool = False,
    ) -> None:
        if not is_loopback(host) and not allow_non_loopback:
            raise UsageError(f"refusing to serve on {host}: the test server binds loopback addresses only")
        self.host, self.port, self.workers, self.backlog = host, port, workers, backlog
        self.start_timeout_s = start_timeout_s
        self._procs: list[tuple[multiprocessing.process.BaseProcess, multiprocessing.connection.Connection]] = []

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:43127``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def pids(self) -> list[int]:
        """PIDs of the server processes."""
        return [p.pid for p, _ in self._procs if p.pid is not None]

    def alive(self) -> bool:
        """True while every server process runs."""
        return bool(self._procs) and all(p.is_alive() for p, _ in self._procs)

    def _spawn_one(self, port: int) -> int:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        reuse = self.workers > 1
        proc = ctx.Process(
            target=_child_main,
            args=(child, self.host, port, self.backlog, reuse),
            daemon=True,
            name="iobench-server",
        )
        proc.start()
        child.close()
        self._procs.append((proc, parent))
        if not parent.poll(self.start_timeout_s):
            raise RunError(f"the local server did not start within {self.start_timeout_s:g}s")
        try:
            kind, value = parent.recv()
        except EOFError:
            raise RunError(f"the local server exited at start (exit code {proc.exitcode})") from None
        if kind != "ready":
            raise RunError(str(value))
        return int(value)

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
        """Ask every process to stop, then terminate or kill whatever is still there."""
        for _, conn in self._procs:
            with contextlib.suppress(OSError):
                conn.send("stop")
        for proc, conn in self._procs:
            proc.join(3.0)
            if proc.is_alive():
                proc.terminate()
                proc.join(2.0)
            if proc.is_alive():
                proc.kill()
                proc.join(2.0)
            conn.close()
        self._procs.clear()

    def restart(self) -> str:
        """Stop whatever is left and start afresh on a new port."""
        self.stop()
        self.port = 0
        return self.start()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_foreground(host: str, port: int, on_ready: Callable[[str], None], backlog: int = 1024) -> None:
    """Serve in this process until Ctrl-C or SIGTERM (``iobench serve``); ``on_ready`` gets the URL."""

    async def main() -> None:
        sock = bind_socket(host, port, backlog, reuse_port=False)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        bound = sock.getsockname()
        shown = f"[{bound[0]}]" if ":" in bound[0] else bound[0]
        on_ready(f"http://{shown}:{bound[1]}")
        await serve(sock, stop)

    asyncio.run(main())
