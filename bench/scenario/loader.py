"""Scenario files in: YAML parsed once with the line of every key, validated into a ``Scenario``, and every mistake
worded as ``file:line: key.path: message``.

    scenario = parse_scenario(text, "s.yaml")           # one document
    [(path, scenario)] = load_paths(["scenarios/"])     # files and folders, names unique
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bench import plugins
from bench.errors import Loc, ScenarioError, UsageError, describe_error
from bench.limits import MAX_SCENARIO_BYTES
from bench.scenario.latency import DISTRIBUTION_MODELS
from bench.scenario.model import Scenario
from bench.scenario.target_models import TARGET_MODELS

Path_ = tuple[str | int, ...]


def _key_text(node: yaml.Node) -> str | None:
    """Scalar mapping keys as text; anything else (a list used as a key) is not a valid key."""
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _index_lines(node: yaml.Node, path: Path_, lines: dict[Path_, int], errors: list[str]) -> None:
    """Record the 1-based line of every key path; report duplicate and non-scalar keys."""
    stack: list[tuple[yaml.Node, Path_]] = [(node, path)]
    seen_nodes: set[int] = set()
    while stack:
        current, here = stack.pop()
        lines.setdefault(here, current.start_mark.line + 1)
        if id(current) in seen_nodes:  # aliases share nodes; walk each once
            continue
        seen_nodes.add(id(current))
        if isinstance(current, yaml.MappingNode):
            keys: set[str] = set()
            for key_node, value_node in current.value:
                key = _key_text(key_node)
                line = key_node.start_mark.line + 1
                if key is None:
                    errors.append(f"{line}: {_dotted(here) or '<top>'}: keys must be plain names")
                    continue
                if key == "<<":  # merge keys are expanded by the constructor
                    continue
                if key in keys:
                    errors.append(f"{line}: {_dotted((*here, key))}: duplicate key {key!r}")
                keys.add(key)
                lines[(*here, key)] = line
                stack.append((value_node, (*here, key)))
        elif isinstance(current, yaml.SequenceNode):
            for i, item in enumerate(current.value):
                stack.append((item, (*here, i)))


def _dotted(path: Sequence[str | int]) -> str:
    return ".".join(str(p) for p in path)


def _locate(loc: Sequence[str | int], lines: Mapping[Path_, int]) -> tuple[Path_, int]:
    """Map a pydantic error location onto the YAML key path, skipping union tags pydantic adds."""
    path: Path_ = ()
    for part in loc:
        if (*path, part) in lines:
            path = (*path, part)
    return path, lines.get(path, 1)


def _required() -> list[str]:
    """The keys every scenario must have, read from the model."""
    return [name for name, field in Scenario.model_fields.items() if field.is_required()]


def _required_keys() -> str:
    names = [repr(name) for name in _required()]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def _describe(err: Mapping[str, Any], lines: Mapping[Path_, int]) -> str:
    """One pydantic error as ``line: key.path: message``, in iobench's words."""
    loc: Loc = tuple(err["loc"])
    ctx = err.get("ctx") or {}
    kind = err["type"]
    if kind == "bad_key":
        loc, message = tuple(ctx["path"]), ctx["message"]
    elif kind == "unknown_key":
        loc, message = (*loc, ctx["key"]), f"unknown key {ctx['key']!r}{ctx['hint']}"
    elif kind == "union_tag_invalid" and ctx.get("discriminator") == "'dist'":
        loc, message = (
            (*loc, "dist"),
            f"unknown distribution {ctx.get('tag')!r}; expected one of {_quoted(DISTRIBUTION_MODELS)}",
        )
    elif kind == "union_tag_invalid":
        loc, message = (
            (*loc, "kind"),
            f"unknown target kind {ctx.get('tag')!r}; expected one of {_quoted(TARGET_MODELS)}",
        )
    elif kind == "union_tag_not_found" and ctx.get("discriminator") == "'dist'":
        message = f"missing key 'dist' (one of {_quoted(DISTRIBUTION_MODELS)})"
    elif kind == "union_tag_not_found":
        message = (
            f"expected a mapping with a 'kind' (one of {_quoted(TARGET_MODELS)}), "
            "e.g. {latency: {dist: fixed, ms: 20}}"
        )
    else:
        owner = ""
        if kind == "missing":
            tag = loc[-2] if len(loc) > 1 else None
            owner = _tag_owner(tag) if isinstance(tag, str) else "every scenario" if len(loc) == 1 else ""
        loc, message = describe_error(err, owner)
    path, line = _locate(loc, lines)
    return f"{line}: {_dotted(path) or '<top>'}: {message}"


def _tag_owner(tag: str) -> str:
    """A union tag pydantic put in an error's location, as the YAML that chose it ('' if it is not one)."""
    if tag in DISTRIBUTION_MODELS:
        return f"dist: {tag}"
    return f"kind: {tag}" if tag in TARGET_MODELS else ""


