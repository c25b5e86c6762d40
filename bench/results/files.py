"""Results files on disk: written atomically, found through ``latest.json``, read back and validated, older
versions upgraded.

    write_results(path, results)        # temp file + fsync + rename: the old file or the new, never half
    results = read_results(path)        # ResultsError naming the file on anything unreadable
    saver = ResultsSaver(None, Path("results"))   # a name of its own, a fallback file if that cannot be written
    results = saver.save(results)       # passwords in URLs redacted; saver.where, saver.problem say what happened

A file whose scenarios name a strategy, target kind or distribution that no loaded module registered is refused with
the plugin it needs (the file records which plugin registered what: ``ResultsFile.plugins``), never with
pydantic's words.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import secrets
import stat
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench import __version__
from bench.errors import ResultsError, UsageError, first_error
from bench.results.records import SCHEMA_VERSION, ResultsFile
from bench.scenario.latency import DISTRIBUTION_MODELS
from bench.scenario.target_models import TARGET_MODELS, redact_userinfo
from bench.strategies import REGISTRY as STRATEGIES


def utc_stamp(now: datetime | None = None) -> str:
    """``20261125T214519Z`` for file names."""
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


def current_umask() -> int:
    """The process's file-mode creation mask (read by setting it and setting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def results_name(now: datetime | None = None) -> str:
    """``run-20261125T214519.123456Z-3fa2c1.json``: the time to the microsecond and a random part, so two runs
    started together into one folder never draw the same name (and a clash is caught by the exclusive create)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"run-{stamp}-{secrets.token_hex(3)}.json"


def _refuse_non_regular(path: Path) -> None:
    """OSError unless ``path`` is absent, a regular file or a symlink (which a rename replaces, not its target)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not (stat.S_ISREG(mode) or stat.S_ISLNK(mode)):
        what = "a folder" if stat.S_ISDIR(mode) else "a device, FIFO or socket"
        raise OSError(errno.EEXIST, f"{what}, not a regular file; iobench replaces regular files only", str(path))


def write_atomic(path: Path, text: str | bytes, exclusive: bool = False) -> None:
    """Write ``text`` to ``path`` through a temporary file in the same folder, fsync, rename.

    The file gets the mode any new file would (0644 under the usual umask 022), not mkstemp's private 0600. An
    existing folder, device node or FIFO at ``path`` is never replaced (OSError); with ``exclusive``, nor is
    anything else (FileExistsError): the file is linked into place only if the name is free.
    """
    _refuse_non_regular(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())
        with os.fdopen(fd, "wb") as handle:
            handle.write(text.encode("utf-8") if isinstance(text, str) else text)
            handle.flush()
            os.fsync(handle.fileno())
        if exclusive:
            os.link(tmp, path)  # EEXIST if the name is taken: never replaces another run's file
            os.unlink(tmp)
        else:
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_results(path: Path, results: ResultsFile, exclusive: bool = False) -> None:
    """Write a results file atomically, and point ``latest.json`` beside it at it."""
    write_atomic(path, results.model_dump_json(), exclusive=exclusive)
    latest = path.parent / "latest.json"
    if path.name != latest.name:
        write_atomic(latest, json.dumps({"latest": path.name}) + "\n")


