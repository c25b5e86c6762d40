"""Where results go, when the disk says no (issue 19): folders checked before the first request (exit 2 naming the
path), names unique per run, a failed write after measuring kept in a named fallback file (exit 3), device nodes
and FIFOs never replaced, ``latest.json`` followed inside its folder only.

A full disk is a real 2 MB tmpfs and a read-only folder a read-only tmpfs, mounted by the test (root: CI and the
developers' machines run as root); without the right to mount, those tests are skipped.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench.cli.main import main
from bench.results.files import read_results
from tests.conftest import DATA, REPO

SLEEPS = (
    "name: {name}\ntasks: 20\ntarget: {{kind: sleep, latency: {{dist: fixed, ms: 1}}}}\n"
    "strategies: [sequential, gather]\nrepeats: 2\nwarmup: 0\n"
)


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SLEEPS.format(name="s"), encoding="utf-8")
    return path


@contextlib.contextmanager
def tmpfs(where: Path, options: str) -> Iterator[Path]:
    """A tmpfs mounted at ``where`` for the block (skips the test when mounting is not allowed)."""
    where.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> None:
    """Write zeros into ``folder`` until its file system is full."""
    with open(folder / "filler", "wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    with contextlib.suppress(OSError), open(folder / "filler2", "wb") as handle:
        while True:
            handle.write(b"\0" * 512)
            handle.flush()


def in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    try:
        code = main(argv)
    except SystemExit as exc:
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def cli(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bench", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


# --- refused before the first request: exit 2, the path named, nothing written ----------------------------------


def test_results_dir_naming_a_file(scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    code, out, err = in_process(["run", str(scenario), "--results-dir", str(tmp_path / "file"), "--no-plots"], capsys)
    assert (code, out, err) == (2, "", f"iobench: error: --results-dir {tmp_path / 'file'}: not a folder\n")
    code, _, err = in_process(["run", str(scenario), "--results-dir", str(tmp_path / "file/sub"), "--no-plots"], capsys)
    assert (code, err) == (
        2,
        f"iobench: error: --results-dir {tmp_path}/file/sub: not a folder ({tmp_path}/file is a file)\n",
    )


@pytest.mark.parametrize("output", ["", ".", "folder"])
def test_output_naming_a_folder(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], output: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder").mkdir()
    code, _out, err = in_process(["run", str(scenario), "-o", output, "--no-plots"], capsys)
    assert code == 2
    if output == "folder":
        assert err == "iobench: error: -o folder: is a folder; give a file name, e.g. folder/run.json\n"
    else:
        assert err == "iobench: error: -o needs a file name, e.g. -o results/run.json\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "s.yaml"]


@pytest.mark.parametrize("kind", ["fifo", "device"])
def test_output_onto_a_device_node_or_fifo_is_refused(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    """As root, ``-o /dev/null`` once replaced the system's /dev/null; a node made with mknod stands in for it."""
    node = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(node)
    else:
        try:
            os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        except PermissionError:
            pytest.skip("mknod needs root")
    code, out, err = in_process(["run", str(scenario), "-o", str(node), "--no-plots"], capsys)
    assert (code, out) == (2, "")
    assert err == f"iobench: error: -o {node}: is a device, FIFO or socket; iobench writes regular files only\n"
    mode = os.lstat(node).st_mode
    assert stat.S_ISFIFO(mode) if kind == "fifo" else stat.S_ISCHR(mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([kind, "s.yaml"])


def test_baseline_onto_a_device_node_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    node = tmp_path / "fifo"
    os.mkfifo(node)
    run = tmp_path / "r" / "run.json"
    run.parent.mkdir()
    shutil.copy(DATA / "check" / "run-a.json", run)
    code, _, err = in_process(["baseline", str(run), "-o", str(node)], capsys)
    assert (code, err) == (
        2,
        f"iobench: error: -o {node}: is a device, FIFO or socket; iobench writes regular files only\n",
    )
    assert stat.S_ISFIFO(os.lstat(node).st_mode)


@pytest.mark.parametrize("which", ["--results-dir", "--plots-dir", "-o"])
def test_read_only_folders_are_refused_before_the_first_request(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], which: str
) -> None:
    with tmpfs(tmp_path / "ro", "ro,size=1m") as ro:
        argv = ["run", str(scenario), "--results-dir", str(tmp_path / "r"), "--plots-dir", str(tmp_path / "p")]
        target = ro / "run.json" if which == "-o" else ro / "sub"
        argv += [which, str(target)]
        code, out, err = in_process(argv, capsys)
        folder = ro if which == "-o" else ro / "sub"
        at = "" if which == "-o" else f" at {ro}"
        assert (code, out) == (2, "")
        assert err == f"iobench: error: {which} {folder}: cannot write there (a read-only file system{at})\n"
        assert not (tmp_path / "r").exists() and not (tmp_path / "p").exists()


