"""The scenario loader: valid files, and every kind of mistake with its exact message (file, line, key path)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import get_args

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from bench import limits, plugins
from bench.errors import ScenarioError, did_you_mean, first_error
from bench.scenario import loader as loader_module
from bench.scenario.latency import DISTRIBUTION_MODELS, Fixed, LogNormal
from bench.scenario.loader import load_paths, parse_scenario, validate
from bench.scenario.model import AdaptiveRepeats, Scenario, definition, definition_hash
from bench.scenario.target_models import TARGET_MODELS
from bench.server import app as server
from bench.strategies import REGISTRY, StrategySpec
from tests.conftest import REPO
from tests.hypotheses import FUZZ_EXAMPLES, adaptive_values
from tests.names import DISTRIBUTIONS, KINDS, STRATEGIES

BASE = """\
name: t
tasks: 10
target:
  latency: {dist: fixed, ms: 20}
"""


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
            f"s.yaml:4: target.latency: missing key 'dist' (one of {DISTRIBUTIONS})",
        ),
        (
            BASE.replace("{dist: fixed, ms: 20}", "{dist: gamma, ms: 20}"),
            f"s.yaml:4: target.latency.dist: unknown distribution 'gamma'; expected one of {DISTRIBUTIONS}",
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
            f"s.yaml:5: strategies.1: unknown strategy 'gathr'; did you mean 'gather'? (valid: {STRATEGIES})",
        ),
        (
            BASE + "strategies: [sequential, {gather: {limit: 3}}]\n",
            "s.yaml:5: strategies.1: unknown parameter 'limit' of strategy 'gather'; "
            "it takes: client, connector_limit, return_exceptions",
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


@settings(max_examples=FUZZ_EXAMPLES * 200 // 300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_values)
def test_loader_never_raises_anything_but_its_own_error_on_structured_yaml(value: object) -> None:
    assert_scenario_or_own_error(yaml.safe_dump(value))


@settings(max_examples=FUZZ_EXAMPLES * 300 // 300, deadline=None)
@given(st.text(max_size=80))
def test_loader_never_raises_anything_but_its_own_error_on_any_text(text: str) -> None:
    assert_scenario_or_own_error(text)


@settings(max_examples=100, deadline=None)
@given(
    st.fixed_dictionaries(
        {
            "name": st.from_regex(r"[a-z][a-z0-9_-]{0,10}", fullmatch=True),
            "tasks": st.one_of(
                st.integers(1, 1000), st.lists(st.integers(1, 1000), min_size=1, max_size=5, unique=True)
            ),
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


# --- adaptive repeats, client processes, thresholds ----------------------------------------------------------------


def test_repeats_auto_fills_in_the_stop_rule_defaults() -> None:
    sc = parse_scenario(BASE + "repeats: auto\n")
    assert sc.repeats == "auto"
    assert sc.adaptive == AdaptiveRepeats(precision=0.02, min_repeats=5, max_repeats=30, budget_s=20.0)
    assert sc.planned_repeats == 5


def test_repeats_auto_takes_its_own_settings() -> None:
    sc = parse_scenario(BASE + "repeats: auto\nprecision: 1.5%\nmin_repeats: 3\nmax_repeats: 12\nbudget_s: 7.5\n")
    assert sc.adaptive == AdaptiveRepeats(precision=0.015, min_repeats=3, max_repeats=12, budget_s=7.5)
    assert sc.planned_repeats == 3


def test_a_whole_number_of_repeats_keeps_working() -> None:
    sc = parse_scenario(BASE + "repeats: 7\n")
    assert (sc.repeats, sc.adaptive, sc.planned_repeats) == (7, None, 7)


def test_new_keys_survive_the_results_file() -> None:
    sc = parse_scenario(BASE + "repeats: auto\nprecision: 3%\nprocesses: 2\n")
    dumped = sc.model_dump(mode="json")
    assert (dumped["repeats"], dumped["precision"], dumped["processes"]) == ("auto", "3%", 2)
    assert Scenario.model_validate(dumped) == sc
    plain = parse_scenario(BASE)
    assert Scenario.model_validate(plain.model_dump(mode="json")) == plain


def test_processes_default_to_one_and_take_a_count() -> None:
    assert parse_scenario(BASE).processes == 1
    assert parse_scenario(BASE + "processes: 4\n").processes == 4


@pytest.mark.parametrize(
    ("figure", "text", "op", "value", "shown"),
    [
        ("speedup", ">= 5x", ">=", 5.0, ">= 5x"),
        ("speedup", "5x", ">=", 5.0, ">= 5x"),
        ("speedup", ">=5.0x", ">=", 5.0, ">= 5.0x"),
        ("speedup", "> 2.5", ">", 2.5, "> 2.5"),
        ("efficiency", "90%", ">=", 0.9, ">= 90%"),
        ("efficiency", ">= 0.9", ">=", 0.9, ">= 0.9"),
    ],
)
def test_thresholds_as_people_write_them(figure: str, text: str, op: str, value: float, shown: str) -> None:
    sc = parse_scenario(BASE + f"expect: {{{figure}: {{gather: '{text}'}}}}\n")
    bound = getattr(sc.expect, figure)["gather"]
    assert (bound.op, bound.value, bound.text) == (op, value, shown)


def test_a_bare_error_rate_means_at_most() -> None:
    bound = parse_scenario(BASE + "expect: {error_rate: '1%'}\n").expect.error_rate
    assert bound is not None
    assert (bound.op, bound.value, bound.text) == ("<=", 0.01, "<= 1%")


AUTO = BASE + "repeats: auto\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (BASE + "repeats: many\n", "s.yaml:5: repeats: expected a whole number of rounds or 'auto' (got 'many')"),
        (BASE + "repeats: 1001\n", "s.yaml:5: repeats: must be between 1 and 1000, or 'auto' (got 1001)"),
        (BASE + "repeats: 5\nprecision: 5%\n", "s.yaml:6: precision: applies to repeats: auto only (repeats is 5)"),
        (BASE + "budget_s: 10\n", "s.yaml:5: budget_s: applies to repeats: auto only (repeats is 5)"),
        (AUTO + "precision: 2\n", "s.yaml:6: precision: expected a percentage such as '2%' (got 2)"),
        (AUTO + "precision: 80%\n", "s.yaml:6: precision: must be more than 0% and at most 50% (got '80%')"),
        (AUTO + "precision: 0%\n", "s.yaml:6: precision: must be more than 0% and at most 50% (got '0%')"),
        (AUTO + "min_repeats: 1\n", "s.yaml:6: min_repeats: must be at least 2 (got 1)"),
        (AUTO + "min_repeats: 40\n", "s.yaml:6: min_repeats: 40 is above max_repeats (30, the default)"),
        (AUTO + "min_repeats: 10\nmax_repeats: 8\n", "s.yaml:6: min_repeats: 10 is above max_repeats (8)"),
        (AUTO + "max_repeats: 3\n", "s.yaml:6: max_repeats: 3 is below min_repeats (5, the default)"),
        (AUTO + "budget_s: 0\n", "s.yaml:6: budget_s: must be more than 0 (got 0)"),
        (AUTO + "budget_s: soon\n", "s.yaml:6: budget_s: expected a number (got 'soon')"),
        (BASE + "processes: 0\n", "s.yaml:5: processes: must be at least 1 (got 0)"),
        (BASE + "processes: 65\n", "s.yaml:5: processes: must be at most 64 (got 65)"),
        (
            BASE + "processes: 11\n",
            "s.yaml:5: processes: 11 is more than the smallest task count (10); every process needs at least one task",
        ),
        (
            BASE + "strategies: [sequential, {bounded: {}}]\n",
            "s.yaml:5: strategies.1: missing key 'limit' (bounded needs it)",
        ),
        (
            BASE + "strategies: [sequential, {bounded: {limit: 0}}]\n",
            "s.yaml:5: strategies.1: strategy 'bounded': limit: must be at least 1 (got 0)",
        ),
        (
            BASE + "strategies: [{threads: {workers: many}}]\n",
            "s.yaml:5: strategies.0: strategy 'threads': workers: expected a whole number (got 'many')",
        ),
        (
            BASE + "expect: {efficiency: {gather: '>= 0.9x'}}\n",
            "s.yaml:5: expect.efficiency.gather: 'x' is the unit of speedups; "
            "write efficiency as a fraction or a percentage, e.g. '>= 90%'",
        ),
        (
            BASE + "expect: {error_rate: '< 1x'}\n",
            "s.yaml:5: expect.error_rate: 'x' is the unit of speedups; "
            "write error_rate as a fraction or a percentage, e.g. '< 1%'",
        ),
        (
            BASE + "expect: {speedup: {gather: fast}}\n",
            "s.yaml:5: expect.speedup.gather: expected a bound such as '>= 5x', '>= 90%' or '< 1%', got 'fast'",
        ),
        (
            BASE + "expect: {speedup: {gather: 5}}\n",
            "s.yaml:5: expect.speedup.gather: expected a bound with its comparison, e.g. '>= 5'",
        ),
        (
            "name: t\ntasks: 10\ntarget: {kind: sleep}\n",
            "s.yaml:3: target: missing key 'latency' (kind: sleep needs it)",
        ),
        (
            "name: t\ntasks: 10\ntarget: 5\n",
            f"s.yaml:3: target: expected a mapping with a 'kind' (one of {KINDS}), "
            "e.g. {latency: {dist: fixed, ms: 20}}",
        ),
        (
            BASE + "expect: {speedup: {gathr: '>= 2'}}\nstrategies: [sequential, gather]\n",
            "s.yaml:5: expect.speedup.gathr: 'gathr' is not a strategy of this scenario; did you mean 'gather'? "
            "(strategies: sequential, gather)",
        ),
        (
            BASE + "expect: {speedup: {zzz: '>= 2'}}\n",
            "s.yaml:5: expect.speedup.zzz: 'zzz' is not a strategy of this scenario (strategies: sequential, gather)",
        ),
    ],
)
def test_new_mistakes_in_iobench_words(text: str, message: str) -> None:
    assert error_of(text) == message


def test_the_built_in_registries() -> None:
    """The one golden snapshot of each built-in list; every other test derives its lists from the registries."""
    builtin = {
        kind: [name for name, item in registry.items() if plugins.is_builtin(item.__module__)]
        for kind, registry in (
            ("distribution", DISTRIBUTION_MODELS),
            ("target kind", TARGET_MODELS),
            ("strategy", REGISTRY),
        )
    }
    assert builtin == {
        "distribution": ["fixed", "uniform", "normal", "lognormal", "exponential"],
        "target kind": ["local", "sleep", "callable", "url"],
        "strategy": ["as_completed", "bounded", "gather", "sequential", "taskgroup", "threads"],
    }
    assert all(
        get_args(model.model_fields["dist"].annotation) == (dist,) for dist, model in DISTRIBUTION_MODELS.items()
    )
    assert all(plugins.provider("strategy", name) == cls.__module__ for name, cls in REGISTRY.items())


def test_the_yaml_is_parsed_once(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []

    class Counting(loader_module._Loader):
        def __init__(self, stream: str) -> None:
            made.append(stream)
            super().__init__(stream)

    assert issubclass(loader_module._Loader, yaml.SafeLoader)
    monkeypatch.setattr(loader_module, "_Loader", Counting)
    assert parse_scenario(BASE + "seed: &a 3\nwarmup: *a\n").warmup == 3
    assert len(made) == 1


def test_merge_keys_and_aliases_keep_their_lines() -> None:
    text = BASE + "server: &s {workers: 2}\nexpect:\n  <<: {tasks: 10}\n  tasks: 3\n"
    assert error_of(text) == "s.yaml:8: expect.tasks: 3 is not one of the task counts [10]"


# --- definition hash -------------------------------------------------------------------------------------------------


def test_definition_hash_ignores_labels_judgement_and_round_counts() -> None:
    plain = definition_hash(parse_scenario(BASE))
    for extra in [
        "description: other words\n",
        "expect: {speedup: {gather: '>= 5x'}}\n",
        "repeats: auto\nprecision: 5%\n",
        "repeats: 9\nwarmup: 3\n",
        "processes: 1\nseed: 0\n",  # defaults written out
        "strategies: [sequential, gather]\n",
    ]:
        assert definition_hash(parse_scenario(BASE + extra)) == plain, extra
    assert definition_hash(parse_scenario(BASE.replace("name: t", "name: renamed"))) == plain


def test_definition_hash_changes_with_what_is_measured() -> None:
    hashes = {
        definition_hash(parse_scenario(text))
        for text in [
            BASE,
            BASE.replace("tasks: 10", "tasks: 11"),
            BASE.replace("ms: 20", "ms: 21"),
            BASE + "seed: 1\n",
            BASE + "processes: 2\n",
            BASE + "loop: uvloop\n",
            BASE + "connector_limit: 10\n",
            BASE + "strategies: [gather, sequential]\n",
            BASE + "server: {workers: 2}\n",
            BASE + "timeout_s: 5\n",
        ]
    }
    assert len(hashes) == 10


def test_definition_hash_is_sha256_of_canonical_json() -> None:
    sc = parse_scenario(BASE + "seed: 4\n")
    assert definition(sc) == {"tasks": [10], "target": {"latency": {"dist": "fixed", "ms": 20.0}}, "seed": 4}
    canonical = '{"seed":4,"target":{"latency":{"dist":"fixed","ms":20.0}},"tasks":[10]}'
    assert definition_hash(sc) == hashlib.sha256(canonical.encode()).hexdigest()


# --- validate --------------------------------------------------------------------------------------------------------


def test_validate_returns_every_scenario(write_scenario: Callable[[str, str], Path]) -> None:
    a = write_scenario(BASE.replace("name: t", "name: a"), "a")
    b = write_scenario(BASE.replace("name: t", "name: b"), "b")
    assert [(path, sc.name) for path, sc in validate([a, b])] == [(a, "a"), (b, "b")]


def test_validate_reports_every_file_at_once(write_scenario: Callable[[str, str], Path], tmp_path: Path) -> None:
    a = write_scenario(BASE + "repeats: 0\n", "a")
    b = write_scenario(BASE + "processes: 11\n", "b")
    c = write_scenario(BASE, "c")
    d = write_scenario(BASE, "d")
    with pytest.raises(ScenarioError) as info:
        validate([a, tmp_path / "nope.yaml", b, c, d])
    assert str(info.value).splitlines() == [
        f"{tmp_path / 'nope.yaml'}: no such file or folder",
        f"{a}:5: repeats: must be between 1 and 1000, or 'auto' (got 0)",
        f"{b}:5: processes: 11 is more than the smallest task count (10); every process needs at least one task",
        f"{d}: name: scenario name 't' is already used by {c}",
    ]


PYDANTIC_WORDS = ("Value error", "Field required", "Input should be", "validation error", "pydantic")


def assert_own_words(text: str) -> None:
    """The loader returns a Scenario or raises ScenarioError in iobench's words, naming the source; nothing else."""
    try:
        result = parse_scenario(text, "h.yaml")
    except ScenarioError as exc:
        assert str(exc).startswith("h.yaml")
        assert not any(words in str(exc) for words in PYDANTIC_WORDS), str(exc)
    else:
        assert isinstance(result, Scenario)
        assert len(definition_hash(result)) == 64


