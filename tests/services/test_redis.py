"""A real Redis: the shipped recipe, and a server refusing clients past its maxclients, in its own words with their
count in the table, the HTML report and the CSV."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from bench.results.files import read_results
from bench.results.summary import summarise
from bench.services import Running
from tests.services.conftest import REPO, iobench

pytestmark = [pytest.mark.e2e, pytest.mark.services]


def test_the_redis_recipe_runs_and_every_row_has_its_figures(redis: Running, tmp_path: Path) -> None:
    out = tmp_path / "redis.json"
    recipe = REPO / "scenarios/real/redis/redis-get.yaml"
    done = iobench("run", str(recipe), "--repeats", "2", "-o", str(out), "--no-plots", env=redis.env)
    assert done.returncode == 0, done.stderr
    rows = summarise(read_results(out).scenarios[0])
    assert {row.strategy for row in rows} == {"sequential", "gather", "bounded(limit=10)", "threads(workers=10)"}
    for row in rows:
        assert row.failed_tasks == 0 and row.ideal_s is not None and row.overhead_s is not None, row.strategy
        assert row.achieved_concurrency is not None and row.cpu_busy is not None, row.strategy


def test_a_server_at_maxclients_is_heard_in_its_own_words(small_redis: Running, tmp_path: Path) -> None:
    scenario = tmp_path / "full.yaml"
    recipe = "scenarios.real.redis.recipe"
    scenario.write_text(
        f"name: full\ntarget: {{callable: '{recipe}:get', setup: '{recipe}:open_client', "
        f"teardown: '{recipe}:close_client'}}\ntasks: 60\nrepeats: 2\nstrategies: [gather]\n"
    )
    out = tmp_path / "full.json"
    plots = str(tmp_path / "plots")
    done = iobench("run", str(scenario), "-o", str(out), "--plots-dir", plots, env=small_redis.env)
    assert done.returncode == 3, done.stdout + done.stderr  # every run had failed tasks, and the scenario asks none
    assert "scenario full: gather at 60 tasks: " in done.stderr
    words = "max number of clients reached"
    (row,) = summarise(read_results(out).scenarios[0])
    ((text, count), *_) = row.failures
    assert words in text and count == row.failed_tasks > 0
    assert f"failures of gather at 60 tasks: {text} ×{count}" in done.stdout  # the table's notes
    html = (tmp_path / "report.html").read_text()
    assert words in html and f"×{count}" in html
    with (tmp_path / "full.summary.csv").open(newline="") as f:
        (record,) = csv.DictReader(f)
    assert words in record["failures"] and f"×{count}" in record["failures"]
