"""Results files: atomic writes, validation on read, clear errors naming the file."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from bench.errors import ResultsError
from bench.results.files import read_results, resolve, write_atomic, write_results
from bench.results.records import SCHEMA_VERSION
from tests.conftest import DATA

STORED = DATA / "results-v1.json"


def test_stored_file_reads() -> None:
    results = read_results(STORED)
    assert results.schema_version == SCHEMA_VERSION == 2  # a version 1 file, upgraded as it is read
    run = results.scenarios[0].points[0].runs[0]
    assert run.samples.created_ns == run.samples.start_ns
    assert set(run.samples.service_us) == {-1}
    assert run.last_end_ns == max(run.samples.end_ns)
    assert [s.scenario.name for s in results.scenarios] == ["fixture", "fixture-fixed"]
    assert [p.tasks for p in results.scenarios[0].points] == [3, 8]


def test_round_trip_is_exact(tmp_path: Path) -> None:
    results = read_results(STORED)
    out = tmp_path / "out.json"
    write_results(out, results)
    assert read_results(out) == results
    assert json.loads((tmp_path / "latest.json").read_text(encoding="utf-8")) == {"latest": "out.json"}


def test_resolve_follows_latest(tmp_path: Path) -> None:
    write_results(tmp_path / "run-1.json", read_results(STORED))
    assert resolve(None, tmp_path) == tmp_path / "run-1.json"
    assert resolve(tmp_path) == tmp_path / "run-1.json"
    assert resolve(STORED) == STORED


def test_resolve_without_results(tmp_path: Path) -> None:
    with pytest.raises(ResultsError) as info:
        resolve(None, tmp_path)
    assert str(info.value) == f"{tmp_path / 'latest.json'}: no results yet; run `iobench run` (or `make bench`) first"


def test_atomic_write_leaves_no_temporary_files(tmp_path: Path) -> None:
    target = tmp_path / "f.json"
    write_atomic(target, "one")
    write_atomic(target, "two")
    assert target.read_text(encoding="utf-8") == "two"
    assert os.listdir(tmp_path) == ["f.json"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("hello", "not JSON (line 1, column 1: Expecting value)"),
        ('{"schema_version": 1, "scenarios": [', "truncated (line 1, column 37: Expecting value)"),
        ("[1, 2]", "not an iobench results file (no schema_version)"),
        (
            '{"schema_version": 99}',
            "schema_version 99 is not supported by iobench 0.1.0 (it reads versions 1 to 2); "
            "regenerate it with `iobench run` on the same scenarios",
        ),
        ('{"schema_version": 2}', "missing key 'created_utc'"),
    ],
)
def test_unreadable_files_name_the_file(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ResultsError) as info:
        read_results(path)
    assert str(info.value) == f"{path}: {message}"


def test_missing_results_file(tmp_path: Path) -> None:
    with pytest.raises(ResultsError) as info:
        read_results(tmp_path / "none.json")
    assert str(info.value) == f"{tmp_path / 'none.json'}: no such results file"


@pytest.mark.slow
def test_the_recorded_peak_rss_is_the_process_own_not_its_parents() -> None:
    """Linux carries a parent's peak into its child across exec (ru_maxrss); the results must not."""
    import subprocess
    import sys

    ballast = b"x" * (250 * 1024 * 1024)  # 250 MB touched in this (parent) process
    code = "from bench.run.timed import peak_rss_mb; print(peak_rss_mb())"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert len(ballast) and float(child.stdout) < 150  # its own: about 60 MB
