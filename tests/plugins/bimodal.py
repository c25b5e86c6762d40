"""A latency distribution: most tasks fast, a share of them slow (a cache that sometimes misses)."""

from __future__ import annotations

import random
from typing import Annotated, Literal

from pydantic import Field, Strict

from bench.scenario import Distribution, register_distribution


@register_distribution
class Bimodal(Distribution):
    """``{dist: bimodal, fast_ms: 5, slow_ms: 50, slow_share: 0.2}``."""

    dist: Literal["bimodal"]
    fast_ms: Annotated[float, Strict(), Field(ge=0, le=60_000)]
    slow_ms: Annotated[float, Strict(), Field(ge=0, le=60_000)]
    slow_share: Annotated[float, Strict(), Field(ge=0, le=1)] = 0.1

    def draw(self, rng: random.Random) -> float:
        """``slow_ms`` with probability ``slow_share``, else ``fast_ms``."""
        return self.slow_ms if rng.random() < self.slow_share else self.fast_ms
