"""``python -m bench.services run`` (make bench-real): each recipe folder named after a service runs against it,
started and stopped around the run; the others (files, subprocesses) need nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.results.files import read_results
from bench.results.summary import summarise
from bench.services import SERVICES
from bench.services.__main__ import recipes
from bench.services.base import alive
from tests.services.conftest import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.services]


def test_recipes_are_found_by_folder_with_the_service_they_need() -> None:
    found = dict((folder[0].parent.name, service) for service, folder in recipes(REPO / "scenarios/real"))
    assert found == {"files": None, "nginx": "nginx", "postgres": "postgres", "redis": "redis", "subprocess": None}
    assert set(found.values()) - {None} == set(SERVICES)  # every service has its recipe


def test_make_bench_real_runs_the_recipes_and_stops_what_it_started(tmp_path: Path) -> None:
    folder = tmp_path / "real"
    for name in ("files", "redis", "subprocess"):
        shutil.copytree(
            REPO / "scenarios/real" / name, folder / name, ignore=shutil.ignore_patterns("*.py", "__pycache__")
        )
    out = tmp_path / "real.json"
    args = ["--", "--tasks", "24", "--repeats", "2", "-o", str(out), "--no-plots"]
    done = subprocess.run(
        [sys.executable, "-m", "bench.services", "run", str(folder), *args],
        cwd=REPO, env={**os.environ, "COLUMNS": "160"}, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = read_results(out)
    names = {s.scenario.name for s in results.scenarios}
    assert {"files-read", "subprocess-sleep"} <= names
    if SERVICES["redis"].missing() is None:
        assert "redis-get" in names and "iobench: redis on 127.0.0.1:" in done.stderr
        pid = int(done.stderr.split("(pid ")[1].split(")")[0])
        assert not alive(pid)  # stopped after the run
    files = {
        row.strategy: row for row in summarise(next(s for s in results.scenarios if s.scenario.name == "files-read"))
    }
    # aiofiles hands every call to asyncio's default executor: gather ran no more than its threads at once
    assert files["gather"].limits.get("default_executor") is not None
