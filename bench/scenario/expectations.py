"""What ``iobench check`` holds results to: the ``expect:`` block of a scenario and the bounds it is made of.

expect: {speedup: {gather: ">= 5x"}, efficiency: {gather: 90%}, error_rate: "< 1%"}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, Strict, model_validator

from bench.scenario.base import Record, bad_key

_THRESHOLD = re.compile(r"^\s*(>=|<=|>|<)?\s*([0-9]+(?:\.[0-9]+)?)\s*(%|x)?\s*$")
_BOUND_EXAMPLES = "'>= 5x', '>= 90%' or '< 1%'"


class Threshold(Record):
    """A bound such as ``>= 5x``, ``>= 0.9`` or ``< 1%``, parsed from its text (``%`` divides by 100, ``x`` is a
    speedup's unit). A bare figure such as ``5x`` means "at least"; the ``error_rate`` expectation reads a bare
    figure as "at most" (``Expectations`` adds the comparison before the text gets here)."""

    op: Literal[">=", ">", "<=", "<"]
    value: float
    text: str

    @model_validator(mode="before")
    @classmethod
    def _parse(cls, data: Any) -> Any:
        if isinstance(data, str):
            match = _THRESHOLD.match(data)
            if not match:
                raise ValueError(f"expected a bound such as {_BOUND_EXAMPLES}, got {data!r}")
            op, number, unit = match.groups()
            if op is None:
                raise ValueError(f"expected a bound with its comparison, e.g. '>= {data.strip()}'")
            value = float(number) / (100 if unit == "%" else 1)
            return {"op": op, "value": value, "text": f"{op} {number}{unit or ''}"}
        if isinstance(data, int | float) and not isinstance(data, bool):
            raise ValueError(f"expected a bound with its comparison, e.g. '>= {data}'")
        return data

    @property
    def unit(self) -> str:
        """``x``, ``%`` or ``""``, as written."""
        return self.text[-1] if self.text[-1] in "x%" else ""

    def holds(self, figure: float) -> bool:
        """True when ``figure`` satisfies the bound."""
        match self.op:
            case ">=":
                return figure >= self.value
            case ">":
                return figure > self.value
            case "<=":
                return figure <= self.value
            case "<":
                return figure < self.value


class Expectations(Record):
    """Thresholds ``iobench check`` holds the results to (k6-style), at one task count."""

    speedup: dict[str, Threshold] = {}  # noqa: RUF012 (a pydantic field: copied per instance)
    """Per strategy label: its speedup over sequential (paired per round, with its order-statistic interval)."""
    efficiency: dict[str, Threshold] = {}  # noqa: RUF012 (a pydantic field: copied per instance)
    """Per strategy label: ideal time / measured time."""
    error_rate: Threshold | None = None
    """Failed tasks / all tasks, over every strategy."""
    tasks: Annotated[int, Strict(), Field(ge=1)] | None = None
    """The task count the expectations apply to; default: the largest."""

    @model_validator(mode="before")
    @classmethod
    def _bare_figures(cls, data: Any) -> Any:
        """``5x`` and ``90%`` mean at least that; a bare ``error_rate: 1%`` means at most that."""
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        for figure in ("speedup", "efficiency"):
            if isinstance(data.get(figure), Mapping):
                data[figure] = {k: _with_comparison(v, ">=") for k, v in data[figure].items()}
        if "error_rate" in data:
            data["error_rate"] = _with_comparison(data["error_rate"], "<=")
        return data

    @model_validator(mode="after")
    def _units_fit(self) -> Expectations:
        for figure in ("efficiency", "error_rate"):
            value = getattr(self, figure)
            bounds = value if isinstance(value, dict) else {None: value} if value is not None else {}
            for label, bound in bounds.items():
                if bound.unit == "x":
                    path = ["expect", figure] if label is None else ["expect", figure, label]
                    example = ">= 90%" if figure == "efficiency" else "< 1%"
                    raise bad_key(
                        path,
                        f"'x' is the unit of speedups; write {figure} as a fraction or a percentage, e.g. {example!r}",
                    )
        return self


_HAS_COMPARISON = re.compile(r"^\s*(>=|<=|>|<)")


def _with_comparison(value: Any, op: str) -> Any:
    """``5x`` -> ``>= 5x``: a bare figure in text gets the figure's usual comparison; anything else is left alone."""
    if isinstance(value, str) and _THRESHOLD.match(value) and not _HAS_COMPARISON.match(value):
        return f"{op} {value.strip()}"
    return value
