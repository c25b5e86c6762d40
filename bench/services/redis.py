"""Redis from Debian's package: a server of its own on 127.0.0.1 with nothing saved to disk; ``IOBENCH_REDIS_URL``
says where. ``IOBENCH_REDIS_MAXCLIENTS`` lowers its client limit (the recipe that shows the server's refusal)."""

from __future__ import annotations

import os
from pathlib import Path

from bench.services.base import Running, Service, find, foreground, register_service


class Redis(Service):
    """redis-server on 127.0.0.1."""

    name = "redis"
    default_port = 26379
    port_variable = "IOBENCH_REDIS_PORT"

    def missing(self) -> str | None:
        """redis-server, from Debian's redis-server package."""
        return None if find("redis-server") else "redis-server is not installed (Debian: apt-get install redis-server)"

    def launch(self, workdir: Path, port: int) -> Running:
        """redis-server in the foreground of a child process, its data folder the work folder."""
        binary = find("redis-server")
        assert binary is not None
        maxclients = os.environ.get("IOBENCH_REDIS_MAXCLIENTS", "10000")
        command = [
            binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir), "--save", "",
            "--appendonly", "no", "--maxclients", maxclients, "--protected-mode", "yes", "--daemonize", "no",
        ]  # fmt: skip
        return foreground(self.name, command, workdir, port, {"IOBENCH_REDIS_URL": f"redis://127.0.0.1:{port}/0"})


REDIS = register_service(Redis())
