"""Target drivers: what one task does, one module per kind (local server, URL, sleep, callable), behind one
interface; ``clients/`` holds the HTTP client stacks they use.

    from bench.targets import driver_for
    driver = driver_for(scenario, point, base_url)
    async with driver.open_async(recorder, strategy, connections=10) as op:
        await op(0)
"""

from bench.plugins import import_builtins
from bench.targets.base import DRIVERS, Driver, Stamps, driver_class, driver_for, kind_of, register_driver
from bench.targets.callables import io_starts
from bench.targets.clients.base import Answer, AsyncOp, SyncOp
from bench.targets.http import HttpDriver

import_builtins(__name__, __path__)

__all__ = [
    "DRIVERS",
    "Answer",
    "AsyncOp",
    "Driver",
    "HttpDriver",
    "Stamps",
    "SyncOp",
    "driver_class",
    "driver_for",
    "io_starts",
    "kind_of",
    "register_driver",
]
