"""What a reader must know beside a table's numbers: the notes below it (caps, calibration, why a figure is
missing or unexplained, noise), its title, and the glossary of its columns and marks.

    notes(result, summarise(result))   # ['connector limit: none (...); loop: asyncio', ...]
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.report.cells import (
    NA,
    UNEXPLAINED,
    fmt_level,
    fmt_seconds,
    fmt_sig,
    latency_percentiles_ms,
    missing_reason,
    rate_header,
    speedup_measured,
    unexplained,
)
from bench.results.records import ScenarioResult
from bench.results.summary import Summary
from bench.targets.clients import CLIENTS, AsyncClient

GLOSSARY: tuple[tuple[str, str], ...] = (
    ("median", "median wall time of the batch over the recorded runs (warm-up excluded)"),
    (
        "CI NN%",
        "interval of the median, with the confidence it really reaches (3 runs reach at most 75%, 5 runs 93%)",
    ),
    ("speedup [CI]", "median of the per-round speedups over sequential (paired by round), with its interval"),
    ("*", "speedup over the ideal sequential time (the sum of the service times): no sequential run was measured"),
    (
        "ideal",
        "wall time with zero overhead, from each task's service time (the answers' Server-Timing, the delays asked "
        "for, or each task alone) under the strategy's caps (bench.strategies.model)",
    ),
    ("overhead", "measured per-task overhead of the client stack x tasks made one after another on the critical path"),
    ("queueing", "median - ideal - overhead: waiting for connections, sockets, the CPU or the GIL"),
    ("eff.", "ideal / median: how much of the possible concurrency the strategy got"),
    ("conc.", "achieved concurrency: the tasks' service times added up / median: how many ran at once, in effect"),
    ("cpu", "this process's CPU time / wall time in the timed runs: near 100%, the client's own work bound them"),
    ("req/s", "tasks / median wall time (tasks/s for targets that make no request)"),
    ("p50/p90/p99", "percentiles of per-task latency (end - created: waiting included), over all runs"),
    ("errors", "tasks that did not finish ok, over all runs: failed, cancelled or never started"),
    ("-", "figure not available; the note below the table says why"),
    ("!", "the model cannot explain this figure (efficiency above 100%, or queueing below 0 beyond its interval)"),
)
"""The table's columns and marks, in the table's words: rendered in the Markdown and HTML reports."""


def notes(result: ScenarioResult, rows: Sequence[Summary]) -> list[str]:
    """What a reader must know beside the numbers: caps, calibration, why figures are missing or unexplained, noise."""
    target = [f"target: {result.driver.description}"] if result.driver is not None else []
    lines = ["; ".join([*target, *client_notes(result), f"loop: {result.scenario.loop}"])]
    k = result.scenario.processes
    if k > 1:
        lines.append(
            f"client processes: {k}, each with its own event loop and its share of the tasks (task i runs in process "
            f"i mod {k}); the caps above and the semaphores and pools of the strategies hold in each process"
        )
    offsets = next((r.clock_offsets_ns for p in result.points for r in p.runs if r.clock_offsets_ns), ())
    if offsets:
        shown = ", ".join(f"{o / 1e3:+.0f} us" for o in offsets)
        lines.append(f"Ray actors' clock offsets from the driver, estimated and applied: {shown}")
    if result.calibration:
        stacks = ", ".join(
            f"{name} {fmt_seconds(c.median_ms / 1e3)} [{fmt_seconds(c.low_ms / 1e3)}–{fmt_seconds(c.high_ms / 1e3)}, "
            f"{fmt_level(c.level)}]"
            for name, c in result.calibration.items()
        )
        lines.append(
            f"per-task overhead of each client stack, measured: {stacks} (overhead = that x tasks in a row; "
            "queueing = median - ideal - overhead)"
        )
    elif result.calibration_rtt_ms is not None:
        lines.append(
            f"per-request overhead: {result.calibration_rtt_ms:.3f} ms, measured (overhead = that x requests in a "
            "row; queueing = median - ideal - overhead)"
        )
    if result.server is not None and result.server.lateness_p99_us is not None:
        lines.append(
            f"server: {result.server.loop} loop, timer lateness p50 {result.server.lateness_p50_us:.0f} us, "
            f"p99 {result.server.lateness_p99_us:.0f} us"
        )
    lines.extend(ideal_notes(result, rows))
    lines.extend(gc_notes(result, rows))
    if any(r.residual_kind != "queueing" and r.residual_s is not None for r in rows):
        lines.append("(queueing in brackets): one request at a time, so nothing queues; the remainder is model error")
    for row in rows:
        if row.bound_by:
            waited = f" ({row.peak_queued} tasks waited for a connection at once)" if row.peak_queued else ""
            lines.append(f"{row.strategy} at {row.tasks} tasks was capped by {row.bound_by}{waited}")
    lines.extend(hidden_cap_notes(rows))
    lines.extend(connection_notes(rows))
    lines.extend(failure_notes(result, rows))
    if rows and not speedup_measured(rows) and any(r.speedup_vs_ideal_sequential for r in rows):
        lines.append("speedup*: over the ideal sequential time (the sum of the service times); no sequential run ran")
    lines.extend(missing_notes(result, rows))
    for row in rows:
        reason = unexplained(row)
        if reason:
            lines.append(f"({UNEXPLAINED}) model cannot explain {row.strategy} at {row.tasks} tasks: {reason}")
    for row in rows:
        for warning in row.warnings:
            lines.append(f"warning: {row.strategy} at {row.tasks} tasks: {warning}")
    return lines


IDEAL_SOURCES = {
    "delivered": "ideal from the service times the local server delivered (its Server-Timing header)",
    "requested": "ideal from the delays asked for",
    "sequential": "ideal from each task alone in the sequential runs (its I/O time less the per-task overhead)",
}
"""Where the ideal came from, as the notes say it (the two other sources name their host or sample)."""


def ideal_notes(result: ScenarioResult, rows: Sequence[Summary]) -> list[str]:
    """Where each row's ideal came from, once per source."""
    lines = []
    host = result.driver.service_source if result.driver is not None else "the server"
    for source in dict.fromkeys(r.ideal_source for r in rows if r.ideal_source):
        if source == "reported":
            lines.append(
                f"ideal from the service times {host} reports in its answers (Server-Timing: svc): a busy server's "
                "own queueing is inside them"
            )
        elif source == "estimate":
            probed = max((len(p.probe.tasks) for p in result.points if p.probe is not None), default=0)
            lines.append(
                f"ideal estimated from {probed} tasks run alone before the timed rounds (the scenario has no "
                "sequential run): an estimate, the other tasks taken as their median"
            )
        else:
            lines.append(IDEAL_SOURCES.get(source, f"ideal from {source}"))
    return lines


