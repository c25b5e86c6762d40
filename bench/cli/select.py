"""What to run: the command line's overrides (``--tasks``, ``--repeats``, ...), ``-k`` selection and ``--loop``
variants applied to the loaded scenarios, each change checked again by the scenario's own rules. Pure.

    prepare(load_paths(["scenarios"]), args)   # [(path, scenario), ...] as the command line asks
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bench.errors import UsageError
from bench.scenario.model import ADAPTIVE_KEYS, Scenario

_WHOLE = re.compile(r"-?[0-9]+", re.ASCII)
LOOP_SEPARATOR = "."
"""``--loop asyncio,uvloop`` runs each scenario once per loop, named ``<scenario>.<loop>``."""

_OPTION = {
    "tasks": "--tasks",
    "repeats": "--repeats",
    "warmup": "--warmup",
    "seed": "--seed",
    "loop": "--loop",
    "processes": "--processes",
    "gc": "--disable-gc",
    "target": "--client",
}


def revalidate(scenario: Scenario, **changes: Any) -> Scenario:
    """``scenario`` with ``changes`` applied and every rule of the loader checked again; ValidationError if not."""
    return Scenario.model_validate({**scenario.model_dump(mode="json"), **changes})


def apply_overrides(
    scenario: Scenario,
    *,
    tasks: Sequence[int] | None = None,
    repeats: int | str | None = None,
    warmup: int | None = None,
    seed: int | None = None,
    processes: int | None = None,
    disable_gc: bool = False,
    client: str | None = None,
) -> Scenario:
    """The scenario with the command line's ``--tasks/--repeats/--warmup/--seed/--processes/--disable-gc/--client``
    (``--client`` only where the target makes HTTP requests); UsageError naming the option.

    An ``expect: {tasks: N}`` that ``--tasks`` removes falls back to the default (the largest task count); a fixed
    ``--repeats N`` drops the keys of ``repeats: auto`` (precision, min/max repeats, budget) along with it.
    """
    changes: dict[str, Any] = {
        k: v
        for k, v in {"repeats": repeats, "warmup": warmup, "seed": seed, "processes": processes}.items()
        if v is not None
    }
    if disable_gc and scenario.gc:
        changes["gc"] = False
    if client is not None and getattr(scenario.target, "client", client) != client:
        changes["target"] = {**scenario.target.model_dump(mode="json"), "client": client}
    if repeats is not None and repeats != "auto":
        changes.update(dict.fromkeys(ADAPTIVE_KEYS))
    if tasks is not None:
        changes["tasks"] = list(tasks)
        if scenario.expect.tasks is not None and scenario.expect.tasks not in tasks:
            changes["expect"] = {**scenario.expect.model_dump(mode="json"), "tasks": None}
    if not changes:
        return scenario
    try:
        return revalidate(scenario, **changes)
    except ValidationError as exc:
        raise UsageError(_override_message(scenario, exc, changes)) from None


def _override_message(scenario: Scenario, exc: ValidationError, changes: dict[str, Any]) -> str:
    """The first error, named by the option at fault, or by the scenario's key and the options that upset it."""
    first = exc.errors(include_url=False)[0]
    path = first["loc"] or (first.get("ctx") or {}).get("path") or ()
    field = str(path[0]) if path else ""
    message = first["msg"].removeprefix("Value error, ")
    if field in _OPTION and field in changes:
        return f"{_OPTION[field]}: {message} (scenario {scenario.name})"
    given = ", ".join(option for key, option in _OPTION.items() if key in changes)
    return f"{field or 'scenario'}: {message} (scenario {scenario.name}, with {given})"


def keyword_matcher(expression: str) -> Callable[[str], bool]:
    """pytest's ``-k`` for labels: case-insensitive substrings joined by ``or``, ``and``, ``not`` (no brackets).

    >>> keyword_matcher("seed and not sequential")("seed::gather")
    True
    """
    alternatives = [[term.strip() for term in alt.split(" and ")] for alt in expression.lower().split(" or ")]
    if any(not term or term == "not" for alt in alternatives for term in alt):
        raise UsageError(f"-k {expression!r}: an empty term; write e.g. -k gather or -k 'seed and not threads'")

    def holds(term: str, label: str) -> bool:
        if term.startswith("not "):
            return not holds(term[4:].strip(), label)
        return term in label

    return lambda label: any(all(holds(t, label.lower()) for t in alt) for alt in alternatives)


