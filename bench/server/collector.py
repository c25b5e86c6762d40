"""The local server's garbage collection, kept out of its bursts: full passes only when it is quiet.

collector = IdleCollector()
collector.start()                  # in the server's loop
"""

from __future__ import annotations

import asyncio
import gc


class IdleCollector:
    """A server's garbage collection kept out of its bursts: automatic passes off; a full collection once no
    request is in flight and the objects allocated since the last reach a quarter of those alive then (CPython's
    own rule for full passes) or ``idle_after``, or at once when they pass both ``cap`` and the number alive.

        collector = IdleCollector()
        collector.start()                  # in the server's loop
        collector.inflight += 1 ... -= 1   # around each request
        collector.stop()

    The local server holds thousands of requests at once. Automatic passes in the middle of such a burst walk its
    live requests and connections again and again (measured: a fifth of the server's CPU at 10,000 concurrent
    requests on 2 workers) and make delays late. The server's figures are the instrument's, not the program's
    under test, so its collections wait for a quiet moment; the cap bounds the memory that waiting can hold
    (requests that never end cannot postpone them for ever).
    """

    def __init__(self, idle_after: int = 100_000, cap: int = 1_000_000, period_s: float = 0.05) -> None:
        self.idle_after = idle_after
        self.cap = cap
        self.period_s = period_s
        self.inflight = 0
        """Requests being served (the server's middleware counts them)."""
        self.collections = 0
        """Collections run so far."""
        self.alive = 0
        """Objects the collector tracked after the last collection."""
        self._task: asyncio.Task[None] | None = None
        self._was_enabled = True

    def due(self) -> bool:
        """A collection is due: quiet and enough allocated since the last one, or far too much."""
        allocated = gc.get_count()[0]
        if allocated > max(self.cap, self.alive):
            return True
        return self.inflight == 0 and allocated > max(self.idle_after, self.alive // 4)

    def start(self) -> None:
        """Turn automatic passes off and check every ``period_s`` on the running loop."""
        self._was_enabled = gc.isenabled()
        gc.disable()
        self.alive = len(gc.get_objects())
        self._task = asyncio.get_running_loop().create_task(self._watch())

    def stop(self) -> None:
        """Stop checking; automatic passes on again if they were."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self._was_enabled:
            gc.enable()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.period_s)
            if self.due():
                gc.collect()
                self.collections += 1
                self.alive = len(gc.get_objects())