@settings(max_examples=FUZZ_EXAMPLES * 300 // 300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(adaptive_values, st.sampled_from([BASE, BASE.replace("tasks: 10", "tasks: [3, 20]")]))
def test_new_keys_load_or_fail_in_iobench_words(values: dict[str, object], base: str) -> None:
    assert_own_words(base + (yaml.safe_dump(values) if values else ""))


@settings(max_examples=FUZZ_EXAMPLES * 200 // 300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(yaml_values)
def test_structured_yaml_never_gets_pydantic_words(value: object) -> None:
    assert_own_words(yaml.safe_dump(value))


# --- one wording helper, one definition of each limit ----------------------------------------------------------------


def test_did_you_mean_suggests_the_closest_name_or_nothing() -> None:
    assert did_you_mean("repeat", Scenario.model_fields) == "; did you mean 'repeats'?"
    assert did_you_mean("zzz", Scenario.model_fields) == ""


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"bounded": {}}, "missing key 'limit' (bounded needs it)"),
        ({"bounded": {"limit": 0}}, "strategy 'bounded': limit: must be at least 1 (got 0)"),
        (
            "gahter",
            f"unknown strategy 'gahter'; did you mean 'gather'? (valid: {STRATEGIES})",
        ),
    ],
)
def test_first_error_words_a_failed_validation_in_one_sentence(value: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        StrategySpec.model_validate(value)
    assert first_error(info.value) == message


def test_one_definition_of_each_limit() -> None:
    assert (server.MAX_DELAY_S, server.MAX_BYTES) == (limits.MAX_DELAY_S, limits.MAX_BYTES)
    assert limits.MAX_DELAY_S * 1000 == limits.MAX_DELAY_MS
    too_long = BASE.replace("ms: 20", "ms: 60001")
    assert error_of(too_long) == "s.yaml:4: target.latency.ms: must be at most 60000 (got 60001)"
    for path in (REPO / "bench").rglob("*.py"):
        if path.name != "limits.py":
            text = path.read_text(encoding="utf-8")
            assert not any(literal in text for literal in ("60_000", "60000", "100 * 1024 * 1024")), path
