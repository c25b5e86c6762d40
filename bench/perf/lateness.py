"""The local server's delay precision: delivered minus requested, by its own clock, on both loops.

    python -m bench.perf.lateness [REQUESTS]      # 300 by default, one warm keep-alive connection per loop

For 0.4 ms and 2.5 ms delays on an asyncio and a uvloop server, prints p50, p90, p99 and the largest lateness from
the ``Server-Timing: svc`` header, and the client's round trip over the delay. Run it on a quiet machine: another
process holding a core for a millisecond moves p99 whatever the server does.
"""

from __future__ import annotations

import http.client
import sys
import time
from dataclasses import dataclass

from bench.results.stats import quantile
from bench.server.process import LocalServer
from bench.targets.clients.server_timing import parse_server_timing

DELAYS_MS = (0.4, 2.5)
WARMUP = 20


@dataclass(frozen=True)
class Measured:
    """Per request, in microseconds: the server's svc minus the requested delay; the client's round trip."""

    lateness_us: tuple[float, ...]
    round_trip_us: tuple[float, ...]


def measure(server: LocalServer, delay_ms: float, requests: int, warmup: int = WARMUP) -> Measured:
    """``requests`` GETs of /delay/<delay_ms>ms one after another on one warm keep-alive connection."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    lateness: list[float] = []
    round_trip: list[float] = []
    try:
        for i in range(warmup + requests):
            began = time.perf_counter_ns()
            connection.request("GET", f"/delay/{delay_ms}ms")
            response = connection.getresponse()
            response.read()
            elapsed_us = (time.perf_counter_ns() - began) / 1000
            timing = parse_server_timing(response.getheader("Server-Timing", ""))
            if response.status != 200 or timing.get("delay") != delay_ms:
                raise RuntimeError(f"/delay/{delay_ms}ms answered {response.status} with Server-Timing {timing}")
            if i >= warmup:
                lateness.append(timing["svc"] * 1000 - delay_ms * 1000)
                round_trip.append(elapsed_us)
    finally:
        connection.close()
    return Measured(tuple(lateness), tuple(round_trip))


def main(argv: list[str]) -> int:
    """Print one line per loop and delay."""
    requests = int(argv[0]) if argv else 300
    print(
        f"{'loop':8} {'delay':>6}  lateness us: p50 / p90 / p99 / max        client round trip - delay, us: p50 / p99"
    )
    for loop in ("asyncio", "uvloop"):
        server = LocalServer(loop=loop)
        with server:
            for delay in DELAYS_MS:
                measured = measure(server, delay, requests)
                late = list(measured.lateness_us)
                trip = [t - delay * 1000 for t in measured.round_trip_us]
                print(
                    f"{loop:8} {delay:>4} ms  {quantile(late, 0.5):6.0f} / {quantile(late, 0.9):6.0f} / "
                    f"{quantile(late, 0.99):6.0f} / {max(late):6.0f}      {quantile(trip, 0.5):6.0f} / "
                    f"{quantile(trip, 0.99):6.0f}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
