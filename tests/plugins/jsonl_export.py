"""An export format: every summary row as one line of JSON, beside the results (``<stem>.summary.jsonl``)."""

from __future__ import annotations

import json
from pathlib import Path

from bench.report.exporters import Exporter, ExportJob, register_exporter
from bench.results import summary_record
from bench.results.files import write_atomic


def write_jsonl(job: ExportJob) -> list[Path]:
    """One JSON object per summary row."""
    path = job.results_path.with_suffix(".summary.jsonl")
    lines = [json.dumps(summary_record(row), sort_keys=True) for row in job.summaries.rows]
    write_atomic(path, "".join(line + "\n" for line in lines))
    return [path]


EXPORTER = register_exporter(Exporter("jsonl", write_jsonl))
