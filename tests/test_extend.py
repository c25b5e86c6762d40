"""Extending iobench: a strategy and a target kind defined in test code only (tests/userfuncs/extension.py) run
through run, report, plot and check with no edit to bench/. Run in a subprocess so the registrations do not leak
into the other tests' scenario schema."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[1]

SCENARIO = """\
name: extended
tasks: 12
target:
  kind: tick
  latency: {dist: fixed, ms: 20}
strategies: [sequential, lifo, {bounded: {limit: 4}}, {threads: {workers: 4}}]
repeats: 3
warmup: 0
expect:
  speedup: {lifo: ">= 3x", "bounded(limit=4)": ">= 2x"}
  error_rate: "< 1%"
"""

DRIVE = """\
import sys
import tests.userfuncs.extension  # registers the strategy 'lifo' and the target kind 'tick'
from bench.cli import main
sys.exit(main(sys.argv[1:]))
"""


def iobench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", DRIVE, *args], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_new_strategy_and_target_kind_run_report_plot_and_check(tmp_path: Path) -> None:
    scenario = tmp_path / "extended.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    results = tmp_path / "r" / "run.json"
    plots = tmp_path / "plots"

    ran = iobench("run", str(scenario), "-o", str(results), "--plots-dir", str(plots), "--json")
    assert ran.returncode == 0, ran.stderr
    rows = {row["strategy"]: row for row in json.loads(ran.stdout)["rows"]}
    assert set(rows) == {"sequential", "lifo", "bounded(limit=4)", "threads(workers=4)"}
    assert rows["lifo"]["speedup"] > 3  # 12 x 20 ms at once against one after another
    assert rows["lifo"]["efficiency"] is not None  # the model comes from the strategy's own concurrency

    reported = iobench("report", str(results))
    assert reported.returncode == 0, reported.stderr
    assert "lifo" in reported.stdout and reported.stderr == ""

    plotted = iobench("plot", str(results), "--plots-dir", str(plots), "--format", "png")
    assert plotted.returncode == 0, plotted.stderr
    assert (plots / "extended-wall.png").exists()

    checked = iobench("check", str(results))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "lifo" in checked.stdout and "pass" in checked.stdout
