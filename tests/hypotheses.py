"""Hypothesis strategies shared by the tests, kept in one file (as attrs does).

from tests.hypotheses import timings_s
@given(timings_s)
def test_something(values): ...
"""

from __future__ import annotations

import os

from hypothesis import strategies as st

FUZZ_EXAMPLES = int(os.environ.get("IOBENCH_FUZZ_EXAMPLES", "300"))
"""Examples each fuzz test (loader, command line) tries: 300 in ``make test``; ``make test-fast`` asks for fewer
(the inner loop), the full suite in CI for all of them."""

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
"""Any finite float, subnormals and magnitudes near the float limit included."""

samples = st.lists(finite_floats, min_size=1, max_size=40)
"""Non-empty lists of any finite floats."""

positive_float = st.floats(min_value=1e-6, max_value=1e6)
"""A positive, finite figure such as a wall time in seconds."""

timings_s = st.lists(positive_float, min_size=1, max_size=40)
"""Non-empty lists of positive timings."""

quantile_levels = st.floats(min_value=0.0, max_value=1.0)
"""A q for ``quantile``: 0 <= q <= 1."""

delays_ms = st.lists(st.floats(min_value=0.0, max_value=1e4), max_size=40)
"""Per-task server delays in ms: finite, non-negative, possibly none."""

worker_counts = st.integers(min_value=1, max_value=50)
"""k, the number of tasks a limited strategy runs at once."""

strategy_labels = st.integers(min_value=1, max_value=7).map(lambda n: tuple(f"s{i}" for i in range(n)))
"""The labels of 1 to 7 strategies, as a plan sees them."""

error_rates = st.one_of(
    st.sampled_from([0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 1.0]),
    st.floats(min_value=0.0, max_value=1.0),
)
"""``target.error_rate``: the fractions people write, and any other fraction."""

adaptive_values = st.fixed_dictionaries(
    {},
    optional={
        "repeats": st.one_of(st.just("auto"), st.integers(-2, 1002), st.text(max_size=6), st.booleans()),
        "precision": st.one_of(
            st.from_regex(r"[0-9]{1,3}(\.[0-9])?%", fullmatch=True), st.floats(), st.text(max_size=5), st.none()
        ),
        "min_repeats": st.one_of(st.integers(-1, 1002), st.text(max_size=3), st.none()),
        "max_repeats": st.one_of(st.integers(-1, 1002), st.floats(), st.none()),
        "budget_s": st.one_of(st.floats(), st.integers(-5, 5000), st.text(max_size=3)),
        "processes": st.one_of(st.integers(-1, 70), st.text(max_size=3), st.booleans()),
    },
)
"""Scenario keys of repeats (fixed or ``auto``) and client processes, valid and not, to add to a valid document."""

confidence_levels = st.sampled_from([0.5, 0.8, 0.9, 0.95, 0.99])
"""A confidence level an interval is asked for."""

round_timings_s = st.lists(st.floats(min_value=1e-4, max_value=10.0), min_size=2, max_size=60)
"""Wall times of 2 to 60 rounds, in seconds."""

HOSTILE_VALUES = st.sampled_from(
    [
        *(f"!!{tag} ''" for tag in ("int", "float", "bool", "null", "timestamp", "binary", "str", "merge", "value")),
        *(f"!!{tag} x" for tag in ("int", "float", "bool", "timestamp", "binary")),
        "!!seq []",
        "!!map {}",
        "!!set {a: null}",
        "!!omap [{a: 1}]",
        "!!pairs [[1, 2]]",
        "[1]",
        "[[1]]",
        "{a: 1}",
        "[{a: 1}]",
        "{[1]: 2}",
        "{? {a: 1} : 2}",
        "{name: [1]}",
        "{name: {a: 1}}",
        "''",
        "~",
        ".nan",
        "-.inf",
        "-1",
        "99999999999999999999999",
        "0x10",
        "2001-12-14",
    ]
)
"""Values that go where text, numbers or mappings belong: explicit tags on empty scalars, unhashable keys,
mappings and lists where text goes, numbers out of any range."""


@st.composite
def hostile_documents(draw: st.DrawFn, base: str) -> str:
    """A scenario document with hostile values in some of its slots (text, numbers, names, URLs, keys)."""

    def slot(default: str) -> str:
        return draw(st.one_of(st.just(default), HOSTILE_VALUES))

    target = draw(
        st.sampled_from(["latency", "url", "callable", "kind"]).map(
            lambda kind: {
                "latency": "{{latency: {{dist: {0}, ms: {1}}}, client: {2}}}",
                "url": "{{kind: url, url: {0}, allow_external: {1}, client: {2}}}",
                "callable": "{{callable: {0}, sync_callable: {1}, kind: {2}}}",
                "kind": "{{kind: {0}, latency: {1}, error_kind: {2}}}",
            }[kind]
        )
    )
    target = target.format(slot("fixed"), slot("20"), slot("aiohttp"))
    strategies = f"[{slot('sequential')}, {{bounded: {{limit: {slot('3')}}}}}, {{name: {slot('gather')}}}]"
    lines = [
        f"name: {slot('t')}",
        f"tasks: {slot('[3, 10]')}",
        f"target: {target}",
        f"strategies: {strategies}",
        f"repeats: {slot('auto')}",
        f"precision: {slot(repr('5%'))}",
        f"seed: {slot('1')}",
        f"loop: {slot('asyncio')}",
        f"plugins: [{slot('json')}]",
        f"expect: {{speedup: {{{slot('gather')}: {slot(repr('>= 1'))}}}}}",
        f"description: {slot('d')}",
    ]
    kept = draw(st.lists(st.sampled_from(lines), min_size=1, max_size=len(lines), unique=True))
    extra = draw(st.sampled_from(["", "[1]: x\n", "{a: 1}: x\n", "? [a]\n: b\n", "<<: {name: [1]}\n"]))
    return "\n".join(kept) + "\n" + extra if draw(st.booleans()) else base + "\n".join(kept[:1]) + "\n" + extra
