"""The obvious way to share an asyncpg pool without a setup hook: made on first use, kept in the module."""

from __future__ import annotations

import asyncpg

from scenarios.real.postgres.recipe import QUERY, dsn

_POOL: list[asyncpg.Pool] = []


async def query(i: int) -> None:
    """One query through the module's pool, made by the first task that needs it."""
    if not _POOL:
        _POOL.append(await asyncpg.create_pool(dsn(), min_size=1, max_size=10))
    async with _POOL[0].acquire() as conn:
        await conn.fetchval(QUERY)
