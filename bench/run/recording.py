"""Per-task recording for one run: column buffers, and the task functions that fill them around an operation.

    recorder = Recorder(n, fail_on_status=True)
    task = recorder.task_fn(op)            # task(i) stamps creation; awaiting it stamps start and end
    ...                                    # the timed run
    samples = recorder.samples()           # frozen, after the clock stopped

Inside the timed region a task only reads the clock and stores integers and the raw answer; everything derived
(service times parsed from headers, peaks of in-flight and waiting tasks, error counts) is computed afterwards,
so the timed region costs the same for every strategy, on a terminal and in CI.

Three instants per task (ns after the run's start): ``created`` when the strategy created it, ``start`` when its
I/O began (for HTTP: when the connector handed it a connection, so semaphore, pool and connector waits all fall
before it), ``end`` when it ended. Latency is end - created, wait is start - created.
"""

from __future__ import annotations

import asyncio
import contextvars
import http.client
import threading
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bench.limits import MAX_FAILURE_MESSAGES, MAX_MESSAGE_CHARS
from bench.results.records import Samples
from bench.strategies import TaskFailed, TaskFn
from bench.targets.clients.base import Answer, AsyncOp, SyncOp

_CURRENT: contextvars.ContextVar[int] = contextvars.ContextVar("iobench_task", default=-1)
"""The index of the task running in this context: lets a connector stamp the moment its request got a connection."""


def error_kind(exc: BaseException) -> str:
    """The error kind recorded for an exception raised by an operation."""
    if isinstance(exc, TimeoutError):  # asyncio.TimeoutError and socket.timeout are TimeoutError since 3.11
        return "timeout"
    if isinstance(exc, aiohttp.ClientPayloadError | http.client.IncompleteRead):
        return "payload"
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError | http.client.RemoteDisconnected):
        return "connection"
    if isinstance(exc, aiohttp.ClientError | http.client.HTTPException | OSError):
        return "client"
    return "exception"


OTHER_MESSAGES = f"(more than {MAX_FAILURE_MESSAGES} distinct messages; the rest are counted here)"
"""The message the tasks beyond the kept ones share."""


def describe_failure(exc: BaseException) -> str:
    """An exception in its own words: ``MaxConnectionsError: Too many connections``, cut to MAX_MESSAGE_CHARS.

    >>> describe_failure(ConnectionRefusedError(111, "Connection refused"))
    'ConnectionRefusedError: [Errno 111] Connection refused'
    """
    words = " ".join(str(exc).split())
    if not words and isinstance(exc, TimeoutError):
        words = "no answer before the task's deadline (timeout_s)"
    text = f"{type(exc).__name__}: {words}" if words else type(exc).__name__
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def peak_overlap(begins: Iterable[int], ends: Iterable[int]) -> int:
    """Most intervals [begin, end) open at once; pairs with a negative end are ignored.

    >>> peak_overlap([0, 1, 2], [3, 2, 5])
    2
    """
    events = []
    for b, e in zip(begins, ends, strict=True):
        if b >= 0 and e >= 0 and e > b:
            events.append((b, 1))
            events.append((e, -1))
    events.sort()  # an end (-1) sorts before a begin (+1) at the same instant: touching intervals do not overlap
    peak = current = 0
    for _, step in events:
        current += step
        peak = max(peak, current)
    return peak


@dataclass(frozen=True)
class Counts:
    """How the tasks of one run ended."""

    finished: int
    failed: int
    cancelled: int
    not_started: int

    @classmethod
    def of(cls, errors: Sequence[str]) -> Counts:
        """From a run's error column: '' finished, 'cancelled', 'not_started', anything else failed."""
        finished, cancelled, not_started = errors.count(""), errors.count("cancelled"), errors.count("not_started")
        return cls(finished, len(errors) - finished - cancelled - not_started, cancelled, not_started)