def _quoted(names: Iterable[str]) -> str:
    return ", ".join(repr(name) for name in names)


class _Loader(yaml.SafeLoader):
    """The safe loader, whose constructors' own failures (``!!int ''``, ``!!timestamp x``) become YAML errors
    marked with the value's line and column."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        """The safe constructor's value for ``node``; a plain exception from it, a ConstructorError at the node."""
        try:
            return super().construct_object(node, deep=deep)
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception:  # IndexError, KeyError, AttributeError, ValueError, ...: PyYAML's constructors trust input
            tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
            value = node.value if isinstance(node, yaml.ScalarNode) else "this value"
            raise yaml.constructor.ConstructorError(
                None, None, f"{tag} cannot read {value!r}", node.start_mark
            ) from None


def _compose(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    """Parse the YAML once: the node tree (for line numbers) and the values built from that same tree."""
    loader: yaml.SafeLoader | None = None
    try:
        loader = _Loader(text)  # the reader checks the characters here already
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(f"{source}: the file is empty; a scenario needs at least {_required_keys()}")
        lines: dict[Path_, int] = {}
        problems: list[str] = []
        _index_lines(node, (), lines, problems)  # before constructing: merge keys rewrite the tree in place
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}" if mark else "1:1"
        opened = exc.context_mark
        context = (
            f" ({exc.context} at {opened.line + 1}:{opened.column + 1})"
            if exc.context and opened is not None and opened is not mark
            else ""
        )
        raise ScenarioError(f"{source}:{where}: not valid YAML: {exc.problem or exc.context}{context}") from None
    except (yaml.YAMLError, RecursionError, ValueError, OverflowError, TypeError) as exc:
        raise ScenarioError(f"{source}: not valid YAML: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()
    if problems:
        raise ScenarioError("\n".join(f"{source}:{p}" for p in problems))
    return data, lines


def parse_scenario(text: str, source: str = "<string>") -> Scenario:
    """Parse and validate one scenario document, raising ScenarioError that names source, key path and line."""
    data, lines = _compose(text, source)
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}:1: <top>: a scenario is a mapping of keys ({', '.join(_required())}, ...)")
    _load_plugins(data.get("plugins"), source, lines)
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        details = [_describe(e, lines) for e in exc.errors(include_url=False)]
        raise ScenarioError("\n".join(f"{source}:{d}" for d in details)) from None
    except RecursionError:
        raise ScenarioError(f"{source}: the document is nested too deeply") from None


def _load_plugins(names: Any, source: str, lines: Mapping[Path_, int]) -> None:
    """Import the plugin modules a scenario names (``plugins: [module, ...]``) before the rest of it is validated."""
    if names is None:
        return
    where = f"{source}:{lines.get(('plugins',), 1)}: plugins"
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ScenarioError(f"{where}: expected a list of module names, e.g. [myproject.iobench_plugins]")
    try:
        plugins.load(names, where=where)
    except UsageError as exc:
        raise ScenarioError(str(exc)) from None


def load_file(path: Path) -> Scenario:
    """Read and validate one scenario file."""
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_SCENARIO_BYTES + 1)
        if len(data) > MAX_SCENARIO_BYTES:
            size = path.stat().st_size if path.is_file() else len(data)
            raise ScenarioError(f"{path}: {size} bytes; a scenario file may be at most {MAX_SCENARIO_BYTES} bytes")
        text = data.decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise ScenarioError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read: {exc.strerror}") from None
    return parse_scenario(text, str(path))


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())
            if not found:
                raise ScenarioError(f"{path}: no scenario files (*.yaml, *.yml) in this folder")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise ScenarioError(f"{path}: no such file or folder")
    return files


def validate(paths: Iterable[str | Path]) -> list[tuple[Path, Scenario]]:
    """Every check the loader makes, over every file given; one ScenarioError listing every file's problems.

    >>> [(path, scenario)] = validate(["scenarios/seed.yaml"])   # what `iobench validate` runs
    """
    problems: list[str] = []
    loaded: list[tuple[Path, Scenario]] = []
    files: list[Path] = []
    for raw in paths:
        try:
            files.extend(_expand([raw]))
        except ScenarioError as exc:
            problems.append(str(exc))
    for path in files:
        try:
            loaded.append((path, load_file(path)))
        except ScenarioError as exc:
            problems.append(str(exc))
    first: dict[str, Path] = {}
    for path, scenario in loaded:
        if scenario.name in first:
            problems.append(f"{path}: name: scenario name {scenario.name!r} is already used by {first[scenario.name]}")
        first.setdefault(scenario.name, path)
    if problems:
        raise ScenarioError("\n".join(problems))
    if not loaded:
        raise ScenarioError("no scenario files given")
    return loaded


def load_paths(paths: Iterable[str | Path]) -> list[tuple[Path, Scenario]]:
    """Load every scenario in the given files and folders (non-recursive); names must be unique."""
    return validate(paths)
