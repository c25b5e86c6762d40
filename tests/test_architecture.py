"""The shape of the package: folders that are the pipeline, imports that only go down its layers, no cycle, and no
module far past one job's size."""

from __future__ import annotations

import ast
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
LONGEST = 500
"""Lines a module may reach."""
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bench",),
    ("bench.strategies",),
    ("bench.scenario",),
    ("bench.results",),
    ("bench.server",),
    ("bench.targets",),
    ("bench.run",),
    ("bench.report",),
    ("bench.gate",),
    ("bench.cli", "bench.pytest_plugin"),
    ("bench.perf", "bench.services", "bench.__main__"),
)
"""The layers, lowest first: a module imports from its own package or a lower layer, never from a package beside
it or above it. ``bench`` is the leaves (errors, limits, loops, collector, plugins), which import only leaves."""


def _module(path: Path) -> str:
    parts = path.relative_to(BENCH.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """bench module -> the bench modules it imports anywhere in its body (type-only imports included)."""
    modules = {_module(p): p for p in BENCH.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            edges |= {t for t in targets if t in modules and t != name and t != "bench"}
        graph[name] = edges
    return graph


def package_of(module: str) -> str:
    """The layer package a module belongs to: ``bench.run.engines.ray_actors`` -> ``bench.run``."""
    if module == "bench.__main__":
        return module
    parts = module.split(".")
    package = ".".join(parts[:2])
    return package if (BENCH.parent / package.replace(".", "/")).is_dir() else "bench"


def rank(module: str) -> int:
    """The layer of a module, 0 for the leaves."""
    package = package_of(module)
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    """Every import that goes up a layer or sideways into a package beside its own."""
    wrong = []
    for module, imported in sorted(graph.items()):
        for target in sorted(imported):
            mine, theirs = package_of(module), package_of(target)
            if rank(target) > rank(module) or (rank(target) == rank(module) and mine != theirs):
                wrong.append(f"{module} -> {target}")
    return wrong


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a list of modules, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_finder_sees_a_cycle() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_import_graph_has_no_cycle() -> None:
    graph = import_graph()
    assert "bench.run.runner" in graph["bench.cli.commands"]
    assert find_cycle(graph) is None


def test_the_checker_sees_an_import_up_or_sideways() -> None:
    graph = {
        "bench.results.summary": {"bench.strategies.base"},  # down: fine
        "bench.scenario.model": {"bench.run.timed"},  # up
        "bench.cli.main": {"bench.pytest_plugin.plugin"},  # sideways
        "bench.errors": {"bench.targets.base"},  # a leaf reaching up
    }
    assert layering_violations(graph) == [
        "bench.cli.main -> bench.pytest_plugin.plugin",
        "bench.errors -> bench.targets.base",
        "bench.scenario.model -> bench.run.timed",
    ]


def test_imports_only_go_down_the_layers() -> None:
    graph = import_graph()
    assert {package_of(m) for m in graph} == {p for layer in LAYERS for p in layer}  # every folder has a layer
    assert layering_violations(graph) == []


def test_no_module_is_much_over_one_jobs_size() -> None:
    sizes = {str(p.relative_to(BENCH)): len(p.read_text(encoding="utf-8").splitlines()) for p in BENCH.rglob("*.py")}
    assert {name: n for name, n in sizes.items() if n > LONGEST} == {}


def test_the_tests_mirror_the_tree() -> None:
    """Every test folder is named after a folder of the package (``benchmarks`` holds the project's own
    pytest-benchmark suite, ``make bench-pytest``: benchmarks, not tests of one folder)."""
    tests = Path(__file__).resolve().parent
    folders = {p.relative_to(tests) for p in tests.rglob("*") if p.is_dir() and any(p.glob("test_*.py"))}
    mirrored = {folder for folder in folders if folder.parts[0] != "benchmarks"}
    assert mirrored and all((BENCH / folder).is_dir() for folder in mirrored), mirrored
