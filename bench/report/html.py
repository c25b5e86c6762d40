"""A results file -> one self-contained HTML page: tables, charts (inline SVG), notes, caps, environment, definitions.

    Path("results/report.html").write_text(html_report(results, summarise_file(results)), encoding="utf-8")

Readable offline: no script, no external stylesheet, font or image. Charts are matplotlib SVG with text drawn as
paths (``svg.fonttype: path``), their ids prefixed per chart so that several can share one page.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from html import escape
from typing import Any

import matplotlib as mpl
import yaml
from matplotlib.figure import Figure

from bench.report.cells import FIGURES, headers, one_level, rate_header, row_cells, speedup_measured
from bench.report.charts import applicable_charts
from bench.report.markdown import environment_line
from bench.report.notes import GLOSSARY, client_notes, notes, scenario_title
from bench.results.records import ResultsFile, ScenarioResult
from bench.results.summary import Summaries, Summary, summarise_file

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1a1a1a; margin: 2em auto;
       max-width: 1180px; padding: 0 1.2em; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 2.2em; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.05em; margin: 1.4em 0 .4em; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; margin: .6em 0; font-variant-numeric: tabular-nums; font-size: .92em; }
th, td { padding: .25em .55em; text-align: right; white-space: nowrap; border-bottom: 1px solid #eee; }
th { border-bottom: 2px solid #bbb; } th.l, td.l { text-align: left; }
tr.failed td { color: #b00020; } .unexplained { background: #fff3cd; }
ul.notes li.warning, ul.notes li.unexplained { color: #7a5300; }
figure { margin: 1.2em 0; } figure svg { width: 100%; height: auto; max-width: 960px; display: block; }
figcaption { color: #555; font-size: .9em; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: .88em; }
dl.env { display: grid; grid-template-columns: max-content auto; gap: .15em 1.2em; }
dl.env dt { color: #555; } dl.env dd { margin: 0; font-family: ui-monospace, monospace; }
.meta { color: #555; }
"""
"""The page's only stylesheet, inline."""

_ID = re.compile(r'\bid="([^"]+)"')


