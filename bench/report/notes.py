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
    ("*", "speedup over the ideal sequential time (the sum of the delays): no sequential run was measured"),
    ("ideal", "wall time with zero overhead, from the exact per-task delays (bench.strategies.model)"),
    ("overhead", "measured per-request overhead x requests made one after another on the critical path"),
    ("queueing", "median - ideal - overhead: waiting for connections, sockets, the CPU or the GIL"),
    ("eff.", "ideal / median: how much of the possible concurrency the strategy got"),
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
            f"per-request overhead, measured: {stacks} (overhead = that x requests in a row; "
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
            f"p99 {result.server.lateness_p99_us:.0f} us; ideal from the service times the server delivered"
        )
    lines.extend(gc_notes(result, rows))
    if any(r.residual_kind != "queueing" and r.residual_s is not None for r in rows):
        lines.append("(queueing in brackets): one request at a time, so nothing queues; the remainder is model error")
    for row in rows:
        if row.bound_by:
            waited = f" ({row.peak_queued} tasks waited for a connection at once)" if row.peak_queued else ""
            lines.append(f"{row.strategy} at {row.tasks} tasks was capped by {row.bound_by}{waited}")
    if rows and not speedup_measured(rows) and any(r.speedup_vs_ideal_sequential for r in rows):
        lines.append("speedup*: over the ideal sequential time (sum of the delays); no sequential run was measured")
    lines.extend(missing_notes(result, rows))
    for row in rows:
        reason = unexplained(row)
        if reason:
            lines.append(f"({UNEXPLAINED}) model cannot explain {row.strategy} at {row.tasks} tasks: {reason}")
    for row in rows:
        for warning in row.warnings:
            lines.append(f"warning: {row.strategy} at {row.tasks} tasks: {warning}")
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
    kind = result.scenario.target.kind
    if any(r.ideal_s is None for r in rows):
        lines.append(f"({NA}) ideal, eff.: the per-task delays of a {kind} target are not known")
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
