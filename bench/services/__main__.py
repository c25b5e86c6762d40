"""``python -m bench.services run [FOLDER] [-- IOBENCH RUN OPTIONS]`` (``make bench-real``): the recipes of
``scenarios/real/`` against real services started here.

Each subfolder of FOLDER named after a service (postgres, redis, nginx) runs only when that service can start
(its Debian package installed); the others (files, subprocess) need nothing. The services start on 127.0.0.1 with
data folders of their own, their addresses in the environment (``IOBENCH_PG_DSN``, ...), and are stopped after.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from bench.services import SERVICES, Unavailable


def recipes(folder: Path) -> list[tuple[str | None, list[Path]]]:
    """The scenario files of each subfolder (or of ``folder`` itself), with the service it needs (None for none)."""
    found = []
    subfolders = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))
    for sub in [folder, *subfolders]:
        files = sorted(p for p in sub.iterdir() if p.suffix in (".yaml", ".yml"))
        if files:
            found.append((sub.name if sub.name in SERVICES else None, files))
    return found


def main(argv: list[str]) -> int:
    """Start the services the recipes need, run them with ``iobench run``, stop the services."""
    parser = argparse.ArgumentParser(prog="python -m bench.services", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["run"])
    parser.add_argument("folder", nargs="?", default="scenarios/real", type=Path)
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="options for iobench run, after --")
    args = parser.parse_args(argv)
    from bench.cli import main as iobench

    work = Path(tempfile.mkdtemp(prefix="iobench-services-"))
    files: list[Path] = []
    try:
        with contextlib.ExitStack() as stack:
            for service, paths in recipes(args.folder):
                if service is not None:
                    try:
                        running = stack.enter_context(SERVICES[service].start(work / service))
                    except Unavailable as exc:
                        print(f"iobench: skipped {', '.join(p.name for p in paths)}: {exc}", file=sys.stderr)
                        continue
                    os.environ.update(running.env)
                    print(f"iobench: {service} on 127.0.0.1:{running.port} (pid {running.pid})", file=sys.stderr)
                files += paths
            if not files:
                print("iobench: no recipe can run here", file=sys.stderr)
                return 2
            rest = [a for a in args.rest if a != "--"]
            return iobench(["run", *map(str, files), *rest])
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
