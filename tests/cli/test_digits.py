"""Odd digits on the command line (issue 19): every whole number is ASCII digits, every port 0-65535, and a mistake
is exit 2 with the option named, never a traceback. In-process: each fails before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.cli.main import main

GOOD = "name: t\ntasks: 3\ntarget: {latency: {dist: fixed, ms: 1}}\nrepeats: 1\nwarmup: 0\n"


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(GOOD, encoding="utf-8")
    return path


def exit_and_stderr(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.err


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--repeats", "⁵", "--repeats: expected a whole number of rounds or 'auto' (got '⁵')"),
        ("--repeats", "٣", "--repeats: expected a whole number of rounds or 'auto' (got '٣')"),
        ("--tasks", "٣", "--tasks takes whole numbers separated by commas, e.g. 10 or 1,10,100; got '٣'"),
        ("--tasks", "3,²", "--tasks takes whole numbers separated by commas, e.g. 10 or 1,10,100; got '3,²'"),
        ("--warmup", "٣", "argument --warmup: expected a whole number in ASCII digits (got '٣')"),
        ("--seed", "¹", "argument --seed: expected a whole number in ASCII digits (got '¹')"),
        ("--processes", "߂", "argument --processes: expected a whole number in ASCII digits (got '߂')"),
        ("--warmup", "1_0", "argument --warmup: expected a whole number in ASCII digits (got '1_0')"),
    ],
)
def test_command_line_numbers_are_ascii_digits(
    scenario: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], option: str, value: str, message: str
) -> None:
    argv = ["run", str(scenario), option, value, "--results-dir", str(tmp_path / "r"), "--no-plots", "-q"]
    code, err = exit_and_stderr(argv, capsys)
    assert code == 2
    assert message in err
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["quick", "٣ms"], "quick: '٣ms' is not a target"),
        (["quick", "5ms", "--strategies", "bounded=٣"], "limit: expected a whole number (got '٣')"),
        (["quick", "http://127.0.0.1:99999/"], "target.url: port 99999 is not a port (1-65535)"),
        (["quick", "http://example.invalid\\@127.0.0.1/"], "a backslash in the host part"),
    ],
)
def test_quick_targets_take_ascii_digits_and_real_ports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, err = exit_and_stderr([*argv, "--results-dir", str(tmp_path / "r"), "--no-plots", "-q"], capsys)
    assert code == 2
    assert message in err


@pytest.mark.parametrize("port", ["99999", "-1", "65536", "٣", "abc"])
def test_serve_port_is_checked(capsys: pytest.CaptureFixture[str], port: str) -> None:
    code, err = exit_and_stderr(["serve", "--port", port], capsys)
    assert code == 2
    assert f"argument --port: expected a port number 0-65535 (0: any free one), got {port!r}" in err


def test_tolerance_takes_ascii_digits(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = exit_and_stderr(["check", "tests/data/results-v1.json", "--tolerance", "٣%"], capsys)
    assert (code, err) == (2, "iobench: error: --tolerance '٣%': expected a fraction such as '10%' or '0.1'\n")
