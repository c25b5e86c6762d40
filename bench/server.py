"""The local test server: aiohttp, in its own process, on 127.0.0.1 and an ephemeral port.

    with LocalServer() as url:          # spawns the process, waits until it listens
        ...  GET f"{url}/delay/37.5ms?bytes=1024"

Endpoints (in the style of go-httpbin):
    /delay/{duration}   sleep (asyncio) for 37.5ms | 0.2s | 250us | 1 (seconds); ?bytes=N&status=CODE;
                        answers with a ``Server-Timing: delay;dur=<ms>`` header; ?fault=reset drops the
                        connection after the delay, ?fault=hang never answers
    /bytes/{n}          n bytes of body
    /status/{code}      an empty answer with that status (200-599)
    /health             "ok"
Malformed or out-of-range parameters get a 400 with the reason, never a silent clamp.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from types import TracebackType
from typing import IO

from aiohttp import web

from bench.errors import RunError, UsageError
from bench.loops import fastest_available

MAX_DELAY_S = 60.0
"""Longest delay the server accepts."""
MAX_BYTES = 100 * 1024 * 1024
"""Largest body the server sends."""
FAULTS = frozenset({"", "reset", "hang"})
"""``/delay?fault=``: reset drops the connection after the delay, hang never answers."""
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
    fault = request.query.get("fault", "")
    if fault not in FAULTS:
        raise web.HTTPBadRequest(text=f"fault must be one of {', '.join(sorted(FAULTS))}, got {fault!r}")
    if seconds > 0:
        await asyncio.sleep(seconds)
    if fault == "reset":  # drop the connection without an answer
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError
    if fault == "hang":  # never answer; the client's timeout decides
        await asyncio.sleep(MAX_DELAY_S)
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


async def serve(sock: socket.socket, stop: asyncio.Event, backlog: int = 1024) -> None:
    """Serve the app on ``sock`` until ``stop`` is set, then shut down within about a second.

    ``backlog`` must be given again: the loop calls ``listen()`` anew with it (aiohttp's default is 128).
    """
    runner = web.AppRunner(create_app(), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock, shutdown_timeout=1.0, backlog=backlog)
    await site.start()
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _child_main(host: str, port: int, backlog: int, reuse: bool) -> int:
    """Entry point of a server process: bind, print the port, serve until stdin closes or SIGTERM."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it stops us
    try:
        sock = bind_socket(host, port, backlog, reuse)
    except OSError as exc:
        print(f"error cannot listen on {host}:{port}: {exc.strerror}", flush=True)
        return 2

    async def main() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        loop.add_signal_handler(signal.SIGTERM, stop.set)

        def on_stdin() -> None:  # the parent closed our stdin, or died: either way, stop
            if not os.read(sys.stdin.fileno(), 4096):
                stop.set()
                loop.remove_reader(sys.stdin.fileno())

        loop.add_reader(sys.stdin.fileno(), on_stdin)
        task = asyncio.ensure_future(serve(sock, stop, backlog))
        await asyncio.sleep(0)
        print(f"ready {sock.getsockname()[1]}", flush=True)
        await task

    with asyncio.Runner(loop_factory=fastest_available()) as runner:
        runner.run(main())
    return 0


class LocalServer:
    """The test server in child processes (fresh interpreters), always stopped on exit, error or Ctrl-C.

    Each child is ``python -m bench.server``; it stops when its stdin closes, so it cannot outlive the parent.
    """

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
        self._procs: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []

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

    def _spawn_one(self, port: int) -> int:
        reuse = self.workers > 1
        log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the child; closed in stop()
        self._logs.append(log)
        args = [sys.executable, "-m", "bench.server", self.host, str(port), str(self.backlog), "1" if reuse else "0"]
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, close_fds=True)
        self._procs.append(proc)
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], self.start_timeout_s)
        line = proc.stdout.readline().decode(errors="replace").strip() if ready else ""
        if line.startswith("ready "):
            return int(line.split()[1])
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
        await serve(sock, stop, backlog)

    asyncio.run(main())


if __name__ == "__main__":  # python -m bench.server HOST PORT BACKLOG REUSE (started by LocalServer)
    raise SystemExit(_child_main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"))
