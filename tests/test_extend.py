"""Extending iobench: the five kinds of extension (a strategy, a target kind, a latency distribution, an export
format, a chart), each one plugin module in test code only (tests/plugins/), loaded with ``--plugin``, run through
``run``, ``report`` (terminal, Markdown, HTML), ``plot`` and ``check``, in one process, in two client processes and
as Ray actors; a results file that needs a plugin names it when it is not loaded. Every command runs as a user
runs it, in a subprocess (so no registration leaks into the other tests' schema)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.e2e

MODULES = ("queue_workers", "dns_target", "bimodal", "jsonl_export", "efficiency_chart")
PLUGINS = [arg for name in MODULES for arg in ("--plugin", f"tests.plugins.{name}")]

LOCAL = """\
name: ext-local
tasks: 12
target: {latency: {dist: bimodal, fast_ms: 10, slow_ms: 40, slow_share: 0.25}}
strategies: [sequential, gather, {queue: {workers: 4}}]
repeats: 3
warmup: 0
expect:
  speedup: {gather: ">= 3x", "queue(workers=4)": ">= 2x"}
  efficiency: {"queue(workers=4)": ">= 30%"}
  error_rate: "< 1%"
"""
DNS = """\
name: ext-dns
tasks: 20
target: {kind: dns, host: localhost}
strategies: [sequential, gather, {queue: {workers: 4}}, {threads: {workers: 4}}]
repeats: 3
warmup: 0
"""


def iobench(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("ext")
    (folder / "local.yaml").write_text(LOCAL, encoding="utf-8")
    (folder / "dns.yaml").write_text(DNS, encoding="utf-8")
    return folder / "local.yaml", folder / "dns.yaml"


@pytest.fixture(scope="module")
def ran(scenarios: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("out")
    results = out / "r" / "run.json"
    done = iobench("run", *map(str, scenarios), *PLUGINS, "-o", str(results), "--plots-dir", str(out / "p"), "--json")
    assert done.returncode == 0, done.stderr
    return results, {"summary": json.loads(done.stdout), "stderr": done.stderr}


def test_all_five_run_in_one_process(ran: tuple[Path, dict[str, object]]) -> None:
    results, seen = ran
    summary = seen["summary"]
    assert isinstance(summary, dict)
    rows = {(row["scenario"], row["strategy"]): row for row in summary["rows"]}
    queue = rows["ext-local", "queue(workers=4)"]
    assert queue["speedup"] > 2 and queue["efficiency"] is not None  # the model follows the strategy's own caps
    assert rows["ext-local", "gather"]["speedup"] > 3  # bimodal delays: 12 at once against one after another
    assert {row["strategy"] for row in summary["rows"] if row["scenario"] == "ext-dns"} == {
        "sequential", "gather", "queue(workers=4)", "threads(workers=4)"
    }  # fmt: skip
    tables = str(seen["stderr"])  # --json sends the tables to stderr
    assert "queue(workers=4) at 12 tasks was capped by queue workers 4" in tables
    assert "lookups/s" in tables  # the driver's own rate unit
    assert "gather at 20 tasks was capped by asyncio's default executor" in tables  # the driver's own cap
    jsonl = results.with_suffix(".summary.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(jsonl) == len(summary["rows"]) and json.loads(jsonl[0])["scenario"] == "ext-local"
    assert "ideal from each task alone in the sequential runs" in tables  # a DNS lookup's ideal: its lone runs
    page = (results.parent / "report.html").read_text(encoding="utf-8")
    assert 'id="s0-efficiency-chart"' in page and "Ideal / median wall time" in page
    assert 'id="s1-efficiency-chart"' in page
    charts = results.parent.parent / "p"
    assert (charts / "ext-local-efficiency.png").exists() and (charts / "ext-dns-efficiency.png").exists()


def test_report_plot_and_check_read_it_back_with_the_plugins(
    ran: tuple[Path, dict[str, object]], tmp_path: Path
) -> None:
    results, _ = ran
    results.with_suffix(".summary.jsonl").unlink()
    reported = iobench("report", str(results), "--html", *PLUGINS)
    assert (reported.returncode, reported.stderr) == (0, "")
    assert "queue(workers=4)" in reported.stdout and "lookups/s" in reported.stdout
    assert results.with_suffix(".summary.jsonl").exists()  # report writes every exporter's files, as run does
    assert "queue(workers=4)" in (results.parent / "report.md").read_text(encoding="utf-8")
    plotted = iobench("plot", str(results), "--plots-dir", str(tmp_path), "--format", "png", *PLUGINS)
    assert (plotted.returncode, plotted.stderr) == (0, "")
    assert (tmp_path / "ext-local-efficiency.png").exists()
    checked = iobench("check", str(results), *PLUGINS)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "queue(workers=4)" in checked.stdout and "4 passed, 0 failed, 0 inconclusive" in checked.stdout


def test_without_its_plugin_a_results_file_names_the_one_to_load(ran: tuple[Path, dict[str, object]]) -> None:
    results, _ = ran
    bare = iobench("report", str(results))
    assert bare.returncode == 2 and bare.stdout == ""
    assert bare.stderr == (
        f"iobench: error: {results}: scenario 'ext-local' uses strategy 'queue', registered by the plugin "
        "tests.plugins.queue_workers, which is not loaded; pass --plugin tests.plugins.queue_workers\n"
    )
    some = iobench("check", str(results), "--plugin", "tests.plugins.queue_workers")
    assert some.returncode == 2 and "pass --plugin tests.plugins.bimodal" in some.stderr


@pytest.mark.parametrize(
    "engine", [["--processes", "2"], ["--processes", "2", "--engine", "ray"]], ids=["processes", "ray"]
)
def test_all_five_run_in_client_processes(scenarios: tuple[Path, Path], tmp_path: Path, engine: list[str]) -> None:
    if "ray" in engine:
        pytest.importorskip("ray")
    results = tmp_path / "run.json"
    done = iobench(
        "run", *map(str, scenarios), *PLUGINS, *engine, "-k", "not threads", "-o", str(results), "--no-plots", "--json",
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = {(row["scenario"], row["strategy"]): row for row in json.loads(done.stdout)["rows"]}
    assert rows["ext-local", "queue(workers=4)"]["speedup"] > 1.2  # 4 workers against 1, in each process
    assert rows["ext-local", "queue(workers=4)"]["efficiency"] is not None
    assert rows["ext-dns", "queue(workers=4)"]["failed_tasks"] == 0
    assert results.with_suffix(".summary.jsonl").exists()
    checked = iobench("check", str(results), *PLUGINS)  # judged: two 6-task shares may not reach the bounds
    assert checked.returncode in (0, 1, 4) and checked.stderr == "", checked.stdout + checked.stderr
    assert "queue(workers=4)  speedup" in checked.stdout and "queue(workers=4)  efficiency" in checked.stdout


def test_a_client_process_failure_is_reported_as_what_it_is(tmp_path: Path) -> None:
    scenario = tmp_path / "broken.yaml"
    scenario.write_text("name: broken\ntasks: 4\ntarget: {kind: broken}\nstrategies: [gather]\n", encoding="utf-8")
    done = iobench(
        "run", str(scenario), "--plugin", "tests.plugins.broken", "--processes", "2", "-o", str(tmp_path / "r.json"),
        "--no-plots",
    )  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    title = next(line for line in done.stdout.splitlines() if line.startswith("broken"))
    assert "LookupError: no resolver configured" in title and "client process" in title, title
    assert "server" not in title