def select(scenario: Scenario, matches: Callable[[str], bool]) -> Scenario | None:
    """The strategies whose ``scenario::strategy`` label matches; None when none does.

    Expectations about strategies left out are dropped with them (speedup ones too when sequential is left out).
    """
    kept = [s for s in scenario.strategies if matches(f"{scenario.name}::{s.label}")]
    if not kept:
        return None
    if len(kept) == len(scenario.strategies):
        return scenario
    labels = {s.label for s in kept}
    expect = scenario.expect.model_dump(mode="json")
    expect["efficiency"] = {k: v for k, v in expect["efficiency"].items() if k in labels}
    speedup = expect["speedup"].items() if "sequential" in labels else ()
    expect["speedup"] = {k: v for k, v in speedup if k in labels}
    return revalidate(scenario, strategies=[s.model_dump(mode="json") for s in kept], expect=expect)


def with_loops(scenario: Scenario, loops: Sequence[str]) -> list[Scenario]:
    """One scenario per event loop: the loop set as given, or, for several, each named ``<name>.<loop>``."""
    if not loops:
        return [scenario]
    try:
        if len(loops) == 1:
            return [revalidate(scenario, loop=loops[0])]
        return [revalidate(scenario, loop=loop, name=f"{scenario.name}{LOOP_SEPARATOR}{loop}") for loop in loops]
    except ValidationError as exc:
        raise UsageError(_override_message(scenario, exc, {"loop": loops})) from None


def whole_number(text: str) -> int:
    """``text`` as an int when it is ASCII digits (an optional ``-`` first, spaces around); ValueError otherwise.

    ``int()`` also takes ``'٣'``, ``'1_0'`` and ``' +3'``; the command line takes what it documents.

    >>> whole_number(" 12 "), whole_number("-1")
    (12, -1)
    """
    stripped = text.strip()
    if not _WHOLE.fullmatch(stripped):
        raise ValueError(f"not a whole number in ASCII digits: {text!r}")
    return int(stripped)


def int_list(text: str, option: str) -> tuple[int, ...]:
    """``1,10,100`` as (1, 10, 100); UsageError naming ``option`` for anything but ASCII whole numbers."""
    try:
        values = tuple(whole_number(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise UsageError(
            f"{option} takes whole numbers separated by commas, e.g. 10 or 1,10,100; got {text!r}"
        ) from None
    if not values:
        raise UsageError(f"{option} needs at least one number")
    return values


def comma_list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _repeats(text: str | None) -> int | str | None:
    if text is None:
        return None
    try:
        return whole_number(text)
    except ValueError:
        return text.strip()


def prepare(loaded: Iterable[tuple[Path, Scenario]], args: argparse.Namespace) -> list[tuple[Path, Scenario]]:
    """Apply the command line to the loaded scenarios: overrides, ``-k``, loops."""
    tasks = int_list(args.tasks, "--tasks") if args.tasks else None
    matches = keyword_matcher(args.keyword) if getattr(args, "keyword", None) else None
    loops = comma_list(args.loop)
    prepared: list[tuple[Path, Scenario]] = []
    for path, scenario in loaded:
        changed = apply_overrides(
            scenario,
            tasks=tasks,
            repeats=_repeats(args.repeats),
            warmup=args.warmup,
            seed=args.seed,
            processes=getattr(args, "processes", None),
            disable_gc=getattr(args, "disable_gc", False),
            client=getattr(args, "client", None),
        )
        chosen = select(changed, matches) if matches else changed
        if chosen is not None:
            prepared.extend((path, variant) for variant in with_loops(chosen, loops))
    if not prepared:
        labels = [f"{s.name}::{spec.label}" for _, s in loaded for spec in s.strategies]
        raise UsageError(f"-k {args.keyword!r} matches no scenario or strategy (labels: {', '.join(labels)})")
    return prepared
