"""The plain hand-written aiohttp scripts iobench is held against: one session, a loop or a gather, nothing else.

They warm their connections the same way iobench does (one for the loop, one per task for gather), so the
comparison is of what happens inside the timed region: iobench's per-task bookkeeping against none.
"""

from __future__ import annotations

import asyncio
import time

import aiohttp


async def _fetch(session: aiohttp.ClientSession, url: str) -> None:
    async with session.get(url) as response:
        await response.read()


async def hand_sequential(urls: tuple[str, ...], warm_url: str) -> float:
    """Seconds for ``for url in urls: await get(url)`` on one warm keep-alive connection."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await _fetch(session, warm_url)
        start = time.perf_counter()
        for url in urls:
            async with session.get(url) as response:
                await response.read()
        return time.perf_counter() - start


async def hand_gather(urls: tuple[str, ...], warm_url: str) -> float:
    """Seconds for ``await asyncio.gather(*(get(url) for url in urls))`` with the pool warmed to len(urls)."""
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        await asyncio.gather(*(_fetch(session, warm_url) for _ in urls))
        start = time.perf_counter()
        await asyncio.gather(*(_fetch(session, url) for url in urls))
        return time.perf_counter() - start
