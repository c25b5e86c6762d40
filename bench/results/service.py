"""Where a row's service times come from, and what its runs did with them: the ideal's inputs for any target.

    times, source = service_times(point, runs, calibration, local=True)   # one list of ms per run, 'delivered'

In this order: the answers' own (``Server-Timing: svc``, from the local server or any other), the delays asked
for (local server, sleep), each task alone in the sequential runs (its I/O time less the per-task overhead), or a
sample of tasks run alone before the timed rounds (an estimate). Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.results.records import PointResult, RunResult
from bench.results.stats import median
from bench.strategies import REFERENCE


def reference_service_ms(point: PointResult, calibration: dict[str, float]) -> list[float] | None:
    """Each task's service time from the complete sequential runs (one task at a time, nothing competing): the
    median over them of its I/O time (start to end) less the sequential stack's per-task overhead; None without."""
    runs = [run for run in point.runs if run.strategy == REFERENCE and run.complete]
    if not runs:
        return None
    overhead = calibration.get(runs[0].stack, 0.0)
    durations = [[(e - b) / 1e6 for b, e in zip(r.samples.start_ns, r.samples.end_ns, strict=True)] for r in runs]
    return [max(median(list(times)) - overhead, 0.0) for times in zip(*durations, strict=True)]


def estimated_service_ms(point: PointResult, calibration: dict[str, float]) -> list[float] | None:
    """Each task's service time from the uncontended sample taken before the rounds: its own for the tasks sampled,
    the sample's median for the others (an estimate); None without a sample."""
    probe = point.probe
    if probe is None or not probe.durations_ms:
        return None
    overhead = calibration.get(probe.stack, 0.0)
    own = {i: max(d - overhead, 0.0) for i, d in zip(probe.tasks, probe.durations_ms, strict=True)}
    typical = median(list(own.values()))
    return [own.get(i, typical) for i in range(point.tasks)]


def service_times(
    point: PointResult, runs: Sequence[RunResult], calibration: dict[str, float], local: bool
) -> tuple[list[list[float]], str]:
    """The service times (ms) the ideal is built from, one list per run they hold for, and where they came from:
    the answers' own (``Server-Timing``) in each complete run, else the requested delays, the sequential runs, or
    the uncontended sample, in that order (``Summary.ideal_source``)."""
    delivered = [
        [us / 1000 for us in run.samples.service_us]
        for run in runs
        if run.complete and run.samples.service_us and min(run.samples.service_us) >= 0
    ]
    if delivered:
        return delivered, "delivered" if local else "reported"
    if point.delays_ms:
        return [list(point.delays_ms)], "requested"
    reference = reference_service_ms(point, calibration)
    if reference is not None:
        return [reference], "sequential"
    estimate = estimated_service_ms(point, calibration)
    if estimate is not None:
        return [estimate], "estimate"
    return [], ""


def mean_inflight(run: RunResult) -> float | None:
    """Tasks doing I/O at once on average over the run: the sum of their I/O times over its wall time."""
    if run.wall_ns <= 0:
        return None
    s = run.samples
    busy = sum(e - b for b, e in zip(s.start_ns, s.end_ns, strict=True) if b >= 0 and e >= b)
    return busy / run.wall_ns


def failure_groups(runs: Sequence[RunResult]) -> tuple[tuple[str, int], ...]:
    """Failed tasks over the runs, by message (by error kind in files written before messages were kept)."""
    counts: dict[str, int] = {}
    for run in runs:
        s = run.samples
        if s.message:
            for index in s.message:
                if index >= 0:
                    text = run.messages[index] if index < len(run.messages) else "unknown"
                    counts[text] = counts.get(text, 0) + 1
        else:
            for kind in s.error:
                if kind not in ("", "cancelled", "not_started"):
                    counts[kind] = counts.get(kind, 0) + 1
    return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
