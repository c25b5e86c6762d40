"""The command line: one call per pipeline stage; the only module that prints or exits.

    iobench run [PATHS...]      run scenarios (files or folders; default scenarios/), print each table as its
                                scenario finishes, write the report, CSVs and charts
    iobench quick TARGET        run a scenario built from the command line (a URL, module:function or 20ms)
    iobench validate PATHS      load and plan scenario files, run nothing (exit 0 or 2)
    iobench report [RESULTS]    print the tables of a results file (default: results/latest.json), write report.md
    iobench plot [RESULTS]      write the charts of a results file into plots/
    iobench check [RESULTS]     gate: expectations in the scenarios, and --baseline FILE within --tolerance
    iobench compare A B         the change in median and speedup from run A to run B, in check's words
    iobench history [DIR]       speedup and efficiency across the results files of a folder, with their commits
    iobench baseline [RESULTS]  store a results file as results/baseline.json for `iobench check`
    iobench serve               run the local test server in the foreground

Exit codes: 0 success, 1 a check failed, 2 bad input or usage, 3 the run failed, 4 a check or a comparison was
inconclusive (``check``, ``compare``), 130 interrupted by SIGINT (Ctrl-C), 143 stopped by SIGTERM, 141 stdout was
closed (``iobench run | head``); what finished is saved.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from bench import __version__
from bench.check import format_lines, format_markdown, parse_tolerance
from bench.errors import IobenchError, UsageError
from bench.report import scenario_table
from bench.results import ResultsFile, ScenarioResult, read_results, resolve, utc_stamp, write_atomic
from bench.runner import Engine, run_all
from bench.scenario import Scenario, load_paths
from bench.scenario_model import ADAPTIVE_KEYS
from bench.server import LocalServer, is_loopback, serve_foreground

EXIT_SIGINT = 130
"""Exit code after SIGINT (Ctrl-C): 128 + 2, as a shell reports a process killed by it."""
EXIT_SIGTERM = 143
"""Exit code after SIGTERM: 128 + 15."""
EXIT_PIPE = 141
"""Exit code when stdout's reader went away (``iobench run | head``): 128 + SIGPIPE, as ``yes | head`` gives."""
PIPE_WIDTH = int(os.environ.get("COLUMNS", "100")) if os.environ.get("COLUMNS", "100").isdigit() else 100
"""Width of tables written to a pipe or a log (the table's compact layout takes over below its wide one)."""
LOOP_SEPARATOR = "."
"""``--loop asyncio,uvloop`` runs each scenario once per loop, named ``<scenario>.<loop>``."""


# --- signals and pipes --------------------------------------------------------------------------------------


class StdoutClosed(KeyboardInterrupt):
    """Stdout's reader went away: stop like an interrupt (the runner saves what finished), then exit quietly."""


_signals_received: list[int] = []


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's last flush cannot fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class PipeAwareConsole(Console):
    """A rich Console that turns a closed stdout into StdoutClosed (rich's own answer is exit code 1)."""

    def on_broken_pipe(self) -> None:
        """Silence stdout and stop the command."""
        self.quiet = True
        _silence_stdout()
        raise StdoutClosed


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops the run the way Ctrl-C does (asyncio's runner cancels the running strategy cleanly)."""
    _signals_received.append(signum)
    signal.raise_signal(signal.SIGINT)


def install_signal_handlers() -> dict[int, Any]:
    """Handle SIGINT and SIGTERM explicitly, even when SIGINT was ignored at start (bash background jobs)."""
    del _signals_received[:]
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_sigterm)
    return previous


def interrupt_code() -> int:
    """130 after SIGINT, 143 after SIGTERM."""
    return EXIT_SIGTERM if signal.SIGTERM in _signals_received else EXIT_SIGINT


# --- what to run: overrides, selection, loops (pure) --------------------------------------------------------

_OPTION = {
    "tasks": "--tasks",
    "repeats": "--repeats",
    "warmup": "--warmup",
    "seed": "--seed",
    "loop": "--loop",
    "processes": "--processes",
}