def check_folder(folder: Path, option: str) -> None:
    """UsageError naming ``option`` unless files can be made in ``folder`` (or, if it is not there yet, in the
    folder it would be made in). Creates nothing: a run refused later leaves no trace."""
    probe = folder
    while not os.path.lexists(probe) and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir():
        where = "" if probe == folder else f" ({probe} is a file)"
        raise UsageError(f"{option} {folder}: not a folder{where}")
    if not os.access(probe, os.W_OK | os.X_OK):
        try:
            read_only = bool(os.statvfs(probe).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        why = "a read-only file system" if read_only else "no permission to write"
        raise UsageError(f"{option} {folder}: cannot write there ({why}{'' if probe == folder else f' at {probe}'})")


def check_output(path: Path, option: str = "-o") -> None:
    """UsageError naming ``option`` unless ``path`` can be written as a file: not a folder, a device node, a FIFO
    or a socket (which a rename would replace: ``-o /dev/null`` as root), in a folder that takes files."""
    if str(path) in ("", "."):
        raise UsageError(f"{option} needs a file name, e.g. {option} results/run.json")
    with contextlib.suppress(FileNotFoundError):
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise UsageError(f"{option} {path}: is a folder; give a file name, e.g. {path / 'run.json'}")
        if not stat.S_ISREG(mode):
            raise UsageError(f"{option} {path}: is a device, FIFO or socket; iobench writes regular files only")
    check_folder(path.parent, option)


def os_error_text(exc: OSError) -> str:
    """``path: No space left on device``: an OSError as one line naming the file."""
    where = f"{exc.filename}: " if exc.filename else ""
    return f"{where}{exc.strerror or exc}"


def _create(path: Path, text: str, prefix: str = "") -> Path:
    """Write ``text`` to a new file at ``path``, or under a generated name beside it (``prefix`` first) while the
    name is taken; the path used."""
    for _ in range(100):  # a clash of generated names needs the same microsecond and the same random part
        try:
            write_atomic(path, text, exclusive=True)
            return path
        except FileExistsError:
            path = path.parent / f"{prefix}{results_name()}"
    raise OSError(errno.EEXIST, "every name tried was taken", str(path))


class ResultsSaver:
    """Where one run's results go, saved after every scenario: ``path``, or a name of its own in ``folder``
    (created exclusively); when that cannot be written, a fallback file in the temporary folder, and ``problem``
    says so. URL passwords are redacted before anything is written.

    >>> saver = ResultsSaver(None, Path("results"))
    >>> saver.path.name.startswith("run-")
    True
    """

    def __init__(
        self, path: Path | None, folder: Path = Path("results"), fallback_dirs: tuple[Path, ...] | None = None
    ) -> None:
        self.generated = path is None
        self.path = path if path is not None else folder / results_name()
        """The file asked for (or the name drawn for it)."""
        self.fallback: Path | None = None
        """Where the results went instead, once ``path`` could not be written."""
        self.problem = ""
        """Why the results are not (only) in ``path``; '' when they are."""
        self._fallback_dirs = fallback_dirs if fallback_dirs is not None else (Path(tempfile.gettempdir()), Path())
        self._created = False

    @property
    def where(self) -> Path:
        """The file that holds the results now."""
        return self.fallback or self.path

    def save(self, results: ResultsFile) -> ResultsFile:
        """Write ``results`` (redacted) where they belong, or to the fallback; return what was written."""
        text = results.model_dump_json()
        clean = redact_userinfo(text)
        if clean != text:
            results = ResultsFile.model_validate_json(clean)
        if self.fallback is None:
            try:
                self._write(clean)
                return results
            except OSError as exc:
                self.problem = f"{self.path}: cannot write: {exc.strerror or exc}"
        self._write_fallback(clean)
        return results

    def _write(self, text: str) -> None:
        if self._created or not self.generated:
            write_atomic(self.path, text)
        else:
            self.path = _create(self.path, text)
        self._created = True
        write_atomic(self.path.parent / "latest.json", json.dumps({"latest": self.path.name}) + "\n")

    def _write_fallback(self, text: str) -> None:
        if self.fallback is not None:
            try:
                write_atomic(self.fallback, text)
            except OSError as exc:  # it keeps the scenarios saved before
                if "could not be added" not in self.problem:
                    self.problem += f"; the last scenarios could not be added to it ({exc.strerror or exc})"
            return
        base = self.problem
        errors = []
        for folder in self._fallback_dirs:
            name = f"iobench-{self.path.name or results_name()}"
            try:
                candidate = _create(folder / name, text, prefix="iobench-")
            except OSError as exc:
                errors.append(f"{folder / name}: {exc.strerror or exc}")
                continue
            self.fallback = candidate
            self.problem = f"{base}; the results are saved in {candidate} instead"
            return
        self.problem = f"{base}; nor could they be saved elsewhere ({'; '.join(errors)})"


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
    except (ValueError, KeyError, TypeError, OSError):
        raise ResultsError(f"{pointer}: not a valid pointer file; pass a results file explicitly") from None
    if not isinstance(name, str) or name in ("", ".", "..") or Path(name).name != name or "\0" in name:
        raise ResultsError(
            f"{pointer}: names {name!r}, which is not a file in this folder; pass a results file explicitly"
        )
    return results_dir / name


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
