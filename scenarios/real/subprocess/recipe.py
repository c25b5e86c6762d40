"""Subprocesses, started the two usual ways: ``asyncio.create_subprocess_exec`` from the event loop and
``subprocess.run`` in worker threads. Each task runs ``sleep 0.02``: the child waits 20 ms, the parent pays for
fork and exec (a millisecond or more each), which one event loop does one at a time."""

from __future__ import annotations

import asyncio
import subprocess

COMMAND = ("sleep", "0.02")


async def run(i: int) -> int:
    """One task: start the child and wait for it."""
    child = await asyncio.create_subprocess_exec(*COMMAND)
    return await child.wait()


def run_sync(i: int) -> int:
    """One task in a worker thread."""
    return subprocess.run(COMMAND, check=True).returncode
