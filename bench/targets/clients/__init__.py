"""HTTP client stacks (aiohttp, iobench's minimal client, http.client for threads), their protocol parser and the
connection-level help they share (paced warm-ups, RST-closing sockets, port accounting).

    from bench.targets.clients import CLIENTS
    CLIENTS["aiohttp"].limit_note(None)   # "connector limit: none (aiohttp's default of 100 is lifted)"
"""

from bench.plugins import import_builtins
from bench.targets.clients.base import (
    CLIENTS,
    Answer,
    AsyncClient,
    AsyncOp,
    BlockingClient,
    SyncOp,
    async_client,
    blocking_client,
    register_client,
)

import_builtins(__name__, __path__)

__all__ = [
    "CLIENTS",
    "Answer",
    "AsyncClient",
    "AsyncOp",
    "BlockingClient",
    "SyncOp",
    "async_client",
    "blocking_client",
    "register_client",
]
