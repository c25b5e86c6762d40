"""The minimal HTTP client: its parser on exact bytes (any split of the stream parses alike), and its pool against
the local server: answers as aiohttp reads them, the limit held, failures named, warm-ups exact, no TIME_WAIT."""

from __future__ import annotations

import asyncio
import itertools
import socket
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bench.errors import WarmupError
from bench.loops import loop_factory
from bench.results.files import read_results
from bench.run.recording import error_kind
from bench.scenario.model import Scenario
from bench.server.process import LocalServer
from bench.targets.clients.base import PoolOptions
from bench.targets.clients.http_parse import MalformedResponse, Response, ResponseParser
from bench.targets.clients.minimal import MINIMAL, MinimalPool
from bench.targets.clients.net import count_tcp_states, time_wait_count
from bench.targets.clients.server_timing import service_us

LENGTH = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer-Timing: svc;dur=1.5\r\n\r\nhello"
CHUNKED = (
    b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"4;ext=1\r\nabcd\r\n0a\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n"
)
CONTINUE_THEN_204 = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nServer-Timing: a;dur=1\r\n\r\n"
CLOSE_AFTER = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
HTTP10 = b"HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n"
STREAM = LENGTH + CHUNKED + CONTINUE_THEN_204 + HTTP10
EXPECTED = [
    Response(200, 5, "svc;dur=1.5", True),
    Response(201, 14, None, True),
    Response(204, 0, "a;dur=1", True),
    Response(404, 0, None, False),  # HTTP/1.0 without keep-alive: the connection ends after it
]


def test_the_parser_reads_lengths_chunks_informational_and_http10_answers() -> None:
    assert ResponseParser().feed(STREAM) == EXPECTED
    assert ResponseParser().feed(CLOSE_AFTER) == [Response(200, 2, None, False)]


@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=30))
def test_any_split_of_the_stream_parses_alike(cuts: list[int]) -> None:
    parser = ResponseParser()
    answers: list[Response] = []
    bounds = [0, *sorted(cuts), len(STREAM)]
    for low, high in itertools.pairwise(bounds):
        answers.extend(parser.feed(STREAM[low:high]))
    assert answers == EXPECTED
    assert parser.feed_eof() is None


def test_a_body_without_length_ends_with_the_connection() -> None:
    parser = ResponseParser()
    assert parser.feed(b"HTTP/1.1 200 OK\r\nServer-Timing: x;dur=2\r\n\r\nsome") == []
    assert parser.feed(b" more") == []
    assert parser.feed_eof() == Response(200, 9, "x;dur=2", False)


def test_an_answer_cut_short_is_a_reset() -> None:
    parser = ResponseParser()
    parser.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    with pytest.raises(ConnectionResetError, match="middle of an answer"):
        parser.feed_eof()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"SMTP ready\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 2x0 OK\r\n\r\n", "not an HTTP/1.x status line"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", "bad Content-Length"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "not a header line"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nabcd", "does not end with CRLF"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 20_000, "no end of headers"),
    ],
)
def test_what_is_not_http_is_refused_with_the_reason(data: bytes, message: str) -> None:
    with pytest.raises(MalformedResponse, match=message):
        ResponseParser().feed(data)
    assert error_kind(MalformedResponse("x")) == "client"