def revalidate(scenario: Scenario, **changes: Any) -> Scenario:
    """``scenario`` with ``changes`` applied and every rule of the loader checked again; ValidationError if not."""
    return Scenario.model_validate({**scenario.model_dump(mode="json"), **changes})


def apply_overrides(
    scenario: Scenario,
    *,
    tasks: Sequence[int] | None = None,
    repeats: int | str | None = None,
    warmup: int | None = None,
    seed: int | None = None,
    processes: int | None = None,
) -> Scenario:
    """The scenario with the command line's ``--tasks/--repeats/--warmup/--seed/--processes``; UsageError naming
    the option.

    An ``expect: {tasks: N}`` that ``--tasks`` removes falls back to the default (the largest task count); a fixed
    ``--repeats N`` drops the keys of ``repeats: auto`` (precision, min/max repeats, budget) along with it.
    """
    changes: dict[str, Any] = {
        k: v
        for k, v in {"repeats": repeats, "warmup": warmup, "seed": seed, "processes": processes}.items()
        if v is not None
    }
    if repeats is not None and repeats != "auto":
        changes.update(dict.fromkeys(ADAPTIVE_KEYS))
    if tasks is not None:
        changes["tasks"] = list(tasks)
        if scenario.expect.tasks is not None and scenario.expect.tasks not in tasks:
            changes["expect"] = {**scenario.expect.model_dump(mode="json"), "tasks": None}
    if not changes:
        return scenario
    try:
        return revalidate(scenario, **changes)
    except ValidationError as exc:
        raise UsageError(_override_message(scenario, exc, changes)) from None


def _override_message(scenario: Scenario, exc: ValidationError, changes: dict[str, Any]) -> str:
    """The first error, named by the option at fault, or by the scenario's key and the options that upset it."""
    first = exc.errors(include_url=False)[0]
    path = first["loc"] or (first.get("ctx") or {}).get("path") or ()
    field = str(path[0]) if path else ""
    message = first["msg"].removeprefix("Value error, ")
    if field in _OPTION and field in changes:
        return f"{_OPTION[field]}: {message} (scenario {scenario.name})"
    given = ", ".join(option for key, option in _OPTION.items() if key in changes)
    return f"{field or 'scenario'}: {message} (scenario {scenario.name}, with {given})"


def keyword_matcher(expression: str) -> Callable[[str], bool]:
    """pytest's ``-k`` for labels: case-insensitive substrings joined by ``or``, ``and``, ``not`` (no brackets).

    >>> keyword_matcher("seed and not sequential")("seed::gather")
    True
    """
    alternatives = [[term.strip() for term in alt.split(" and ")] for alt in expression.lower().split(" or ")]
    if any(not term or term == "not" for alt in alternatives for term in alt):
        raise UsageError(f"-k {expression!r}: an empty term; write e.g. -k gather or -k 'seed and not threads'")

    def holds(term: str, label: str) -> bool:
        if term.startswith("not "):
            return not holds(term[4:].strip(), label)
        return term in label

    return lambda label: any(all(holds(t, label.lower()) for t in alt) for alt in alternatives)


def select(scenario: Scenario, matches: Callable[[str], bool]) -> Scenario | None:
    """The strategies whose ``scenario::strategy`` label matches; None when none does.

    Expectations about strategies left out are dropped with them (speedup ones too when sequential is left out).
    """
    kept = [s for s in scenario.strategies if matches(f"{scenario.name}::{s.label}")]
    if not kept:
        return None
    if len(kept) == len(scenario.strategies):
        return scenario
    labels = {s.label for s in kept}
    expect = scenario.expect.model_dump(mode="json")
    expect["efficiency"] = {k: v for k, v in expect["efficiency"].items() if k in labels}
    speedup = expect["speedup"].items() if "sequential" in labels else ()
    expect["speedup"] = {k: v for k, v in speedup if k in labels}
    return revalidate(scenario, strategies=[s.model_dump(mode="json") for s in kept], expect=expect)


