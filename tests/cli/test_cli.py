"""The command line: exit codes, messages on stderr, no tracebacks for a user's mistake."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bench import __version__
from bench.cli.main import main
from bench.cli.output import StreamingOutput
from bench.cli.quick import quick_scenario, strategy_item
from bench.cli.select import apply_overrides, keyword_matcher, select, with_loops
from bench.errors import UsageError
from bench.report.charts import applicable_charts
from bench.report.exporters import ExportJob, export_all
from bench.results.files import read_results, write_atomic
from bench.results.summary import summarise_file
from bench.scenario.loader import parse_scenario
from bench.scenario.model import Scenario
from tests.conftest import DATA, REPO
from tests.names import STRATEGIES


def run_cli(*args: str, cwd: Path = REPO, module: str = "bench") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
        check=False,
        preexec_fn=lambda: os.umask(0o022),
    )


PROGRESS_LINE = re.compile(r"^iobench: [\w.-]+: (started \(\d+ runs\)|done \((ok, |failed, )?\d+\.\d s\))$")


@pytest.mark.e2e
def test_python_dash_m_and_version() -> None:
    done = run_cli("--version")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"iobench {__version__}\n", "")


@pytest.mark.e2e
def test_bad_scenario_exits_2_with_message_and_no_traceback(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    path = write_scenario("name: x\ntasks: 0\ntarget: {latency: {dist: fixed, ms: 1}}\n", "bad")
    done = run_cli("run", str(path), "--results-dir", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"iobench: error: {path}:2: tasks: must be at least 1 (got 0)\n"
    assert not (tmp_path / "r").exists()


@pytest.mark.e2e
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
    assert "target: local server; connector limit: none (aiohttp's default of 100 is lifted); loop: asyncio" in out


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


@pytest.mark.e2e
def test_serve_refuses_non_loopback_without_flag() -> None:
    done = run_cli("serve", "--host", "0.0.0.0")
    assert done.returncode == 2
    assert done.stderr.startswith("iobench: error: --host 0.0.0.0 is not a loopback address")
    assert "Traceback" not in done.stderr


@pytest.mark.e2e
def test_run_prints_table_and_writes_everything(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    path = write_scenario(
        "name: tiny\ntasks: 3\ntarget: {latency: {dist: fixed, ms: 5}}\nrepeats: 2\nwarmup: 0\n", "tiny"
    )
    out = tmp_path / "res" / "r.json"
    plots = tmp_path / "plots"
    done = run_cli("run", str(path), "-o", str(out), "--plots-dir", str(plots))
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()  # off a terminal: one plain line as the scenario starts and one as it ends
    assert [line.split(": ")[1] for line in lines] == ["tiny", "tiny"]
    assert all(PROGRESS_LINE.match(line) for line in lines), lines
    assert "tiny" in done.stdout and "sequential" in done.stdout and "gather" in done.stdout
    results = read_results(out)
    again = export_all(ExportJob(results, summarise_file(results), tmp_path / "again" / "r.json", tmp_path / "p2"))
    charts = [p.name for p in again if p.parent == tmp_path / "p2"]
    assert done.stdout.rstrip().splitlines()[-3:] == [
        f"results: {out}",
        f"report:  {out.parent / 'report.md'} and {out.parent / 'report.html'} (and CSV tables beside the results)",
        f"charts:  {len(charts)} files in {plots}/",
    ]
    exported = [p.name for p in again if p.parent == tmp_path / "again"]  # what every exporter writes for it
    assert sorted(p.name for p in out.parent.iterdir()) == sorted(["latest.json", "r.json", *exported])
    assert sorted(p.name for p in plots.iterdir()) == sorted(charts)
    assert {"r.summary.csv", "report.md", "report.html"} <= set(exported) and "tiny-wall.png" in charts
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in [*out.parent.iterdir(), *plots.iterdir()]}
    assert set(modes.values()) == {0o644}, modes  # results, CSV and report honour the umask like the charts


@pytest.mark.slow
def test_plot_and_report_rebuild_from_a_saved_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "copy.json"
    source.write_bytes((DATA / "results-v1.json").read_bytes())
    assert main(["plot", str(source), "--plots-dir", str(tmp_path / "p"), "--format", "png"]) == 0
    results = read_results(source)
    pairs = zip(results.scenarios, summarise_file(results).scenarios, strict=True)
    assert len(list((tmp_path / "p").glob("*.png"))) == sum(len(applicable_charts(r, rows)) for r, rows in pairs)
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


@pytest.mark.e2e
def test_charts_written_in_parallel_match_the_sequential_ones(tmp_path: Path) -> None:
    from bench.report.charts import applicable_charts
    from bench.report.exporters import ExportJob, export_all

    results = read_results(DATA / "results-v1.json")
    summaries = summarise_file(results)
    jobs = [ExportJob(results, summaries, tmp_path / f"{side}.json", tmp_path / side, ("png",)) for side in "ab"]
    parallel = [p for p in export_all(jobs[0], workers=2) if p.suffix == ".png"]
    serial = [p for p in export_all(jobs[1], workers=1) if p.suffix == ".png"]
    assert [p.name for p in parallel] == sorted(p.name for p in serial)
    pairs = zip(results.scenarios, summaries.scenarios, strict=True)
    assert len(parallel) == sum(len(applicable_charts(result, rows)) for result, rows in pairs)
    for drawn in parallel:  # the same pixels, not only the same names
        assert drawn.read_bytes() == (tmp_path / "b" / drawn.name).read_bytes(), drawn.name


# --- files ----------------------------------------------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[Callable[[int], None]]:
    """Set the process umask for one test and restore it after."""
    saved = os.umask(0o022)
    yield lambda mask: os.umask(mask) and None
    os.umask(saved)


def test_write_atomic_honours_the_umask(tmp_path: Path, umask: Callable[[int], None]) -> None:
    for mask, mode in ((0o022, 0o644), (0o077, 0o600), (0o002, 0o664)):
        umask(mask)
        path = tmp_path / f"{mask:o}.json"
        write_atomic(path, "{}")
        write_atomic(path, "{}\n")  # a rewrite too
        assert stat.S_IMODE(path.stat().st_mode) == mode
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2.json", "22.json", "77.json"]  # no temporary left


def test_report_accepts_latest_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(DATA / "results-v1.json", tmp_path / "run-1.json")
    (tmp_path / "latest.json").write_text('{"latest": "run-1.json"}\n', encoding="utf-8")
    assert main(["report", str(tmp_path / "latest.json")]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "fixture — small stored run" in out
    assert f"{tmp_path / 'run-1.samples.csv'}" in out.rstrip().splitlines()[-1]


# --- what to run: overrides, -k, loops --------------------------------------------------------------------

TINY = parse_scenario(
    "name: tiny\ntasks: [2, 4]\ntarget: {latency: {dist: fixed, ms: 5}}\n"
    "strategies: [sequential, gather, {bounded: {limit: 2}}]\n"
    "expect: {speedup: {gather: '>= 1.5'}, efficiency: {'bounded(limit=2)': '>= 0.1'}, tasks: 4}\n"
)


def test_overrides_replace_fields_and_revalidate() -> None:
    changed = apply_overrides(TINY, tasks=(3,), repeats=7, warmup=0, seed=11)
    assert (changed.tasks, changed.repeats, changed.warmup, changed.seed) == ((3,), 7, 0, 11)
    assert changed.expect.tasks is None  # 4 is gone: the expectations fall back to the largest count
    assert changed.expect.speedup == TINY.expect.speedup
    assert TINY.tasks == (2, 4)  # the input is untouched
    assert apply_overrides(TINY) is TINY
    assert apply_overrides(TINY, tasks=(4, 8)).expect.tasks == 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"tasks": (0,)}, "--tasks: Input should be greater than or equal to 1 (scenario tiny)"),
        ({"repeats": 0}, "--repeats: must be between 1 and 1000, or 'auto' (got 0) (scenario tiny)"),
        ({"warmup": -1}, "--warmup: Input should be greater than or equal to 0 (scenario tiny)"),
    ],
)
def test_bad_overrides_name_the_option(change: dict[str, object], message: str) -> None:
    with pytest.raises(UsageError) as info:
        apply_overrides(TINY, **change)  # type: ignore[arg-type]
    assert str(info.value) == message


def test_fixed_repeats_drop_the_keys_of_repeats_auto() -> None:
    auto = parse_scenario(
        "name: auto\ntasks: 4\ntarget: {latency: {dist: fixed, ms: 5}}\nrepeats: auto\nprecision: 2%\nmin_repeats: 6\n"
    )
    fixed = apply_overrides(auto, repeats=3)
    assert (fixed.repeats, fixed.precision, fixed.min_repeats, fixed.adaptive) == (3, None, None, None)
    assert apply_overrides(auto, repeats="auto").precision == auto.precision


def test_an_override_that_upsets_another_key_names_both() -> None:
    spread = parse_scenario("name: spread\ntasks: 4\ntarget: {latency: {dist: fixed, ms: 5}}\nprocesses: 2\n")
    with pytest.raises(UsageError) as info:
        apply_overrides(spread, tasks=(1,), seed=3)
    assert str(info.value) == (
        "processes: 2 is more than the smallest task count (1); every process needs at least one task "
        "(scenario spread, with --tasks, --seed)"
    )


def test_keyword_expressions() -> None:
    labels = ["tiny::sequential", "tiny::gather", "tiny::bounded(limit=2)", "seed::gather"]
    chosen = {
        expr: [label for label in labels if keyword_matcher(expr)(label)]
        for expr in ("gather", "TINY", "tiny and not sequential", "seed or bounded", "bounded(limit=2)", "::g")
    }
    assert chosen == {
        "gather": ["tiny::gather", "seed::gather"],
        "TINY": labels[:3],
        "tiny and not sequential": ["tiny::gather", "tiny::bounded(limit=2)"],
        "seed or bounded": ["tiny::bounded(limit=2)", "seed::gather"],
        "bounded(limit=2)": ["tiny::bounded(limit=2)"],
        "::g": ["tiny::gather", "seed::gather"],
    }
    with pytest.raises(UsageError, match="an empty term"):
        keyword_matcher("gather or ")


def test_select_keeps_matching_strategies_and_their_expectations() -> None:
    assert select(TINY, keyword_matcher("tiny")) is TINY
    assert select(TINY, keyword_matcher("seed")) is None
    both = select(TINY, keyword_matcher("sequential or gather"))
    assert both is not None
    assert [s.label for s in both.strategies] == ["sequential", "gather"]
    assert list(both.expect.speedup) == ["gather"] and both.expect.efficiency == {}
    alone = select(TINY, keyword_matcher("bounded"))
    assert alone is not None
    assert [s.label for s in alone.strategies] == ["bounded(limit=2)"]
    assert alone.expect.speedup == {} and list(alone.expect.efficiency) == ["bounded(limit=2)"]


def test_loops_as_an_axis() -> None:
    assert with_loops(TINY, []) == [TINY]
    [one] = with_loops(TINY, ["uvloop"])
    assert (one.name, one.loop) == ("tiny", "uvloop")
    both = with_loops(TINY, ["asyncio", "uvloop"])
    assert [(s.name, s.loop) for s in both] == [("tiny.asyncio", "asyncio"), ("tiny.uvloop", "uvloop")]
    with pytest.raises(UsageError, match=r"^--loop: Input should be 'asyncio' or 'uvloop'"):
        with_loops(TINY, ["trio"])


@pytest.mark.e2e
def test_k_matching_nothing_is_a_usage_error(
    write_scenario: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write_scenario("name: tiny\ntasks: 2\ntarget: {latency: {dist: fixed, ms: 1}}\n", "tiny")
    assert main(["run", str(path), "-k", "threads", "--results-dir", str(tmp_path / "r")]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "iobench: error: -k 'threads' matches no scenario or strategy (labels: tiny::sequential, tiny::gather)\n"
    )
    assert not (tmp_path / "r").exists()


def test_validate_runs_nothing(write_scenario: Callable[[str, str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    good = write_scenario("name: good\ntasks: [1, 5]\ntarget: {latency: {dist: fixed, ms: 1}}\nrepeats: 3\n", "good")
    assert main(["validate", str(good)]) == 0
    assert capsys.readouterr() == (f"ok  {good}: good (1, 5 tasks; 2 strategies; 16 runs)\n", "")
    bad = write_scenario("name: bad\ntasks: 2\ntarget: {latency: {dist: fixed, ms: 1}}\nrepeat: 3\n", "bad")
    assert main(["validate", str(good), str(bad)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"iobench: error: {bad}:4: repeat: unknown key 'repeat'; did you mean 'repeats'?\n"


@pytest.mark.parametrize(
    ("target", "strategies", "message"),
    [
        ("{callable: 'tests.userfuncs:missing'}", "[gather]", "module 'tests.userfuncs' has no function 'missing'"),
        ("{callable: 'tests.userfuncs:quick_sync'}", "[gather]", "tests.userfuncs:quick_sync must be an async def"),
        ("{callable: 'tests.userfuncs:quick'}", "[{threads: {workers: 2}}]", "the threads strategy needs a plain def"),
        (
            "{callable: 'tests.userfuncs.hooks:use_pool'}",
            "[gather]",
            "takes a state argument, but the target has no setup to make it",
        ),
        ("{kind: url, url: 'http://192.0.2.1/'}", "[gather]", "not on this machine"),
    ],
)
def test_validate_refuses_what_run_refuses_before_its_first_request(
    write_scenario: Callable[[str, str], Path],
    capsys: pytest.CaptureFixture[str],
    target: str,
    strategies: str,
    message: str,
) -> None:
    path = write_scenario(f"name: v\ntasks: 2\ntarget: {target}\nstrategies: {strategies}\n", "v")
    assert main(["validate", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and message in err and str(path) in err and "Traceback" not in err


@pytest.mark.e2e
def test_run_exits_3_and_says_which_strategy_failed_every_time(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    text = "name: down\ntarget: {callable: 'tests.userfuncs.hooks:always_fails'}\ntasks: 5\nrepeats: 3\n"
    path = write_scenario(text + "strategies: [sequential, gather]\n", "down")
    done = run_cli("run", str(path), "-o", str(tmp_path / "down.json"), "--no-plots")
    assert done.returncode == 3, done.stderr
    words = "ConnectionRefusedError: [Errno 111] Connect call failed ('127.0.0.1', 6390) ×5"
    assert f"iobench: scenario down: gather at 5 tasks: 1 of 1 runs had failed tasks ({words})" in done.stderr
    assert "gather was stopped: every task of a run failed" in done.stdout


# --- quick ------------------------------------------------------------------------------------------------


def test_quick_targets_and_strategies() -> None:
    local = quick_scenario("20ms", (3,), ("sequential", "gather", "bounded=2", "threads(workers=3)"))
    assert (
        local.target.model_dump()
        == parse_scenario("name: q\ntasks: 1\ntarget: {latency: {dist: fixed, ms: 20}}\n").target.model_dump()
    )
    assert [s.label for s in local.strategies] == ["sequential", "gather", "bounded(limit=2)", "threads(workers=3)"]
    assert quick_scenario("250us", (1,), ("gather",)).target.model_dump()["latency"]["ms"] == 0.25
    mine = quick_scenario("tests.userfuncs:quick", (2,), ("gather",), sync_callable="tests.userfuncs:quick_sync")
    assert mine.target.model_dump(exclude_unset=True) == {
        "kind": "callable",
        "callable": "tests.userfuncs:quick",
        "sync_callable": "tests.userfuncs:quick_sync",
    }
    url = quick_scenario("http://127.0.0.1:9/x", (2,), ("gather",))
    assert url.target.model_dump()["url"] == "http://127.0.0.1:9/x"
    assert isinstance(url, Scenario) and url.name == "quick"
    assert strategy_item("bounded(limit=5,connector_limit=none)") == {"bounded": {"limit": 5, "connector_limit": None}}


@pytest.mark.parametrize(
    ("target", "strategies", "message"),
    [
        (
            "nothing",
            ("gather",),
            "quick: 'nothing' is not a target; give an http(s):// URL, a package.module:function, "
            "or a delay for the local server such as 20ms",
        ),
        ("20ms", ("gather=3",), "--strategies: 'gather=3': only bounded=N and threads=N take a bare value"),
        (
            "20ms",
            ("gathr",),
            f"quick: strategies: unknown strategy 'gathr'; did you mean 'gather'? (valid: {STRATEGIES})",
        ),
    ],
)
def test_quick_mistakes(target: str, strategies: tuple[str, ...], message: str) -> None:
    with pytest.raises(UsageError) as info:
        quick_scenario(target, (2,), strategies)
    assert str(info.value) == message


@pytest.mark.e2e
def test_quick_json_on_both_loops(tmp_path: Path) -> None:
    """No YAML; --json alone on stdout; one scenario per loop, side by side; --seed reaches the scenario."""
    done = run_cli(
        "quick",
        "tests.userfuncs:quick",
        "--tasks",
        "4",
        "--repeats",
        "3",
        "--warmup",
        "0",
        "--seed",
        "5",
        "--loop",
        "asyncio,uvloop",
        "--json",
        "--no-plots",
        "--results-dir",
        str(tmp_path),
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)  # nothing but the JSON on stdout
    assert [s["name"] for s in summary["scenarios"]] == ["quick.asyncio", "quick.uvloop"]
    assert [(r["scenario"], r["loop"], r["tasks"], r["strategy"]) for r in summary["rows"]] == [
        ("quick.asyncio", "asyncio", 4, "sequential"),
        ("quick.asyncio", "asyncio", 4, "gather"),
        ("quick.uvloop", "uvloop", 4, "sequential"),
        ("quick.uvloop", "uvloop", 4, "gather"),
    ]
    for row in summary["rows"]:
        low, high = row["wall_ci_low_s"], row["wall_ci_high_s"]
        assert low <= row["wall_median_s"] <= high and row["runs"] == 3
        assert row["wall_ci_level"] == 0.75 and row["speedup_ci_level"] == 0.75  # [min, max] of 3: 1 - 2 / 2**3
        assert (row["failed_tasks"], row["cancelled_tasks"], row["error_rate"]) == (0, 0, 0.0)
        assert row["missing_reason"] is None
    gather = summary["rows"][1]
    assert gather["speedup"] > 2 and gather["speedup_ci_low"] <= gather["speedup"]  # 4 x 20 ms vs 20 ms
    assert "quick.asyncio — tests.userfuncs:quick" in done.stderr  # the human tables went to stderr
    results = read_results(Path(summary["results"]))
    assert [s.scenario.seed for s in results.scenarios] == [5, 5]
    for row in summary["rows"]:  # the interval of 3 runs is their range, which is what reaches 75%
        [scenario] = [s for s in results.scenarios if s.scenario.name == row["scenario"]]
        walls = [r.wall_ns / 1e9 for p in scenario.points for r in p.runs if r.strategy == row["strategy"]]
        assert [row["wall_ci_low_s"], row["wall_ci_high_s"]] == [min(walls), max(walls)]


# --- streaming --------------------------------------------------------------------------------------------


def test_streaming_output_prints_each_table_once(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.console import Console

    results = read_results(DATA / "results-v1.json")
    out = Console(file=sys.stdout, width=160, soft_wrap=True)
    sink = StreamingOutput(out, Console(stderr=True), bar=False, lines=True)
    sink.scenario_started("fixture", 12)
    sink.run_done("gather", 3)
    sink.scenario_done(results.scenarios[0])
    sink.print_table(results.scenarios[0])  # the end-of-run pass does not print it twice
    captured = capsys.readouterr()
    assert captured.out.count("fixture — small stored run") == 1
    assert captured.err.splitlines()[0] == "iobench: fixture: started (12 runs)"
    assert PROGRESS_LINE.match(captured.err.splitlines()[1])
    assert captured.err.splitlines()[1].startswith("iobench: fixture: done (ok, ")


@pytest.mark.e2e
def test_tables_stream_in_a_log(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    """Off a terminal, the first scenario's table is in the log before the second scenario starts."""
    body = "tasks: 2\ntarget: {latency: {dist: fixed, ms: 2}}\nrepeats: 2\nwarmup: 0\n"
    first = write_scenario(f"name: first\n{body}", "first")
    second = write_scenario(f"name: second\n{body}", "second")
    done = subprocess.run(
        [sys.executable, "-m", "bench", "run", str(first), str(second), "--no-plots", "--results-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout
    log = done.stdout
    table = log.index("\nfirst\nstrategy")  # the title (a scenario without a description) over the table's header
    assert log.index("iobench: first: done") < table < log.index("iobench: second: started")
    rows = log[table + 1 : log.index("\ntarget: ", table)].splitlines()  # notes may run on (soft wrap)
    assert len(rows) >= 6 and max(len(line) for line in rows) <= 100  # 100 columns in a pipe


# --- compare and history ----------------------------------------------------------------------------------


def test_history_table_in_time_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("run-regressed", "run-a", "run-b"):
        shutil.copy(DATA / "check" / f"{name}.json", tmp_path / f"{name}.json")
    shutil.copy(DATA / "check" / "run-a.json", tmp_path / "baseline.json")  # a copy of a run counts once
    (tmp_path / "latest.json").write_text('{"latest": "run-b.json"}\n', encoding="utf-8")
    (tmp_path / "notes.json").write_text("[]", encoding="utf-8")
    plots = tmp_path / "plots"
    assert main(["history", str(tmp_path), "--plots-dir", str(plots), "--format", "png"]) == 0
    out, err = capsys.readouterr()
    assert err == f"iobench: skipped {tmp_path / 'notes.json'}: not an iobench results file (no schema_version)\n"
    assert out.splitlines() == [
        "run (UTC)         commit    scenario  tasks  strategy            speedup [CI 93%]  eff.",  # 5 rounds: 93.75%
        "2026-11-25 22:12  5cda62c8  flaky        10  gather                             -     -",
        "2026-11-25 22:12  5cda62c8  tiny         10  gather            8.97x [8.57, 9.27]   82%",
        "2026-11-25 22:12  5cda62c8  tiny         10  bounded(limit=1)  1.01x [1.00, 1.01]   92%",
        "2026-11-25 22:12  5cda62c8  flaky        10  gather                             -     -",
        "2026-11-25 22:12  5cda62c8  tiny         10  gather            8.83x [8.62, 9.17]   80%",
        "2026-11-25 22:12  5cda62c8  tiny         10  bounded(limit=1)  1.00x [0.99, 1.01]   91%",
        "2026-11-25 22:14  5cda62c8  flaky        10  gather                             -     -",
        # connector limit 2: the ideal of 10 x 20 ms is 5 x 20 ms = 100 ms, over a median of 112.2 ms
        "2026-11-25 22:14  5cda62c8  tiny         10  gather            1.98x [1.91, 2.04]   89%",
        "2026-11-25 22:14  5cda62c8  tiny         10  bounded(limit=1)  1.01x [0.95, 1.02]   91%",
        "(-) flaky gather in baseline.json: 3 of 3 runs had failed tasks",  # run-a.json, counted once
        "(-) flaky gather in run-b.json: 3 of 3 runs had failed tasks",
        "(-) flaky gather in run-regressed.json: 3 of 3 runs had failed tasks",
        f"chart:   {plots / 'history.png'}",
    ]
    assert (plots / "history.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_of_an_empty_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["history", str(tmp_path), "--no-plots"]) == 2
    assert capsys.readouterr() == ("", f"iobench: error: {tmp_path}: no results files with scenarios to follow\n")


def test_compare_two_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["compare", str(DATA / "check" / "run-a.json"), str(DATA / "check" / "run-regressed.json")])
    out, _ = capsys.readouterr()
    assert code == 1  # tiny's gather fell from ~9x to ~2x: a failed comparison
    assert "tiny" in out and "gather" in out and "fail" in out


# --- python -m iobench ------------------------------------------------------------------------------------


@pytest.mark.e2e
def test_python_dash_m_iobench_inside_a_project_with_its_own_bench(tmp_path: Path) -> None:
    (tmp_path / "bench").mkdir()
    (tmp_path / "bench" / "__init__.py").write_text("", encoding="utf-8")
    (tmp_path / "bench" / "__main__.py").write_text("print('the project bench')\n", encoding="utf-8")
    assert run_cli("--version", cwd=tmp_path).stdout == "the project bench\n"  # why the shim exists
    done = run_cli("--version", cwd=tmp_path, module="iobench")
    assert (done.returncode, done.stdout, done.stderr) == (0, f"iobench {__version__}\n", "")


def test_client_override_reaches_http_targets_only() -> None:
    changed = apply_overrides(TINY, client="minimal", disable_gc=True)
    assert (changed.target.client, changed.gc) == ("minimal", False)  # type: ignore[union-attr]
    asleep = parse_scenario("name: s\ntasks: 3\ntarget: {kind: sleep, latency: {dist: fixed, ms: 1}}\n")
    assert apply_overrides(asleep, client="minimal") is asleep  # no HTTP: nothing to change
    secure = parse_scenario("name: u\ntasks: 3\ntarget: {kind: url, url: 'https://127.0.0.1:8443/x'}\n")
    with pytest.raises(UsageError, match=r"^--client: .*plain http:// only.*\(scenario u\)$"):
        apply_overrides(secure, client="minimal")
