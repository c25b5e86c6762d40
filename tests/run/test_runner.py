"""The runner when the local server dies at any moment, calibration included (issue 19): that scenario fails with
the server's exit as its reason, the next runs on a fresh server, nothing is raised."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

import bench.targets.calibration as calibration
from bench.run.runner import NullProgress, run_all
from bench.scenario.loader import parse_scenario
from bench.server.process import LocalServer

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("client", ["aiohttp", "minimal", "threads"])
@pytest.mark.parametrize("after", [1, 20])
def test_the_server_killed_during_calibration_fails_that_scenario_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, client: str, after: int
) -> None:
    servers: list[LocalServer] = []
    start = LocalServer.start

    def recording_start(self: LocalServer) -> str:
        servers.append(self)
        return start(self)

    answered = calibration._delivered_ms
    count = [0]

    def kill_after(header: str | None, expected_ms: float) -> float:  # dies after the n-th calibration answer
        count[0] += 1
        if count[0] == after:
            for pid in servers[-1].pids:
                os.kill(pid, signal.SIGKILL)
        return answered(header, expected_ms)

    monkeypatch.setattr(LocalServer, "start", recording_start)
    monkeypatch.setattr(calibration, "_delivered_ms", kill_after)
    strategies = "[{threads: {workers: 2}}]" if client == "threads" else "[sequential]"
    stack = "minimal" if client == "minimal" else "aiohttp"
    doomed = parse_scenario(
        f"name: a\ntasks: 3\ntarget: {{latency: {{dist: fixed, ms: 1}}, client: {stack}}}\n"
        f"strategies: {strategies}\nrepeats: 1\nwarmup: 0\n"
    )
    after_it = parse_scenario(
        "name: b\ntasks: 3\ntarget: {latency: {dist: fixed, ms: 1}}\nstrategies: [sequential]\nrepeats: 1\nwarmup: 0\n"
    )
    results = run_all([(Path("a"), doomed), (Path("b"), after_it)], tmp_path / "run.json", ["t"], NullProgress())
    dead, survivor = results.scenarios
    first = servers[0].pids[0] if servers[0].pids else None
    assert dead.outcome == "failed"
    assert dead.reason.startswith("the local server exited during the run (pid "), dead.reason
    assert "killed by SIGKILL" in dead.reason, (first, dead.reason)
    assert survivor.outcome == "ok"
