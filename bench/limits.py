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
