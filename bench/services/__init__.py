"""Real services for the recipes in ``scenarios/real/`` and their tests: PostgreSQL, Redis and nginx from Debian's
packages, each on 127.0.0.1 with a data folder and a port of its own, stopped by its PID.

    python -m bench.services run scenarios/real    # make bench-real: start what is installed, run, stop
"""

from bench.plugins import import_builtins
from bench.services.base import SERVICES, Running, Service, Unavailable, register_service, stop

import_builtins(__name__, __path__)

__all__ = ["SERVICES", "Running", "Service", "Unavailable", "register_service", "stop"]
