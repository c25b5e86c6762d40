"""Plugins: how a user's module is found (``--plugin``, a scenario's ``plugins:``, the ``iobench.plugins`` entry
points), what the results file records of it, and every way loading one can go wrong, in iobench's words."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import plugins
from bench.errors import UsageError
from tests.conftest import REPO

SCENARIO = "name: s\ntasks: 4\ntarget: {kind: sleep, latency: {dist: fixed, ms: 1}}\nstrategies: [sequential, lifo]\n"
LIFO = """\
import asyncio
from bench.strategies import AsyncStrategy, register


@register
class Lifo(AsyncStrategy):
    name = "lifo"

    def planned_concurrency(self, n):
        return n

    async def run(self, n, task):
        await asyncio.gather(*(task(i) for i in reversed(range(n))))
"""


def iobench(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


def installed(tmp_path: Path) -> Path:
    """A folder holding a plugin module and the metadata of an installed package naming it in the entry points."""
    site = tmp_path / "site"
    (site / "demo_plugin-1.0.dist-info").mkdir(parents=True)
    (site / "demo_plugin.py").write_text(LIFO, encoding="utf-8")
    (site / "demo_plugin-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: demo-plugin\nVersion: 1.0\n", encoding="utf-8"
    )
    (site / "demo_plugin-1.0.dist-info" / "entry_points.txt").write_text(
        "[iobench.plugins]\ndemo = demo_plugin\n", encoding="utf-8"
    )
    return site


def test_a_module_that_is_not_there_is_named() -> None:
    with pytest.raises(UsageError, match=r"^--plugin: cannot import plugin module 'no_such_plugin_here' \("):
        plugins.load(["no_such_plugin_here"])
    with pytest.raises(UsageError, match=r"^--plugin: 'a b' is not a module name"):
        plugins.load(["a b"])


def test_a_plugin_that_breaks_on_import_says_how(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "broken_on_import.py").write_text("1 / 0\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(UsageError) as info:
        plugins.load(["broken_on_import"])
    assert str(info.value) == "--plugin: plugin broken_on_import failed to import: ZeroDivisionError: division by zero"


def test_a_name_taken_by_another_module_is_refused() -> None:
    plugins.note("strategy", "test-only-name", "first.module")
    with pytest.raises(UsageError, match=r"strategy 'test-only-name' is already registered by first\.module"):
        plugins.note("strategy", "test-only-name", "second.module")
    plugins.note("strategy", "test-only-name", "first.module")  # the same module again (a re-import) is fine


def test_built_ins_are_not_plugins() -> None:
    assert plugins.is_builtin("bench.strategies.gather") and not plugins.is_builtin("benchmarks.mine")
    assert all(not module.startswith("bench.") for module in plugins.plugin_items())


@pytest.mark.e2e
def test_an_entry_point_reaches_the_cli_and_every_client_process(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    env = {"PYTHONPATH": str(installed(tmp_path))}
    bare = iobench("validate", str(scenario))
    assert bare.returncode == 2 and "unknown strategy 'lifo'" in bare.stderr
    assert iobench("validate", str(scenario), env=env).returncode == 0
    out = tmp_path / "r.json"
    ran = iobench("run", str(scenario), "--processes", "2", "-o", str(out), "--no-plots", "--json", env=env)
    assert ran.returncode == 0, ran.stderr
    assert {row["strategy"] for row in json.loads(ran.stdout)["rows"]} == {"sequential", "lifo"}
    assert json.loads(out.read_text(encoding="utf-8"))["plugins"] == {"demo_plugin": ["strategy lifo"]}


@pytest.mark.e2e
def test_a_scenario_names_its_own_plugins(tmp_path: Path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "name: q\ntasks: 6\ntarget: {kind: sleep, latency: {dist: fixed, ms: 2}}\n"
        "plugins: [tests.plugins.queue_workers]\nstrategies: [sequential, {queue: {workers: 2}}]\nrepeats: 2\n",
        encoding="utf-8",
    )
    out = tmp_path / "r.json"
    ran = iobench("run", str(scenario), "-o", str(out), "--no-plots", "--processes", "2")
    assert ran.returncode == 0, ran.stderr
    assert "queue(workers=2)" in ran.stdout
    stored = json.loads(out.read_text(encoding="utf-8"))
    assert stored["plugins"] == {"tests.plugins.queue_workers": ["strategy queue"]}
    assert stored["scenarios"][0]["scenario"]["plugins"] == ["tests.plugins.queue_workers"]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("plugins: [no_such_plugin_here]", "s.yaml:5: plugins: cannot import plugin module 'no_such_plugin_here'"),
        ("plugins: tests.plugins.queue_workers", "s.yaml:5: plugins: expected a list of module names"),
    ],
)
def test_a_scenarios_bad_plugins_are_named_with_file_and_line(tmp_path: Path, line: str, message: str) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(SCENARIO.replace("strategies: [sequential, lifo]", "strategies: [sequential]") + line + "\n")
    done = iobench("validate", str(scenario))
    assert done.returncode == 2 and done.stderr.startswith(f"iobench: error: {tmp_path / message}"), done.stderr
