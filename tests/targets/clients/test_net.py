"""bench.targets.clients.net: TIME_WAIT counting and the source-address plan (pure), and the paced warm-up, RST-closing
sockets and
the server's listen backlog against the real local server."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest

from bench.errors import EnvironmentLimitError, WarmupError
from bench.server.process import LocalServer
from bench.targets.clients.net import (
    PacedConnector,
    count_tcp_states,
    paced_warm,
    plan_sources,
    scale_connector,
    time_wait_count,
    warm_window,
)

pytestmark = pytest.mark.e2e

TABLE = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:A1B2 0100007F:1F90 06 00000000:00000000 03:00000F2E 00000000     0        0 0 3
   1: 0100007F:A1B3 0100007F:1F90 01 00000000:00000000 00:00000000 00000000     0        0 1 1
   2: 0100007F:A1B4 0100007F:1F91 06 00000000:00000000 03:00000F2E 00000000     0        0 0 3
   3: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1
"""
RANGE = (32768, 60999)  # 28,232 ports


def test_count_tcp_states_counts_time_wait_and_filters_by_remote_port() -> None:
    assert count_tcp_states(TABLE) == 2
    assert count_tcp_states(TABLE, remote_port=0x1F90) == 1
    assert count_tcp_states(TABLE, state=0x0A) == 1  # LISTEN
    assert count_tcp_states("header only\n") == 0


def test_time_wait_count_adds_both_tables_and_is_none_without_them(tmp_path: Path) -> None:
    four, six = tmp_path / "tcp", tmp_path / "tcp6"
    four.write_text(TABLE, encoding="ascii")
    six.write_text(TABLE, encoding="ascii")
    assert time_wait_count(tables=(str(four), str(six))) == 4
    assert time_wait_count(remote_port=0x1F91, tables=(str(four), str(six))) == 2
    assert time_wait_count(tables=(str(tmp_path / "absent"),)) is None


def test_plan_fits_one_address_when_the_range_holds_the_connections() -> None:
    plan = plan_sources(10_000, host="127.0.0.1", port_range=RANGE, time_wait=5_000)
    assert plan.sources == ()
    assert plan.ports_per_source == 28_232 - 5_000 - 1_024


def test_plan_spreads_over_loopback_addresses_beyond_the_range() -> None:
    plan = plan_sources(100_000, host="127.0.0.1", port_range=RANGE, time_wait=0, fd_limit=200_000)
    assert plan.sources == ("127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4")
    assert "4 source addresses" in plan.describe()


def test_plan_refuses_100000_connections_naming_the_descriptor_limit() -> None:
    with pytest.raises(EnvironmentLimitError) as caught:
        plan_sources(100_000, host="127.0.0.1", port_range=RANGE, time_wait=0, fd_limit=20_000)
    assert str(caught.value) == (
        "100000 connections open at once need 100000 file descriptors, but the limit is 20000 (ulimit -n); "
        "raise it or set connector_limit"
    )


def test_plan_refuses_a_remote_host_beyond_the_range_naming_the_port_range() -> None:
    with pytest.raises(EnvironmentLimitError) as caught:
        plan_sources(30_000, host="10.1.2.3", port_range=RANGE, time_wait=100)
    assert "net.ipv4.ip_local_port_range is 32768-60999 (28232 ports, 100 in TIME_WAIT)" in str(caught.value)
    assert "set connector_limit to at most 27108" in str(caught.value)


def test_plan_refuses_more_addresses_than_it_spreads_over() -> None:
    with pytest.raises(EnvironmentLimitError, match="would need 4 loopback source addresses, more than the 3"):
        plan_sources(100_000, host="127.0.0.1", port_range=RANGE, time_wait=0, max_sources=3)


def test_warm_window_never_exceeds_the_backlog() -> None:
    assert warm_window(128) == 128
    assert warm_window(4096) == 512
    assert warm_window(None) == 512


