"""How a command stops: SIGINT and SIGTERM turned into an interrupt the runner saves after, a closed stdout
(``iobench run | head``) turned into a quiet stop, and the exit code each one gives.

    previous = install_signal_handlers()   # SIGTERM stops a run the way Ctrl-C does
    ... except KeyboardInterrupt: return interrupt_code()   # 130 after SIGINT, 143 after SIGTERM
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType
from typing import Any

from rich.console import Console

EXIT_SIGINT = 130
"""Exit code after SIGINT (Ctrl-C): 128 + 2, as a shell reports a process killed by it."""
EXIT_SIGTERM = 143
"""Exit code after SIGTERM: 128 + 15."""
EXIT_PIPE = 141
"""Exit code when stdout's reader went away (``iobench run | head``): 128 + SIGPIPE, as ``yes | head`` gives."""


class StdoutClosed(KeyboardInterrupt):
    """Stdout's reader went away: stop like an interrupt (the runner saves what finished), then exit quietly."""


_signals_received: list[int] = []


def silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's last flush cannot fail on the closed pipe."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)


class PipeAwareConsole(Console):
    """A rich Console that turns a closed stdout into StdoutClosed (rich's own answer is exit code 1)."""

    def on_broken_pipe(self) -> None:
        """Silence stdout and stop the command."""
        self.quiet = True
        silence_stdout()
        raise StdoutClosed


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM stops the run the way Ctrl-C does (asyncio's runner cancels the running strategy cleanly)."""
    _signals_received.append(signum)
    signal.raise_signal(signal.SIGINT)


def install_signal_handlers() -> dict[int, Any]:
    """Handle SIGINT and SIGTERM explicitly, even when SIGINT was ignored at start (bash background jobs)."""
    del _signals_received[:]
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _on_sigterm)
    return previous


def interrupt_code() -> int:
    """130 after SIGINT, 143 after SIGTERM."""
    return EXIT_SIGTERM if signal.SIGTERM in _signals_received else EXIT_SIGINT
