"""Results files: atomic writes, validation on read, clear errors naming the file."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path

import pytest

from bench.errors import ResultsError
from bench.results.files import ResultsSaver, read_results, redact_userinfo, resolve, write_atomic, write_results
from bench.results.records import SCHEMA_VERSION
from bench.scenario.target_models import UrlTarget
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


# --- issue 19: names that cannot collide, writes that cannot replace what is not ours, pointers that stay home ---


def test_generated_names_are_unique_per_run(tmp_path: Path) -> None:
    names = {ResultsSaver(None, tmp_path).path.name for _ in range(200)}
    assert len(names) == 200
    name = next(iter(names))
    assert re.fullmatch(r"run-\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{6}\.json", name), name


def test_a_generated_name_is_created_exclusively(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs that drew the same name (same microsecond, same random part): the second picks another."""
    results = read_results(STORED)
    first, second = ResultsSaver(None, tmp_path), ResultsSaver(None, tmp_path)
    monkeypatch.setattr(second, "path", first.path)
    first.save(results)
    before = first.path.read_bytes()
    second.save(results.model_copy(update={"complete": False}))
    assert second.path != first.path
    assert first.path.read_bytes() == before  # never replaced
    assert not read_results(second.path).complete
    assert json.loads((tmp_path / "latest.json").read_text(encoding="utf-8")) == {"latest": second.path.name}
    second.save(results)  # later saves of the same run replace its own file
    assert read_results(second.path).complete


def test_write_atomic_never_replaces_a_device_or_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic(fifo, "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    node = tmp_path / "null"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs root")
    with pytest.raises(OSError, match="not a regular file"):
        write_atomic(node, "x")
    assert stat.S_ISCHR(os.lstat(node).st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo", "null"]


@pytest.mark.parametrize("name", ["../outside.json", "/etc/passwd", "sub/run.json", "..", ".", "", 3, None])
def test_latest_json_points_inside_its_folder_only(tmp_path: Path, name: object) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "latest.json").write_text(json.dumps({"latest": name}), encoding="utf-8")
    with pytest.raises(ResultsError) as info:
        resolve(None, folder)
    assert str(info.value) == (
        f"{folder / 'latest.json'}: names {name!r}, which is not a file in this folder; pass a results file explicitly"
    )


def test_url_passwords_are_never_stored(tmp_path: Path) -> None:
    stored = read_results(STORED)
    first = stored.scenarios[0]
    scenario = first.scenario.model_copy(
        update={"target": UrlTarget(kind="url", url="http://alice:s3cret@127.0.0.1:9/x"), "description": "s3cret"}
    )
    secret = stored.model_copy(
        update={
            "scenarios": (first.model_copy(update={"scenario": scenario}),),
            "environment": stored.environment.model_copy(
                update={"command_line": ("iobench", "quick", "https://tok3n@example.com/")}
            ),
        }
    )
    saver = ResultsSaver(tmp_path / "run.json")
    kept = saver.save(secret)
    text = (tmp_path / "run.json").read_text(encoding="utf-8")
    assert "alice" not in text and "s3cret@" not in text and "tok3n" not in text
    assert "http://***@127.0.0.1:9/x" in text and "https://***@example.com/" in text
    assert kept.scenarios[0].scenario.target.url == "http://***@127.0.0.1:9/x"  # type: ignore[union-attr]
    assert read_results(tmp_path / "run.json") == kept


def test_redact_userinfo() -> None:
    assert redact_userinfo('"http://u:p@h/a@b", "https://h/?x=a@b", "http://h", "ftp://u@h"') == (
        '"http://***@h/a@b", "https://h/?x=a@b", "http://h", "ftp://u@h"'
    )


def test_a_failed_write_falls_back_and_says_where(tmp_path: Path) -> None:
    results = read_results(STORED)
    blocked = tmp_path / "file"
    blocked.write_text("", encoding="utf-8")
    saver = ResultsSaver(blocked / "run.json", fallback_dirs=(tmp_path / "fallback",))
    kept = saver.save(results)
    assert saver.where == tmp_path / "fallback" / "iobench-run.json"
    assert read_results(saver.where) == kept
    assert saver.problem == (
        f"{blocked / 'run.json'}: cannot write: Not a directory; the results are saved in {saver.where} instead"
    )
    saver.save(results.model_copy(update={"complete": False}))  # the next save goes to the same fallback
    assert not read_results(saver.where).complete
