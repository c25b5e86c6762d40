"""The command line: exit codes, messages on stderr, no tracebacks for a user's mistake."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bench import __version__
from bench.cli import main
from bench.results import read_results
from tests.conftest import DATA

REPO = Path(__file__).resolve().parents[1]


def run_cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
    )


def test_python_dash_m_and_version() -> None:
    done = run_cli("--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"iobench {__version__}\n", "")


def test_bad_scenario_exits_2_with_message_and_no_traceback(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_scenario("name: x\ntasks: 0\ntarget: {latency: {dist: fixed, ms: 1}}\n", "bad")
    done = run_cli("run", str(path), "--results-dir", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"iobench: error: {path}:2: tasks: must be at least 1 (got 0)\n"
    assert not (tmp_path / "r").exists()


def test_missing_scenario_path(tmp_path: Path) -> None:
    done = run_cli("run", str(tmp_path / "nope.yaml"))
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == f"iobench: error: {tmp_path / 'nope.yaml'}: no such file or folder\n"


def test_report_on_stored_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "stored.json"
    source.write_bytes((DATA / "results-v1.json").read_bytes())
    assert main(["report", str(source)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "fixture — small stored run" in out
    assert "connector limit: none (aiohttp's default of 100 is lifted); loop: asyncio" in out


def test_report_on_bad_results(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    assert main(["report", str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert (
        err
        == f"iobench: error: {bad}: truncated (line 1, column 2: Expecting property name enclosed in double quotes)\n"
    )


def test_serve_refuses_non_loopback_without_flag() -> None:
    done = run_cli("serve", "--host", "0.0.0.0")
    assert done.returncode == 2
    assert done.stderr.startswith("iobench: error: --host 0.0.0.0 is not a loopback address")
    assert "Traceback" not in done.stderr


def test_run_prints_table_and_writes_everything(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    path = write_scenario(
        "name: tiny\ntasks: 3\ntarget: {latency: {dist: fixed, ms: 5}}\nrepeats: 2\nwarmup: 0\n", "tiny"
    )
    out = tmp_path / "res" / "r.json"
    plots = tmp_path / "plots"
    done = run_cli("run", str(path), "-o", str(out), "--plots-dir", str(plots))
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert "tiny" in done.stdout and "sequential" in done.stdout and "gather" in done.stdout
    assert done.stdout.rstrip().splitlines()[-3:] == [
        f"results: {out}",
        f"report:  {out.parent / 'report.md'} (and CSV tables beside the results)",
        f"charts:  6 files in {plots}/",
    ]
    assert sorted(p.name for p in out.parent.iterdir()) == [
        "latest.json",
        "r.json",
        "r.runs.csv",
        "r.samples.csv",
        "r.summary.csv",
        "report.md",
    ]
    assert sorted(p.name for p in plots.iterdir()) == [
        f"tiny-{chart}.{ext}" for chart in ("latency", "timeline", "wall") for ext in ("png", "svg")
    ]


def test_plot_and_report_rebuild_from_a_saved_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "copy.json"
    source.write_bytes((DATA / "results-v1.json").read_bytes())
    assert main(["plot", str(source), "--plots-dir", str(tmp_path / "p"), "--format", "png"]) == 0
    assert len(list((tmp_path / "p").glob("*.png"))) == 8
    assert main(["report", str(source)]) == 0
    assert (tmp_path / "report.md").read_text(encoding="utf-8").startswith("## iobench report")
    assert (tmp_path / "copy.samples.csv").exists()
    capsys.readouterr()
    assert main(["plot", str(source), "--format", "gif"]) == 2
    assert capsys.readouterr().err == "iobench: error: --format takes png, svg or pdf (comma-separated), got 'gif'\n"


def test_baseline_stores_a_complete_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "baseline.json"
    assert main(["baseline", str(DATA / "results-v1.json"), "-o", str(target)]) == 0
    assert capsys.readouterr().out.startswith(f"baseline: {target} (from {DATA / 'results-v1.json'}; Python 3.11.7")
    assert target.read_text(encoding="utf-8") == read_results(DATA / "results-v1.json").model_dump_json()


def test_charts_written_in_parallel_match_the_sequential_ones(tmp_path: Path) -> None:
    from bench.export import write_charts_parallel

    results = read_results(DATA / "results-v1.json")
    parallel = write_charts_parallel(results, tmp_path / "a", ("png",), workers=2)
    serial = write_charts_parallel(results, tmp_path / "b", ("png",), workers=1)
    assert [p.name for p in parallel] == sorted(p.name for p in serial)
    assert len(parallel) == 8