def chart_svg(fig: Figure, prefix: str) -> str:
    """A figure as an ``<svg>`` element for inline use: no prolog, no metadata, no namespace URLs, prefixed ids."""
    buffer = io.StringIO()
    with mpl.rc_context({"svg.hashsalt": "iobench", "svg.fonttype": "path"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg") :]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.DOTALL)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'(<svg[^>]*?)\s+width="[^"]*"\s+height="[^"]*"', r"\1", svg, count=1)
    for name in sorted(set(_ID.findall(svg)), key=len, reverse=True):
        svg = svg.replace(f'id="{name}"', f'id="{prefix}-{name}"')
        svg = svg.replace(f'"#{name}"', f'"#{prefix}-{name}"').replace(f"url(#{name})", f"url(#{prefix}-{name})")
    return svg.strip()


def _table(result: ScenarioResult, rows: Sequence[Summary]) -> str:
    measured = speedup_measured(rows)
    one = one_level(rows)
    head = headers(rows, rate_header(result))
    columns = ["tasks", "strategy", *(head[f] for f in FIGURES)]
    out = ['<div class="scroll"><table>', "<thead><tr>"]
    out += [f"<th{' class=l' if c == 'strategy' else ''}>{escape(c)}</th>" for c in columns]
    out.append("</tr></thead><tbody>")
    for row in rows:
        cells = row_cells(row, measured, one)
        texts = [cells.tasks, cells.strategy, *(cells.figures[f] for f in FIGURES)]
        out.append(f"<tr{' class=failed' if cells.failed else ''}>")
        for name, text in zip(["tasks", "strategy", *FIGURES], texts, strict=True):
            classes = (["l"] if name == "strategy" else []) + (["unexplained"] if text.endswith("!") else [])
            attr = f' class="{" ".join(classes)}"' if classes else ""
            out.append(f"<td{attr}>{escape(text)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def _notes(result: ScenarioResult, rows: Sequence[Summary]) -> str:
    items = []
    for note in notes(result, rows):
        kind = "warning" if note.startswith("warning") else "unexplained" if note.startswith("(!)") else ""
        items.append(f"<li{f' class={kind}' if kind else ''}>{escape(note)}</li>")
    return f'<ul class="notes">{"".join(items)}</ul>'


def _caps(result: ScenarioResult, rows: Sequence[Summary], env_fd: tuple[int, int]) -> str:
    items = client_notes(result)
    items.append(f"file descriptors: soft {env_fd[0]}, hard {env_fd[1]}")
    seen = set()
    for row in rows:
        limits = ", ".join(f"{k} {'none' if v is None else v}" for k, v in sorted(row.limits.items()))
        if limits and (row.strategy, limits) not in seen:
            seen.add((row.strategy, limits))
            items.append(f"{row.strategy}: {limits}")
        if row.bound_by:
            items.append(f"{row.strategy} at {row.tasks} tasks was capped by {row.bound_by}")
    return "<ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"


def definition_yaml(result: ScenarioResult) -> str:
    """The scenario's definition, as loaded, in YAML."""
    data: dict[str, Any] = result.scenario.model_dump(mode="json")
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _charts(result: ScenarioResult, rows: Sequence[Summary], index: int) -> str:
    out = []
    for chart in applicable_charts(result, rows):
        fig = chart.draw(result, rows)
        svg = chart_svg(fig, f"s{index}-{chart.name}")
        fig.clear()
        caption = escape(chart.caption)
        out.append(f'<figure id="s{index}-{chart.name}-chart">{svg}<figcaption>{caption}</figcaption></figure>')
    return "".join(out)


def _scenario(result: ScenarioResult, rows: Sequence[Summary], index: int, fd: tuple[int, int]) -> str:
    parts = [f'<section id="scenario-{index}"><h2>{escape(scenario_title(result))}</h2>']
    parts.append(f'<p class="meta">file {escape(result.file)}')
    if result.definition_hash:
        parts.append(f" · definition sha256 {escape(result.definition_hash[:12])}")
    parts.append("</p>")
    parts += [_table(result, rows), "<h3>Notes</h3>", _notes(result, rows), "<h3>Caps</h3>", _caps(result, rows, fd)]
    parts += ["<h3>Charts</h3>", _charts(result, rows, index)]
    parts.append(f"<h3>Definition</h3><pre>{escape(definition_yaml(result))}</pre></section>")
    return "".join(parts)


def _environment(results: ResultsFile) -> str:
    env = results.environment.model_dump(mode="json")
    env["command_line"] = " ".join(env["command_line"])
    items = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v))}</dd>" for k, v in env.items())
    return f'<section id="environment"><h2>Environment</h2><dl class="env">{items}</dl></section>'


def _glossary() -> str:
    items = "".join(f"<dt>{escape(t)}</dt><dd>{escape(d)}</dd>" for t, d in GLOSSARY)
    return f'<section id="glossary"><h2>Reading the tables</h2><dl class="env">{items}</dl></section>'


def html_report(results: ResultsFile, summaries: Summaries | None = None) -> str:
    """The whole results file as one HTML page that needs nothing but itself."""
    env = results.environment
    fd = (env.fd_soft_limit, env.fd_hard_limit)
    summaries = summaries or summarise_file(results)
    body = [
        "<h1>iobench report</h1>",
        f'<p class="meta">{escape(environment_line(results).replace("**", ""))}</p>',
        *(
            _scenario(s, rows, i, fd)
            for i, (s, rows) in enumerate(zip(results.scenarios, summaries.scenarios, strict=True))
        ),
        _environment(results),
        _glossary(),
    ]
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>iobench report {escape(results.created_utc)}</title><style>{STYLE}</style></head>"
        f"<body>{''.join(body)}</body></html>\n"
    )