def _listen_backlog(port: int) -> int:
    """Send-Q of a listening socket in ``ss -ltn`` is its accept-queue limit."""
    out = subprocess.run(["ss", "-ltnH", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    return int(out.split()[2])


def test_the_local_server_listens_with_the_backlog_it_was_given() -> None:
    with LocalServer(backlog=1000) as url:
        assert _listen_backlog(int(url.rsplit(":", 1)[1])) == 1000


class _Counting(PacedConnector):
    """Counts connects in flight (socket to completed handshake), to check the pacing window."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.connecting = 0
        self.most_connecting = 0

    async def _create_direct_connection(self, *args: object, **kwargs: object) -> object:
        self.connecting += 1
        self.most_connecting = max(self.most_connecting, self.connecting)
        try:
            return await super()._create_direct_connection(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            self.connecting -= 1


def test_paced_warm_opens_exactly_n_connections_within_the_window(server_url: str) -> None:
    async def main() -> tuple[int, int, int, int]:
        connector = _Counting(limit=0, limit_per_host=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await paced_warm(session, connector, f"{server_url}/health", 300, backlog=50)
            pooled = len(connector._conns[next(iter(connector._conns))])
            opened = connector.created
            await asyncio.gather(*(session.get(f"{server_url}/health") for _ in range(300)))  # all at once
            return opened, connector.most_connecting, pooled, connector.created - opened

    opened, most, pooled, opened_later = asyncio.run(main())
    assert opened == 300
    assert pooled == 300
    assert most <= 50
    assert opened_later == 0  # 300 requests at once found 300 warm connections: none was opened in the run


def _time_wait_after_a_pool(url: str, make: Callable[[], aiohttp.TCPConnector]) -> int:
    port = int(url.rsplit(":", 1)[1])

    async def main() -> None:
        async with aiohttp.ClientSession(connector=make()) as session:
            await asyncio.gather(*(session.get(f"{url}/health") for _ in range(50)))

    asyncio.run(main())
    time.sleep(0.2)
    count = time_wait_count(remote_port=port)
    assert count is not None
    return count


def test_scale_connector_leaves_no_time_wait_where_the_default_one_does() -> None:
    with LocalServer() as url:  # a server of its own, so no other test's sockets are counted
        assert _time_wait_after_a_pool(url, lambda: aiohttp.TCPConnector(limit=0)) > 0
    with LocalServer() as url:
        assert _time_wait_after_a_pool(url, lambda: scale_connector(0)) == 0


def test_scale_connector_binds_the_planned_source_addresses(server_url: str) -> None:
    async def main() -> set[str]:
        connector = scale_connector(0, ("127.0.0.2", "127.0.0.3"))
        async with aiohttp.ClientSession(connector=connector) as session:
            await paced_warm(session, connector, f"{server_url}/health", 4)
            sources = set()
            for protos in connector._conns.values():
                for proto, _ in protos:
                    assert proto.transport is not None
                    sources.add(proto.transport.get_extra_info("sockname")[0])
            return sources

    assert asyncio.run(main()) == {"127.0.0.2", "127.0.0.3"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_warm_up_that_cannot_connect_is_a_warmup_error() -> None:
    url = f"http://127.0.0.1:{_free_port()}/health"

    async def main() -> None:
        connector = scale_connector(0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await paced_warm(session, connector, url, 20)

    with pytest.raises(WarmupError, match=r"the warm-up failed after 0 of 20 connections to .*ClientConnectorError"):
        asyncio.run(main())


def test_a_warm_up_answered_with_an_error_status_is_a_warmup_error(server_url: str) -> None:
    async def main() -> None:
        connector = scale_connector(0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await paced_warm(session, connector, f"{server_url}/status/503", 5)

    with pytest.raises(WarmupError, match="answered HTTP 503"):
        asyncio.run(main())


def test_a_warm_up_past_its_time_is_a_warmup_error(server_url: str) -> None:
    async def main() -> None:
        connector = scale_connector(0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await paced_warm(session, connector, f"{server_url}/delay/5s", 3, timeout_s=0.3)

    with pytest.raises(WarmupError, match=r"opened 0 of 3 connections .* in 0.3 s and was stopped"):
        asyncio.run(main())


def test_a_hundred_thousand_concurrent_tasks_are_refused_before_any_request(tmp_path: Path) -> None:
    """100,000 tasks at once: refused by the pre-run checks with a message naming the limit, nothing sent."""
    from bench.run.preflight import preflight
    from bench.scenario.loader import load_paths

    path = tmp_path / "huge.yaml"
    path.write_text("name: huge\ntasks: 100000\ntarget: {latency: {dist: fixed, ms: 1}}\nstrategies: [gather]\n")
    with pytest.raises(EnvironmentLimitError) as info:
        preflight(load_paths([path]))
    message = str(info.value)
    assert message.startswith(f"{path}: scenario 'huge'")
    assert "100000" in message and ("ulimit -n" in message or "source addresses" in message)
