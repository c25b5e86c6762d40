"""Is a baseline comparable with the results? The environment and each scenario's definition, compared.

    environment_mismatch(results, baseline)   # None, or why the speedups are not comparable (CPU model, Python, ...)
    definition_mismatch(result, base)         # None, or which scenario keys differ (hash, then stored definition)

Used by the gate (``bench.gate``) and by ``bench.gate.compare``; a mismatch makes a comparison inconclusive, a note is a
warning only.
"""

from __future__ import annotations

from collections.abc import Sequence

from bench.results.records import Environment, ResultsFile, ScenarioResult

_NOT_DEFINITION = {"description", "expect"}
"""Scenario keys that do not change what is measured (the stored-definition fallback ignores them)."""


def _python(env: Environment) -> str:
    return env.python if env.implementation == "CPython" else f"{env.implementation} {env.python}"


def _differences(pairs: Sequence[tuple[str, object, object]]) -> list[str]:
    return [f"{what} {theirs} in the baseline, {ours} in the results" for what, theirs, ours in pairs if theirs != ours]


def environment_mismatch(results: ResultsFile, baseline: ResultsFile) -> str | None:
    """Why speedups of the two files are not comparable (CPU model, Python, aiohttp, uvloop differ); None if alike.

    A CPU model that one file does not record (a file from before schema 2) is not a difference (see the note).
    """
    here, there = results.environment, baseline.environment
    cpu = [("CPU model", there.cpu_model, here.cpu_model)] if here.cpu_model and there.cpu_model else []
    differences = _differences(
        [
            *cpu,
            ("Python", _python(there), _python(here)),
            ("aiohttp", there.aiohttp, here.aiohttp),
            ("uvloop", there.uvloop or "none", here.uvloop or "none"),
        ]
    )
    return f"the baseline comes from another environment ({'; '.join(differences)})" if differences else None


def environment_note(results: ResultsFile, baseline: ResultsFile) -> str | None:
    """A warning when the baseline was recorded on another machine, CPU count or OS, or does not say its CPU."""
    here, there = results.environment, baseline.environment
    differences = _differences(
        [
            ("machine", there.machine, here.machine),
            ("CPU count", there.cpu_count, here.cpu_count),
            ("OS", there.os, here.os),
        ]
    )
    unknown = [side for side, env in (("the baseline", there), ("the results", here)) if not env.cpu_model]
    notes = []
    if differences:
        notes.append(f"the baseline comes from another machine ({'; '.join(differences)}); compare with care")
    if unknown:
        verb = "record" if len(unknown) == 2 else "records"
        notes.append(f"{' and '.join(unknown)} {verb} no CPU model, so it was not compared")
    return f"warning: {'; '.join(notes)}" if notes else None


def _definition(result: ScenarioResult) -> dict[str, object]:
    return result.scenario.model_dump(mode="json", exclude=_NOT_DEFINITION)


def definition_mismatch(result: ScenarioResult, base: ScenarioResult) -> str | None:
    """Why a scenario's baseline is not comparable: another definition hash, or (without hashes) another stored
    definition, naming the keys that differ; None when they match."""
    mine, theirs = _definition(result), _definition(base)
    keys = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
    detail = f" ({', '.join(keys)} differ)" if keys else ""
    name = result.scenario.name
    if result.definition_hash and base.definition_hash:
        if result.definition_hash == base.definition_hash:
            return None
        hashes = f"hash {base.definition_hash[:12]} in the baseline, {result.definition_hash[:12]} in the results"
        return f"the baseline was made from another definition of {name} ({hashes}){detail}"
    return f"the baseline was made from another definition of {name}{detail}" if keys else None


def definition_note(result: ScenarioResult, base: ScenarioResult) -> str | None:
    """A warning when a file records no definition hash for the scenario (then the stored definitions are compared)."""
    unknown = [side for side, r in (("the baseline", base), ("the results", result)) if not r.definition_hash]
    if not unknown:
        return None
    return (
        f"warning: {' and '.join(unknown)} {'record' if len(unknown) == 2 else 'records'} no definition hash for "
        f"{result.scenario.name}; "
        "compared the scenario definitions as stored instead"
    )
