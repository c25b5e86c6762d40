"""The command line: the parser and ``main``, which dispatches to one command per stage and turns errors, signals
and a closed stdout into exit codes.

    iobench run [PATHS...]      run scenarios (files or folders; default scenarios/), print each table as its
                                scenario finishes, write the report, CSVs and charts
    iobench quick TARGET        run a scenario built from the command line (a URL, module:function or 20ms)
    iobench validate PATHS      every check run makes before its first request; runs nothing (exit 0 or 2)
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

The commands are ``bench.cli.commands``; what they apply to the scenarios ``bench.cli.select``; what they print
while running ``bench.cli.output``; signals and pipes ``bench.cli.signals``; the one-liner's scenario
``bench.cli.quick``. This package is the only code that prints or exits.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from rich.console import Console

from bench import __version__, plugins
from bench.cli.commands import (
    cmd_baseline,
    cmd_check,
    cmd_compare,
    cmd_history,
    cmd_plot,
    cmd_quick,
    cmd_report,
    cmd_run,
    cmd_serve,
    cmd_validate,
)
from bench.cli.output import PIPE_WIDTH
from bench.cli.select import whole_number
from bench.cli.signals import (
    EXIT_PIPE,
    PipeAwareConsole,
    StdoutClosed,
    install_signal_handlers,
    interrupt_code,
    silence_stdout,
)
from bench.errors import IobenchError
from bench.results.files import os_error_text


def _whole(text: str) -> int:
    """An option's whole number: ASCII digits only (``int()`` would take other scripts' digits too)."""
    try:
        return whole_number(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number in ASCII digits (got {text!r})") from None


def _port(text: str) -> int:
    """``serve --port``: 0 (any free port) to 65535."""
    try:
        port = whole_number(text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number 0-65535 (0: any free one), got {text!r}")
    return port


def _plugin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--plugin",
        action="append",
        default=[],
        metavar="MODULE",
        help="import a plugin module first (its strategies, target kinds, distributions, charts, exporters)",
    )


def _results_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("results", nargs="?", type=Path, help="results file (default: results/latest.json)")
    parser.add_argument("--results-dir", type=Path, default=Path("results"), help="default: results/")
    _plugin_option(parser)


def _run_options(parser: argparse.ArgumentParser, tasks_help: str = "task counts for every scenario") -> None:
    _plugin_option(parser)
    parser.add_argument("--tasks", metavar="N[,N...]", help=tasks_help)
    parser.add_argument("--repeats", metavar="N", help="recorded rounds for every scenario")
    parser.add_argument("--warmup", type=_whole, metavar="N", help="unrecorded rounds first, for every scenario")
    parser.add_argument("--seed", type=_whole, metavar="N", help="seed of delays, failing tasks and round order")
    parser.add_argument(
        "--processes", type=_whole, metavar="K", help="client processes per run, each its own loop and share of tasks"
    )
    parser.add_argument(
        "--disable-gc",
        action="store_true",
        help="pause Python's garbage collector during timed runs (scenario key gc: false), as timeit does",
    )
    parser.add_argument(
        "--client",
        choices=("aiohttp", "minimal"),
        help="HTTP client of the asyncio strategies (the target's client): minimal spends far less CPU per request",
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
    validate.add_argument(
        "--allow-external", action="store_true", help="as run's: url targets off this machine pass the check"
    )
    _plugin_option(validate)
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
    _plugin_option(compare)
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
    _plugin_option(history)
    history.set_defaults(func=cmd_history)

    baseline = sub.add_parser("baseline", help="store a results file as results/baseline.json")
    _results_arguments(baseline)
    baseline.add_argument("-o", "--output", type=Path, help="baseline path (default: results/baseline.json)")
    baseline.set_defaults(func=cmd_baseline)

    serve = sub.add_parser("serve", help="run the local test server in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=_port, default=0, help="default: an ephemeral port")
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
        plugins.load_entry_points()
        plugins.load(getattr(args, "plugin", None) or [])
        code: int = args.func(args, out, err)
        sys.stdout.flush()
    except IobenchError as exc:
        print(f"iobench: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except StdoutClosed:
        return EXIT_PIPE
    except BrokenPipeError:
        silence_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        print("iobench: interrupted", file=sys.stderr)
        return interrupt_code()
    except OSError as exc:  # a file a command writes (report, chart, baseline) where the system refuses it
        print(f"iobench: error: {os_error_text(exc)}", file=sys.stderr)
        return 2
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
