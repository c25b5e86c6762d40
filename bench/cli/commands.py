"""The commands of ``iobench``: one function per subcommand, each taking the parsed arguments and the two
consoles and returning the exit code (``bench.cli`` parses and dispatches).

    code = cmd_check(args, out, err)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from rich.console import Console

from bench.cli.output import StreamingOutput, always_failed, export_report, json_summary, print_tables
from bench.cli.select import comma_list, int_list, prepare
from bench.cli.signals import EXIT_PIPE, PipeAwareConsole, StdoutClosed, interrupt_code
from bench.errors import UsageError
from bench.gate.baseline import parse_tolerance
from bench.gate.format import format_lines, format_markdown
from bench.results.files import (
    ResultsSaver,
    check_folder,
    check_output,
    os_error_text,
    read_results,
    resolve,
    write_atomic,
)
from bench.results.summary import summarise_file
from bench.run.runner import Engine, run_all
from bench.scenario.loader import load_paths
from bench.scenario.model import Scenario
from bench.server.process import LocalServer, is_loopback, serve_foreground


def execute_run(loaded: list[tuple[Path, Scenario]], args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run prepared scenarios, streaming each table; save, export, and with ``--json`` print the summary."""
    human = PipeAwareConsole(stderr=True, soft_wrap=True, highlight=False) if args.json else out
    if args.output is not None:
        check_output(args.output)
    else:
        check_folder(args.results_dir, "--results-dir")
    if not args.no_plots:
        check_folder(args.plots_dir, "--plots-dir")
    saver = ResultsSaver(args.output, args.results_dir)
    sink = StreamingOutput(human, err, bar=not args.quiet and err.is_terminal, lines=not args.quiet)
    try:
        engine = Engine(getattr(args, "engine", "local"), getattr(args, "address", None))
        results = run_all(loaded, saver, sys.argv, sink, allow_external=args.allow_external, engine=engine)
    except StdoutClosed:
        return EXIT_PIPE
    except KeyboardInterrupt:
        print(f"iobench: interrupted; what finished is saved in {saver.where}", file=sys.stderr)
        if saver.problem:
            print(f"iobench: error: {saver.problem}", file=sys.stderr)
        return interrupt_code()
    for scenario in results.scenarios:  # a runner that hands over names only: print what it did not stream
        sink.print_table(scenario)
    summaries = sink.summaries(results)
    path = saver.where
    code = 0 if all(s.outcome == "ok" for s in results.scenarios) else 3
    try:
        export_report(results, summaries, path, None if args.no_plots else args.plots_dir, human)
    except OSError as exc:  # measured and saved, but a report, CSV or chart could not be written
        print(
            f"iobench: error: cannot write the report: {os_error_text(exc)}; the results are in {path}", file=sys.stderr
        )
        code = 3
    if saver.problem:
        print(f"iobench: error: {saver.problem}", file=sys.stderr)
        code = 3
    if args.json:
        print(json.dumps(json_summary(results, summaries, path), indent=2), flush=True)
    for line in always_failed(results, summaries):  # every run of a strategy had failed tasks
        print(f"iobench: {line}", file=sys.stderr)
        code = 3
    return code


# --- commands -----------------------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run scenarios, save results, print each table as it finishes, write the report and charts."""
    return execute_run(prepare(load_paths(args.paths or ["scenarios"]), args), args, out, err)


def cmd_quick(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Run a scenario built from the command line alone."""
    from bench.cli.quick import quick_scenario

    scenario = quick_scenario(
        args.target,
        int_list(args.tasks or "10", "--tasks"),
        comma_list(args.strategies),
        sync_callable=args.sync_callable,
        allow_external=args.allow_external,
    )
    args.tasks = None  # already applied
    return execute_run(prepare([(Path("<quick>"), scenario)], args), args, out, err)


def cmd_validate(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Load and plan every scenario file given, and make every check ``run`` makes before its first request (the
    loop, the callables' imports and kinds, opt-ins, descriptor and port limits); run nothing."""
    import bench.scenario
    from bench.run.preflight import preflight
    from bench.scenario.plan import make_plan

    check_all: Callable[[Iterable[str | Path]], list[tuple[Path, Scenario]]] = getattr(
        bench.scenario, "validate", load_paths
    )
    loaded = check_all(args.paths)
    preflight(loaded, allow_external=args.allow_external)
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
    summaries = summarise_file(results)
    print_tables(out, results, summaries)
    from bench.report.exporters import ExportJob, export_all

    paths = {"markdown": args.markdown} if args.markdown else {}
    if args.html is not None and args.html != Path():
        paths["html"] = args.html
    wanted = frozenset({"html"} if args.html is not None else ())
    written = export_all(ExportJob(results, summaries, path, paths=paths, wanted=wanted))
    out.print("wrote: " + ", ".join(str(p) for p in written))
    return 0


def cmd_plot(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Write the charts of a saved results file."""
    results = read_results(resolve(args.results, args.results_dir))
    formats = chart_formats(args.format)
    from bench.report.charts import write_charts

    written = write_charts(results, summarise_file(results), args.plots_dir, formats)
    for path in written:
        out.print(str(path))
    return 0


def cmd_check(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Judge a results file against its scenarios' expectations and, optionally, a baseline."""
    from bench.gate.check import judge

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
    check_output(target)
    write_atomic(target, results.model_dump_json())
    env = results.environment
    out.print(f"baseline: {target} (from {source}; Python {env.python}, {env.os}, {env.cpu_count} CPUs)")
    return 0


def cmd_compare(args: argparse.Namespace, out: Console, err: Console) -> int:
    """The change from results A to results B per scenario and strategy, judged like ``check``."""
    from bench.gate.compare import compare, comparison_code, format_comparisons

    a = read_results(resolve(args.a, args.results_dir))
    b = read_results(resolve(args.b, args.results_dir))
    comparisons = compare(a, b, parse_tolerance(args.tolerance))
    for line in format_comparisons(comparisons):
        out.print(line)
    return comparison_code(comparisons, args.strict)


def cmd_history(args: argparse.Namespace, out: Console, err: Console) -> int:
    """Speedup and efficiency across the results files of a folder, oldest first, as a table and a chart."""
    from bench.gate.history import collect, history_lines, write_history_chart

    points, skipped = collect(args.results_dir)
    for note in skipped:
        print(f"iobench: {note}", file=sys.stderr)
    if not points:
        raise UsageError(f"{args.results_dir}: no results files with scenarios to follow")
    for line in history_lines(points):
        out.print(line)
    if not args.no_plots:
        written = write_history_chart(points, args.plots_dir / "history", chart_formats(args.format))
        out.print(f"chart:   {', '.join(str(p) for p in written)}")
    return 0


def chart_formats(text: str) -> tuple[str, ...]:
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
