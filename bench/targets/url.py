"""Any URL as a target, once per task; warmed only when it is on this machine (no extra load on another host)."""

from __future__ import annotations

from bench.errors import UsageError
from bench.scenario.model import Scenario
from bench.scenario.target_models import UrlTarget
from bench.server.process import is_loopback
from bench.targets.base import register_driver
from bench.targets.http import HttpDriver


@register_driver(UrlTarget)
class UrlDriver(HttpDriver[UrlTarget]):
    """Any URL, once per task; warmed only when it is on this machine (no extra load on another host)."""

    @classmethod
    def check(cls, where: str, target: UrlTarget, scenario: Scenario, allow_external: bool) -> None:
        """A URL off this machine needs both opt-ins."""
        if is_loopback(target.host):
            return
        if not target.allow_external:
            raise UsageError(
                f"{where}: target.url: {target.host} is not on this machine; to send it {max(scenario.tasks)} "
                "requests per run, set allow_external: true in the target and pass --allow-external"
            )
        if not allow_external:
            raise UsageError(
                f"{where}: target.url: {target.host} is not on this machine; pass --allow-external to send it requests"
            )

    def task_urls(self) -> tuple[str, ...]:
        """The same URL for every task."""
        return (self.target.url,) * self.point.tasks

    def warm_target(self) -> str:
        """The URL itself on loopback; nothing elsewhere."""
        return self.target.url if is_loopback(self.target.host) else ""

    def describe(self) -> str:
        """The URL."""
        return self.target.url
