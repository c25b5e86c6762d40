"""A real nginx as a url target with no Server-Timing header: the whole decomposition from the sequential runs and
the client stacks' calibration, clients paired in one scenario, and reconnects counted."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.results.files import read_results
from bench.results.summary import summarise
from bench.services import Running
from tests.services.conftest import REPO, iobench

pytestmark = [pytest.mark.e2e, pytest.mark.services]


def test_every_complete_row_on_nginx_has_ideal_overhead_queueing_and_efficiency(nginx: Running, tmp_path: Path) -> None:
    out = tmp_path / "nginx.json"
    recipe = REPO / "scenarios/real/nginx/nginx-sleep.yaml"
    done = iobench("run", str(recipe), "--tasks", "30", "--repeats", "2", "-o", str(out), "--no-plots", env=nginx.env)
    assert done.returncode == 0, done.stderr
    rows = summarise(read_results(out).scenarios[0])
    assert {row.strategy for row in rows} >= {"gather", "gather(client='minimal')", "threads(workers=10)"}
    for row in rows:
        assert row.complete_runs == row.runs, row.strategy
        assert None not in (row.ideal_s, row.overhead_s, row.residual_s, row.efficiency), row.strategy
        assert row.ideal_source == "sequential", row.strategy
    stacks = {run.stack for point in read_results(out).scenarios[0].points for run in point.runs}
    assert stacks == {"aiohttp", "minimal", "http.client"}  # two clients and the threads' one, interleaved
    assert "per-task overhead of each client stack, measured: aiohttp" in done.stdout


def test_connections_the_server_closes_are_counted_as_reconnects(nginx: Running, tmp_path: Path) -> None:
    out = tmp_path / "keepalive.json"
    recipe = REPO / "scenarios/real/nginx/nginx-keepalive.yaml"
    done = iobench("run", str(recipe), "--repeats", "2", "-o", str(out), "--no-plots", env=nginx.env)
    assert done.returncode == 0, done.stderr
    rows = {row.strategy: row for row in summarise(read_results(out).scenarios[0])}
    # nginx closes a connection every 10 requests: 100 requests one at a time open about 10
    sequential, threads = rows["sequential"], rows["threads(workers=10)"]
    assert sequential.connections_opened is not None and sequential.connections_opened >= 8
    assert threads.connections_opened is not None and threads.connections_opened >= 5  # http.client reconnects too
    assert "sequential at 100 tasks opened up to" in done.stdout and "reconnects" in done.stdout
