"""Running scenarios: the orchestration (``runner``), one timed run (``timed``), per-task recording
(``recording``), the checks before any request (``preflight``), and ``engines/`` for client processes and Ray.

    from bench.run import NullProgress, run_all
    results = run_all(loaded, Path("results/run.json"), sys.argv, NullProgress())   # saved after each scenario
"""

from bench.run.runner import Engine, NullProgress, ProgressSink, run_all

__all__ = ["Engine", "NullProgress", "ProgressSink", "run_all"]
