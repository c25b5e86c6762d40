"""The local test server's processes: started on 127.0.0.1 and an ephemeral port, watched, restarted, stopped.

    with LocalServer(loop="uvloop") as url:     # spawns the process, waits until it listens
        ...  GET f"{url}/delay/37.5ms?bytes=1024"

Lifecycle (the runner's view): ``LocalServer.ensure(current, workers=, backlog=, loop=)`` gives a running, healthy
server with those options; ``restart_if_dead()`` restarts a dead one (same port when free) and says how it died;
``stats(reset=True)`` reads ``/stats`` as a ``ServerStats`` record. Each process is ``python -m bench.server``
(``_child_main`` below); ``serve_foreground`` serves in this process (``iobench serve``). What they serve, the
endpoints, is ``bench.server.app``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import ipaddress
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable
from types import TracebackType
from typing import IO

from bench.errors import EnvironmentLimitError, RunError, UsageError
from bench.loops import LOOPS, fastest_available, loop_factory
from bench.server.app import ServerStats, bind_socket, running_loop_name, serve

SWITCH_INTERVAL_S = 0.0002
"""GIL switch interval of a server process: a busy loop hands the GIL to the delay timer thread within 0.2 ms."""


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
        args = [sys.executable, "-m", "bench.server.process", "--host", self.host, "--port", str(port)]
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


if __name__ == "__main__":  # python -m bench.server.process --host H --port P [--loop L] (started by LocalServer)
    raise SystemExit(_child_main(sys.argv[1:]))