def with_loops(scenario: Scenario, loops: Sequence[str]) -> list[Scenario]:
    """One scenario per event loop: the loop set as given, or, for several, each named ``<name>.<loop>``."""
    if not loops:
        return [scenario]
    try:
        if len(loops) == 1:
            return [revalidate(scenario, loop=loops[0])]
        return [revalidate(scenario, loop=loop, name=f"{scenario.name}{LOOP_SEPARATOR}{loop}") for loop in loops]
    except ValidationError as exc:
        raise UsageError(_override_message(scenario, exc, {"loop": loops})) from None


def _int_list(text: str, option: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(
            f"{option} takes whole numbers separated by commas, e.g. 10 or 1,10,100; got {text!r}"
        ) from None
    if not values:
        raise UsageError(f"{option} needs at least one number")
    return values


def _names(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _repeats(text: str | None) -> int | str | None:
    if text is None:
        return None
    return int(text) if text.strip().isdigit() else text.strip()


def prepare(loaded: Iterable[tuple[Path, Scenario]], args: argparse.Namespace) -> list[tuple[Path, Scenario]]:
    """Apply the command line to the loaded scenarios: overrides, ``-k``, loops."""
    tasks = _int_list(args.tasks, "--tasks") if args.tasks else None
    matches = keyword_matcher(args.keyword) if getattr(args, "keyword", None) else None
    loops = _names(args.loop)
    prepared: list[tuple[Path, Scenario]] = []
    for path, scenario in loaded:
        changed = apply_overrides(
            scenario,
            tasks=tasks,
            repeats=_repeats(args.repeats),
            warmup=args.warmup,
            seed=args.seed,
            processes=getattr(args, "processes", None),
        )
        chosen = select(changed, matches) if matches else changed
        if chosen is not None:
            prepared.extend((path, variant) for variant in with_loops(chosen, loops))
    if not prepared:
        labels = [f"{s.name}::{spec.label}" for _, s in loaded for spec in s.strategies]
        raise UsageError(f"-k {args.keyword!r} matches no scenario or strategy (labels: {', '.join(labels)})")
    return prepared


# --- output while running -----------------------------------------------------------------------------------


class StreamingOutput:
    """A ProgressSink: each scenario's table as soon as it finishes; a bar on a terminal, plain lines in a log.

    The bar is redrawn only when the runner reports a finished run (between timed runs), never by a timer thread.
    """

    def __init__(self, out: Console, err: Console, *, bar: bool, lines: bool) -> None:
        self.out = out
        self.err = err
        self.lines = lines
        self.progress: Progress | None = None
        if bar:
            self.progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[current]}"),
                TimeElapsedColumn(),
                console=err,
                transient=True,
                auto_refresh=False,
            )
        self.task_id: TaskID | None = None
        self.started = 0.0
        self.printed: set[str] = set()

    def scenario_started(self, name: str, total_runs: int) -> None:
        """Start a bar, or say so in one line."""
        self.started = time.monotonic()
        if self.progress is not None:
            self.progress.start()
            self.task_id = self.progress.add_task(name, total=total_runs, current="")
            self.progress.refresh()
        elif self.lines:
            print(f"iobench: {name}: started ({total_runs} runs)", file=sys.stderr, flush=True)

    def run_done(self, label: str, tasks: int) -> None:
        """Advance the bar (called between timed runs only)."""
        if self.progress is not None and self.task_id is not None:
            self.progress.update(self.task_id, advance=1, current=f"{tasks} tasks, {label}")
            self.progress.refresh()

    def scenario_done(self, result: ScenarioResult) -> None:
        """Remove the bar and print the scenario's table as soon as it finishes."""
        if self.progress is not None:
            if self.task_id is not None:
                self.progress.remove_task(self.task_id)
                self.task_id = None
            self.progress.stop()
        if self.lines and self.progress is None:
            elapsed = time.monotonic() - self.started
            print(
                f"iobench: {result.scenario.name}: done ({result.outcome}, {elapsed:.1f} s)",
                file=sys.stderr,
                flush=True,
            )
        self.print_table(result)

    def print_table(self, result: ScenarioResult) -> None:
        """Print one scenario's table, once."""
        if result.scenario.name in self.printed:
            return
        self.printed.add(result.scenario.name)
        self.out.print(scenario_table(result, width=self.out.width))
        self.out.print()
        self.out.file.flush()