HIDDEN_CAP = 0.5
"""Achieved concurrency below this share of what the known caps allow, with most of the time queueing, is a cap
iobench did not set."""
CPU_BOUND = 0.8
"""CPU time / wall time from which a run counts as bound by the client's CPU (one core, as one event loop has)."""


def hidden_cap_notes(rows: Sequence[Summary]) -> list[str]:
    """A row that ran as if far fewer tasks ran at once than its caps allow, with nothing of iobench's to blame."""
    lines = []
    for row in rows:
        achieved, expected = row.achieved_concurrency, row.expected_concurrency
        if achieved is None or expected is None or row.bound_by or row.residual_s is None:
            continue
        if achieved < HIDDEN_CAP * expected and row.residual_s > HIDDEN_CAP * row.wall_median_s:
            if row.cpu_busy is not None and row.cpu_busy >= CPU_BOUND:
                lines.append(
                    f"{row.strategy} at {row.tasks} tasks ran as if about {fmt_sig(achieved)} at a time "
                    f"({fmt_sig(expected)} possible) with this process's CPU busy {row.cpu_busy:.0%} of the wall "
                    "time: the client's own work per task (in the library, the event loop or the threads, one GIL "
                    "for all), not the I/O, bound it; more concurrency cannot help, more processes can (processes: k)"
                )
                continue
            lines.append(
                f"{row.strategy} at {row.tasks} tasks ran as if about {fmt_sig(achieved)} at a time "
                f"({fmt_sig(expected)} possible): a limit outside iobench held it back, such as a connection pool, an "
                "executor, the "
                "server's workers, a lock, or one CPU serving every task"
            )
    return lines


def connection_notes(rows: Sequence[Summary]) -> list[str]:
    """Runs that opened more connections than their pool holds: reconnects."""
    return [
        f"{row.strategy} at {row.tasks} tasks opened up to {row.connections_opened} connections in a run for a pool of "
        f"{row.planned_connections}: reconnects (the server closed kept-alive connections, or dropped them)"
        for row in rows
        if row.connections_opened is not None and row.connections_opened > row.planned_connections
    ]