def test_report_never_follows_latest_json_out_of_its_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    shutil.copy(DATA / "results-v1.json", tmp_path / "outside.json")
    (folder / "latest.json").write_text(json.dumps({"latest": "../outside.json"}), encoding="utf-8")
    code, out, err = in_process(["report", "--results-dir", str(folder)], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"iobench: error: {folder / 'latest.json'}: names '../outside.json', which is not a file in this folder; "
        "pass a results file explicitly\n"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["outside.json", "results"]


# --- names unique per run; writes that fail after measuring -------------------------------------------------------


@pytest.mark.e2e
def test_two_runs_started_together_keep_both_files(scenario: Path, tmp_path: Path) -> None:
    results = tmp_path / "r"
    runs = [cli(["run", str(scenario), "--results-dir", str(results), "--no-plots", "-q"]) for _ in range(3)]
    ended = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0], [e[1] for e in ended]
    printed = {
        line.removeprefix("results: ") for out, _ in ended for line in out.splitlines() if line.startswith("results: ")
    }
    files = sorted(p for p in results.glob("run-*.json") if not p.name.endswith(".csv"))
    assert len(printed) == 3 and len(files) == 3, (printed, files)
    assert {str(p) for p in files} == printed
    assert all(read_results(p).complete for p in files)


@pytest.mark.e2e
def test_a_full_disk_keeps_the_results_in_a_named_fallback(scenario: Path, tmp_path: Path) -> None:
    second = tmp_path / "t.yaml"
    second.write_text(SLEEPS.format(name="t"), encoding="utf-8")
    spare = tmp_path / "spare"
    spare.mkdir()
    with tmpfs(tmp_path / "full", "size=2m") as full:
        fill(full)
        run = cli(
            ["run", str(scenario), str(second), "--results-dir", str(full / "r"), "--no-plots", "-q"],
            {"TMPDIR": str(spare)},
        )
        out, err = run.communicate(timeout=120)
    assert run.returncode == 3, err
    assert "Traceback" not in err
    [fallback] = spare.glob("iobench-run-*.json")
    assert err == (
        f"iobench: error: {full}/r/{fallback.name.removeprefix('iobench-')}: cannot write: No space left on device; "
        f"the results are saved in {fallback} instead\n"
    )
    kept = read_results(fallback)
    assert kept.complete and [s.scenario.name for s in kept.scenarios] == ["s", "t"]
    assert f"results: {fallback}" in out  # the report and CSVs went beside it
    assert (spare / "report.md").exists()


@pytest.mark.e2e
def test_a_full_plots_folder_after_measuring_is_a_message(scenario: Path, tmp_path: Path) -> None:
    with tmpfs(tmp_path / "plots", "size=1m") as plots:
        fill(plots)
        run = cli(["run", str(scenario), "-o", str(tmp_path / "r" / "run.json"), "--plots-dir", str(plots), "-q"])
        _out, err = run.communicate(timeout=180)
    assert run.returncode == 3, err
    assert err.startswith("iobench: error: cannot write the report: ") and "No space left on device" in err, err
    assert err.rstrip().endswith(f"the results are in {tmp_path / 'r' / 'run.json'}")
    assert read_results(tmp_path / "r" / "run.json").complete
