"""The scenario models of target kinds (``target: {kind: ..., ...}``) and the registry that tells them apart.

A target kind is a model here (or one registered with ``bench.scenario.model.register_target_kind``) plus its
driver in ``bench.targets``: what the YAML says, and how a run performs it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union
from urllib.parse import urlsplit

from pydantic import BaseModel, Discriminator, Field, Strict, Tag, field_validator, model_validator

from bench import plugins
from bench.limits import MAX_BYTES, MAX_NAME, MAX_URL
from bench.scenario.base import Record
from bench.scenario.latency import Latency
from bench.strategies import ClientName

_USERINFO = re.compile(r"(\bhttps?://)[^/?#\s\"'@]*@", re.IGNORECASE)
_CALLABLE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")
HttpClient: TypeAlias = ClientName
"""The asyncio strategies' HTTP client: aiohttp (what programs use), or iobench's minimal keep-alive client for load
(``bench.targets.clients.minimal``: plain http only, a fraction of aiohttp's CPU per request)."""


class LocalTarget(Record):
    """The built-in local aiohttp server: each task GETs ``/delay/<its delay>``."""

    kind: Literal["local"] = "local"
    latency: Latency
    bytes: Annotated[int, Strict(), Field(ge=0, le=MAX_BYTES)] = 0
    """Response body size in bytes."""
    status: Annotated[int, Strict(), Field(ge=200, le=599)] = 200
    """HTTP status the server answers with."""
    error_rate: Annotated[float, Strict(), Field(ge=0, le=1, allow_inf_nan=False)] = 0.0
    """Fraction of tasks (chosen per task index from the seed) that fail on the server's side."""
    error_kind: Literal["status", "reset", "hang"] = "status"
    """How those tasks fail: a 500 answer, a dropped connection, or no answer at all (the timeout decides)."""
    fail_on_status: Annotated[bool, Strict()] = True
    """Count a status of 400 or above as a failed task (as ``raise_for_status`` would)."""
    client: HttpClient = "aiohttp"
    """HTTP client of the asyncio strategies: ``aiohttp``, or ``minimal`` (iobench's own, for load)."""

    @property
    def asks_for_failures(self) -> bool:
        """The scenario makes tasks fail on purpose (an error rate, or an error status that fails them)."""
        return self.error_rate > 0 or (self.status >= 400 and self.fail_on_status)


class SleepTarget(Record):
    """No I/O at all: each task is ``asyncio.sleep`` (``time.sleep`` in threads) of its delay."""

    kind: Literal["sleep"]
    latency: Latency


class CallableTarget(Record):
    """The user's own function, ``package.module:function``, called with the task index; and the setup that makes
    what it uses (a pool, a client) before anything is timed."""

    kind: Literal["callable"] = "callable"
    callable: Annotated[str, Strict(), Field(max_length=MAX_NAME)]
    """``package.module:function``: an ``async def f(i)`` (or ``f(i, state)``) for the asyncio strategies."""
    sync_callable: Annotated[str, Strict(), Field(max_length=MAX_NAME)] | None = None
    """``package.module:function``: a plain ``def f(i)`` (or ``f(i, state)``) for the threads strategy."""
    setup: Annotated[str, Strict(), Field(max_length=MAX_NAME)] | None = None
    """``package.module:function``: an ``async def setup()`` run once per scenario on the loop the runs use, before
    any timed run; what it returns is the ``state`` the callable takes as its second argument."""
    teardown: Annotated[str, Strict(), Field(max_length=MAX_NAME)] | None = None
    """``package.module:function``: an ``async def teardown(state)`` (or ``teardown()``) run after the scenario."""
    thread_setup: Annotated[str, Strict(), Field(max_length=MAX_NAME)] | None = None
    """``package.module:function``: a plain ``def thread_setup()`` run once in each worker thread of ``threads``
    before any timed run (to open that thread's connection); what it returns is the sync callable's ``state``."""
    thread_teardown: Annotated[str, Strict(), Field(max_length=MAX_NAME)] | None = None
    """``package.module:function``: a plain ``def thread_teardown(state)`` run in each worker thread at the end."""
    pool: dict[Annotated[str, Field(min_length=1, max_length=60)], Annotated[int, Strict(), Field(ge=1)]] = Field(
        default_factory=dict
    )
    """The caps your own code puts on the asyncio strategies, named: ``{asyncpg pool: 10}``. iobench cannot see
    inside the callable; told, it counts the cap in the ideal and names it when it binds, as it does its own."""

    @field_validator("callable", "sync_callable", "setup", "teardown", "thread_setup", "thread_teardown", mode="after")
    @classmethod
    def _importable(cls, value: str | None) -> str | None:
        if value is not None and not _CALLABLE.match(value):
            raise ValueError(f"expected 'package.module:function', got {value!r}")
        return value


class UrlTarget(Record):
    """Any HTTP(S) URL, fetched once per task. Not on loopback? Then it needs ``allow_external: true`` here
    *and* ``--allow-external`` on the command line: iobench never points load at a host by accident."""

    kind: Literal["url"]
    url: Annotated[str, Strict(), Field(max_length=MAX_URL)]
    allow_external: Annotated[bool, Strict()] = False
    fail_on_status: Annotated[bool, Strict()] = True
    """Count a status of 400 or above as a failed task."""
    client: HttpClient = "aiohttp"
    """HTTP client of the asyncio strategies: ``aiohttp``, or ``minimal`` (iobench's own, plain http only)."""

    @field_validator("url", mode="after")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return check_url(value)

    @model_validator(mode="after")
    def _minimal_is_plain_http(self) -> UrlTarget:
        if self.client == "minimal" and not self.url.startswith("http://"):
            raise ValueError(f"client: minimal speaks plain http:// only; {self.url} needs client: aiohttp")
        return self

    @property
    def host(self) -> str:
        """The URL's host name."""
        return urlsplit(self.url).hostname or ""


def redact_userinfo(text: str) -> str:
    """Every ``http(s)://user:password@`` in ``text`` as ``http(s)://***@``: what results files store of a URL.

    >>> redact_userinfo("GET http://alice:s3cret@127.0.0.1/x")
    'GET http://***@127.0.0.1/x'
    """
    return _USERINFO.sub(r"\1***@", text)


def check_url(value: str) -> str:
    """``value`` if it is an http(s) URL every client reads alike (a host, a port in 1-65535, no backslash, space
    or control character in it); ValueError saying what is wrong otherwise.

    >>> check_url("http://127.0.0.1:99999/")
    Traceback (most recent call last):
    ValueError: port 99999 is not a port (1-65535)
    """
    if any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError("the URL has a space or a control character; percent-encode it")
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError as exc:
        raise ValueError(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ValueError(f"expected an http:// or https:// URL with a host, got {value!r}")
    if "\\" in parts.netloc:  # urlsplit reads the host after it; WHATWG parsers (and some clients) before it
        raise ValueError(
            f"a backslash in the host part ({parts.netloc!r}) is read differently by different clients; "
            "write the URL without it"
        )
    after_host = parts.netloc.rpartition("@")[2].rpartition("]")[2]
    text = after_host.rpartition(":")[2] if ":" in after_host else ""
    port = int(text) if text.isascii() and text.isdigit() else None
    if text and (port is None or not 1 <= port <= 65535):
        raise ValueError(f"port {text if port is not None else repr(text)} is not a port (1-65535)")
    return value


def _target_kind(value: Any) -> str | None:
    if isinstance(value, Mapping):
        kind = value.get("kind", "callable" if "callable" in value else "local")
        return kind if isinstance(kind, str) else None
    return getattr(value, "kind", None)


TARGET_MODELS: dict[str, type[BaseModel]] = {
    "local": LocalTarget,
    "sleep": SleepTarget,
    "callable": CallableTarget,
    "url": UrlTarget,
}
"""The scenario model of every target ``kind``; ``register_target_kind`` adds one (loader messages read it)."""


def target_union() -> Any:
    """The discriminated union of every model in TARGET_MODELS, as it stands now (pydantic reads ``kind``)."""
    members = tuple(Annotated[model, Tag(kind)] for kind, model in TARGET_MODELS.items())
    return Annotated[Union[members], Discriminator(_target_kind)]  # noqa: UP007 (a runtime-built union)


if TYPE_CHECKING:  # what the type checker sees; at run time, the union of TARGET_MODELS as it stands
    Target: TypeAlias = LocalTarget | SleepTarget | CallableTarget | UrlTarget
else:
    Target = target_union()
for _kind, _model in TARGET_MODELS.items():
    plugins.note("target kind", _kind, _model.__module__)
TARGET_KINDS: tuple[str, ...] = tuple(TARGET_MODELS)
"""The built-in target kinds, read from TARGET_MODELS before any is registered."""
