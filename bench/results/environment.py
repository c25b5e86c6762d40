"""Where and how results were obtained: this machine, this process, this checkout.

capture_environment(sys.argv)   # Environment(python='3.11.7', cpu_model='...', git_commit='...', ...)
"""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import subprocess
from pathlib import Path

from bench import __version__
from bench.results.records import Environment


def _git_commit() -> str | None:
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def cpu_model() -> str:
    """The processor's model name from /proc/cpuinfo (Linux), else platform.processor(), else ''."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor()


def _uvloop_version() -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("uvloop")
    except PackageNotFoundError:
        return None


def capture_environment(argv: list[str]) -> Environment:
    """Describe this machine and process."""
    import aiohttp

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return Environment(
        iobench=__version__,
        python=platform.python_version(),
        implementation=platform.python_implementation(),
        aiohttp=aiohttp.__version__,
        os=f"{platform.system()} {platform.release()}",
        machine=platform.machine(),
        cpu_model=cpu_model(),
        uvloop=_uvloop_version(),
        cpu_count=os.cpu_count() or 1,
        fd_soft_limit=soft,
        fd_hard_limit=hard,
        git_commit=_git_commit(),
        command_line=tuple(argv),
    )
