"""A strategy as a scenario names it: ``gather`` or ``{bounded: {limit: 10}}``, validated against the registry.

>>> StrategySpec.model_validate({"bounded": {"limit": 10}}).label
'bounded(limit=10)'
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from bench.errors import describe_error, did_you_mean
from bench.strategies.base import REGISTRY, Strategy


def _format_value(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


class StrategySpec(BaseModel):
    """A strategy as a scenario names it: ``gather`` or ``{bounded: {limit: 10}}``; ``label`` tells them apart."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    params: dict[str, Any] = {}

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, data: Any) -> Any:
        if isinstance(data, str):
            data = {"name": data, "params": {}}
        elif isinstance(data, dict) and set(data) - {"name", "params"} and len(data) == 1:
            ((key, value),) = data.items()
            if value is not None and not isinstance(value, dict):
                raise ValueError(f"parameters of {key!r} must be a mapping, e.g. {{{key}: {{limit: 10}}}}")
            data = {"name": key, "params": value or {}}
        elif not isinstance(data, dict) or not set(data) <= {"name", "params"} or "name" not in data:
            raise ValueError("a strategy is a name (gather) or a one-key mapping ({bounded: {limit: 10}})")
        name = data["name"]
        if name not in REGISTRY:
            hint = did_you_mean(name, REGISTRY)
            raise ValueError(f"unknown strategy {name!r}{hint} (valid: {', '.join(sorted(REGISTRY))})")
        params_model = REGISTRY[name].Params
        given = data.get("params") or {}
        allowed = sorted(params_model.model_fields)
        for key in given:
            if key not in allowed:
                takes = f"it takes: {', '.join(allowed)}" if allowed else "it takes none"
                raise ValueError(f"unknown parameter {key!r} of strategy {name!r}; {takes}")
        try:
            parsed = params_model.model_validate(given)
        except ValidationError as exc:  # reduce to one readable sentence
            loc, message = describe_error(exc.errors(include_url=False)[0], owner=name)
            where = ".".join(str(p) for p in loc)
            raise ValueError(f"strategy {name!r}: {where}: {message}" if where else message) from None
        return {"name": name, "params": parsed.model_dump(exclude_unset=True)}

    @property
    def label(self) -> str:
        """``gather``, or ``bounded(limit=10)`` when parameters are given."""
        if not self.params:
            return self.name
        inner = ",".join(f"{k}={_format_value(v)}" for k, v in sorted(self.params.items()))
        return f"{self.name}({inner})"

    def build(self) -> Strategy:
        """A fresh strategy instance for one run."""
        cls = REGISTRY[self.name]
        return cls(cls.Params.model_validate(self.params))