def _print_tables(console: Console, results: ResultsFile) -> None:
    for scenario in results.scenarios:
        console.print(scenario_table(scenario, width=console.width))
        console.print()


def _export(results: ResultsFile, path: Path, plots_dir: Path | None, out: Console) -> None:
    from bench.export import export_all  # pandas and matplotlib load only now, after the measuring

    written = export_all(results, path, plots_dir)
    report = next(p for p in written if p.name == "report.md")
    charts = [p for p in written if p.suffix in (".png", ".svg")]
    out.print(f"results: {path}")
    html = [p for p in written if p.suffix == ".html"]
    out.print(f"report:  {report}{' and ' + str(html[0]) if html else ''} (and CSV tables beside the results)")
    if plots_dir is not None:
        out.print(f"charts:  {len(charts)} files in {plots_dir}/")


def json_summary(results: ResultsFile, path: Path) -> dict[str, Any]:
    """The machine-readable summary ``--json`` prints: one row per scenario, task count and strategy."""
    from bench.summary import summarise

    rows = []
    for scenario in results.scenarios:
        for row in summarise(scenario):
            rows.append(
                {
                    "scenario": row.scenario,
                    "loop": scenario.scenario.loop,
                    "tasks": row.tasks,
                    "strategy": row.strategy,
                    "runs": row.runs,
                    "median_s": row.wall_median_s,
                    "interval_s": list(row.wall_ci_s),
                    "level": row.wall_ci_level,
                    "speedup": row.speedup,
                    "speedup_interval": list(row.speedup_ci) if row.speedup_ci else None,
                    "speedup_level": row.speedup_ci_level,
                    "efficiency": row.efficiency,
                    "requests_per_s": row.requests_per_s,
                    "latency_ms": {f"p{q}": v for q, v in row.latency_ms.items()},
                    "errors": {
                        "failed": row.failed_tasks,
                        "cancelled": row.cancelled_tasks - row.not_started_tasks,
                        "not_started": row.not_started_tasks,
                        "error_rate": row.error_rate,
                    },
                    "missing_reason": row.missing_reason,
                }
            )
    return {
        "results": str(path),
        "complete": results.complete,
        "scenarios": [
            {"name": s.scenario.name, "file": s.file, "outcome": s.outcome, "reason": s.reason}
            for s in results.scenarios
        ],
        "rows": rows,
    }


