"""Latency distributions a scenario may name (``target.latency``), all in milliseconds.

A new distribution is one model here (with ``dist: Literal[...]`` and its ``draw``) added to ``Latency``: this file
alone (``bench.plan`` clips, rounds and seeds every draw the same way).
"""

from __future__ import annotations

import random
from typing import Annotated, Literal, get_args

from pydantic import Field, Strict, model_validator

from bench.limits import MAX_DELAY_MS
from bench.scenario_base import Record

NonNegMs = Annotated[float, Strict(), Field(ge=0, le=MAX_DELAY_MS, allow_inf_nan=False)]
PositiveMs = Annotated[float, Strict(), Field(gt=0, le=MAX_DELAY_MS, allow_inf_nan=False)]


class Fixed(Record):
    """Every task waits exactly ``ms``."""

    dist: Literal["fixed"]
    ms: NonNegMs

    def draw(self, rng: random.Random) -> float:
        """``ms``, always."""
        return self.ms


class Uniform(Record):
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


class Normal(Record):
    """Normal delays with ``mean_ms`` and ``sd_ms``; draws below 0 are clipped to 0."""

    dist: Literal["normal"]
    mean_ms: NonNegMs
    sd_ms: NonNegMs

    def draw(self, rng: random.Random) -> float:
        """Gaussian (the caller clips below 0)."""
        return rng.gauss(self.mean_ms, self.sd_ms)


class LogNormal(Record):
    """Log-normal delays: ``median_ms`` is exp(mu), ``sigma`` the standard deviation of the log."""

    dist: Literal["lognormal"]
    median_ms: PositiveMs
    sigma: Annotated[float, Strict(), Field(ge=0, le=5, allow_inf_nan=False)]

    def draw(self, rng: random.Random) -> float:
        """median x exp(N(0, sigma))."""
        return self.median_ms * rng.lognormvariate(0.0, self.sigma)


class Exponential(Record):
    """Exponential delays with ``mean_ms``."""

    dist: Literal["exponential"]
    mean_ms: PositiveMs

    def draw(self, rng: random.Random) -> float:
        """Exponential with mean ``mean_ms``."""
        return rng.expovariate(1.0 / self.mean_ms)


Latency = Annotated[Fixed | Uniform | Normal | LogNormal | Exponential, Field(discriminator="dist")]
DISTRIBUTIONS: tuple[str, ...] = tuple(
    get_args(model.model_fields["dist"].annotation)[0] for model in get_args(get_args(Latency)[0])
)
"""Every ``dist`` a latency may name, read from the union above."""
