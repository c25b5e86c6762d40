"""Scenario files: YAML in, a validated, frozen ``Scenario`` out; every mistake named by file, key path and line.

This module is the one import for all of it; the work is done in
``bench.scenario_loader`` (YAML, error wording), ``bench.scenario_model`` (``Scenario``, definition hash, target kind
registration), ``bench.latency``, ``bench.target_models`` and ``bench.expectations`` (its parts).

>>> [(path, sc)] = load_paths(["scenarios/seed.yaml"])
>>> sc.tasks, [s.label for s in sc.strategies]
((10,), ['sequential', 'gather'])
"""

from __future__ import annotations

from bench.expectations import Expectations, Threshold
from bench.latency import DISTRIBUTIONS, Exponential, Fixed, Latency, LogNormal, Normal, Uniform
from bench.scenario_loader import load_file, load_paths, parse_scenario, validate
from bench.scenario_model import (
    DEFAULT_BUDGET_S,
    DEFAULT_MAX_REPEATS,
    DEFAULT_MIN_REPEATS,
    DEFAULT_PRECISION,
    DEPENDENT_MODELS,
    AdaptiveRepeats,
    Scenario,
    ServerOptions,
    definition,
    definition_hash,
    register_target_kind,
)
from bench.target_models import (
    TARGET_KINDS,
    TARGET_MODELS,
    CallableTarget,
    LocalTarget,
    SleepTarget,
    Target,
    UrlTarget,
)

__all__ = [
    "DEFAULT_BUDGET_S",
    "DEFAULT_MAX_REPEATS",
    "DEFAULT_MIN_REPEATS",
    "DEFAULT_PRECISION",
    "DEPENDENT_MODELS",
    "DISTRIBUTIONS",
    "TARGET_KINDS",
    "TARGET_MODELS",
    "AdaptiveRepeats",
    "CallableTarget",
    "Expectations",
    "Exponential",
    "Fixed",
    "Latency",
    "LocalTarget",
    "LogNormal",
    "Normal",
    "Scenario",
    "ServerOptions",
    "SleepTarget",
    "Target",
    "Threshold",
    "Uniform",
    "UrlTarget",
    "definition",
    "definition_hash",
    "load_file",
    "load_paths",
    "parse_scenario",
    "register_target_kind",
    "validate",
]
