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

from bench.server import LocalServer
from bench.server_app import parse_server_timing
from bench.stats import quantile

DELAYS_MS = (0.4, 2.5)
WARMUP = 20


def measure(server: LocalServer, delay_ms: float, requests: int) -> tuple[list[float], list[float]]:
    """Lateness (us) by the server's header and the client's round trip over the delay (us), per request."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
    late: list[float] = []
    trip: list[float] = []
    try:
        for i in range(WARMUP + requests):
            began = time.perf_counter_ns()
            connection.request("GET", f"/delay/{delay_ms}ms")
            response = connection.getresponse()
            response.read()
            elapsed_us = (time.perf_counter_ns() - began) / 1000
            if i >= WARMUP:
                svc_ms = parse_server_timing(response.getheader("Server-Timing", ""))["svc"]
                late.append(svc_ms * 1000 - delay_ms * 1000)
                trip.append(elapsed_us - delay_ms * 1000)
    finally:
        connection.close()
    return late, trip


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
                late, trip = measure(server, delay, requests)
                print(
                    f"{loop:8} {delay:>4} ms  {quantile(late, 0.5):6.0f} / {quantile(late, 0.9):6.0f} / "
                    f"{quantile(late, 0.99):6.0f} / {max(late):6.0f}      {quantile(trip, 0.5):6.0f} / "
                    f"{quantile(trip, 0.99):6.0f}"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