def execute_run(loaded: list[tuple[Path, Scenario]], args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run prepared scenarios, streaming each table; save, export, and with ``--json`` print the summary."""
    human = PipeAwareConsole(stderr=True, soft_wrap=True, highlight=False) if args.json else out
    path = args.output or args.results_dir / f"run-{utc_stamp()}.json"
    sink = StreamingOutput(human, err, bar=not args.quiet and err.is_terminal, lines=not args.quiet)
    try:
        engine = Engine(getattr(args, "engine", "local"), getattr(args, "address", None))
        results = run_all(loaded, path, sys.argv, sink, allow_external=args.allow_external, engine=engine)
    except StdoutClosed:
        return EXIT_PIPE
    except KeyboardInterrupt:
        print(f"iobench: interrupted; what finished is saved in {path}", file=sys.stderr)
        return interrupt_code()
    for scenario in results.scenarios:  # a runner that hands over names only: print what it did not stream
        sink.print_table(scenario)
    _export(results, path, None if args.no_plots else args.plots_dir, human)
    if args.json:
        print(json.dumps(json_summary(results, path), indent=2), flush=True)
    return 0 if all(s.outcome == "ok" for s in results.scenarios) else 3


# --- commands -----------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run scenarios, save results, print each table as it finishes, write the report and charts."""
    return execute_run(prepare(load_paths(args.paths or ["scenarios"]), args), args, out, err)


def cmd_quick(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run a scenario built from the command line alone."""
    from bench.quick import quick_scenario

    scenario = quick_scenario(
        args.target,
        _int_list(args.tasks or "10", "--tasks"),
        _names(args.strategies),
        sync_callable=args.sync_callable,
        allow_external=args.allow_external,
    )
    args.tasks = None  # already applied
    return execute_run(prepare([(Path("<quick>"), scenario)], args), args, out, err)


def cmd_validate(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Load and plan every scenario file given; run nothing."""
    import bench.scenario
    from bench.plan import make_plan

    check_all: Callable[[Iterable[str | Path]], list[tuple[Path, Scenario]]] = getattr(
        bench.scenario, "validate", load_paths
    )
    loaded = check_all(args.paths)
    for path, scenario in loaded:
        plan = make_plan(scenario)
        counts = ", ".join(str(n) for n in scenario.tasks)
        out.print(
            f"ok  {path}: {scenario.name} ({counts} tasks; {len(scenario.strategies)} strategies; "
            f"{plan.total_runs} runs)"
        )
    return 0


def cmd_report(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Print the tables of a saved results file and write its Markdown report and CSVs."""
    path = resolve(args.results, args.results_dir)
    results = read_results(path)
    _print_tables(out, results)
    from bench.export import write_csv, write_html, write_markdown

    written = [write_markdown(results, args.markdown or path.parent / "report.md"), *write_csv(results, path)]
    if args.html is not None:
        written.append(write_html(results, path.parent / "report.html" if args.html == Path() else args.html))
    out.print("wrote: " + ", ".join(str(p) for p in written))
    return 0


def cmd_plot(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Write the charts of a saved results file."""
    results = read_results(resolve(args.results, args.results_dir))
    formats = _formats(args.format)
    from bench.plots import write_charts

    written = write_charts(results, args.plots_dir, formats)
    for path in written:
        out.print(str(path))
    return 0


def cmd_check(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Judge a results file against its scenarios' expectations and, optionally, a baseline."""
    from bench.check import judge

    path = resolve(args.results, args.results_dir)
    results = read_results(path)
    baseline = read_results(args.baseline) if args.baseline is not None else None
    gate = judge(
        results,
        baseline,
        tolerance=parse_tolerance(args.tolerance),
        strict=args.strict,
        source=str(path),
        baseline_source=str(args.baseline),
    )
    for line in format_lines(gate.verdicts):
        out.print(line)
    for line in gate.warnings + gate.problems:
        print(line, file=sys.stderr)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(format_markdown(gate.verdicts, "\n".join(gate.warnings) or None) + "\n")
    return gate.code


def cmd_baseline(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Store a results file as the baseline for ``iobench check``."""
    source = resolve(args.results, args.results_dir)
    results = read_results(source)
    if not results.complete:
        raise UsageError(f"{source}: the run is incomplete; a baseline needs a complete run")
    target = args.output or args.results_dir / "baseline.json"
    write_atomic(target, results.model_dump_json())
    env = results.environment
    out.print(f"baseline: {target} (from {source}; Python {env.python}, {env.os}, {env.cpu_count} CPUs)")
    return 0


def cmd_compare(args: argparse.Namespace, out: Console, err: Console) -> int:
    """The change from results A to results B per scenario and strategy, judged like ``check``."""
    from bench.compare import compare, comparison_code, format_comparisons

    a = read_results(resolve(args.a, args.results_dir))
    b = read_results(resolve(args.b, args.results_dir))
    comparisons = compare(a, b, parse_tolerance(args.tolerance))
    for line in format_comparisons(comparisons):
        out.print(line)
    return comparison_code(comparisons, args.strict)


def cmd_history(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Speedup and efficiency across the results files of a folder, oldest first, as a table and a chart."""
    from bench.history import collect, history_lines, write_history_chart

    points, skipped = collect(args.results_dir)
    for note in skipped:
        print(f"iobench: {note}", file=sys.stderr)
    if not points:
        raise UsageError(f"{args.results_dir}: no results files with scenarios to follow")
    for line in history_lines(points):
        out.print(line)
    if not args.no_plots:
        written = write_history_chart(points, args.plots_dir / "history", _formats(args.format))
        out.print(f"chart:   {', '.join(str(p) for p in written)}")
    return 0


def _formats(text: str) -> tuple[str, ...]:
    formats = tuple(f.strip() for f in text.split(",") if f.strip())
    unknown = set(formats) - {"png", "svg", "pdf"}
    if unknown or not formats:
        raise UsageError(f"--format takes png, svg or pdf (comma-separated), got {text!r}")
    return formats


def cmd_serve(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run the test server until Ctrl-C."""
    if not is_loopback(args.host) and not args.i_know_this_exposes_the_server:
        raise UsageError(
            f"--host {args.host} is not a loopback address: the test server would answer anyone who can reach "
            "this machine. Add --i-know-this-exposes-the-server if that is really what you want."
        )
    if args.background_check:  # for tests: start and stop a child server, print its URL
        with LocalServer(args.host, args.port, allow_non_loopback=True) as url:
            out.print(url)
        return 0
    try:
        serve_foreground(args.host, args.port, lambda url: out.print(f"iobench test server on {url} (Ctrl-C to stop)"))
    except OSError as exc:
        raise UsageError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    return 0


def _results_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="?", type=Path, help="results file (default: results/latest.json)")
    parser.add_argument("--results-dir", type=Path, default=Path("results"), help="default: results/")


def _run_options(parser: argparse.ArgumentParser, tasks_help: str = "task counts for every scenario") -> None:
    parser.add_argument("--tasks", metavar="N[,N...]", help=tasks_help)
    parser.add_argument("--repeats", metavar="N", help="recorded rounds for every scenario")
    parser.add_argument("--warmup", type=int, metavar="N", help="unrecorded rounds first, for every scenario")
    parser.add_argument("--seed", type=int, metavar="N", help="seed of delays, failing tasks and round order")
    parser.add_argument(
        "--processes", type=int, metavar="K", help="client processes per run, each its own loop and share of tasks"
    )
    parser.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="where client processes run: this host, or one Ray actor each (pip install 'iobench[ray]')",
    )
    parser.add_argument("--address", metavar="ADDR", help="with --engine ray: the Ray cluster (default: a local one)")
    parser.add_argument(
        "--loop",
        metavar="LOOP[,LOOP]",
        help="asyncio, uvloop, or both: each scenario runs on each, named <name>.<loop>",
    )
    parser.add_argument(
        "--json", action="store_true", help="a machine-readable summary on stdout (tables go to stderr)"
    )
    parser.add_argument(
        "--results-dir", type=Path, default=Path("results"), help="where results go (default: results/)"
    )
    parser.add_argument("-o", "--output", type=Path, help="results file (default: results/run-<UTC time>.json)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar or progress lines")
    parser.add_argument("--plots-dir", type=Path, default=Path("plots"), help="where charts go (default: plots/)")
    parser.add_argument("--no-plots", action="store_true", help="skip the charts")
    parser.add_argument(
        "--allow-external", action="store_true", help="let url targets off this machine be sent requests"
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="iobench", description="How much does concurrency buy your I/O, and why not more?"
    )
    parser.add_argument("--version", action="version", version=f"iobench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run scenarios and print each table as its scenario finishes")
    run.add_argument("paths", nargs="*", help="scenario files or folders (default: scenarios/)")
    run.add_argument(
        "-k", dest="keyword", metavar="PATTERN", help="only scenarios/strategies whose 'scenario::strategy' matches"
    )
    _run_options(run)
    run.set_defaults(func=cmd_run)

    quick = sub.add_parser("quick", help="run a scenario given on the command line: URL, module:function or 20ms")
    quick.add_argument("target", help="http(s)://URL, package.module:async_function, or a local-server delay (20ms)")
    quick.add_argument(
        "--strategies",
        default="sequential,gather",
        help="comma-separated, e.g. sequential,gather,bounded=10,threads=10 (default: sequential,gather)",
    )
    quick.add_argument("--sync-callable", metavar="MODULE:FN", help="a plain def for the threads strategy")
    _run_options(quick, tasks_help="task counts, e.g. 10 or 1,10,100 (default: 10)")
    quick.set_defaults(func=cmd_quick)

    validate = sub.add_parser("validate", help="check scenario files without running anything (exit 0 or 2)")
    validate.add_argument("paths", nargs="+", help="scenario files or folders")
    validate.set_defaults(func=cmd_validate)

    report = sub.add_parser("report", help="print the tables of a results file and write report.md and CSVs")
    _results_arguments(report)
    report.add_argument("--markdown", type=Path, help="Markdown report path (default: report.md beside the results)")
    report.add_argument(
        "--html",
        type=Path,
        nargs="?",
        const=Path(),
        help="also write the self-contained HTML report (default: report.html beside the results)",
    )
    report.set_defaults(func=cmd_report)

    plot = sub.add_parser("plot", help="write the charts of a results file")
    _results_arguments(plot)
    plot.add_argument("--plots-dir", type=Path, default=Path("plots"), help="where charts go (default: plots/)")
    plot.add_argument("--format", default="png,svg", help="comma-separated: png, svg, pdf (default: png,svg)")
    plot.set_defaults(func=cmd_plot)

    check = sub.add_parser("check", help="gate on expectations and a baseline (exit 1 when a check fails)")
    _results_arguments(check)
    check.add_argument("--baseline", type=Path, help="a baseline results file (see `iobench baseline`)")
    check.add_argument("--tolerance", default="5%", help="allowed speedup drop against the baseline (default: 5%%)")
    check.add_argument("--strict", action="store_true", help="inconclusive checks fail too")
    check.set_defaults(func=cmd_check)

    compare = sub.add_parser("compare", help="the change in median and speedup from results A to results B")
    compare.add_argument("a", type=Path, help="the earlier results file (or folder, or latest.json)")
    compare.add_argument("b", type=Path, help="the later results file")
    compare.add_argument("--results-dir", type=Path, default=Path("results"), help=argparse.SUPPRESS)
    compare.add_argument("--strict", action="store_true", help="inconclusive changes fail too")
    compare.add_argument("--tolerance", default="10%", help="allowed change before a row fails (default: 10%%)")
    compare.set_defaults(func=cmd_compare)

    history = sub.add_parser("history", help="speedup and efficiency across the results files of a folder")
    history.add_argument(
        "results_dir", nargs="?", type=Path, default=Path("results"), help="default: results/", metavar="RESULTS_DIR"
    )
    history.add_argument("--plots-dir", type=Path, default=Path("plots"), help="chart: <plots-dir>/history.<fmt>")
    history.add_argument("--format", default="png,svg", help="comma-separated: png, svg, pdf (default: png,svg)")
    history.add_argument("--no-plots", action="store_true", help="the table only")
    history.set_defaults(func=cmd_history)

    baseline = sub.add_parser("baseline", help="store a results file as results/baseline.json")
    _results_arguments(baseline)
    baseline.add_argument("-o", "--output", type=Path, help="baseline path (default: results/baseline.json)")
    baseline.set_defaults(func=cmd_baseline)

    serve = sub.add_parser("serve", help="run the local test server in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=0, help="default: an ephemeral port")
    serve.add_argument("--i-know-this-exposes-the-server", action="store_true", help=argparse.SUPPRESS)
    serve.add_argument("--background-check", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``iobench`` command; returns the exit code."""
    args = build_parser().parse_args(argv)
    out = PipeAwareConsole(soft_wrap=True, highlight=False)
    if not out.is_terminal:  # a log or a pipe: $COLUMNS if set, else a width every CI log viewer shows whole
        out = PipeAwareConsole(soft_wrap=True, highlight=False, width=PIPE_WIDTH)
    err = Console(stderr=True)
    previous = install_signal_handlers()
    try:
        code: int = args.func(args, out, err)
        sys.stdout.flush()
    except IobenchError as exc:
        print(f"iobench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except StdoutClosed:
        return EXIT_PIPE
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        print("iobench: interrupted", file=sys.stderr)
        return interrupt_code()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
