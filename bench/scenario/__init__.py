"""Scenario files: YAML in, a validated, frozen ``Scenario`` out; every mistake named by file, key path and line;
and the plan of everything a scenario will run.

    >>> [(path, sc)] = load_paths(["scenarios/seed.yaml"])
    >>> sc.tasks, [s.label for s in sc.strategies]
    ((10,), ['sequential', 'gather'])

``loader`` (YAML, error wording), ``model`` (``Scenario``, its definition hash, the registration of target kinds
and distributions), ``latency``, ``target_models`` and ``expectations`` (its parts), ``base`` (what every model
shares), ``plan`` (the exact delays, failing tasks and round orders). Pure: nothing here touches the network.
"""

from __future__ import annotations

from bench.scenario.base import Record
from bench.scenario.expectations import Expectations, Threshold
from bench.scenario.latency import DISTRIBUTION_MODELS, Distribution, Latency
from bench.scenario.loader import load_file, load_paths, parse_scenario, validate
from bench.scenario.model import Scenario, definition_hash, register_distribution, register_target_kind
from bench.scenario.plan import Plan, Point, make_plan
from bench.scenario.target_models import TARGET_MODELS, CallableTarget, LocalTarget, SleepTarget, Target, UrlTarget

__all__ = [
    "DISTRIBUTION_MODELS",
    "TARGET_MODELS",
    "CallableTarget",
    "Distribution",
    "Expectations",
    "Latency",
    "LocalTarget",
    "Plan",
    "Point",
    "Record",
    "Scenario",
    "SleepTarget",
    "Target",
    "Threshold",
    "UrlTarget",
    "definition_hash",
    "load_file",
    "load_paths",
    "make_plan",
    "parse_scenario",
    "register_distribution",
    "register_target_kind",
    "validate",
]
