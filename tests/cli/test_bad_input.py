"""The bad-input catalogue at the command line: every user mistake exits 2 with one exact message, nothing else.

Each case runs ``python -m bench`` in a child process (as a user would) and asserts exit code 2, an empty stdout,
stderr exactly ``iobench: error: <message>``, no traceback, and that nothing was written.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import __version__
from bench.errors import ScenarioError
from bench.scenario.loader import load_paths
from bench.scenario.model import Scenario
from tests.conftest import DATA, REPO
from tests.hypotheses import FUZZ_EXAMPLES
from tests.names import KINDS, STRATEGIES

GOOD = """\
name: t
tasks: 10
target:
  latency: {dist: fixed, ms: 20}
"""
STORED = (DATA / "results-v1.json").read_text(encoding="utf-8")
CUT = STORED[: STORED.index('"scenarios":') + len('"scenarios":')]
"""A real results file cut short between two tokens."""
CUT_IN_STRING = STORED[: STORED.index('"created_utc":"') + len('"created_utc":"') + 4]
"""The same file cut short inside a string (the creation time)."""
CUT_IN_STRING_COLUMN = CUT_IN_STRING.rindex('"') + 1
"""Where the decoder says the unterminated string starts."""
OTHER_SCHEMA = json.dumps({**json.loads(STORED), "schema_version": 99})

URL_TARGET = "name: t\ntasks: 10\ntarget: {kind: url, url: 'http://example.invalid/'%s}\n"
# (files to write, command line, expected message); "{d}" is the case's folder. Files whose name ends in "/" are
# folders; "run" gets --results-dir and --plots-dir in that folder, and must not create them.
CASES: dict[str, tuple[dict[str, str], list[str], str]] = {
    "yaml-syntax": (
        {"s.yaml": GOOD.replace("ms: 20}", "ms: 20") + "repeats: 3\n"},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:5:8: not valid YAML: expected ',' or '}', but got ':' (while parsing a flow mapping at 4:12)",
    ),
    "empty-file": (
        {"s.yaml": ""},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml: the file is empty; a scenario needs at least 'name', 'tasks' and 'target'",
    ),
    "folder-without-scenarios": (
        {"scenarios/": "", "scenarios/notes.txt": "name: t\n"},
        ["run", "{d}/scenarios"],
        "{d}/scenarios: no scenario files (*.yaml, *.yml) in this folder",
    ),
    "unknown-key": (
        {"s.yaml": GOOD + "timeout: 3\n"},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:5: timeout: unknown key 'timeout'; did you mean 'timeout_s'?",
    ),
    "wrong-type": (
        {"s.yaml": GOOD + "timeout_s: soon\n"},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:5: timeout_s: expected a number (got 'soon')",
    ),
    "zero-tasks": (
        {"s.yaml": GOOD.replace("tasks: 10", "tasks: [10, 0]")},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:2: tasks.1: must be at least 1 (got 0)",
    ),
    "negative-tasks": (
        {"s.yaml": GOOD.replace("tasks: 10", "tasks: -5")},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:2: tasks: must be at least 1 (got -5)",
    ),
    "latency-missing-parameter": (
        {"s.yaml": GOOD.replace("{dist: fixed, ms: 20}", "{dist: normal, mean_ms: 20}")},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:4: target.latency: missing key 'sd_ms' (dist: normal needs it)",
    ),
    "latency-impossible-parameters": (
        {"s.yaml": GOOD.replace("{dist: fixed, ms: 20}", "{dist: uniform, low_ms: 80, high_ms: 30}")},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:4: target.latency: high_ms (30) is below low_ms (80)",
    ),
    "unknown-strategy": (
        {"s.yaml": GOOD + "strategies: [sequential, semaphore]\n"},
        ["run", "{d}/s.yaml"],
        f"{{d}}/s.yaml:5: strategies.1: unknown strategy 'semaphore' (valid: {STRATEGIES})",
    ),
    "strategy-missing-parameter": (
        {"s.yaml": GOOD + "strategies: [sequential, {bounded: {}}]\n"},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:5: strategies.1: missing key 'limit' (bounded needs it)",
    ),
    "adaptive-precision-without-percent": (
        {"s.yaml": GOOD + "repeats: auto\nprecision: 2\n"},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:6: precision: expected a percentage such as '2%' (got 2)",
    ),
    "more-processes-than-tasks": (
        {"s.yaml": GOOD.replace("tasks: 10", "tasks: [2, 10]") + "processes: 4\n"},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:5: processes: 4 is more than the smallest task count (2); every process needs at least one task",
    ),
    "same-name-twice": (
        {"a.yaml": GOOD, "b.yaml": GOOD},
        ["run", "{d}/a.yaml", "{d}/b.yaml"],
        "{d}/b.yaml: name: scenario name 't' is already used by {d}/a.yaml",
    ),
    "missing-file-after-a-good-one": (
        {"a.yaml": GOOD},
        ["run", "{d}/a.yaml", "{d}/nope.yaml"],
        "{d}/nope.yaml: no such file or folder",
    ),
    "unknown-target-kind": (
        {"s.yaml": GOOD.replace("target:\n  latency:", "target:\n  kind: grpc\n  latency:")},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:4: target.kind: unknown target kind 'grpc'; expected one of " + KINDS,
    ),
    "bad-expectation": (
        {"s.yaml": GOOD + "expect: {speedup: {gathr: '>= 2'}}\n"},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml:5: expect.speedup.gathr: 'gathr' is not a strategy of this scenario; did you mean 'gather'? "
        "(strategies: sequential, gather)",
    ),
    "url-off-loopback": (
        {"s.yaml": URL_TARGET % ""},
        ["run", "{d}/s.yaml", "--allow-external"],
        "{d}/s.yaml: target.url: example.invalid is not on this machine; to send it 10 requests per run, "
        "set allow_external: true in the target and pass --allow-external",
    ),
    "url-allowed-in-file-not-on-command-line": (
        {"s.yaml": URL_TARGET % ", allow_external: true"},
        ["run", "{d}/s.yaml"],
        "{d}/s.yaml: target.url: example.invalid is not on this machine; pass --allow-external to send it requests",
    ),
    "results-not-json": (
        {"r.json": "scenario,tasks,strategy\n"},
        ["report", "{d}/r.json"],
        "{d}/r.json: not JSON (line 1, column 1: Expecting value)",
    ),
    "results-truncated": (
        {"r.json": CUT},
        ["check", "{d}/r.json"],
        f"{{d}}/r.json: truncated (line 1, column {len(CUT) + 1}: Expecting value)",
    ),
    "results-truncated-in-a-string": (
        {"r.json": CUT_IN_STRING},
        ["report", "{d}/r.json"],
        f"{{d}}/r.json: truncated (line 1, column {CUT_IN_STRING_COLUMN}: Unterminated string starting at)",
    ),
    "results-other-schema": (
        {"r.json": OTHER_SCHEMA},
        ["plot", "{d}/r.json", "--plots-dir", "{d}/plots"],
        f"{{d}}/r.json: schema_version 99 is not supported by iobench {__version__} (it reads versions 1 to 2); "
        "regenerate it with `iobench run` on the same scenarios",
    ),
    "results-missing": (
        {},
        ["report", "{d}/none.json"],
        "{d}/none.json: no such results file",
    ),
    "results-none-yet": (
        {},
        ["report", "--results-dir", "{d}/results"],
        "{d}/results/latest.json: no results yet; run `iobench run` (or `make bench`) first",
    ),
    "serve-off-loopback": (
        {},
        ["serve", "--host", "0.0.0.0"],
        "--host 0.0.0.0 is not a loopback address: the test server would answer anyone who can reach this machine. "
        "Add --i-know-this-exposes-the-server if that is really what you want.",
    ),
}


@dataclass(frozen=True)
class Ran:
    """One case's command, run in its own folder."""

    folder: Path
    before: list[Path]
    """Everything in the folder before the command ran."""
    done: subprocess.CompletedProcess[str]


