"""PostgreSQL from Debian's package: a cluster of its own (initdb) in the work folder, trust authentication on
127.0.0.1 only, started with pg_ctl; ``IOBENCH_PG_DSN`` says where."""

from __future__ import annotations

import glob
import subprocess
import tempfile
from pathlib import Path

from bench.services.base import Running, Service, Unavailable, find, give, register_service, unprivileged, wait_for_port


def _bin(name: str) -> str | None:
    """A PostgreSQL program: on PATH, or in Debian's versioned folder."""
    return find(name, *sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True))


class Postgres(Service):
    """PostgreSQL on 127.0.0.1."""

    name = "postgres"
    default_port = 25432
    port_variable = "IOBENCH_PG_PORT"

    def missing(self) -> str | None:
        """initdb and pg_ctl, from Debian's postgresql package."""
        if _bin("initdb") is None or _bin("pg_ctl") is None:
            return "initdb and pg_ctl are not installed (Debian: apt-get install postgresql)"
        return None

    def launch(self, workdir: Path, port: int) -> Running:
        """initdb, then pg_ctl start; the postmaster's PID from its pid file."""
        user = unprivileged("postgres")
        if user is not None:  # the server's own folder, where its user can reach it (not below a private one)
            workdir = Path(tempfile.mkdtemp(prefix="iobench-postgres-"))
        data, sockets = workdir / "data", workdir / "sockets"
        sockets.mkdir(exist_ok=True)
        give(workdir, user)
        initdb, pg_ctl = _bin("initdb"), _bin("pg_ctl")
        assert initdb is not None and pg_ctl is not None
        made = subprocess.run(
            [initdb, "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
            user=user, capture_output=True, text=True, timeout=120, check=False, cwd=workdir,
        )  # fmt: skip
        if made.returncode:
            raise Unavailable(f"postgres: initdb failed: {made.stderr.strip()[-300:]}")
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off "
            "-c log_connections=on"  # each session in the log: the tests count what a run opened
        )
        started = subprocess.run(
            [pg_ctl, "-D", str(data), "-o", options, "-l", str(workdir / "log"), "-w", "-t", "60", "start"],
            user=user, capture_output=True, text=True, timeout=90, check=False, cwd=workdir,
        )  # fmt: skip
        if started.returncode:
            log = (workdir / "log").read_text(errors="replace")[-400:] if (workdir / "log").exists() else ""
            raise Unavailable(f"postgres: pg_ctl start failed: {started.stderr.strip()[-200:]} {log}")
        wait_for_port(port, None, workdir / "log")
        pid = int((data / "postmaster.pid").read_text().split()[0])
        dsn = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        stop = [pg_ctl, "-D", str(data), "-m", "fast", "stop"]
        return Running(self.name, port, pid, {"IOBENCH_PG_DSN": dsn}, stop, user, workdir, workdir if user else None)


POSTGRES = register_service(Postgres())
