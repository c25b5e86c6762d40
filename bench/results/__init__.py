"""Results: the frozen records a run produces, their files on disk, the statistics, and the summary rows every
report, chart and check reads.

    from bench.results import read_results, resolve, summarise_file
    results = read_results(resolve(None))        # results/latest.json
    for row in summarise_file(results).rows:     # once per file, then handed to every reader
        print(row.scenario, row.strategy, row.speedup)

``records`` (the records and their schema history), ``files`` (atomic writes, reading, upgrades), ``environment``
(the machine), ``stats`` (pure statistics), ``summary`` (rows), ``frames`` (pandas DataFrames).
"""

from bench.results.files import read_results, resolve, write_results
from bench.results.records import (
    SCHEMA_VERSION,
    PointResult,
    ResultsFile,
    RunResult,
    Samples,
    ScenarioResult,
)
from bench.results.summary import Summaries, Summary, summarise, summarise_file, summary_record

__all__ = [
    "SCHEMA_VERSION",
    "PointResult",
    "ResultsFile",
    "RunResult",
    "Samples",
    "ScenarioResult",
    "Summaries",
    "Summary",
    "read_results",
    "resolve",
    "summarise",
    "summarise_file",
    "summary_record",
    "write_results",
]
