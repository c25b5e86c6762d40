"""User-facing errors: the CLI turns each into one message and an exit code, never a traceback.

IobenchError                 exit 2 unless stated
├── ScenarioError            a scenario file is missing, unparsable or invalid (file, key path, line)
├── ResultsError             a results file is missing, not JSON, truncated or of another schema
├── UsageError               a command-line mistake the parser cannot catch
├── EnvironmentLimitError    the machine cannot run what was planned (descriptor limit, missing extra)
└── RunError                 exit 3: the run itself failed (server would not start, ...)
    ├── WarmupError          the pool could not be opened before a timed run (that scenario fails)
    └── ClientProcessError   a client process or Ray actor failed: its own exception, named as what it is

Every loader words its messages with the two helpers at the end: ``did_you_mean`` and ``describe_error``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError


class IobenchError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = 2


class ScenarioError(IobenchError):
    """A scenario file is missing, unparsable or invalid."""


class ResultsError(IobenchError):
    """A results file cannot be read."""


class UsageError(IobenchError):
    """The command line asks for something that cannot be done."""


class EnvironmentLimitError(IobenchError):
    """The machine cannot run what the scenario plans."""


class RunError(IobenchError):
    """The run itself failed."""

    exit_code = 3


# --- wording shared by every loader: one "did you mean", one pydantic-error formatter ---------------------------

Loc = tuple[str | int, ...]
"""A key path inside a document: mapping keys and list indices."""

_WORDS: dict[str, str] = {
    "int_type": "expected a whole number",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "dict_type": "expected a mapping of keys",
    "model_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "literal_error": "expected {expected}",
    "too_short": "expected at least {min_length} item(s)",
    "too_long": "expected at most {max_length} item(s)",
}
"""pydantic's error types in iobench's words; ``{name}`` fields come from the error's context."""
_OWN_WORDS = {"value_error", "assertion_error"}
"""Errors whose text we wrote ourselves (a ``ValueError`` raised in a validator)."""


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` when one of ``choices`` is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(str(word), sorted(choices), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _number(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def describe_error(err: Mapping[str, Any], owner: str = "") -> tuple[Loc, str]:
    """One pydantic error as (key path, message in iobench's words); ``owner`` says who needs a missing key.

    >>> describe_error({"type": "missing", "loc": ("limit",), "msg": "Field required", "input": {}}, "bounded")
    ((), "missing key 'limit' (bounded needs it)")
    """
    loc: Loc = tuple(err.get("loc", ()))
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        needs = f" ({owner} needs it)" if owner else ""
        return loc[:-1], f"missing key {str(loc[-1]) if loc else '?'!r}{needs}"
    if kind == "extra_forbidden":
        return loc[:-1], f"unknown key {str(loc[-1]) if loc else '?'!r}"
    if kind in _OWN_WORDS:
        return loc, str(ctx.get("error", err.get("msg", "")))
    if kind not in _WORDS:  # our own custom errors, or a rare pydantic one in plainer words
        text = str(err.get("msg", "")).removeprefix("Value error, ").replace("Input should be", "expected", 1)
        return loc, text
    try:
        message = _WORDS[kind].format(**{k: _number(v) for k, v in ctx.items()})
    except KeyError:  # a pydantic version with other context names: say less rather than fail
        message = "not accepted"
    if not isinstance(value, dict | list | tuple):
        message += f" (got {value!r})"
    return loc, message


def first_error(exc: ValidationError, owner: str = "") -> str:
    """The first error of a failed validation as one sentence: ``key.path: message``."""
    loc, message = describe_error(exc.errors(include_url=False)[0], owner)
    where = ".".join(str(p) for p in loc)
    return f"{where}: {message}" if where else message


class WarmupError(RunError):
    """The connection pool could not be opened before a timed run (the scenario fails with this message)."""


class ClientProcessError(RunError):
    """A client process (or Ray actor) raised: the message names the process and its exception as it was."""
