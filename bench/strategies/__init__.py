"""Strategies: the ways user code runs N I/O tasks, one module each, and the mathematics of the ideal time.

    from bench.strategies import REGISTRY, StrategySpec
    StrategySpec.model_validate({"bounded": {"limit": 10}}).build().ideal_ms([20.0] * 100)   # 200.0

``base`` is the interface and the registry, ``spec`` a strategy as a scenario names it, ``model`` the mathematics
(sum, maximum, makespan); every other module here is one strategy, found and registered at import.
"""

from bench.plugins import import_builtins
from bench.strategies.base import (
    REFERENCE,
    REGISTRY,
    AsyncParams,
    AsyncStrategy,
    BlockingStrategy,
    ClientName,
    Limits,
    Params,
    Positive,
    Strategy,
    SyncTaskFn,
    TaskFailed,
    TaskFn,
    register,
)
from bench.strategies.spec import StrategySpec

import_builtins(__name__, __path__)

__all__ = [
    "REFERENCE",
    "REGISTRY",
    "AsyncParams",
    "AsyncStrategy",
    "BlockingStrategy",
    "ClientName",
    "Limits",
    "Params",
    "Positive",
    "Strategy",
    "StrategySpec",
    "SyncTaskFn",
    "TaskFailed",
    "TaskFn",
    "register",
]
