"""Charts from results files only, one module per chart; each registers a ``Chart`` record. Nothing is re-run.

    from bench.report.charts import CHARTS, applicable_charts
    figure = CHARTS["wall"].draw(result, rows)     # inspect figure.axes in tests, or figure.savefig(...)

Built-ins, in order: ``wall`` (median wall time per strategy, interval whiskers, the ideal beside them),
``scaling`` and ``speedup`` (against task count: sweeps only), ``timeline`` (every task of one run),
``latency`` (per-task latency and wait as CDFs). ``style`` is the house style every chart shares.
"""

from bench.plugins import import_builtins
from bench.report.charts.base import CHARTS, Chart, applicable_charts, has_runs, register_chart, sweep, write_charts
from bench.report.charts.style import TICKS, strategy_color, tick_text

import_builtins(__name__, __path__)

__all__ = [
    "CHARTS",
    "TICKS",
    "Chart",
    "applicable_charts",
    "has_runs",
    "register_chart",
    "strategy_color",
    "sweep",
    "tick_text",
    "write_charts",
]
