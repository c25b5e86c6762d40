"""Plugins: a user's strategy, target kind, latency distribution, chart or exporter, in a module of their own.

    load(["myplugins.queue"], where="--plugin")   # import it (current folder first on sys.path), once
    load_entry_points()                            # every module named in the ``iobench.plugins`` entry points
    loaded()                                       # ('myplugins.queue', ...): what client processes load too

A plugin module registers its items with the registries' own decorators (``bench.strategies.register``,
``bench.targets.register_driver``, ``bench.scenario.register_distribution``, ``bench.report.register_chart``,
``bench.report.register_exporter``); each registration is noted here with the module that made it (``note``), so a
results file can name the plugin its scenarios need (``plugin_items``) and a reader without it can say which one to
load. Plugins reach every process: the CLI loads ``--plugin`` modules and a scenario's ``plugins:`` before anything
runs, client processes and Ray actors load the same list before their first run, and every reader loads them before
a results file is read. The built-in items live in the packages' own folders and are found the same way
(``import_builtins``: every module of the folder, as asv's plugin manager does).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Iterable
from importlib.metadata import entry_points
from pathlib import Path

from bench.errors import UsageError

ENTRY_POINT_GROUP = "iobench.plugins"
"""Installed packages name their plugin modules in this entry-point group, in their pyproject.toml:
``[project.entry-points."iobench.plugins"]``."""

_LOADED: list[str] = []
"""Plugin modules loaded in this process, in order."""
_PROVIDERS: dict[tuple[str, str], str] = {}
"""(kind, name) -> the module that registered it: 'strategy', 'target kind', 'distribution', 'chart', 'exporter'."""


def note(kind: str, name: str, module: str) -> None:
    """Record that ``module`` registered ``kind`` ``name``; UsageError if another module already registered it."""
    known = _PROVIDERS.get((kind, name))
    if known is not None and known != module:
        raise UsageError(f"{module}: {kind} {name!r} is already registered by {known}; give yours another name")
    _PROVIDERS[(kind, name)] = module


def provider(kind: str, name: str) -> str | None:
    """The module that registered ``kind`` ``name``, or None."""
    return _PROVIDERS.get((kind, name))


def is_builtin(module: str) -> bool:
    """True for iobench's own modules."""
    return module == "bench" or module.startswith("bench.")


def plugin_items() -> dict[str, tuple[str, ...]]:
    """Plugin module -> the items it registered (``'strategy queue'``), for the results file to record."""
    items: dict[str, list[str]] = {}
    for (kind, name), module in _PROVIDERS.items():
        if not is_builtin(module):
            items.setdefault(module, []).append(f"{kind} {name}")
    return {module: tuple(sorted(names)) for module, names in sorted(items.items())}


def importable_here() -> None:
    """The current folder first on sys.path, as ``python -m`` does: plugins and callables import from the project."""
    cwd = str(Path.cwd())
    if cwd not in sys.path:
        sys.path.insert(0, cwd)


def load(modules: Iterable[str], where: str = "--plugin") -> list[str]:
    """Import each plugin module once; a UsageError naming ``where`` and the module when one cannot be imported."""
    importable_here()
    done = []
    for name in modules:
        if not name or not all(part.isidentifier() for part in name.split(".")):
            raise UsageError(f"{where}: {name!r} is not a module name (e.g. myproject.iobench_plugins)")
        if name not in _LOADED:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as exc:
                raise UsageError(f"{where}: cannot import plugin module {name!r} ({exc})") from None
            except UsageError as exc:
                raise UsageError(f"{where}: plugin {name}: {exc}") from None
            except Exception as exc:  # the plugin's own bug: say what it was, not a traceback
                raise UsageError(f"{where}: plugin {name} failed to import: {type(exc).__name__}: {exc}") from None
            _LOADED.append(name)
        done.append(name)
    return done


def load_entry_points() -> list[str]:
    """Load every module the installed packages name in the ``iobench.plugins`` entry-point group."""
    names = [ep.value.split(":", 1)[0] for ep in entry_points(group=ENTRY_POINT_GROUP)]
    return load(names, where=f"entry point group {ENTRY_POINT_GROUP}")


def loaded() -> tuple[str, ...]:
    """The plugin modules loaded in this process, in the order they were loaded."""
    return tuple(_LOADED)


def import_builtins(package: str, path: Iterable[str]) -> None:
    """Import every module of a package's folder (names starting with '_' left out): its built-in items register."""
    for info in sorted(pkgutil.iter_modules(list(path)), key=lambda i: i.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{package}.{info.name}")
