"""Results as pandas DataFrames, long format: one row per task, per run, or per summary row (the CSV tables).

    samples_frame(results), runs_frame(results), summary_frame(summaries)

pandas loads only when a frame is asked for: it costs ~50 MB and a second at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench.results.records import ResultsFile
from bench.results.summary import Summaries, summary_record

if TYPE_CHECKING:
    import pandas as pd


def samples_frame(results: ResultsFile) -> pd.DataFrame:
    """Every task of every recorded run, long format: one row per (scenario, tasks, strategy, repeat, task)."""
    import pandas as pd

    columns: dict[str, list[Any]] = {
        k: []
        for k in (
            "scenario", "tasks", "strategy", "repeat", "task", "delay_ms", "start_ms", "end_ms", "latency_ms",
            "status", "bytes", "error",
        )
    }  # fmt: skip
    for sr in results.scenarios:
        for point in sr.points:
            delays = point.delays_ms or (float("nan"),) * point.tasks
            for run in point.runs:
                s = run.samples
                n = len(s.start_ns)
                columns["scenario"] += [sr.scenario.name] * n
                columns["tasks"] += [point.tasks] * n
                columns["strategy"] += [run.strategy] * n
                columns["repeat"] += [run.repeat] * n
                columns["task"] += list(range(n))
                columns["delay_ms"] += list(delays)
                columns["start_ms"] += [v / 1e6 if v >= 0 else float("nan") for v in s.start_ns]
                columns["end_ms"] += [v / 1e6 if v >= 0 else float("nan") for v in s.end_ns]
                columns["latency_ms"] += [
                    (e - b) / 1e6 if b >= 0 and e >= 0 else float("nan")
                    for b, e in zip(s.start_ns, s.end_ns, strict=True)
                ]
                columns["status"] += list(s.status)
                columns["bytes"] += list(s.nbytes)
                columns["error"] += list(s.error)
    return pd.DataFrame(columns)


def runs_frame(results: ResultsFile) -> pd.DataFrame:
    """Every recorded run, one row each: wall time, counts, peaks."""
    import pandas as pd

    rows = [
        {
            "scenario": sr.scenario.name,
            "tasks": point.tasks,
            "strategy": run.strategy,
            "repeat": run.repeat,
            "position": run.position,
            "loop": run.loop,
            "wall_s": run.wall_ns / 1e9,
            "finished": run.finished,
            "failed": run.failed,
            "cancelled": run.cancelled,
            "peak_inflight": run.peak_inflight,
            "peak_queued": run.peak_queued,
            "outcome": run.outcome,
        }
        for sr in results.scenarios
        for point in sr.points
        for run in point.runs
    ]
    return pd.DataFrame(rows)


def summary_frame(summaries: Summaries) -> pd.DataFrame:
    """Every summary row, one per row, its columns those of ``summary_record`` (the summary CSV)."""
    import pandas as pd

    return pd.DataFrame([summary_record(row) for row in summaries.rows])
