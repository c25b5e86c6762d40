"""Shared fixtures: one real local server for the whole test session, and scenario-file helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from bench.server.process import LocalServer

REPO = Path(__file__).resolve().parents[1]
"""The repository's root."""
DATA = Path(__file__).parent / "data"
"""Stored results files and scenarios the tests read."""

settings.register_profile("iobench", deadline=None)
settings.load_profile("iobench")  # no per-example deadline: a test's speed is not its result (a busy CI host)


@pytest.fixture(scope="session")
def local_server() -> Iterator[LocalServer]:
    """The iobench test server in its own process on 127.0.0.1, stopped at the end of the session."""
    server = LocalServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def server_url(local_server: LocalServer) -> str:
    """Base URL of the session's local server."""
    return local_server.url


@pytest.fixture
def write_scenario(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write YAML text to ``tmp_path/<name>.yaml`` and return the path."""

    def write(text: str, name: str = "scenario") -> Path:
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        return path

    return write