def test_answers_read_as_aiohttp_reads_them(server_url: str) -> None:
    paths = ["/delay/15ms?bytes=70000", "/bytes/123", "/status/204", "/status/503", "/delay/2ms"]

    async def both() -> tuple[list[tuple[int, int]], list[tuple[int, int]], list[str | None]]:
        async with aiohttp.ClientSession() as session:
            theirs = []
            for path in paths:
                async with session.get(server_url + path) as response:
                    theirs.append((response.status, len(await response.read())))
        pool = MinimalPool(server_url)
        try:
            answers = [await pool.get(pool.request(path)) for path in paths]
        finally:
            pool.close()
        return theirs, [(a.status, a.nbytes) for a in answers], [a.server_timing for a in answers]

    theirs, ours, timings = asyncio.run(both())
    assert ours == theirs == [(200, 70000), (200, 123), (204, 0), (503, 0), (200, 0)]
    assert service_us(timings[0]) >= 15_000  # the server's delivered time came back


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_the_pool_works_on_both_loops(server_url: str, loop: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")

    async def main() -> list[int]:
        pool = MinimalPool(server_url)
        try:
            await pool.warm("/health", 20)
            return [(await pool.get(pool.request(f"/status/{code}"))).status for code in (200, 404)]
        finally:
            pool.close()

    with asyncio.Runner(loop_factory=loop_factory(loop)) as runner:
        assert runner.run(main()) == [200, 404]


def test_the_pool_holds_its_limit_and_hands_connections_on(server_url: str) -> None:
    async def main() -> tuple[int, list[int], int]:
        connected = 0

        def count() -> None:
            nonlocal connected
            connected += 1

        pool = MinimalPool(server_url, limit=3, on_connected=count)
        try:
            answers = await asyncio.gather(*(pool.get(pool.request("/delay/20ms")) for _ in range(12)))
            return pool.created, [a.status for a in answers], connected
        finally:
            pool.close()

    created, statuses, connected = asyncio.run(main())
    assert created == 3  # 12 requests at once, 3 connections: the other 9 waited for one
    assert statuses == [200] * 12
    assert connected == 12


class _Watched(MinimalPool):
    """Records the most connections open at once."""

    most = 0

    async def _open(self):  # type: ignore[no-untyped-def]
        connection = await super()._open()
        self.most = max(self.most, len(self._all))
        return connection


def test_the_limit_holds_while_connections_drop_and_requests_keep_coming(server_url: str) -> None:
    async def main() -> tuple[int, list[str], int, int]:
        pool = _Watched(server_url, limit=2)
        outcomes: list[str] = []

        async def one(i: int) -> None:
            await asyncio.sleep(0.003 * i)  # requests keep arriving while others wait
            path = "/delay/10ms?fault=reset" if i % 3 == 0 else "/delay/10ms"
            try:
                outcomes.append(str((await pool.get(pool.request(path))).status))
            except ConnectionResetError:
                outcomes.append("reset")

        try:
            await asyncio.gather(*(one(i) for i in range(30)))
            return pool.most, outcomes, pool._count, len(pool._all)
        finally:
            pool.close()

    most, outcomes, count, alive = asyncio.run(main())
    assert most <= 2  # a slot freed by a dropped connection went to a waiting request, not to a newcomer
    assert sorted(set(outcomes)) == ["200", "reset"] and outcomes.count("reset") == 10
    assert count == alive  # every slot accounted for


def test_a_slot_freed_while_a_request_waits_is_that_requests(server_url: str) -> None:
    async def main() -> tuple[bool, int, int]:
        pool = _Watched(server_url, limit=1)
        try:
            first = await pool.acquire()
            waiting = asyncio.ensure_future(pool.acquire())
            await asyncio.sleep(0)  # it waits: the one slot is taken
            pool.release(first, False)  # dropped: the slot goes to the waiting request
            try:  # a newcomer in the same instant (awaited directly: it runs before the waiting one) must not take it
                async with asyncio.timeout(0.2):
                    await pool.acquire()
                newcomer_got_one = True
            except TimeoutError:
                newcomer_got_one = False
            await waiting
            return newcomer_got_one, pool.most, pool.created
        finally:
            pool.close()

    assert asyncio.run(main()) == (False, 1, 2)


def test_a_request_cancelled_while_waiting_leaves_the_pool_whole(server_url: str) -> None:
    async def main() -> tuple[bool, int, int, int]:
        pool = MinimalPool(server_url, limit=1)
        try:
            holder = asyncio.ensure_future(pool.get(pool.request("/delay/150ms")))
            await asyncio.sleep(0.03)
            timed_out = False
            try:
                async with asyncio.timeout(0.03):
                    await pool.get(pool.request("/health"))  # waits for the one connection, then gives up
            except TimeoutError:
                timed_out = True
            statuses = [(await holder).status, (await pool.get(pool.request("/health"))).status]
            return timed_out, sum(statuses), pool.created, pool._count
        finally:
            pool.close()

    assert asyncio.run(main()) == (True, 400, 1, 1)


def test_a_reset_fails_its_request_and_the_pool_goes_on(server_url: str) -> None:
    async def main() -> tuple[BaseException | None, int]:
        pool = MinimalPool(server_url, limit=1)
        try:
            failure = None
            try:
                await pool.get(pool.request("/delay/5ms?fault=reset"))
            except ConnectionResetError as exc:
                failure = exc
            return failure, (await pool.get(pool.request("/health"))).status
        finally:
            pool.close()

    failure, status = asyncio.run(main())
    assert isinstance(failure, ConnectionResetError) and error_kind(failure) == "connection"
    assert status == 200


def test_a_request_past_its_timeout_is_a_timeout(server_url: str) -> None:
    async def main() -> None:
        async with MINIMAL.open(
            (f"{server_url}/delay/5s",), "", PoolOptions(connections=1, limit=None, timeout_s=0.2)
        ) as op:
            await op(0)

    start = time.perf_counter()
    with pytest.raises(TimeoutError) as caught:
        asyncio.run(main())
    assert error_kind(caught.value) == "timeout"
    assert time.perf_counter() - start < 5.0 / 2  # cut off by the timeout, far before the server's 5 s answer


def test_the_warm_up_opens_exactly_n_and_the_run_opens_none(server_url: str) -> None:
    async def main() -> tuple[int, int]:
        pool = MinimalPool(server_url)
        try:
            await pool.warm("/health", 250, backlog=64)
            opened = pool.created
            await asyncio.gather(*(pool.get(pool.request("/delay/10ms")) for _ in range(250)))
            return opened, pool.created - opened
        finally:
            pool.close()

    assert asyncio.run(main()) == (250, 0)


def test_a_failed_warm_up_says_why(server_url: str) -> None:
    async def warm(url: str, target: str) -> None:
        pool = MinimalPool(url)
        try:
            await pool.warm(target, 5)
        finally:
            pool.close()

    with pytest.raises(WarmupError, match="answered HTTP 503"):
        asyncio.run(warm(server_url, "/status/503"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]
    with pytest.raises(WarmupError, match=r"failed after 0 of 5 connections .*ConnectionRefusedError"):
        asyncio.run(warm(f"http://127.0.0.1:{free}", "/health"))


def _established_to(port: int) -> int:
    """Client sockets in ESTABLISHED to ``port`` on this machine."""
    return sum(count_tcp_states(Path(t).read_text(encoding="ascii"), 0x01, port) for t in ("/proc/net/tcp",))


@pytest.mark.slow
def test_closing_the_pool_closes_every_connection_with_no_time_wait() -> None:
    with LocalServer() as url:  # its own server: no other test's sockets are counted
        port = int(url.rsplit(":", 1)[1])
        before = time_wait_count(remote_port=port)  # an earlier socket to a server on this port number may linger

        async def main() -> tuple[int, int]:
            pool = MinimalPool(url)
            await asyncio.gather(*(pool.get(pool.request("/health")) for _ in range(40)))
            open_before = _established_to(port)
            pool.close()
            await asyncio.sleep(0.1)
            return open_before, _established_to(port)  # the pool is still referenced: only close() closed them

        open_before, open_after = asyncio.run(main())
        time.sleep(0.2)
        after = time_wait_count(remote_port=port)
        assert open_before == 40 and open_after == 0
        assert before is not None and after is not None and after <= before


def test_client_minimal_is_plain_http_only() -> None:
    with pytest.raises(ValidationError, match="client: minimal speaks plain http:// only"):
        Scenario.model_validate(
            {"name": "m", "tasks": 2, "target": {"kind": "url", "url": "https://127.0.0.1/x", "client": "minimal"}}
        )
    with pytest.raises(ValueError, match="plain http:// only"):
        MinimalPool("https://127.0.0.1:8443")


@pytest.mark.e2e
def test_a_scenario_on_the_minimal_client_measures_what_aiohttp_does(
    write_scenario: Callable[[str, str], Path], tmp_path: Path
) -> None:
    from bench.cli.main import main
    from bench.report.notes import notes
    from bench.results.summary import summarise

    path = write_scenario(
        "name: m\ntasks: 20\nrepeats: 3\nwarmup: 1\n"
        "target: {latency: {dist: fixed, ms: 50}, client: minimal}\nstrategies: [sequential, gather]\n",
        "m",
    )
    out = tmp_path / "m.json"
    assert main(["run", str(path), "-o", str(out), "-q", "--no-plots"]) == 0
    [result] = read_results(out).scenarios
    assert set(result.calibration or {}) == {"minimal"}  # the stacks it runs with, no other
    walls = {r.strategy: [] for r in result.points[0].runs}  # type: dict[str, list[int]]
    for run in result.points[0].runs:
        assert run.complete
        assert all(us >= 50_000 for us in run.samples.service_us)
        walls[run.strategy].append(run.wall_ns)
    assert min(walls["sequential"]) >= 3 * max(walls["gather"])
    assert (
        notes(result, summarise(result))[0]
        == "target: local server; minimal HTTP client, connection limit none; loop: asyncio"
    )
