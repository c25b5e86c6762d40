"""Reports from results files only: the terminal's table, Markdown, HTML, CSV, and charts (``charts/``), written
through one registry of exporters (``exporters``). Nothing here runs anything or prints: the CLI does.

    from bench.report import scenario_table
    console.print(scenario_table(result, rows, width=console.width))

``cells`` is the text of every figure, ``notes`` what a table needs beside its numbers, ``table`` the terminal's
layouts, ``markdown`` and ``html`` the reports; ``charts`` and ``exporters`` load matplotlib and pandas, so they are
imported only when used (``from bench.report.charts import register_chart``).
"""

from bench.report.markdown import markdown_report
from bench.report.table import scenario_table

__all__ = ["markdown_report", "scenario_table"]
