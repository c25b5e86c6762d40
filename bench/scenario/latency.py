"""Latency distributions a scenario may name (``target.latency``), all in milliseconds, and their registry.

A new distribution is one ``Distribution`` model with ``dist: Literal["mine"]`` and its ``draw(rng)``, registered
with ``bench.scenario.register_distribution`` (in a plugin module, or a module of your own): every target model
with a ``latency`` field accepts it from then on, and ``bench.scenario.plan`` clips, rounds and seeds its draws as
it does every other's. ``Latency`` is the union of what is registered, never written out by hand.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias, Union, get_args

from pydantic import BaseModel, Field, Strict, model_validator

from bench import plugins
from bench.limits import MAX_DELAY_MS
from bench.scenario.base import Record


class Distribution(Record):
    """Base of every latency distribution: subclasses add ``dist: Literal["name"]``, their parameters and ``draw``."""

    def draw(self, rng: random.Random) -> float:
        """One delay in ms (the plan clips it to [0, MAX_DELAY_MS] and rounds it to 1 us)."""
        raise NotImplementedError(f"{type(self).__name__} must define draw(rng)")


NonNegMs = Annotated[float, Strict(), Field(ge=0, le=MAX_DELAY_MS, allow_inf_nan=False)]
PositiveMs = Annotated[float, Strict(), Field(gt=0, le=MAX_DELAY_MS, allow_inf_nan=False)]


class Fixed(Distribution):
    """Every task waits exactly ``ms``."""

    dist: Literal["fixed"]
    ms: NonNegMs

    def draw(self, rng: random.Random) -> float:
        """``ms``, always."""
        return self.ms


class Uniform(Distribution):
    """Delays uniform between ``low_ms`` and ``high_ms``."""

    dist: Literal["uniform"]
    low_ms: NonNegMs
    high_ms: NonNegMs

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high_ms < self.low_ms:
            raise ValueError(f"high_ms ({self.high_ms:g}) is below low_ms ({self.low_ms:g})")
        return self

    def draw(self, rng: random.Random) -> float:
        """Uniform in [low_ms, high_ms]."""
        return rng.uniform(self.low_ms, self.high_ms)


class Normal(Distribution):
    """Normal delays with ``mean_ms`` and ``sd_ms``; draws below 0 are clipped to 0."""

    dist: Literal["normal"]
    mean_ms: NonNegMs
    sd_ms: NonNegMs

    def draw(self, rng: random.Random) -> float:
        """Gaussian (the caller clips below 0)."""
        return rng.gauss(self.mean_ms, self.sd_ms)


class LogNormal(Distribution):
    """Log-normal delays: ``median_ms`` is exp(mu), ``sigma`` the standard deviation of the log."""

    dist: Literal["lognormal"]
    median_ms: PositiveMs
    sigma: Annotated[float, Strict(), Field(ge=0, le=5, allow_inf_nan=False)]

    def draw(self, rng: random.Random) -> float:
        """median x exp(N(0, sigma))."""
        return self.median_ms * rng.lognormvariate(0.0, self.sigma)


class Exponential(Distribution):
    """Exponential delays with ``mean_ms``."""

    dist: Literal["exponential"]
    mean_ms: PositiveMs

    def draw(self, rng: random.Random) -> float:
        """Exponential with mean ``mean_ms``."""
        return rng.expovariate(1.0 / self.mean_ms)


DISTRIBUTION_MODELS: dict[str, type[Distribution]] = {}
"""The model of every ``dist`` a latency may name, in registration order (loader messages read it)."""


def distribution_name(model: type[BaseModel]) -> str:
    """The ``dist`` a model answers to, read from its ``dist: Literal[...]`` field."""
    field = model.model_fields.get("dist")
    names = get_args(field.annotation) if field is not None else ()
    if len(names) != 1 or not isinstance(names[0], str):
        raise TypeError(f"{model.__name__} needs a field dist: Literal['its name']")
    return names[0]


def add_distribution(model: type[Distribution]) -> str:
    """Put ``model`` in the registry (no model is rebuilt: ``bench.scenario.register_distribution`` does that)."""
    name = distribution_name(model)
    plugins.note("distribution", name, model.__module__)
    DISTRIBUTION_MODELS[name] = model
    return name


def latency_union() -> Any:
    """The discriminated union of every registered distribution, as it stands now (pydantic reads ``dist``)."""
    members = tuple(DISTRIBUTION_MODELS.values())
    return Annotated[Union[members], Field(discriminator="dist")]  # noqa: UP007 (a runtime-built union)


for _builtin in (Fixed, Uniform, Normal, LogNormal, Exponential):
    add_distribution(_builtin)

if TYPE_CHECKING:  # what the type checker sees; at run time, the union of DISTRIBUTION_MODELS as it stands
    Latency: TypeAlias = Distribution
else:
    Latency = latency_union()
