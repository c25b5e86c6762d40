"""Hostile scenario files (issue 19): constructor and type errors, names of any type, URL ports and authorities,
and every size a file can make large. Each exits 2 with a message naming the file and the line, never a
traceback; the fuzzers at the end feed explicit YAML tags on empty scalars, unhashable keys and mappings where
text goes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench import limits
from bench.errors import ScenarioError
from bench.scenario.loader import load_paths, parse_scenario
from bench.scenario.model import definition_hash
from tests.hypotheses import FUZZ_EXAMPLES, hostile_documents

BASE = "name: t\ntasks: 10\ntarget:\n  latency: {dist: fixed, ms: 20}\n"
URL = "name: t\ntasks: 3\ntarget: {kind: url, url: '%s'}\n"


def error_of(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    assert info.value.exit_code == 2
    return str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE.replace("name: t", "name: !!int ''"), "s.yaml:1:7: not valid YAML: !!int cannot read ''"),
        (BASE + "seed: !!timestamp 'x'\n", "s.yaml:5:7: not valid YAML: !!timestamp cannot read 'x'"),
        (BASE + "warmup: !!bool maybe\n", "s.yaml:5:9: not valid YAML: !!bool cannot read 'maybe'"),
        (BASE + "seed: !!float ''\n", "s.yaml:5:7: not valid YAML: !!float cannot read ''"),
        (BASE + "seed: !!int x\n", "s.yaml:5:7: not valid YAML: !!int cannot read 'x'"),
        (
            BASE + "strategies: [{name: [1]}]\n",
            "s.yaml:5: strategies.0.name: a strategy's name is text, e.g. gather (got [1])",
        ),
        (
            BASE + "strategies: [{name: {a: 1}}]\n",
            "s.yaml:5: strategies.0.name: a strategy's name is text, e.g. gather (got {'a': 1})",
        ),
        (
            BASE + "strategies: [{name: 3}]\n",
            "s.yaml:5: strategies.0.name: a strategy's name is text, e.g. gather (got 3)",
        ),
        (BASE + "strategies: [[1]]\n", "s.yaml:5: strategies.0: a strategy is a name (gather) or a one-key mapping"),
    ],
    ids=["int-empty", "timestamp", "bool", "float-empty", "int-text", "name-list", "name-map", "name-int", "list"],
)
def test_constructor_and_type_errors_are_messages(text: str, message: str) -> None:
    assert error_of(text).startswith(message)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://127.0.0.1:99999/", "port 99999 is not a port (1-65535)"),
        ("http://127.0.0.1:-1/", "port '-1' is not a port (1-65535)"),
        ("http://127.0.0.1:abc/", "port 'abc' is not a port (1-65535)"),
        ("http://127.0.0.1:0/", "port 0 is not a port (1-65535)"),
        ("http://127.0.0.1:٣/", "port '٣' is not a port (1-65535)"),
        (
            "http://example.invalid\\@127.0.0.1/",
            "a backslash in the host part ('example.invalid\\\\@127.0.0.1') is read differently by different "
            "clients; write the URL without it",
        ),
        ("http://127.0.0.1:8080/a b", "the URL has a space or a control character; percent-encode it"),
        ("http://[::1/", "not a URL: Invalid IPv6 URL"),
    ],
    ids=["99999", "-1", "abc", "0", "arabic-digit", "backslash", "space", "ipv6-unclosed"],
)
def test_url_ports_and_authorities_are_checked_by_the_schema(url: str, message: str) -> None:
    assert error_of(URL % url) == f"s.yaml:3: target.url: {message}"


def test_urls_that_are_fine_still_load() -> None:
    for url in ("http://127.0.0.1:8080/x?a=1", "https://user:pw@example.com/", "http://[::1]:65535/", "http://h/"):
        assert parse_scenario(URL % url).target.url == url  # type: ignore[union-attr]


# --- bounds on every size ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [20_000, 2_000])
def test_too_many_strategies_is_refused_fast(tmp_path: Path, count: int) -> None:
    """The Williams square is n x n: 20,000 strategies (a 560 KB file) once took 5 GB and 30 s in validate. Now the
    file is too large to read; 2,000 strategies (50 KB) are refused before any is validated or planned."""
    names = ", ".join(f"{{bounded: {{limit: {i + 1}}}}}" for i in range(count))
    path = tmp_path / "wide.yaml"
    path.write_text(BASE + f"strategies: [{names}]\n", encoding="utf-8")
    started = time.monotonic()
    with pytest.raises(ScenarioError) as info:
        load_paths([path])
    assert time.monotonic() - started < 10  # generous
    assert str(info.value).startswith(f"{path}")


def test_strategies_beyond_the_limit() -> None:
    names = ", ".join(f"{{bounded: {{limit: {i + 1}}}}}" for i in range(limits.MAX_STRATEGIES + 1))
    assert error_of(BASE + f"strategies: [{names}]\n") == (
        f"s.yaml:5: strategies: at most {limits.MAX_STRATEGIES} strategies per scenario "
        f"(got {limits.MAX_STRATEGIES + 1})"
    )
    names = ", ".join(f"{{bounded: {{limit: {i + 1}}}}}" for i in range(limits.MAX_STRATEGIES))
    assert len(parse_scenario(BASE + f"strategies: [{names}]\n").strategies) == limits.MAX_STRATEGIES


def test_task_counts_are_unique_and_bounded() -> None:
    assert error_of(BASE.replace("tasks: 10", "tasks: [1, 10, 1]")) == "s.yaml:2: tasks.2: 1 is listed twice"
    many = list(range(1, limits.MAX_TASK_COUNTS + 2))
    assert error_of(BASE.replace("tasks: 10", f"tasks: {many}")) == (
        f"s.yaml:2: tasks: at most {limits.MAX_TASK_COUNTS} task counts per scenario (got {len(many)})"
    )


def test_recorded_samples_are_bounded() -> None:
    """Every recorded task keeps its samples in memory and in the results file: a scenario's total is capped."""
    text = BASE.replace("tasks: 10", "tasks: [100000, 99999]") + "repeats: 30\n"
    assert error_of(text) == (
        "s.yaml:1: <top>: 11999940 task runs would be recorded (task counts 199999 x 2 strategies x 30 rounds); "
        f"at most {limits.MAX_SAMPLES} per scenario: fewer tasks, strategies or repeats"
    )
    auto = BASE.replace("tasks: 10", "tasks: 100000") + "repeats: auto\nmax_repeats: 30\n"
    assert "6000000 task runs would be recorded" in error_of(auto)
    assert parse_scenario(BASE.replace("tasks: 10", "tasks: 100000") + "repeats: 20\n").tasks == (100_000,)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE + f"description: {'x' * (limits.MAX_TEXT + 1)}\n", f"at most {limits.MAX_TEXT} characters"),
        (URL % ("http://h/" + "a" * limits.MAX_URL), f"at most {limits.MAX_URL} characters"),
        (
            BASE.replace("target:\n  latency: {dist: fixed, ms: 20}\n", "target: {callable: 'a" + "b" * 999 + ":f'}\n"),
            f"at most {limits.MAX_NAME} characters",
        ),
        (BASE + f"plugins: [{', '.join(['json'] * (limits.MAX_PLUGINS + 1))}]\n", f"at most {limits.MAX_PLUGINS}"),
    ],
    ids=["description", "url", "callable", "plugins"],
)
def test_texts_and_lists_are_bounded(text: str, message: str) -> None:
    assert message in error_of(text)


