"""The examples in bench's docstrings run, so the docs stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import bench

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(bench.__path__, "bench.")
    if not info.name.startswith(("bench.perf", "bench.pytest_plugin", "bench.run.engines.ray_actors", "bench.__main__"))
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed"
