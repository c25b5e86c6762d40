"""The one-liner: a Scenario built in memory from a target written on the command line, no YAML file.

    quick_scenario("20ms", tasks=(10,), strategies=("sequential", "gather"))        # the local server, 20 ms each
    quick_scenario("myapp.client:fetch", tasks=(50,), strategies=("gather",))      # your own async def fetch(i)
    quick_scenario("http://127.0.0.1:8080/items", tasks=(5,), strategies=("gather",))  # any URL

Target forms, told apart by their shape: an ``http://`` or ``https://`` URL; ``package.module:function``; a
duration such as ``20ms``, ``0.2s`` or ``250us`` (the local server, every task that fixed delay).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from bench.cli.select import whole_number
from bench.errors import UsageError
from bench.scenario.model import Scenario
from bench.scenario.target_models import TARGET_MODELS
from bench.strategies import REGISTRY

_DURATION = re.compile(r"^([0-9]+(?:\.[0-9]+)?|\.[0-9]+)(us|ms|s)$", re.ASCII)
_UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}
_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
_LABEL = re.compile(r"^(\w+)\((.*)\)$")


def _value(text: str) -> Any:
    """``10`` -> 10, ``None``/``null`` -> None, ``true``/``false`` -> bools; anything else stays text."""
    lowered = text.strip().lower()
    if lowered in ("none", "null"):
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return whole_number(lowered)
    except ValueError:
        return text.strip()


def strategy_item(text: str) -> Any:
    """One ``--strategies`` item as a scenario file would write it.

    ``gather`` -> 'gather'; ``bounded=10`` -> {'bounded': {'limit': 10}} (the strategy's required parameter);
    ``bounded(limit=10,connector_limit=100)`` -> the label's own parameters.
    """
    text = text.strip()
    label = _LABEL.match(text)
    if label:
        pairs = [p.split("=", 1) for p in label.group(2).split(",") if p.strip()]
        if any(len(p) != 2 for p in pairs):
            raise UsageError(f"--strategies: {text!r}: write parameters as key=value, e.g. bounded(limit=10)")
        return {label.group(1): {k.strip(): _value(v) for k, v in pairs}}
    if "=" in text:
        name, value = (part.strip() for part in text.split("=", 1))
        strategy = REGISTRY.get(name)
        required = [k for k, f in strategy.Params.model_fields.items() if f.is_required()] if strategy else []
        if len(required) != 1:
            raise UsageError(f"--strategies: {text!r}: only bounded=N and threads=N take a bare value")
        return {name: {required[0]: _value(value)}}
    return text


def quick_target(text: str, sync_callable: str | None = None, allow_external: bool = False) -> dict[str, Any]:
    """The ``target:`` mapping a scenario file would hold for ``text``; UsageError for anything else."""
    if text.startswith(("http://", "https://")):
        return {"kind": "url", "url": text, "allow_external": allow_external}
    duration = _DURATION.match(text)
    if duration:
        return {"latency": {"dist": "fixed", "ms": float(duration.group(1)) * _UNIT_MS[duration.group(2)]}}
    if _CALLABLE.match(text):
        target: dict[str, Any] = {"kind": "callable", "callable": text}
        if sync_callable is not None:
            target["sync_callable"] = sync_callable
        return target
    raise UsageError(
        f"quick: {text!r} is not a target; give an http(s):// URL, a package.module:function, "
        "or a delay for the local server such as 20ms"
    )


def quick_scenario(
    target: str,
    tasks: Sequence[int],
    strategies: Sequence[str],
    sync_callable: str | None = None,
    allow_external: bool = False,
) -> Scenario:
    """A scenario named ``quick`` for ``target``, as if read from a file; UsageError naming the bad option."""
    data: dict[str, Any] = {
        "name": "quick",
        "description": target,
        "tasks": list(tasks),
        "target": quick_target(target, sync_callable, allow_external),
        "strategies": [strategy_item(s) for s in strategies],
    }
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        loc = [p for p in first["loc"] if not isinstance(p, int)]
        if len(loc) > 1 and loc[0] == "target" and loc[1] in TARGET_MODELS:  # the union's tag, not a key
            del loc[1]
        where = ".".join(str(p) for p in loc)
        message = first["msg"].removeprefix("Value error, ")
        raise UsageError(f"quick: {where}: {message}") from None
