"""What every scenario model shares: a frozen base that rejects unknown keys, and errors placed at a key path.

The loader (``bench.scenario.loader``) turns both kinds of error into ``file:line: key.path: message``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, model_validator
from pydantic_core import PydanticCustomError

from bench.errors import did_you_mean


class Record(BaseModel):
    """Base of every scenario model: frozen, and unknown keys are errors with a suggestion."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _no_unknown_keys(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            known = set(cls.model_fields)
            for key in data:
                if key not in known:
                    hint = did_you_mean(key, known) or f"; valid keys: {', '.join(sorted(known))}"
                    raise PydanticCustomError("unknown_key", "unknown key {key}{hint}", {"key": key, "hint": hint})
        return data


def bad_key(path: list[str | int], message: str) -> PydanticCustomError:
    """An error the loader reports at ``path`` (from the top of the document) with our own ``message``."""
    return PydanticCustomError("bad_key", "{message}", {"message": message, "path": path})
