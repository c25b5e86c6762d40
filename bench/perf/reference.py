"""The plain hand-written aiohttp scripts iobench is held against: one session, a loop, a semaphore or a gather.

    seconds = await hand_bounded(urls, warm_url, limit=100)

Each warms its connections before its timed region the way iobench does (one for the loop, ``limit`` for the semaphore,
one per task for gather), so the comparison is of what happens inside the timed region: iobench's per-task bookkeeping
against none. The one thing taken from iobench is the socket factory (SO_LINGER 0, see
``bench.targets.clients.net.client_socket_factory``): it acts only when a connection closes, after the timed region, and
keeps repeated rounds of 10,000 connections from filling the ephemeral port range with TIME_WAIT, as iobench's runs do.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp

from bench.targets.clients.net import client_socket_factory


def _session() -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=0, socket_factory=client_socket_factory())
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300))


async def _fetch(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(url) as response:
        await response.read()


async def hand_sequential(urls: tuple[str, ...], warm_url: str) -> float:
    """Seconds for ``for url in urls: await get(url)`` on one warm keep-alive connection."""
    async with _session() as session:
        await _fetch(session, warm_url)
        start = time.perf_counter()
        for url in urls:
            async with session.get(url) as response:
                await response.read()
        return time.perf_counter() - start


async def hand_bounded(urls: tuple[str, ...], warm_url: str, limit: int = 100) -> float:
    """Seconds for a gather of every GET, each inside ``async with semaphore`` of ``limit``; ``limit`` warm
    connections."""
    async with _session() as session:
        await asyncio.gather(*(_fetch(session, warm_url) for _ in range(min(limit, len(urls)))))
        semaphore = asyncio.Semaphore(limit)

        async def guarded(url: str) -> None:
            async with semaphore:
                await _fetch(session, url)

        start = time.perf_counter()
        await asyncio.gather(*(guarded(url) for url in urls))
        return time.perf_counter() - start


async def hand_gather(urls: tuple[str, ...], warm_url: str) -> float:
    """Seconds for ``await asyncio.gather(*(get(url) for url in urls))`` with the pool warmed to len(urls)."""
    async with _session() as session:
        await asyncio.gather(*(_fetch(session, warm_url) for _ in urls))
        start = time.perf_counter()
        await asyncio.gather(*(_fetch(session, url) for url in urls))
        return time.perf_counter() - start
