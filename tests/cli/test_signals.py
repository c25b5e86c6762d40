"""Signals and pipes with real processes: SIGTERM and SIGINT stop a run promptly (SIGINT even when a shell's
background job started with it ignored), and a closed stdout ends a run quietly with exit code 141."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bench.cli.signals import EXIT_PIPE, EXIT_SIGINT, EXIT_SIGTERM
from bench.results.files import read_results
from tests.conftest import REPO

LONG = "name: long\ntasks: 3\ntarget: {latency: {dist: fixed, ms: 300}}\nrepeats: 50\nwarmup: 0\n"
"""About 60 s if left alone; every test stops it within seconds."""

pytestmark = pytest.mark.e2e


def _background_then(signal_name: str, scenario: Path, results: Path) -> tuple[int, float, str]:
    """Start ``iobench run`` as a bash background job (SIGINT ignored), signal it after 3 s, wait: code, s, stderr."""
    iobench = f"{sys.executable} -m bench run {scenario} -o {results} --no-plots -q"
    script = f"{iobench} 2>{results}.err & sleep 3; kill -{signal_name} $!; wait $!"
    started = time.monotonic()
    done = subprocess.run(["bash", "-c", script], cwd=REPO, timeout=60, check=False)
    return done.returncode, time.monotonic() - started, Path(f"{results}.err").read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "code"), [("TERM", EXIT_SIGTERM), ("INT", EXIT_SIGINT)])
def test_signal_stops_a_background_run(
    name: str, code: int, write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    results = tmp_path / "r.json"
    returncode, seconds, stderr = _background_then(name, write_scenario(LONG, "long"), results)
    assert returncode == code, stderr
    assert seconds < 20  # 3 s before the signal; the whole run would take about a minute
    assert stderr == f"iobench: interrupted; what finished is saved in {results}\n"
    saved = read_results(results)
    assert not saved.complete
    assert [s.outcome for s in saved.scenarios] == ["interrupted"]


def test_closed_stdout_ends_quietly(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    """`iobench run | head -1`: the reader is gone before the first table; no traceback, exit 141, not 1."""
    scenario = write_scenario("name: tiny\ntasks: 2\ntarget: {latency: {dist: fixed, ms: 2}}\nrepeats: 2\n", "tiny")
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "bench", "run", str(scenario), "--no-plots", "--results-dir", str(tmp_path)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.returncode == EXIT_PIPE
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr


def test_pipe_into_head_in_a_shell(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    scenario = write_scenario("name: tiny\ntasks: 2\ntarget: {latency: {dist: fixed, ms: 2}}\nrepeats: 2\n", "tiny")
    script = (
        f"{sys.executable} -m bench run {scenario} --no-plots -q --results-dir {tmp_path} 2>{tmp_path}/err | head -1;"
        " echo ${PIPESTATUS[0]}"
    )
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=REPO, timeout=120, check=False)
    first, status = done.stdout.splitlines()
    assert first == "tiny"  # the first line of the first table
    assert status in (str(EXIT_PIPE), "0")  # 0 only if everything fit in the pipe before head left
    assert (tmp_path / "err").read_text(encoding="utf-8") == ""
