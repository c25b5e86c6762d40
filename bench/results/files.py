"""Results files on disk: written atomically, found through ``latest.json``, read back and validated, older
versions upgraded.

    write_results(path, results)        # temp file + fsync + rename: the old file or the new, never half
    results = read_results(path)        # ResultsError naming the file on anything unreadable

A file whose scenarios name a strategy, target kind or distribution that no loaded module registered is refused with
the plugin it needs (the file records which plugin registered what: ``ResultsFile.plugins``), never with
pydantic's words.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench import __version__
from bench.errors import ResultsError, first_error
from bench.results.records import SCHEMA_VERSION, ResultsFile
from bench.scenario.latency import DISTRIBUTION_MODELS
from bench.scenario.target_models import TARGET_MODELS
from bench.strategies import REGISTRY as STRATEGIES


def utc_stamp(now: datetime | None = None) -> str:
    """``20261125T214519Z`` for file names."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def current_umask() -> int:
    """The process's file-mode creation mask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, fsync, rename.

    The file gets the mode any new file would (0644 under the usual umask 022), not mkstemp's private 0600.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_results(path: Path, results: ResultsFile) -> None:
    """Write a results file atomically, and point ``latest.json`` beside it at it."""
    write_atomic(path, results.model_dump_json())
    latest = path.parent / "latest.json"
    if path.name != latest.name:
        write_atomic(latest, json.dumps({"latest": path.name}) + "\n")


def resolve(path: Path | None, results_dir: Path = Path("results")) -> Path:
    """The results file meant: ``path`` itself, or the newest one named by ``results/latest.json``.

    ``path`` may be a results folder or a ``latest.json`` pointer, which are followed to the file they name.
    """
    if path is not None:
        if path.is_dir():
            return resolve(None, path)
        if path.name == "latest.json":
            return resolve(None, path.parent)
        return path
    pointer = results_dir / "latest.json"
    try:
        name = json.loads(pointer.read_text(encoding="utf-8"))["latest"]
    except FileNotFoundError:
        raise ResultsError(f"{pointer}: no results yet; run `iobench run` (or `make bench`) first") from None
    except (ValueError, KeyError, TypeError):
        raise ResultsError(f"{pointer}: not a valid pointer file; pass a results file explicitly") from None
    return results_dir / str(name)


def read_results(path: Path) -> ResultsFile:
    """Read and validate a results file; every problem becomes a ResultsError naming the file."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ResultsError(f"{path}: cannot read: {exc}") from None
    try:
        data: Any = json.loads(raw)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(raw.rstrip()) or exc.msg.startswith("Unterminated string")
        what = "truncated" if cut else "not JSON"
        raise ResultsError(f"{path}: {what} (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ResultsError(f"{path}: not an iobench results file (no schema_version)")
    if data["schema_version"] == 1:
        data = _upgrade_v1(data)
    if data["schema_version"] != SCHEMA_VERSION:
        raise ResultsError(
            f"{path}: schema_version {data['schema_version']!r} is not supported by iobench {__version__} "
            f"(it reads versions 1 to {SCHEMA_VERSION}); regenerate it with `iobench run` on the same scenarios"
        )
    missing = missing_plugins(data)
    if missing:
        raise ResultsError(f"{path}: {missing}")
    try:
        return ResultsFile.model_validate(fill_in(data))
    except ValidationError as exc:
        raise ResultsError(f"{path}: {first_error(exc)}") from None


def _names_used(scenario: dict[str, Any]) -> list[tuple[str, str]]:
    """(kind, name) of every registered item a stored scenario names: strategies, target kind, distribution."""
    used: list[tuple[str, str]] = []
    for item in scenario.get("strategies") or ():
        name = item.get("name") if isinstance(item, dict) else item
        if isinstance(name, str):
            used.append(("strategy", name))
    target = scenario.get("target")
    if isinstance(target, dict):
        kind = target.get("kind", "callable" if "callable" in target else "local")
        if isinstance(kind, str):
            used.append(("target kind", kind))
        latency = target.get("latency")
        if isinstance(latency, dict) and isinstance(latency.get("dist"), str):
            used.append(("distribution", latency["dist"]))
    return used


def missing_plugins(data: dict[str, Any]) -> str | None:
    """What a results file names that no loaded module registered, and the plugin to load for it; None if nothing."""
    registered = {
        "strategy": STRATEGIES.keys(),
        "target kind": TARGET_MODELS.keys(),
        "distribution": DISTRIBUTION_MODELS.keys(),
    }
    recorded = data.get("plugins")
    providers = {
        item: module
        for module, items in (recorded.items() if isinstance(recorded, dict) else ())
        for item in (items if isinstance(items, list) else ())
        if isinstance(item, str)
    }
    for result in data.get("scenarios") or ():
        scenario = result.get("scenario") if isinstance(result, dict) else None
        if not isinstance(scenario, dict):
            continue
        for kind, name in _names_used(scenario):
            if name in registered[kind]:
                continue
            module = providers.get(f"{kind} {name}")
            where = f"scenario {scenario.get('name')!r} uses {kind} {name!r}"
            if module:
                return f"{where}, registered by the plugin {module}, which is not loaded; pass --plugin {module}"
            return (
                f"{where}, which no loaded module registers; it came from a plugin: pass --plugin MODULE "
                "(the file does not say which)"
            )
    return None


_LEGACY_DRIVERS: dict[str, tuple[str, str | None, bool]] = {
    "local": ("req/s", "server delay (requested)", True),
    "url": ("req/s", None, True),
    "sleep": ("tasks/s", "sleep time (requested)", False),
    "callable": ("tasks/s", None, False),
}
"""What iobench 0.1's drivers said of themselves, by target kind: rate unit, delay label, sockets."""
_LEGACY_CAPS = {"semaphore": "semaphore", "thread_workers": "thread pool", "connector_limit": "connector limit"}
"""The caps iobench 0.1 knew, by limit key."""


def fill_in(data: dict[str, Any]) -> dict[str, Any]:
    """A file written before runs recorded their client stack and caps and scenarios their driver's facts, with
    them filled in from what that version of iobench did (a copy; recorded facts are never overwritten)."""
    scenarios = data.get("scenarios") or ()
    if all(isinstance(s, dict) and "driver" in s for s in scenarios):
        return data
    data = json.loads(json.dumps(data))
    for result in data.get("scenarios") or ():
        scenario = result.get("scenario") or {}
        target = scenario.get("target") or {}
        kind = target.get("kind", "callable" if "callable" in target else "local")
        rate, label, sockets = _LEGACY_DRIVERS.get(kind, ("tasks/s", None, False))
        description = {"local": "local server", "sleep": "asyncio.sleep"}.get(kind) or target.get(
            "url", target.get("callable", kind)
        )
        facts = {"description": description, "rate_unit": rate, "delay_label": label, "sockets": sockets}
        result.setdefault("driver", {**facts, "service_source": "the local server" if kind == "local" else ""})
        blocking = {
            (item if isinstance(item, str) else item.get("name", "")): False for item in scenario.get("strategies", ())
        }
        for name in blocking:
            blocking[name] = bool(getattr(STRATEGIES.get(name), "blocking", False))
        for point in result.get("points") or ():
            for run in point.get("runs") or ():
                name = str(run.get("strategy", "")).split("(", 1)[0]
                if "stack" not in run:
                    http = "http.client" if blocking.get(name) else target.get("client", "aiohttp")
                    run["stack"] = http if sockets else ""
                run.setdefault("cap_names", {k: v for k, v in _LEGACY_CAPS.items() if k in run.get("limits", {})})
    return data


def _upgrade_v1(data: dict[str, Any]) -> dict[str, Any]:
    """A version 1 file as version 2: waits unknown (created = started), service times unknown, not_started split."""
    data = json.loads(json.dumps(data))  # a deep copy; the caller's dict stays as read
    for scenario in data.get("scenarios", ()):
        for point in scenario.get("points", ()):
            for run in point.get("runs", ()):
                samples = run.get("samples", {})
                starts = samples.get("start_ns", [])
                samples.setdefault("created_ns", list(starts))
                samples.setdefault("service_us", [-1] * len(starts))
                errors = samples.get("error", [])
                not_started = sum(1 for e in errors if e == "not_started")
                run.setdefault("not_started", not_started)
                run["cancelled"] = run.get("cancelled", 0) - not_started
                run.setdefault("last_end_ns", max(samples.get("end_ns", []), default=-1))
            point.setdefault("stop_reason", "fixed repeats")
    data["schema_version"] = 2
    return data


def now_utc() -> str:
    """The current time as ISO 8601 UTC."""
    return datetime.now(UTC).isoformat(timespec="seconds")
