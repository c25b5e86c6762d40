"""The one place iobench touches pytest-benchmark's private API, and the versions it was checked against.

    check_hooks(benchmark)                         # RuntimeError naming the hook and the version if one is gone
    with round_runner(benchmark, make_runner):     # pytest-benchmark's rounds now call our runner
        benchmark(function)

pytest-benchmark has no hook for "how one round is run": ``BenchmarkFixture._make_runner(function, args, kwargs)``
returns ``runner(loops_range)``, which ``__call__`` (calibration and rounds) and ``pedantic`` call once per round;
it returns the round's duration in seconds, with the function's result when ``loops_range`` is None. The runner
reads ``_timer`` (``--benchmark-timer``) and honours ``_disable_gc`` (``--benchmark-disable-gc``). These three
have the same shape from pytest-benchmark 4.0 to 5.x; ``SUPPORTED`` (also pyproject.toml's bound) says so, and
tests/test_plugin.py fails, naming the hook, when an installed version differs.
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Iterator
from importlib.metadata import PackageNotFoundError, version
from typing import Any

SUPPORTED = ">=4.0,<6"
"""The pytest-benchmark versions whose private hooks below were checked; pyproject.toml's bound is the same."""
SUPPORTED_MAJORS = range(4, 6)
"""The major versions ``SUPPORTED`` admits."""

RoundRunner = Callable[[range | None], "float | tuple[float, Any]"]
"""``runner(loops_range)``: seconds for ``loops_range`` calls, or (seconds, result) for one call when it is None."""
MakeRunner = Callable[[Any, tuple[Any, ...], dict[str, Any]], RoundRunner]
"""``make_runner(function, args, kwargs)``: the round runner for one round of ``function(*args, **kwargs)``."""

HOOKS: dict[str, str] = {
    "_make_runner": "method (function_to_benchmark, args, kwargs) -> runner(loops_range)",
    "_timer": "the timer function of --benchmark-timer",
    "_disable_gc": "the flag of --benchmark-disable-gc",
}
"""Each private attribute of ``BenchmarkFixture`` used here, and what it must be."""


def installed_version() -> str:
    """pytest-benchmark's installed version, or 'unknown'."""
    try:
        return version("pytest-benchmark")
    except PackageNotFoundError:
        return "unknown"


def hook_problems(fixture: Any, installed: str | None = None) -> list[str]:
    """What is wrong with the private hooks of ``fixture`` (a BenchmarkFixture), as sentences; empty if nothing."""
    installed = installed_version() if installed is None else installed
    where = f"pytest-benchmark {installed} (iobench supports {SUPPORTED})"
    problems = []
    for name, shape in HOOKS.items():
        if not hasattr(fixture, name):
            problems.append(f"BenchmarkFixture.{name} is missing in {where}; iobench needs it: {shape}")
    make_runner = getattr(fixture, "_make_runner", None)
    if make_runner is not None:
        params = [p for p in inspect.signature(make_runner).parameters if p != "self"]
        if len(params) != 3:
            takes, needs = ", ".join(params), HOOKS["_make_runner"]
            problems.append(f"BenchmarkFixture._make_runner takes ({takes}) in {where}; iobench needs: {needs}")
    major = installed.split(".", 1)[0]
    if major.isdigit() and int(major) not in SUPPORTED_MAJORS:
        problems.append(f"{where}: its private hooks {', '.join(HOOKS)} were not checked against this version")
    return problems


def check_hooks(fixture: Any) -> None:
    """Raise RuntimeError naming each private hook that ``fixture`` lacks, and the installed version."""
    problems = hook_problems(fixture)
    if problems:
        raise RuntimeError("iobench's pytest plugin cannot run here: " + "; ".join(problems))


def timer(fixture: Any) -> Callable[[], float]:
    """The timer pytest-benchmark was told to use (``--benchmark-timer``, default ``time.perf_counter``)."""
    return fixture._timer  # type: ignore[no-any-return]


def disable_gc(fixture: Any) -> bool:
    """Whether ``--benchmark-disable-gc`` asks for the garbage collector off while timing."""
    return bool(fixture._disable_gc)


@contextlib.contextmanager
def round_runner(fixture: Any, make_runner: MakeRunner) -> Iterator[None]:
    """While inside, every round ``fixture`` runs (calibration, warm-up, timed) is run by ``make_runner``'s runner."""
    fixture._make_runner = make_runner
    try:
        yield
    finally:
        del fixture._make_runner  # the class's own runner again
