"""The ``Server-Timing`` header (W3C Server Timing): durations by metric, and the service time a server reports.

>>> service_us("delay;dur=20.000, svc;dur=20.043")
20043
"""

from __future__ import annotations

import contextlib


def parse_server_timing(value: str) -> dict[str, float]:
    """Durations in ms by metric name from a ``Server-Timing`` value: ``"delay;dur=0.4, svc;dur=0.41"``.

    >>> parse_server_timing("delay;dur=0.400, svc;dur=0.412")
    {'delay': 0.4, 'svc': 0.412}

    Metrics without a readable ``dur`` are left out (the header is the server's word, not a contract to enforce).
    """
    durations: dict[str, float] = {}
    for metric in value.split(","):
        name, *params = (part.strip() for part in metric.split(";"))
        for param in params:
            key, _, number = param.partition("=")
            if key.strip().lower() == "dur" and name:
                with contextlib.suppress(ValueError):
                    durations[name] = float(number.strip().strip('"'))
    return durations


def service_us(header: str | None) -> int:
    """The ``svc`` duration of a ``Server-Timing`` header in whole us (-1 when absent or unreadable)."""
    if not header:
        return -1
    ms = parse_server_timing(header).get("svc")
    return round(ms * 1000) if ms is not None and ms >= 0 else -1
