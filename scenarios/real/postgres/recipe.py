"""PostgreSQL, measured the way an application talks to it: an asyncpg pool made once by ``setup`` on the loop the
runs use, and one psycopg connection per worker thread made by ``thread_setup``; each task holds a connection for
a 20 ms query (``pg_sleep``), so the server answers in parallel and the pool is the cap.

The DSN comes from ``IOBENCH_PG_DSN`` (``make bench-real`` starts a PostgreSQL and sets it)."""

from __future__ import annotations

import os

import asyncpg
import psycopg

from bench.targets import io_starts

QUERY = "SELECT pg_sleep(0.02)"


def dsn() -> str:
    """Where the database is."""
    return os.environ.get("IOBENCH_PG_DSN", "postgresql://postgres@127.0.0.1:25432/postgres")


async def open_pool() -> asyncpg.Pool:
    """The application's pool, as asyncpg makes it by default (10 connections), opened before any timed run."""
    return await asyncpg.create_pool(dsn(), server_settings={"application_name": "iobench asyncpg"})


async def close_pool(pool: asyncpg.Pool) -> None:
    """Close the pool after the scenario."""
    await pool.close()


async def query(i: int, pool: asyncpg.Pool) -> None:
    """One task: wait for one of the pool's connections, then the query."""
    async with pool.acquire() as conn:
        io_starts()  # the wait for a connection ends here: iobench shows it as the task's wait
        await conn.fetchval(QUERY)


def connect() -> psycopg.Connection:
    """This worker thread's own connection, opened before any timed run."""
    return psycopg.connect(dsn(), autocommit=True, application_name="iobench threads")


def disconnect(conn: psycopg.Connection) -> None:
    """Close this worker thread's connection at the end."""
    conn.close()


def query_sync(i: int, conn: psycopg.Connection) -> None:
    """One task in a worker thread, on that thread's connection."""
    conn.execute(QUERY)
