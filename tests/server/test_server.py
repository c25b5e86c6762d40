"""The local test server, over real loopback HTTP."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import aiohttp
import pytest

from bench.errors import UsageError
from bench.loops import fastest_available
from bench.server.app import parse_duration
from bench.server.process import LocalServer, is_loopback
from bench.targets.clients.server_timing import parse_server_timing

pytestmark = pytest.mark.e2e


async def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.read(), dict(response.headers)


def get(url: str) -> tuple[int, bytes, dict[str, str]]:
    return asyncio.run(_get(url))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("37.5ms", 0.0375),
        ("0.2s", 0.2),
        ("250us", 0.00025),
        ("1", 1.0),
        ("0ms", 0.0),
        (".5s", 0.5),
        ("60s", 60.0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("61s", "delay 61s is above the maximum of 60s"),
        ("abc", "malformed duration 'abc'; use e.g. 37.5ms, 0.2s, 250us"),
        ("-1s", "malformed duration '-1s'; use e.g. 37.5ms, 0.2s, 250us"),
        ("5m", "malformed duration '5m'; use e.g. 37.5ms, 0.2s, 250us"),
    ],
)
def test_parse_duration_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_duration(text)
    assert str(info.value) == message


def test_delay_waits_and_reports_server_timing(server_url: str) -> None:
    status, body, headers = get(f"{server_url}/delay/30ms?bytes=100")
    assert status == 200
    assert len(body) == 100
    timing = parse_server_timing(headers["Server-Timing"])
    assert headers["Server-Timing"].startswith("delay;dur=30.000, svc;dur=")
    assert timing["svc"] >= 30.0


@pytest.mark.parametrize(
    ("value", "durations"),
    [
        ("delay;dur=0.400, svc;dur=0.412", {"delay": 0.4, "svc": 0.412}),
        ('svc;desc="service";dur=1.5', {"svc": 1.5}),
        ('cache;dur="2"', {"cache": 2.0}),
        ("miss, db;dur=abc, svc;dur=3", {"svc": 3.0}),
        ("", {}),
    ],
)
def test_parse_server_timing(value: str, durations: dict[str, float]) -> None:
    assert parse_server_timing(value) == durations


def test_every_answer_reports_its_service_time(server_url: str) -> None:
    """Not only /delay: a 400 and a /bytes answer carry ``svc;dur=`` too (and nothing else)."""
    for path in ("/bytes/10", "/delay/fast", "/health"):
        _, _, headers = get(server_url + path)
        assert list(parse_server_timing(headers["Server-Timing"])) == ["svc"], path


def test_delay_status_parameter(server_url: str) -> None:
    status, body, _ = get(f"{server_url}/delay/0ms?status=503")
    assert status == 503
    assert body == b""


def test_large_body_is_streamed_in_full(server_url: str) -> None:
    status, body, headers = get(f"{server_url}/bytes/200000")
    assert status == 200
    assert len(body) == 200_000
    assert headers["Content-Length"] == "200000"


def test_status_endpoint(server_url: str) -> None:
    assert get(f"{server_url}/status/418")[0] == 418
    assert get(f"{server_url}/status/204")[0] == 204


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/delay/61s", "delay 61s is above the maximum of 60s"),
        ("/delay/fast", "malformed duration 'fast'; use e.g. 37.5ms, 0.2s, 250us"),
        ("/delay/1ms?bytes=104857601", "bytes must be between 0 and 104857600, got 104857601"),
        ("/delay/1ms?bytes=-3", "bytes must be a whole number, got '-3'"),
        ("/delay/1ms?status=700", "status must be between 200 and 599, got 700"),
        ("/bytes/lots", "n must be a whole number, got 'lots'"),
        ("/status/99", "code must be between 200 and 599, got 99"),
    ],
)
def test_bad_parameters_get_400_with_reason(server_url: str, path: str, reason: str) -> None:
    status, body, _ = get(server_url + path)
    assert status == 400
    assert body.decode() == reason


def test_delays_are_concurrent_not_blocking(server_url: str) -> None:
    """Ten 200 ms delays served at once take far less than 10 x 200 ms: the server never blocks its loop."""

    async def main() -> float:
        loop = asyncio.get_running_loop()
        async with aiohttp.ClientSession() as session:

            async def one() -> None:
                async with session.get(f"{server_url}/delay/200ms") as response:
                    await response.read()

            start = loop.time()
            await asyncio.gather(*(one() for _ in range(10)))
            return loop.time() - start

    sequential_sum = 10 * 0.2
    assert asyncio.run(main()) < sequential_sum / 3


def test_server_binds_loopback_and_is_stopped_by_pid() -> None:
    server = LocalServer()
    url = server.start()
    pids = server.pids
    assert url.startswith("http://127.0.0.1:")
    assert get(f"{url}/health")[1] == b"ok"
    server.stop()
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_refuses_non_loopback_host() -> None:
    with pytest.raises(UsageError) as info:
        LocalServer("0.0.0.0")
    assert str(info.value) == "refusing to serve on 0.0.0.0: the test server binds loopback addresses only"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", True),
        ("127.3.2.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.0.0.1", False),
        ("example.com", False),
    ],
)
def test_is_loopback(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected


def test_restart_if_dead_after_sigkill_names_the_death_and_serves_again() -> None:
    server = LocalServer(loop="asyncio")
    url = server.start()
    try:
        assert (server.death(), server.restart_if_dead()) == (None, None)
        old_pid = server.pids[0]
        os.kill(old_pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while server.alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert server.death() == f"pid {old_pid} killed by SIGKILL"
        assert not server.healthy()
        assert server.restart_if_dead() == f"pid {old_pid} killed by SIGKILL"
        assert server.healthy()
        assert server.pids != [old_pid]
        assert server.url == url  # the same port: it was free again
        assert (server.loop, server.stats().loop) == ("asyncio", "asyncio")
        assert server.restart_if_dead() is None
    finally:
        server.stop()


def test_ensure_keeps_a_matching_healthy_server_and_replaces_the_rest() -> None:
    server = LocalServer.ensure(None, workers=1, backlog=64, loop="asyncio")
    try:
        assert LocalServer.ensure(server, workers=1, backlog=64, loop="asyncio") is server
        first_pid = server.pids[0]
        os.kill(first_pid, signal.SIGKILL)
        while server.alive():
            time.sleep(0.01)
        replaced = LocalServer.ensure(server, workers=1, backlog=64, loop="asyncio")
        assert replaced is not server and replaced.healthy()
        server = replaced
        other = LocalServer.ensure(server, workers=1, backlog=128, loop="asyncio")
        assert other is not server and server.pids == [] and other.backlog == 128
        server = other
    finally:
        server.stop()


def test_default_loop_is_the_fastest_installed() -> None:
    expected = "asyncio" if fastest_available() is None else "uvloop"
    assert LocalServer().loop == expected


def test_unknown_loop_is_refused() -> None:
    with pytest.raises(UsageError) as info:
        LocalServer(loop="trio")
    assert str(info.value) == "unknown event loop 'trio' (valid: asyncio, uvloop)"
