"""User-facing errors: the CLI turns each into one message and an exit code, never a traceback.

IobenchError                 exit 2 unless stated
├── ScenarioError            a scenario file is missing, unparsable or invalid (file, key path, line)
├── ResultsError             a results file is missing, not JSON, truncated or of another schema
├── UsageError               a command-line mistake the parser cannot catch
├── EnvironmentLimitError    the machine cannot run what was planned (descriptor limit, missing extra)
└── RunError                 exit 3: the run itself failed (server would not start, ...)
    └── WarmupError          the pool could not be opened before a timed run (that scenario fails)
"""

from __future__ import annotations


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


class WarmupError(RunError):
    """The connection pool could not be opened before a timed run (the scenario fails with this message)."""
