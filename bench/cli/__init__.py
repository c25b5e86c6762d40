"""The command line: the only code that prints and exits (``iobench``, ``python -m iobench``)."""

from bench.cli.main import main

__all__ = ["main"]
