"""A real service for the recipes and their tests: started on 127.0.0.1 with a data directory and a port of its own,
told apart by what it needs installed, stopped by its PID.

    with POSTGRES.start(Path("/tmp/x")) as running:    # Unavailable (with the reason) when postgres is not there
        running.env                                  # {"IOBENCH_PG_DSN": "postgresql://...@127.0.0.1:25432/postgres"}

A service that refuses to run as root (PostgreSQL) is run as the unprivileged user its Debian package made.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from bench import plugins
from bench.errors import EnvironmentLimitError

START_TIMEOUT_S = 30.0
"""How long a service may take to answer on its port."""


class Unavailable(EnvironmentLimitError):
    """The service cannot run here (its binary is missing, or its port is taken): the message says which."""


@dataclass
class Running:
    """A started service: its process, port, and the environment the recipes read it from."""

    name: str
    port: int
    pid: int
    env: dict[str, str]
    stop_command: Sequence[str] = ()
    """A command that stops it cleanly (``pg_ctl stop``), tried before the signal."""
    user: str | None = None
    workdir: Path = field(default_factory=Path)
    cleanup: Path | None = None
    """A folder of the service's own to remove once it has stopped."""
    process: subprocess.Popen[bytes] | None = None
    """The server's process when it is our child (reaped when it stops)."""
    log: IO[bytes] | None = None
    """Its log, open while it runs."""


def foreground(name: str, command: Sequence[str], workdir: Path, port: int, env: dict[str, str]) -> Running:
    """Start a server that stays in the foreground as our child, its output in ``workdir/log``; return once it
    answers on ``port`` (Unavailable, with what it said, when it does not; nothing is left running then)."""
    log = (workdir / "log").open("wb")
    proc = subprocess.Popen(list(command), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=workdir)
    running = Running(name, port, proc.pid, env, workdir=workdir, process=proc, log=log)
    try:
        wait_for_port(port, proc, workdir / "log")
    except BaseException:
        stop(running)
        raise
    return running


def port_free(port: int) -> bool:
    """A server could bind 127.0.0.1:``port`` (nothing listens there, and no socket holds it as its own port)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def answers(port: int) -> bool:
    """Something accepts connections on 127.0.0.1:``port``."""
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def log_tail(log: Path | None, chars: int = 400) -> str:
    """The end of a service's log, on one line (what it said when it would not start)."""
    if log is None or not log.exists():
        return ""
    return " ".join(log.read_text(errors="replace")[-chars:].split())


def wait_for_port(
    port: int, proc: subprocess.Popen[bytes] | None, log: Path | None = None, timeout_s: float = START_TIMEOUT_S
) -> None:
    """Wait until 127.0.0.1:``port`` accepts connections; Unavailable, with the end of its ``log``, when the process
    exits or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if answers(port):
            return
        if proc is not None and proc.poll() is not None:
            said = log_tail(log)
            raise Unavailable(
                f"the service on port {port} exited at start (exit code {proc.returncode})"
                + (f": {said}" if said else "")
            )
        time.sleep(0.05)
    said = log_tail(log)
    raise Unavailable(f"nothing answered on 127.0.0.1:{port} within {timeout_s:g} s" + (f": {said}" if said else ""))


def find(binary: str, *also: str) -> str | None:
    """A binary on PATH, or at one of ``also``."""
    found = shutil.which(binary)
    if found:
        return found
    return next((path for path in also if os.access(path, os.X_OK)), None)


def unprivileged(user: str) -> str | None:
    """``user`` when this process is root (a service that refuses root runs as it), else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(user)
    except KeyError:
        raise Unavailable(f"running as root, and there is no {user!r} user to run the service as") from None
    return user


def give(path: Path, user: str | None) -> None:
    """Make ``path`` (and what is in it) belong to ``user`` when there is one."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for item in [path, *path.rglob("*")]:
        os.chown(item, entry.pw_uid, entry.pw_gid)


class Service(ABC):
    """One kind of real service."""

    name: str
    default_port: int
    """Below Linux's ephemeral range (32768-60999), where a client's own socket could hold the port at start."""
    port_variable: str
    """The environment variable that moves it to another port."""

    def port(self) -> int:
        """The port it listens on: the variable's, else the default."""
        return int(os.environ.get(self.port_variable, self.default_port))

    @abstractmethod
    def missing(self) -> str | None:
        """Why it cannot run here (what to install), or None."""

    @abstractmethod
    def launch(self, workdir: Path, port: int) -> Running:
        """Start it on 127.0.0.1:``port`` with its data under ``workdir``; return once it answers."""

    @contextlib.contextmanager
    def start(self, workdir: Path) -> Iterator[Running]:
        """The running service for the block; stopped (by its PID) after, whatever happened."""
        why = self.missing()
        if why:
            raise Unavailable(f"{self.name}: {why}")
        port = self.port()
        if not port_free(port):
            raise Unavailable(f"{self.name}: port {port} is taken; set {self.port_variable} to a free one")
        workdir.mkdir(parents=True, exist_ok=True)
        running = self.launch(workdir, port)
        try:
            yield running
        finally:
            stop(running)


def stop(running: Running) -> None:
    """Stop a service: its own stop command first, then SIGTERM and SIGKILL to its PID; wait until it is gone."""
    try:
        _stop(running)
    finally:
        if running.process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                running.process.wait(timeout=5)
        if running.log is not None:
            running.log.close()
        if running.cleanup is not None:
            shutil.rmtree(running.cleanup, ignore_errors=True)


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (a daemon's postmaster is nobody's child here to reap)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("State:"):
                return "Z" not in line.split()[1]
    return True


def _stop(running: Running) -> None:
    if running.stop_command:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(list(running.stop_command), user=running.user, capture_output=True, timeout=20, check=False)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if not alive(running.pid):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(running.pid, sig)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and alive(running.pid):
            time.sleep(0.05)


SERVICES: dict[str, Service] = {}
"""Every service by name."""


def register_service(service: Service) -> Service:
    """Make a service available to ``python -m bench.services`` and the tests."""
    plugins.note("service", service.name, type(service).__module__)
    SERVICES[service.name] = service
    return service
