"""Files, read the two usual ways: ``aiofiles`` from the event loop (each read handed to asyncio's default executor,
a thread pool of min(32, CPUs + 4) threads) and plain ``open().read()`` in worker threads. ``setup`` writes the files
(1 MiB each, 100 of them, in a temporary folder) before anything is timed; ``teardown`` removes them.

Reads come from the page cache once the files are written: this measures the cost of the calls and the copies,
not a disk. Where the files live can be set with ``IOBENCH_FILES_DIR``."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import aiofiles

FILES = 100
SIZE = 1 << 20
_FOLDER: list[Path] = []
"""The folder ``setup`` made (the threads' callable reads from it too)."""


def _path(i: int) -> Path:
    return _FOLDER[0] / f"{i % FILES:03d}.bin"


async def make_files() -> Path:
    """Write the files the tasks read, before any timed run."""
    folder = Path(tempfile.mkdtemp(prefix="iobench-files-", dir=os.environ.get("IOBENCH_FILES_DIR")))
    block = os.urandom(SIZE)
    for i in range(FILES):
        (folder / f"{i:03d}.bin").write_bytes(block)
    _FOLDER[:] = [folder]
    return folder


async def remove_files(folder: Path) -> None:
    """Remove them after the scenario."""
    shutil.rmtree(folder, ignore_errors=True)
    _FOLDER.clear()


async def read(i: int, folder: Path) -> int:
    """One task: read one file whole with aiofiles."""
    async with aiofiles.open(folder / f"{i % FILES:03d}.bin", "rb") as f:
        return len(await f.read())


def read_sync(i: int) -> int:
    """One task in a worker thread: read one file whole."""
    with open(_path(i), "rb") as f:
        return len(f.read())
