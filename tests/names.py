"""The registries' contents as iobench's messages list them, derived from the registries themselves: a test that
expects a message naming every strategy, target kind or distribution does not break when one is added."""

from __future__ import annotations

from bench.scenario import DISTRIBUTION_MODELS, TARGET_MODELS
from bench.strategies import REGISTRY

DISTRIBUTIONS = ", ".join(repr(name) for name in DISTRIBUTION_MODELS)
"""``'fixed', 'uniform', ...``: every distribution, quoted, in registration order."""
KINDS = ", ".join(repr(name) for name in TARGET_MODELS)
"""``'local', 'sleep', ...``: every target kind, quoted, in registration order."""
STRATEGIES = ", ".join(sorted(REGISTRY))
"""``as_completed, bounded, ...``: every strategy, sorted."""
