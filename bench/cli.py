"""The command line: one call per pipeline stage; the only module that prints or exits.

    iobench run [PATHS...]      run scenarios (files or folders; default scenarios/), print the tables,
                                write the report, CSVs and charts
    iobench report [RESULTS]    print the tables of a results file (default: results/latest.json), write report.md
    iobench plot [RESULTS]      write the charts of a results file into plots/
    iobench check [RESULTS]     gate: expectations in the scenarios, and --baseline FILE within --tolerance
    iobench baseline [RESULTS]  store a results file as results/baseline.json for `iobench check`
    iobench serve               run the local test server in the foreground

Exit codes: 0 success, 1 a check failed, 2 bad input or usage, 3 the run failed, 130 interrupted (what finished
is saved).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from bench import __version__
from bench.check import (
    environment_note,
    exit_code,
    format_lines,
    format_markdown,
    judge_baseline,
    judge_expectations,
    parse_tolerance,
    run_problems,
)
from bench.errors import IobenchError, UsageError
from bench.report import scenario_table
from bench.results import ResultsFile, ScenarioResult, read_results, resolve, utc_stamp, write_atomic
from bench.runner import NullProgress, run_all
from bench.scenario import load_paths
from bench.server import LocalServer, is_loopback, serve_foreground


class RichProgress:
    """A ProgressSink drawn as a rich progress bar on stderr."""

    def __init__(self, console: Console) -> None:
        self.progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[current]}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            auto_refresh=False,  # drawn between runs only: no refresh thread takes the GIL inside a timed run
        )
        self.task_id: TaskID | None = None

    def scenario_started(self, name: str, total_runs: int) -> None:
        """Start a bar for the scenario."""
        self.progress.start()
        self.task_id = self.progress.add_task(name, total=total_runs, current="")

    def run_done(self, label: str, tasks: int) -> None:
        """Advance the bar."""
        if self.task_id is not None:
            self.progress.update(self.task_id, advance=1, current=f"{tasks} tasks, {label}")
            self.progress.refresh()

    def scenario_done(self, result: ScenarioResult) -> None:
        """Remove the bar."""
        if self.task_id is not None:
            self.progress.remove_task(self.task_id)
            self.task_id = None
        self.progress.stop()


def _sigterm_as_sigint(signum: int, frame: FrameType | None) -> None:
    """Treat SIGTERM like Ctrl-C, so both stop cleanly and keep what finished."""
    os.kill(os.getpid(), signal.SIGINT)


def _print_tables(console: Console, results: ResultsFile) -> None:
    for scenario in results.scenarios:
        console.print(scenario_table(scenario))
        console.print()


def _export(results: ResultsFile, path: Path, plots_dir: Path | None, out: Console) -> None:
    from bench.export import export_all  # pandas and matplotlib load only now, after the measuring

    written = export_all(results, path, plots_dir)
    report = next(p for p in written if p.name == "report.md")
    charts = [p for p in written if p.suffix in (".png", ".svg")]
    out.print(f"results: {path}")
    out.print(f"report:  {report} (and CSV tables beside the results)")
    if plots_dir is not None:
        out.print(f"charts:  {len(charts)} files in {plots_dir}/")


def cmd_run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run scenarios, save results, print the tables, write the report and charts."""
    loaded = load_paths(args.paths or ["scenarios"])
    path = args.output or args.results_dir / f"run-{utc_stamp()}.json"
    progress = NullProgress() if args.quiet or not err.is_terminal else RichProgress(err)
    previous = signal.signal(signal.SIGTERM, _sigterm_as_sigint)
    try:
        results = run_all(loaded, path, sys.argv, progress, allow_external=args.allow_external)
    except KeyboardInterrupt:
        print(f"iobench: interrupted; what finished is saved in {path}", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    _print_tables(out, results)
    _export(results, path, None if args.no_plots else args.plots_dir, out)
    return 0 if all(s.outcome == "ok" for s in results.scenarios) else 3


def cmd_report(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Print the tables of a saved results file and write its Markdown report and CSVs."""
    path = resolve(args.results, args.results_dir)
    results = read_results(path)
    _print_tables(out, results)
    from bench.export import write_csv, write_markdown

    written = [write_markdown(results, args.markdown or path.parent / "report.md"), *write_csv(results, path)]
    out.print("wrote: " + ", ".join(str(p) for p in written))
    return 0


def cmd_plot(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Write the charts of a saved results file."""
    results = read_results(resolve(args.results, args.results_dir))
    formats = tuple(f.strip() for f in args.format.split(",") if f.strip())
    unknown = set(formats) - {"png", "svg", "pdf"}
    if unknown or not formats:
        raise UsageError(f"--format takes png, svg or pdf (comma-separated), got {args.format!r}")
    from bench.plots import write_charts

    written = write_charts(results, args.plots_dir, formats)
    for path in written:
        out.print(str(path))
    return 0


def cmd_check(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Judge a results file against its scenarios' expectations and, optionally, a baseline."""
    path = resolve(args.results, args.results_dir)
    results = read_results(path)
    verdicts = judge_expectations(results)
    note = None
    if args.baseline is not None:
        baseline = read_results(args.baseline)
        verdicts += judge_baseline(results, baseline, parse_tolerance(args.tolerance))
        note = environment_note(results, baseline)
    if not verdicts and not run_problems(results):
        raise UsageError(f"{path}: nothing to check: no scenario has an 'expect:' block and no --baseline was given")
    for line in format_lines(verdicts):
        out.print(line)
    for line in ([note] if note else []) + run_problems(results):
        print(line, file=sys.stderr)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(format_markdown(verdicts, note) + "\n")
    return exit_code(verdicts, results, args.strict)


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="iobench", description="How much does concurrency buy your I/O, and why not more?"
    )
    parser.add_argument("--version", action="version", version=f"iobench {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run scenarios and print the tables")
    run.add_argument("paths", nargs="*", help="scenario files or folders (default: scenarios/)")
    run.add_argument("--results-dir", type=Path, default=Path("results"), help="where results go (default: results/)")
    run.add_argument("-o", "--output", type=Path, help="results file (default: results/run-<UTC time>.json)")
    run.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    run.add_argument("--plots-dir", type=Path, default=Path("plots"), help="where charts go (default: plots/)")
    run.add_argument("--no-plots", action="store_true", help="skip the charts")
    run.add_argument("--allow-external", action="store_true", help="let url targets off this machine be sent requests")
    run.set_defaults(func=cmd_run)

    report = sub.add_parser("report", help="print the tables of a results file and write report.md and CSVs")
    _results_arguments(report)
    report.add_argument("--markdown", type=Path, help="Markdown report path (default: report.md beside the results)")
    report.set_defaults(func=cmd_report)

    plot = sub.add_parser("plot", help="write the charts of a results file")
    _results_arguments(plot)
    plot.add_argument("--plots-dir", type=Path, default=Path("plots"), help="where charts go (default: plots/)")
    plot.add_argument("--format", default="png,svg", help="comma-separated: png, svg, pdf (default: png,svg)")
    plot.set_defaults(func=cmd_plot)

    check = sub.add_parser("check", help="gate on expectations and a baseline (exit 1 when a check fails)")
    _results_arguments(check)
    check.add_argument("--baseline", type=Path, help="a baseline results file (see `iobench baseline`)")
    check.add_argument("--tolerance", default="10%", help="allowed speedup drop against the baseline (default: 10%%)")
    check.add_argument("--strict", action="store_true", help="inconclusive checks fail too")
    check.set_defaults(func=cmd_check)

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
    out = Console(soft_wrap=True, highlight=False)
    if not out.is_terminal:
        out = Console(soft_wrap=True, highlight=False, width=max(out.width, 160))
    err = Console(stderr=True)
    try:
        code: int = args.func(args, out, err)
    except IobenchError as exc:
        print(f"iobench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    return code
