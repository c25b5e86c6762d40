"""Real services for the tests: each started once per session on 127.0.0.1 with a folder of its own, stopped at the
end; a test that needs one that cannot start here is skipped with the reason (what to install)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.services import SERVICES, Running, Unavailable

REPO = Path(__file__).resolve().parents[2]


def _start(name: str, env: dict[str, str] | None = None) -> Iterator[Running]:
    saved = {key: os.environ.get(key) for key in env or {}}
    os.environ.update(env or {})
    try:
        with SERVICES[name].start(Path(tempfile.mkdtemp(prefix=f"iobench-test-{name}-"))) as running:
            yield running
    except Unavailable as exc:
        pytest.skip(str(exc))
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def postgres() -> Iterator[Running]:
    """PostgreSQL on 127.0.0.1 (``IOBENCH_PG_DSN`` in ``env``), logging each connection."""
    yield from _start("postgres")


@pytest.fixture(scope="session")
def redis() -> Iterator[Running]:
    """Redis on 127.0.0.1."""
    yield from _start("redis")


@pytest.fixture(scope="session")
def small_redis() -> Iterator[Running]:
    """A second Redis that accepts 20 clients at most (``maxclients 20``), on a port of its own."""
    yield from _start("redis", {"IOBENCH_REDIS_MAXCLIENTS": "20", "IOBENCH_REDIS_PORT": "26380"})


@pytest.fixture(scope="session")
def nginx() -> Iterator[Running]:
    """nginx on 127.0.0.1 with its echo module (/sleep, /keepalive)."""
    yield from _start("nginx")


def iobench(*args: str, env: dict[str, str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``iobench ARGS`` in a process of its own, from the repository's root (the recipes import from there)."""
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=REPO,
        env={**os.environ, "COLUMNS": "160", **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
