"""The scenario loader: valid files, and every kind of mistake with its exact message (file, line, key path)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.errors import ScenarioError
from bench.scenario import Fixed, LogNormal, Scenario, load_paths, parse_scenario

BASE = """\
name: t
tasks: 10
target:
  latency: {dist: fixed, ms: 20}
"""

REPO = Path(__file__).resolve().parents[1]


def error_of(text: str) -> str:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(text, "s.yaml")
    return str(info.value)


def test_minimal_scenario_gets_documented_defaults() -> None:
    sc = parse_scenario(BASE)
    assert sc.tasks == (10,)
    assert sc.target.latency == Fixed(dist="fixed", ms=20)
    assert [s.label for s in sc.strategies] == ["sequential", "gather"]
    assert (sc.repeats, sc.warmup, sc.seed, sc.timeout_s, sc.connector_limit, sc.loop) == (
        5,
        1,
        0,
        30.0,
        None,
        "asyncio",
    )
    assert (sc.target.bytes, sc.target.status) == (0, 200)


def test_sweep_and_every_distribution() -> None:
    for latency in [
        "{dist: fixed, ms: 0}",
        "{dist: uniform, low_ms: 1, high_ms: 2.5}",
        "{dist: normal, mean_ms: 20, sd_ms: 5}",
        "{dist: lognormal, median_ms: 180, sigma: 0.4}",
        "{dist: exponential, mean_ms: 20}",
    ]:
        sc = parse_scenario(BASE.replace("{dist: fixed, ms: 20}", latency).replace("tasks: 10", "tasks: [1, 3]"))
        assert sc.tasks == (1, 3)


def test_shipped_scenarios_load() -> None:
    loaded = load_paths([REPO / "scenarios"])
    names = {sc.name for _, sc in loaded}
    assert {"seed", "sweep"} <= names
    seed = next(sc for _, sc in loaded if sc.name == "seed")
    assert seed.tasks == (10,)
    assert isinstance(seed.target.latency, LogNormal)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE + "repeat: 3\n", "s.yaml:5: repeat: unknown key 'repeat'; did you mean 'repeats'?"),
        (
            BASE.replace("ms: 20}", "ms: 20, mean: 3}"),
            "s.yaml:4: target.latency.mean: unknown key 'mean'; valid keys: dist, ms",
        ),
        (BASE + "repeats: three\n", "s.yaml:5: repeats: expected a whole number of rounds or 'auto' (got 'three')"),
        (BASE + "repeats: true\n", "s.yaml:5: repeats: expected a whole number of rounds or 'auto' (got True)"),
        (BASE + "repeats: 0\n", "s.yaml:5: repeats: must be between 1 and 1000, or 'auto' (got 0)"),
        (
            BASE.replace("tasks: 10", "tasks: [1, 0]"),
            "s.yaml:2: tasks.1: must be at least 1 (got 0)",
        ),
        (
            BASE.replace("tasks: 10", "tasks: -1"),
            "s.yaml:2: tasks: must be at least 1 (got -1)",
        ),
        (BASE.replace("tasks: 10", "tasks: []"), "s.yaml:2: tasks: give at least one task count"),
        (
            BASE.replace("tasks: 10", "tasks: '10'"),
            "s.yaml:2: tasks: expected a task count or a list of them, e.g. 10 or [1, 10, 100]",
        ),
        (
            BASE.replace("{dist: fixed, ms: 20}", "{ms: 20}"),
            "s.yaml:4: target.latency: missing key 'dist' "
            "(one of 'fixed', 'uniform', 'normal', 'lognormal', 'exponential')",
        ),
        (
            BASE.replace("{dist: fixed, ms: 20}", "{dist: gamma, ms: 20}"),
            "s.yaml:4: target.latency.dist: unknown distribution 'gamma'; "
            "expected one of 'fixed', 'uniform', 'normal', 'lognormal', 'exponential'",
        ),
        (
            BASE.replace("{dist: fixed, ms: 20}", "{dist: lognormal, median_ms: 20}"),
            "s.yaml:4: target.latency: missing key 'sigma' (dist: lognormal needs it)",
        ),
        (
            BASE.replace("{dist: fixed, ms: 20}", "{dist: uniform, low_ms: 50, high_ms: 20}"),
            "s.yaml:4: target.latency: high_ms (20) is below low_ms (50)",
        ),
        (
            BASE.replace("ms: 20", "ms: -5"),
            "s.yaml:4: target.latency.ms: must be at least 0 (got -5)",
        ),
        (
            BASE.replace("ms: 20", "ms: 90000"),
            "s.yaml:4: target.latency.ms: must be at most 60000 (got 90000)",
        ),
        (
            BASE + "strategies: [sequential, gathr]\n",
            "s.yaml:5: strategies.1: unknown strategy 'gathr'; did you mean 'gather'? "
            "(valid: as_completed, bounded, gather, sequential, taskgroup, threads)",
        ),
        (
            BASE + "strategies: [sequential, {gather: {limit: 3}}]\n",
            "s.yaml:5: strategies.1: unknown parameter 'limit' of strategy 'gather'; "
            "it takes: connector_limit, return_exceptions",
        ),
        (BASE + "strategies: [gather, gather]\n", "s.yaml:5: strategies: strategy 'gather' is listed twice"),
        (BASE + "strategies: []\n", "s.yaml:5: strategies: give at least one strategy"),
        (BASE + "repeats: 3\nrepeats: 4\n", "s.yaml:6: repeats: duplicate key 'repeats'"),
        (BASE.replace("name: t\n", ""), "s.yaml:1: <top>: missing key 'name' (every scenario needs it)"),
        (
            BASE.replace("name: t", "name: 'a b'"),
            "s.yaml:1: name: name 'a b' must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        ),
        (BASE + "timeout_s: .nan\n", "s.yaml:5: timeout_s: expected a finite number (got nan)"),
        (BASE + "loop: trio\n", "s.yaml:5: loop: expected 'asyncio' or 'uvloop' (got 'trio')"),
        (
            BASE.replace("  latency", "  status: 99\n  latency"),
            "s.yaml:4: target.status: must be at least 200 (got 99)",
        ),
        ("- a\n- b\n", "s.yaml:1: <top>: a scenario is a mapping of keys (name, tasks, target, ...)"),
        (
            BASE + "repeats: [1, 2\n",
            "s.yaml:6:1: not valid YAML: expected ',' or ']', but got '<stream end>' "
            "(while parsing a flow sequence at 5:10)",
        ),
        (
            BASE + "x: !!python/object:os.system ls\n",
            "s.yaml:5:4: not valid YAML: could not determine a constructor for the tag "
            "'tag:yaml.org,2002:python/object:os.system'",
        ),
        ("", "s.yaml: the file is empty; a scenario needs at least 'name', 'tasks' and 'target'"),
        (
            "# only a comment\n",
            "s.yaml: the file is empty; a scenario needs at least 'name', 'tasks' and 'target'",
        ),
    ],
)
def test_mistakes_name_file_line_and_key(text: str, message: str) -> None:
    assert error_of(text) == message


def test_several_mistakes_are_all_reported() -> None:
    text = BASE.replace("tasks: 10", "tasks: 0") + "repeats: -1\n"
    assert error_of(text).splitlines() == [
        "s.yaml:2: tasks: must be at least 1 (got 0)",
        "s.yaml:5: repeats: must be between 1 and 1000, or 'auto' (got -1)",
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_paths([tmp_path / "nope.yaml"])
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such file or folder"


def test_folder_without_scenarios(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_paths([tmp_path])
    assert str(info.value) == f"{tmp_path}: no scenario files (*.yaml, *.yml) in this folder"


def test_duplicate_scenario_names(write_scenario: Callable[[str, str], Path]) -> None:
    a = write_scenario(BASE, "a")
    b = write_scenario(BASE, "b")
    with pytest.raises(ScenarioError) as info:
        load_paths([a, b])
    assert str(info.value) == f"{b}: name: scenario name 't' is already used by {a}"


def test_folder_loads_sorted_yaml_and_yml(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    write_scenario(BASE.replace("name: t", "name: b"), "b")
    (tmp_path / "a.yml").write_text(BASE.replace("name: t", "name: a"), encoding="utf-8")
    (tmp_path / "notes.txt").write_text("not a scenario", encoding="utf-8")
    assert [sc.name for _, sc in load_paths([tmp_path])] == ["a", "b"]


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(b"name: \xff\n")
    with pytest.raises(ScenarioError) as info:
        load_paths([path])
    assert str(info.value) == f"{path}: not UTF-8 text (invalid start byte at byte 6)"


def test_scenario_is_frozen() -> None:
    sc = parse_scenario(BASE)
    with pytest.raises(ValueError):
        sc.repeats = 3  # type: ignore[misc]


yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=12),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.text(max_size=10), st.sampled_from(list(Scenario.model_fields))),
            children,
            max_size=5,
        ),
    ),
    max_leaves=12,
)


def assert_scenario_or_own_error(text: str) -> None:
    """The loader returns a Scenario or raises ScenarioError naming the source; nothing else escapes."""
    try:
        result = parse_scenario(text, "h.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("h.yaml")
    else:
        assert isinstance(result, Scenario)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_values)
def test_loader_never_raises_anything_but_its_own_error_on_structured_yaml(value: object) -> None:
    assert_scenario_or_own_error(yaml.safe_dump(value))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_loader_never_raises_anything_but_its_own_error_on_any_text(text: str) -> None:
    assert_scenario_or_own_error(text)


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "name": st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True),
            "tasks": st.one_of(st.integers(1, 1000), st.lists(st.integers(1, 1000), min_size=1, max_size=5)),
            "target": st.fixed_dictionaries(
                {"latency": st.fixed_dictionaries({"dist": st.just("fixed"), "ms": st.floats(0, 60000)})}
            ),
            "repeats": st.integers(1, 20),
        }
    )
)
def test_valid_documents_load(doc: dict[str, object]) -> None:
    sc = parse_scenario(yaml.safe_dump(doc))
    assert sc.name == doc["name"]
    assert sc.repeats == doc["repeats"]