class Recorder:
    """Column buffers for one run's tasks, and the task functions that fill them."""

    def __init__(self, n: int, fail_on_status: bool) -> None:
        self.created = [-1] * n
        self.entered = [-1] * n
        """When the task's operation began (after any semaphore or pool slot); not saved: it only tells connector
        waits apart (entered to start) from the others."""
        self.start = [-1] * n
        self.end = [-1] * n
        self.status = [0] * n
        self.nbytes = [0] * n
        self.timing: list[str | None] = [None] * n
        self.error = ["not_started"] * n
        self.message = [-1] * n
        """Each failed task's message, as an index into ``messages`` (-1: none)."""
        self.messages: list[str] = []
        """The distinct failure messages of the run, in the words of the exception (``describe_failure``)."""
        self._index: dict[str, int] = {}
        self._lock = threading.Lock()
        self.connections = 0
        """Connections the client opened since the run's clock started (reconnects included)."""
        self.fail_on_status = fail_on_status
        self.t0 = 0

    def reset(self) -> None:
        """Empty the buffers, in place, for another run over the same operation (the pytest plugin's rounds)."""
        n = len(self.error)
        self.created[:], self.entered[:], self.start[:], self.end[:] = [-1] * n, [-1] * n, [-1] * n, [-1] * n
        self.status[:], self.nbytes[:], self.timing[:] = [0] * n, [0] * n, [None] * n
        self.error[:], self.message[:] = ["not_started"] * n, [-1] * n
        self.messages.clear()
        self._index.clear()
        self.connections = 0

    def begin(self) -> None:
        """Start the run's clock: every instant is recorded relative to this one."""
        self.t0 = time.perf_counter_ns()

    def elapsed(self) -> int:
        """ns since ``begin``."""
        return time.perf_counter_ns() - self.t0

    def connected(self) -> None:
        """The running task's I/O starts now: its request got a connection (the HTTP client says so), or the user's
        code said so (``bench.targets.io_starts``, after it waited for a pool or a lock)."""
        i = _CURRENT.get()
        if 0 <= i < len(self.start):
            self.start[i] = time.perf_counter_ns() - self.t0

    def opened(self) -> None:
        """The client opened a connection: counted once the run's clock has started (the warm-up's are not)."""
        if self.t0:
            self.connections += 1

    def _note(self, i: int, text: str) -> None:
        """Keep task i's failure message: one entry per distinct message, at most MAX_FAILURE_MESSAGES of them."""
        with self._lock:
            index = self._index.get(text)
            if index is None:
                if len(self.messages) >= MAX_FAILURE_MESSAGES:
                    text = OTHER_MESSAGES
                    index = self._index.get(text)
                if index is None:
                    index = self._index[text] = len(self.messages)
                    self.messages.append(text)
            self.message[i] = index

    def _settle(self, i: int, answer: Answer) -> None:
        """Record task i's answer; a status of 400 or more fails it when the target says so."""
        self.status[i], self.nbytes[i], self.timing[i] = answer
        if self.fail_on_status and answer[0] >= 400:
            self.error[i] = "http_status"
            self._note(i, f"HTTP {answer[0]}")
            raise TaskFailed(f"task {i}: HTTP {answer[0]}")
        self.error[i] = ""

    def _failed(self, i: int, exc: Exception) -> TaskFailed:
        """Record why task i failed, in the exception's own words, and return the TaskFailed to raise instead."""
        self.error[i] = error_kind(exc)
        text = describe_failure(exc)
        self._note(i, text)
        return TaskFailed(f"task {i}: {text}")

    def task_fn(self, op: AsyncOp) -> TaskFn:
        """``task(i)``: stamp creation now; when awaited, run op(i) and record it, raising TaskFailed on failure."""
        created, entered, start, end, error = self.created, self.entered, self.start, self.end, self.error
        clock = time.perf_counter_ns

        async def body(i: int) -> None:
            entered[i] = start[i] = clock() - self.t0  # the connector moves start to when it handed a connection
            # reset after: a strategy that awaits tasks in its own coroutine (sequential) runs them in the context
            # of the loop's runner, which the next run on that loop (another scenario's) shares
            token = _CURRENT.set(i)
            try:
                self._settle(i, await op(i))
            except asyncio.CancelledError:
                error[i] = "cancelled"
                raise
            except TaskFailed:
                raise
            except Exception as exc:
                raise self._failed(i, exc) from exc
            finally:
                end[i] = clock() - self.t0
                _CURRENT.reset(token)

        def task(i: int) -> Coroutine[Any, Any, None]:
            created[i] = clock() - self.t0
            return body(i)

        return task

    def sync_task_fn(self, op: SyncOp) -> _SyncTask:
        """The blocking twin of ``task_fn``, safe to call from many threads."""
        return _SyncTask(self, op)

    def counts(self) -> Counts:
        """How the tasks ended, from the error column."""
        return Counts.of(self.error)

    def peak_inflight(self) -> int:
        """Most tasks doing I/O at once (between their start and end)."""
        return peak_overlap(self.start, self.end)

    def peak_waiting(self) -> int:
        """Most tasks created but not yet started at once (waiting for a semaphore, a thread or a connection)."""
        starts = [s if s >= 0 else e for s, e in zip(self.start, self.end, strict=True)]
        return peak_overlap(self.created, starts)

    def peak_connecting(self) -> int:
        """Most tasks waiting for a pooled connection at once: their request was made, no connection yet."""
        starts = [s if s >= 0 else e for s, e in zip(self.start, self.end, strict=True)]
        return peak_overlap(self.entered, starts)

    def samples(self, service_us: Callable[[str | None], int] = lambda _: -1) -> Samples:
        """Freeze the buffers, reading each answer's service time with ``service_us`` (the driver's own)."""
        return Samples(
            created_ns=tuple(self.created),
            start_ns=tuple(self.start),
            end_ns=tuple(self.end),
            status=tuple(self.status),
            nbytes=tuple(self.nbytes),
            error=tuple(self.error),
            service_us=tuple(service_us(t) for t in self.timing),
            message=tuple(self.message),
        )


