"""The HTML report of the stored results file: it parses, needs nothing from outside, and holds every part."""

from __future__ import annotations

from collections import Counter
from html.parser import HTMLParser

import pytest

from bench.report.cells import FIGURES, one_level, row_cells, speedup_measured
from bench.report.charts import applicable_charts
from bench.report.html import html_report
from bench.report.notes import GLOSSARY
from bench.results.files import read_results
from bench.results.records import ResultsFile
from bench.results.summary import summarise, summarise_file
from tests.conftest import DATA

pytestmark = pytest.mark.slow  # the page draws every chart as SVG: seconds

VOID = {"meta", "br", "hr", "img", "input", "link", "source", "wbr", "col", "area", "base", "embed", "param", "track"}


class _Page(HTMLParser):
    """Tags, attributes, text and nesting of a page, as html.parser sees it."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: Counter[str] = Counter()
        self.attributes: list[tuple[str, str, str]] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self.open: list[str] = []
        self.unbalanced: list[str] = []
        self.svg_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes += [(tag, name, value or "") for name, value in attrs]
        self.open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags[tag] += 1
        self.attributes += [(tag, name, value or "") for name, value in attrs]

    def handle_endtag(self, tag: str) -> None:
        while self.open and self.open[-1] in VOID:
            self.open.pop()
        if not self.open or self.open[-1] != tag:
            self.unbalanced.append(tag)
        else:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        if self.open and self.open[-1] == "style":
            self.styles.append(data)
        else:
            self.text.append(data)


@pytest.fixture(scope="module")
def stored() -> ResultsFile:
    """The stored results file (two scenarios, eight charts)."""
    return read_results(DATA / "results-v1.json")


@pytest.fixture(scope="module")
def page(stored: ResultsFile) -> str:
    """Its HTML report."""
    return html_report(stored, summarise_file(stored))


@pytest.fixture(scope="module")
def parsed(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    return parser


def test_it_parses_with_every_element_closed(page: str, parsed: _Page) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert parsed.unbalanced == []
    assert [t for t in parsed.open if t not in VOID] == []


def test_it_references_nothing_outside_itself(page: str, parsed: _Page) -> None:
    assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(parsed.tags)
    for tag, name, value in parsed.attributes:
        assert "http://" not in value and "https://" not in value, (tag, name, value)
        if name.endswith("href") or name == "src":
            assert value.startswith("#"), (tag, name, value)
    css = "".join(parsed.styles)
    assert "@import" not in css and "url(" not in css and "http" not in css
    for tag, name, value in parsed.attributes:
        if "url(" in value:
            assert all(part.startswith("#") for part in value.split("url(")[1:]), (tag, name, value)


def test_one_svg_per_chart_with_unique_ids(stored: ResultsFile, parsed: _Page) -> None:
    summaries = summarise_file(stored)
    charts = sum(len(applicable_charts(s, rows)) for s, rows in zip(stored.scenarios, summaries.scenarios, strict=True))
    assert charts > len(stored.scenarios)  # a sweep has more than one chart
    assert parsed.tags["svg"] == charts
    assert parsed.tags["figure"] == charts
    ids = [value for _, name, value in parsed.attributes if name == "id"]
    assert len(ids) == len(set(ids))
    targets = {value[1:] for _, name, value in parsed.attributes if name.endswith("href")}
    assert targets <= set(ids)


def test_it_holds_every_table_note_definition_and_the_environment(stored: ResultsFile, parsed: _Page) -> None:
    text = " ".join(parsed.text)
    assert parsed.tags["table"] == len(stored.scenarios)
    for scenario in stored.scenarios:
        rows = summarise(scenario)
        measured = speedup_measured(rows)
        for row in rows:
            cells = row_cells(row, measured, one_level(rows))
            for figure in (cells.strategy, *(cells.figures[f] for f in FIGURES)):
                assert figure in text
    assert (
        "warning: gather at 8 tasks: the 75% interval spans a factor 2.7 (0.0236 to 0.0645), too wide to tell "
        "strategies apart; run more rounds (repeats: 10) on a quieter machine"
    ) in text
    assert "(-) overhead, queueing: no per-request overhead was measured" in text
    assert "connector limit: none (aiohttp's default of 100 is lifted)" in text  # the caps
    assert "file descriptors: soft 20000, hard 20000" in text
    assert "seed: 7" in text and "dist: uniform" in text  # the definition, as YAML
    assert "3.11.7" in text and "aiohttp" in text  # the environment
    for term, meaning in GLOSSARY:
        assert term in text and meaning in text
