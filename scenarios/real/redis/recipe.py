"""Redis, measured the way an application talks to it: one ``redis.asyncio`` client made by ``setup`` on the loop
the runs use (its pool opens a connection per command in flight, up to 100), and one blocking ``redis.Redis`` per
worker thread made by ``thread_setup``. Each task is one ``GET`` of a small value.

The address comes from ``IOBENCH_REDIS_URL`` (``make bench-real`` starts a Redis and sets it)."""

from __future__ import annotations

import os

import redis
import redis.asyncio

KEY = "iobench:greeting"


def url() -> str:
    """Where the server is."""
    return os.environ.get("IOBENCH_REDIS_URL", "redis://127.0.0.1:26379/0")


async def open_client() -> redis.asyncio.Redis:
    """The application's client, with the value the tasks read, made before any timed run."""
    client = redis.asyncio.Redis.from_url(url())
    await client.set(KEY, "hello")
    return client


async def close_client(client: redis.asyncio.Redis) -> None:
    """Close the client and its pool after the scenario."""
    await client.aclose()


async def get(i: int, client: redis.asyncio.Redis) -> None:
    """One task: one GET."""
    await client.get(KEY)


def connect() -> redis.Redis:
    """This worker thread's own client, its connection opened before any timed run."""
    client = redis.Redis.from_url(url())
    client.ping()
    return client


def disconnect(client: redis.Redis) -> None:
    """Close this worker thread's client at the end."""
    client.close()


def get_sync(i: int, client: redis.Redis) -> None:
    """One task in a worker thread, on that thread's client."""
    client.get(KEY)
