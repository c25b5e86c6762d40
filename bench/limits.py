"""One definition of every limit iobench enforces; the schema, the planner, the server and the plugin read them here.

>>> from bench.limits import MAX_DELAY_MS
>>> MAX_DELAY_MS / 1000 == MAX_DELAY_S
True
"""

from __future__ import annotations

MAX_DELAY_MS = 60_000.0
"""Longest delay of one task, in milliseconds: the scenario refuses longer ones and the local server too."""
MAX_DELAY_S = MAX_DELAY_MS / 1000
"""``MAX_DELAY_MS`` in seconds, as the server reads durations; also how long a ``hang`` fault holds a request."""
MAX_BYTES = 100 * 1024 * 1024
"""Largest response body, in bytes, a scenario may ask for and the local server sends."""
MAX_TASKS = 100_000
"""Largest task count of one point; beyond this a single client process is the bottleneck, not the I/O."""
MAX_REPEATS = 1000
"""Most measured rounds per task count, fixed or adaptive."""
MAX_WARMUP = 100
"""Most warm-up rounds per task count."""
MAX_PROCESSES = 64
"""Most client processes a scenario may spread its tasks over."""
MAX_BUDGET_S = 3600.0
"""Longest time budget of adaptive repeats per task count, in seconds."""
MAX_TIMEOUT_S = 3600.0
"""Longest per-task timeout, in seconds."""
MAX_FAILURE_MESSAGES = 20
"""Distinct failure messages kept per run; the tasks beyond them share one last entry that says so."""
MAX_MESSAGE_CHARS = 300
"""Longest failure message kept, in characters (the rest is cut, with an ellipsis)."""
MAX_STRATEGIES = 64
"""Most strategies in one scenario: the balanced round order (a Williams square) is n x n, so 20,000 strategies took
5 GB before a single request."""
MAX_TASK_COUNTS = 64
"""Most task counts in one scenario's sweep (each listed once)."""
MAX_SAMPLES = 5_000_000
"""Most task runs one scenario may record (task counts x strategies x the most rounds it can run): each keeps its
samples in memory (about 230 bytes: 5,000,000 are about 1.1 GB) and in the results file (about 45 bytes) until the
scenario is saved."""
MAX_SCENARIO_BYTES = 256 * 1024
"""Largest scenario file, in bytes (the shipped ones are under 2 KB; PyYAML's pure-Python parser, the one that
words errors best, reads about 60 KB a second on a busy machine)."""
MAX_TEXT = 10_000
"""Longest free text in a scenario (``description``), in characters."""
MAX_URL = 8192
"""Longest URL, in characters (what common servers accept in a request line)."""
MAX_NAME = 512
"""Longest dotted name (``package.module:function``, a plugin module), in characters."""
MAX_PLUGINS = 64
"""Most plugin modules one scenario may name."""
