"""CPython's garbage collector around a timed run: what its passes cost, and pausing it where nothing is measured.

    with GcWatch(pause=not scenario.gc) as watch:     # the timed region
        ...
    watch.passes, watch.ms                            # (412, 37, 5) passes by generation, 1890.4 ms in them

    with gc_paused():                                 # untimed work (a pool warm-up): no collector pauses
        ...


The local server keeps its own collections out of its bursts: ``bench.server.collector.IdleCollector``.

Why it matters: the cyclic collector starts a pass whenever allocations outrun deallocations by a threshold, and
a full (generation 2) pass walks every tracked object. With 10,000 tasks and pooled connections alive a full pass
takes tens of milliseconds, and a run of 10,000 concurrent 2 s GETs spent about half of its client CPU in the
collector (measured on a 2-core machine: 4.0 s of client CPU with it, 1.9 s without). A program that runs that
many tasks pays it too, so by default iobench leaves the collector running and reports what it cost;
``gc: false`` pauses it during the timed region, as ``timeit`` and pytest-benchmark's ``--benchmark-disable-gc``
do, to see what the I/O alone allows. Untimed work (warm-ups) always runs with the collector paused, and a full
collection runs before every timed region either way (``bench.run.timed.collect_garbage``).
"""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Iterator
from types import TracebackType
from typing import Any

GENERATIONS = 3
"""CPython's collector generations: 0 (young) to 2 (full passes)."""


class GcWatch:
    """Counts the collector's passes by generation and the time spent in them while open; ``pause`` disables the
    collector for that time (it comes back on exit as it was, once no other pause is in force)."""

    def __init__(self, pause: bool = False) -> None:
        self.pause = pause
        self.passes = [0] * GENERATIONS
        """Passes that ran, by generation."""
        self.ns = 0
        """Time spent in them, ns."""
        self._began = 0

    @property
    def ms(self) -> float:
        """Time spent in collector passes, milliseconds."""
        return self.ns / 1e6

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._began = time.perf_counter_ns()
        elif self._began:
            self.ns += time.perf_counter_ns() - self._began
            self.passes[min(int(info.get("generation", 0)), GENERATIONS - 1)] += 1
            self._began = 0

    def __enter__(self) -> GcWatch:
        if self.pause:
            _pause()
        gc.callbacks.append(self._callback)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        with contextlib.suppress(ValueError):
            gc.callbacks.remove(self._callback)
        if self.pause:
            _resume()


_PAUSED = {"depth": 0, "was_enabled": True}
"""Pauses in force, and whether the collector was enabled when the first began: pauses may overlap in any order
(a warm-up's inside a timed region's, or the other way round) and the collector comes back, as it was before the
first, only when the last one ends."""


def _pause() -> None:
    if not _PAUSED["depth"]:
        _PAUSED["was_enabled"] = gc.isenabled()
    _PAUSED["depth"] += 1
    gc.disable()


def _resume() -> None:
    _PAUSED["depth"] = max(_PAUSED["depth"] - 1, 0)
    if not _PAUSED["depth"] and _PAUSED["was_enabled"]:
        gc.enable()


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Disable the collector for the block (untimed work); enable it again after if it was enabled before."""
    _pause()
    try:
        yield
    finally:
        _resume()
