"""The built-in local server as a target: each task GETs ``/delay/<its delay>`` and the server reports the service
time it delivered."""

from __future__ import annotations

from typing import ClassVar

from bench.scenario.target_models import LocalTarget
from bench.strategies import Limits, Strategy
from bench.targets.base import register_driver
from bench.targets.http import HttpDriver


def task_urls(
    base_url: str, target: LocalTarget, delays_ms: tuple[float, ...], error_tasks: tuple[int, ...] = ()
) -> tuple[str, ...]:
    """The URL of each task: its delay in the path; body size, status and fault as query parameters if set."""
    query = [f"bytes={target.bytes}"] if target.bytes else []
    plain = [*query, f"status={target.status}"] if target.status != 200 else query
    failing = [*query, "status=500" if target.error_kind == "status" else f"fault={target.error_kind}"]
    fail = set(error_tasks)

    def suffix(params: list[str]) -> str:
        return "?" + "&".join(params) if params else ""

    return tuple(
        f"{base_url}/delay/{d:.3f}ms{suffix(failing if i in fail else plain)}" for i, d in enumerate(delays_ms)
    )


@register_driver(LocalTarget)
class LocalDriver(HttpDriver[LocalTarget]):
    """The built-in local server: each task GETs ``/delay/<its delay>`` and the server reports what it delivered."""

    local_server = True
    delay_label: ClassVar[str | None] = "server delay (requested)"

    def task_urls(self) -> tuple[str, ...]:
        """``/delay/<delay>ms`` for each task, failing the planned ones."""
        return task_urls(self.base_url, self.target, self.point.delays_ms, self.point.error_tasks)

    def warm_target(self) -> str:
        """The server's health endpoint."""
        return f"{self.base_url}/health"

    def backlog(self) -> int | None:
        """The server's listen backlog."""
        return self.scenario.server.backlog

    def limits(self, strategy: Strategy) -> Limits:
        """The client's connection limit, and the server's listen backlog (reported, not a cap)."""
        return super().limits(strategy) | Limits({"listen_backlog": self.scenario.server.backlog})

    def describe(self) -> str:
        """'local server'."""
        return "local server"

    def service_source(self) -> str:
        """The local server, which times its own delays."""
        return "the local server"