CROSS_LOOP = ("different event loop", "attached to a different loop", "another operation is in progress")
"""Words of the errors that state made on one event loop and used on another raises (asyncio, asyncpg)."""


def failure_notes(result: ScenarioResult, rows: Sequence[Summary]) -> list[str]:
    """Each row's failures by message, in the exceptions' own words; the strategies stopped early; and what state
    made on another event loop looks like."""
    lines = []
    for row in rows:
        if row.failures:
            lines.append(f"failures of {row.strategy} at {row.tasks} tasks: {row.failure_text()}")
    stopped = {label: reason for p in result.points for label, reason in p.abandoned.items()}
    lines += [f"{label} was stopped: {reason}" for label, reason in stopped.items()]
    words = " ".join(text for row in rows for text, _ in row.failures)
    if any(phrase in words for phrase in CROSS_LOOP):
        lines.append(
            "a client, pool or lock made on another event loop was used on this one (an earlier scenario's, or the "
            "other loop of --loop asyncio,uvloop): make it in the target's setup hook, which runs on each "
            "scenario's own loop"
        )
    return lines


def client_notes(result: ScenarioResult) -> list[str]:
    """What each asyncio client stack of the scenario's runs says of its connection limit (as the scenario set it;
    a strategy's own limit is in its label), in the order they first ran."""
    stacks = dict.fromkeys(run.stack for point in result.points for run in point.runs)
    limit = result.scenario.connector_limit
    return [client.limit_note(limit) for stack in stacks if isinstance(client := CLIENTS.get(stack), AsyncClient)]


GC_NOTE_SHARE = 0.05
"""Collector time, as a share of a row's median wall time, from which the notes mention it."""


def gc_notes(result: ScenarioResult, rows: Sequence[Summary]) -> list[str]:
    """The garbage collector: paused, or what its passes cost the row where they cost most (from 5% of its time)."""
    if not result.scenario.gc:
        return ["garbage collector: paused during timed runs (gc: false), as timeit does; a program pays its passes"]
    shares = [(r.gc_ms / 1000 / r.wall_median_s, r) for r in rows if r.gc_ms is not None and r.wall_median_s > 0]
    if not shares:
        return []
    share, row = max(shares, key=lambda pair: pair[0])
    if share < GC_NOTE_SHARE:
        return []
    spent = fmt_seconds((row.gc_ms or 0.0) / 1000)
    full = f", {row.gc_full_passes:g} full passes" if row.gc_full_passes else ""
    return [
        f"garbage collector: {share:.0%} of {row.strategy}'s wall time at {row.tasks} tasks ({spent}{full} per "
        "run); gc: false (or --disable-gc) pauses it during runs, to see the I/O's own limit"
    ]


def missing_notes(result: ScenarioResult, rows: Sequence[Summary]) -> list[str]:
    """One line per reason a ``-`` appears in the table, naming the figures it stands for."""
    lines = []
    if any(r.ideal_s is None for r in rows):
        lines.append(
            f"({NA}) ideal, eff.: no service times: the answers carry no Server-Timing, and no task was timed alone "
            "(add sequential to the strategies)"
        )
    if any(r.overhead_s is None for r in rows):
        lines.append(f"({NA}) overhead, queueing: no per-request overhead was measured")
    if any(r.runs < 2 for r in rows):
        lines.append(f"({NA}) CI: one run gives no interval")
    if not speedup_measured(rows) and all(r.speedup_vs_ideal_sequential is None for r in rows):
        lines.append(f"({NA}) speedup: no sequential run and no known delays to compare with")
    for row in rows:
        reason = missing_reason(row, rate_header(result))
        if reason:
            lines.append(f"({NA}) {row.strategy} at {row.tasks} tasks: {reason}")
    if any(latency_percentiles_ms(r) is None for r in rows):
        lines.append(f"({NA}) p50/p90/p99: no task ended")
    return lines


def scenario_title(result: ScenarioResult) -> str:
    """The scenario's name, description and outcome, as the table's title."""
    sc = result.scenario
    title = sc.name + (f" — {sc.description}" if sc.description else "")
    if result.outcome != "ok":
        title += f"  [{result.outcome}{': ' + result.reason if result.reason else ''}]"
    return title
