"""make perf's own machinery: like compared with like, and nothing that needs the source checkout."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bench.perf import scale, suite
from bench.perf.reference import hand_bounded
from bench.scenario.loader import load_file
from bench.scenario.model import definition_hash
from tests.conftest import REPO


def test_built_in_seed_is_the_shipped_seed(tmp_path: Path) -> None:
    """Without a scenarios folder the seed comes from memory, and it is the same scenario as scenarios/seed.yaml."""
    built_in, path = suite.seed_scenario(tmp_path)
    assert path is None
    assert definition_hash(built_in) == definition_hash(load_file(REPO / "scenarios/seed.yaml"))
    from_folder, path = suite.seed_scenario(REPO / "scenarios")
    assert path == REPO / "scenarios/seed.yaml"
    assert definition_hash(from_folder) == definition_hash(built_in)


def test_recording_benchmark_lives_in_the_package() -> None:
    """The micro-benchmark is found beside bench/perf/suite.py, where an install puts it too."""
    assert suite.RECORDING_BENCHMARK.is_file()
    assert suite.RECORDING_BENCHMARK.parent == Path(suite.__file__).parent


def test_like_with_like_pairs_each_strategy_with_its_own_script() -> None:
    """Every iobench strategy in the requests/s rows is divided by the hand-written script of the same strategy."""
    assert set(suite.STRATEGIES) == set(suite.THROUGHPUT_GOALS) == {"gather", "bounded(limit=100)", "sequential"}
    assert suite.THROUGHPUT_GOALS["gather"] == 0.97  # issue 13's goal


def test_interleaved_drops_warm_up_rounds_and_shuffles() -> None:
    """Each job runs warmup + rounds times; only the measured rounds are kept; orders differ between rounds."""
    calls: list[str] = []
    counter = iter(range(1000))

    def job(name: str) -> float:
        calls.append(name)
        return float(next(counter))

    jobs = {name: (lambda name=name: job(name)) for name in "abcdef"}
    times = scale.interleaved(jobs, rounds=3, seed=4, warmup=1)  # type: ignore[misc]
    assert {name: len(v) for name, v in times.items()} == dict.fromkeys("abcdef", 3)
    assert all(min(v) >= 6 for v in times.values())  # the first round's six values were dropped
    orders = [tuple(calls[i : i + 6]) for i in range(0, 24, 6)]
    assert len(set(orders)) > 1


def test_markdown_marks_each_verdict() -> None:
    """The Markdown table says holds, misses or reported for each row."""
    figures = [
        suite.Figure("a", ">= 1", "1.2", True, "x"),
        suite.Figure("b", "<= 1", "1.2", False),
        suite.Figure("c", "reported", "—", None, "skipped"),
    ]
    assert suite.markdown(figures).splitlines()[2:] == [
        "| a | >= 1 | 1.2 | holds | x |",
        "| b | <= 1 | 1.2 | **misses** |  |",
        "| c | reported | — | reported | skipped |",
    ]


@pytest.mark.e2e
def test_hand_bounded_keeps_to_its_limit(server_url: str) -> None:
    """The hand-written bounded script holds at most ``limit`` requests at once (the server delays each 50 ms)."""
    urls = tuple(f"{server_url}/delay/50ms" for _ in range(12))
    seconds = asyncio.run(hand_bounded(urls, f"{server_url}/health", limit=3))
    assert seconds >= 0.2 * 0.9  # 12 tasks, 3 at a time: at least 4 waves of 50 ms


@pytest.mark.e2e
def test_engines_hand_runs_the_matching_script(server_url: str) -> None:
    """Engines.hand picks the script by the spec's strategy: sequential 8 x 30 ms takes about 8 delays, bounded(2)
    about 4, gather about 1."""
    with scale.Engines(ray=False) as engines:
        seconds = {
            name: engines.hand(scale.spec(server_url, 8, 30.0, entry))
            for name, entry in (
                ("sequential", "sequential"),
                ("bounded", {"bounded": {"limit": 2}}),
                ("gather", "gather"),
            )
        }
        result = engines.run(scale.ONE_LOOP, scale.spec(server_url, 8, 30.0))
    assert seconds["sequential"] > 6 * 0.03
    assert 3 * 0.03 < seconds["bounded"] < seconds["sequential"]
    assert seconds["gather"] < seconds["bounded"]
    assert result.complete