def test_a_file_too_large_is_refused_before_it_is_parsed(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(BASE + "#" * limits.MAX_SCENARIO_BYTES, encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_paths([path])
    assert str(info.value) == (
        f"{path}: {path.stat().st_size} bytes; a scenario file may be at most {limits.MAX_SCENARIO_BYTES} bytes"
    )


# --- the fuzzers ---------------------------------------------------------------------------------------------------


@settings(max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_documents(BASE))
def test_hostile_documents_exit_2_naming_the_file(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    """Explicit tags on empty scalars, unhashable keys, mappings and lists where text goes: a message, never a
    traceback (any other exception fails the test with its own)."""
    path = tmp_path_factory.getbasetemp() / "hostile.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_paths([path])
    except ScenarioError as exc:
        assert exc.exit_code == 2
        assert str(exc).startswith(f"{path}:"), str(exc)


@given(st.sampled_from(["!!int", "!!float", "!!bool", "!!timestamp", "!!binary", "!!null"]))
def test_every_tag_on_an_empty_scalar_names_its_line(tag: str) -> None:
    message = error_of(BASE + f"seed: {tag} ''\n")
    assert message.startswith("s.yaml:5:"), message


def test_the_definition_hash_never_reads_a_password() -> None:
    """Results files store the URL redacted; its hash must not be a way back to the password either."""
    one = parse_scenario(URL % "http://alice:s3cret@127.0.0.1:9/")
    other = parse_scenario(URL % "http://bob:hunter2@127.0.0.1:9/")
    assert (
        definition_hash(one)
        == definition_hash(other)
        == definition_hash(parse_scenario(URL % "http://***@127.0.0.1:9/"))
    )
    assert definition_hash(one) != definition_hash(parse_scenario(URL % "http://127.0.0.1:9/"))