class _SyncTask:
    """``task(i)`` for worker threads; ``create`` stamps creation as the strategy hands indices to its pool."""

    def __init__(self, recorder: Recorder, op: SyncOp) -> None:
        self.recorder = recorder
        self.op = op
        self.lock = threading.Lock()
        self._running = 0
        self._idle = threading.Condition()

    def wait_idle(self, timeout_s: float) -> bool:
        """Wait until no task is running in a worker thread (after a failure, the pool's other threads finish the
        tasks they had begun); False if some still run after ``timeout_s``."""
        with self._idle:
            return self._idle.wait_for(lambda: self._running == 0, timeout=timeout_s)

    def create(self, indices: Iterable[int]) -> Iterator[int]:
        """Yield ``indices``, stamping each task's creation as it is handed out."""
        created, clock, t0 = self.recorder.created, time.perf_counter_ns, self.recorder.t0
        for i in indices:
            created[i] = clock() - t0
            yield i

    def __call__(self, i: int) -> None:
        """Run task i in this thread and record it."""
        rec, clock = self.recorder, time.perf_counter_ns
        if rec.created[i] < 0:  # a strategy that did not go through create(): created when it ran
            rec.created[i] = clock() - rec.t0
        with self._idle:
            self._running += 1
        rec.start[i] = clock() - rec.t0
        token = _CURRENT.set(i)  # this worker thread's context: io_starts() in the user's code finds the task
        try:
            rec._settle(i, self.op(i))
        except TaskFailed:
            raise
        except Exception as exc:
            raise rec._failed(i, exc) from exc
        finally:
            rec.end[i] = clock() - rec.t0
            _CURRENT.reset(token)
            with self._idle:
                self._running -= 1
                self._idle.notify_all()