def run_case(folder: Path, files: dict[str, str], args: list[str]) -> Ran:
    for name, text in files.items():
        if name.endswith("/"):
            (folder / name).mkdir()
        else:
            (folder / name).write_text(text, encoding="utf-8")
    before = sorted(folder.rglob("*"))
    argv = [a.replace("{d}", str(folder)) for a in args]
    if argv[0] == "run":
        argv += ["--results-dir", f"{folder}/results", "--plots-dir", f"{folder}/plots", "-q"]
    done = subprocess.run(
        [sys.executable, "-m", "bench", *argv], capture_output=True, text=True, cwd=REPO, timeout=60, check=False
    )
    return Ran(folder, before, done)


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Ran]:
    """Every case, run concurrently: each command spends ~2 s importing before it reads its input."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
        futures = {
            case: pool.submit(run_case, tmp_path_factory.mktemp(case), files, args)
            for case, (files, args, _) in CASES.items()
        }
    return {case: future.result() for case, future in futures.items()}


@pytest.mark.e2e
@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_one_exact_message(ran: dict[str, Ran], case: str) -> None:
    folder, before, done = ran[case].folder, ran[case].before, ran[case].done
    message = CASES[case][2].replace("{d}", str(folder))
    assert "Traceback" not in done.stderr
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"iobench: error: {message}\n")
    assert sorted(folder.rglob("*")) == before  # no results, report, CSV or chart


BASE = GOOD.encode()


@settings(max_examples=FUZZ_EXAMPLES * 300 // 300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=200),
        st.builds(  # a valid file with arbitrary bytes spliced in somewhere
            lambda cut, junk: BASE[:cut] + junk + BASE[cut:],
            st.integers(0, len(BASE)),
            st.binary(min_size=1, max_size=24),
        ),
    )
)
def test_loader_takes_any_bytes_from_a_file(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = tmp_path_factory.getbasetemp() / "any-bytes.yaml"
    path.write_bytes(data)
    try:
        loaded = load_paths([path])
    except ScenarioError as exc:
        assert str(exc).startswith(str(path))
    else:
        assert len(loaded) == 1
        assert loaded[0][0] == path
        assert isinstance(loaded[0][1], Scenario)
