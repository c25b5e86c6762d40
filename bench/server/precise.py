"""Sleep until a deadline within about 0.1 ms on asyncio and on uvloop, without blocking the event loop.

    sleeper = PreciseSleeper(margin_ns=200_000)               # one per event loop
    await sleeper.sleep_until(time.perf_counter_ns() + 400_000)
    sleeper.close()

Why: the loops' own timers cannot do it. uvloop (libuv) keeps timers in whole milliseconds and rounds the
delay (0.4 ms becomes 0, 2.5 ms becomes 2) against a clock read once per loop iteration, so it wakes up to
about 1 ms early or late; asyncio rounds the selector's timeout up to a whole millisecond, so it wakes about
1 ms late, more on a busy machine.

How: on Linux a timerfd sits in the loop's own poll (``add_reader``, the same on both loops), armed to
the microsecond for ``margin`` before the earliest deadline: the loop wakes once, with no thread and no GIL
hand-over (elsewhere a timer thread does it through ``call_soon_threadsafe``; it costs a second wake-up, and
the server process shortens the interpreter's switch interval so a busy loop hands it the GIL quickly). The
woken waiter joins one shared spinner task for the last stretch: it checks ``time.perf_counter_ns`` once per
loop iteration, wakes every waiter whose deadline has passed and yields with ``await asyncio.sleep(0)``; the
loop keeps polling sockets (with a zero timeout) on every iteration, so other requests progress while it spins.

The cost, and why it is bounded: while a waiter is within its window the loop never blocks, so the server
process uses a whole core. Spinning after the loop's own timer would need a window of 1.5-2 ms (its lateness
and rounding): at 2.5 ms delays that is most of each request, and on a 2-core machine it takes the CPU the
client being measured needs (measured here: the client's round trips got several ms slower). The precise
wake-up makes the window ``margin`` (200 us by default: the wake-up's usual lateness, measured at 40-130 us
on a busy 2-core machine), about a tenth of that. There is one spinner however many requests wait: 1,000
requests due at once cost one extra callback per iteration, not 1,000, plus their own wake-ups; the spinning
share of time is about min(1, requests per second x margin) for spread-out deadlines and one margin per
burst of simultaneous ones. What no design here can buy is CPU the machine does not give: when other
processes hold every core, wake-ups come milliseconds late whatever the mechanism. ``spin_ns`` and
``late_wakeups`` measure the cost and the misses (the server's ``/stats`` serves them); a margin of 0 turns
all this off: the loop's timer alone, as imprecise as described above.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import heapq
import itertools
import os
import sys
import threading
import time

DEFAULT_MARGIN_NS = 200_000
"""Spin window: the precise wake-up's usual lateness, with room to spare."""
_PR_SET_TIMERSLACK = 29  # prctl(2): the calling thread's timer slack, in ns (Linux; default 50 us)


def _tighten_timer_slack() -> None:
    """Ask Linux to wake this thread's timed waits within 1 us rather than its default 50 us."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_TIMERSLACK, 1, 0, 0, 0)


def _wake(woken: list[asyncio.Future[None]]) -> None:
    """On the loop: resolve the futures the timer thread found due (a cancelled one is skipped)."""
    for future in woken:
        if not future.done():
            future.set_result(None)


class _TimerThread:
    """A daemon thread that resolves loop futures at ``perf_counter_ns`` times, through ``call_soon_threadsafe``."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._due: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="iobench-precise-timer", daemon=True)
        self._thread.start()

    def wake_at(self, when_ns: int, future: asyncio.Future[None]) -> None:
        """Resolve ``future`` on its loop at ``when_ns`` or just after."""
        with self._changed:
            heapq.heappush(self._due, (when_ns, next(self._order), future))
            if self._due[0][2] is future:  # a new earliest deadline: the thread waits too long otherwise
                self._changed.notify()

    def close(self) -> None:
        """Stop the thread (it resolves nothing more)."""
        with self._changed:
            self._closed = True
            self._changed.notify()
        self._thread.join(1.0)

    def _run(self) -> None:
        _tighten_timer_slack()
        with self._changed:
            while not self._closed:
                if not self._due:
                    self._changed.wait()
                    continue
                now = time.perf_counter_ns()
                if self._due[0][0] > now:
                    self._changed.wait((self._due[0][0] - now) / 1e9)
                    continue
                woken = []
                while self._due and self._due[0][0] <= now:
                    woken.append(heapq.heappop(self._due)[2])
                try:
                    self._loop.call_soon_threadsafe(_wake, woken)
                except RuntimeError:  # the loop is closed: nothing left to wake
                    return


class _Timespec(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long))


class _Itimerspec(ctypes.Structure):
    _fields_ = (("it_interval", _Timespec), ("it_value", _Timespec))


_CLOCK_MONOTONIC = 1  # the clock of time.perf_counter_ns on Linux
_TFD_TIMER_ABSTIME = 1
_TFD_FLAGS = os.O_NONBLOCK | os.O_CLOEXEC  # TFD_NONBLOCK and TFD_CLOEXEC share these values


class _TimerFd:
    """A Linux timerfd in the loop's own poll: it wakes the loop at ``perf_counter_ns`` times, to the microsecond.

    One wake-up (the loop's), no thread and no GIL hand-over. ``OSError`` from the constructor where there is none.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        fd = self._libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_FLAGS)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        self._fd: int = fd
        self._loop = loop
        self._due: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._armed_ns = 0
        loop.add_reader(fd, self._fire)

    def wake_at(self, when_ns: int, future: asyncio.Future[None]) -> None:
        """Resolve ``future`` at ``when_ns`` or just after."""
        heapq.heappush(self._due, (when_ns, next(self._order), future))
        if self._due[0][2] is future:
            self._arm(when_ns)

    def close(self) -> None:
        """Leave the loop's poll and close the descriptor."""
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self._fd)
        os.close(self._fd)

    def _arm(self, when_ns: int) -> None:
        spec = _Itimerspec()
        spec.it_value.tv_sec, spec.it_value.tv_nsec = divmod(max(when_ns, 1), 1_000_000_000)
        if self._libc.timerfd_settime(self._fd, _TFD_TIMER_ABSTIME, ctypes.byref(spec), None) != 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")
        self._armed_ns = when_ns

    def _fire(self) -> None:
        with contextlib.suppress(BlockingIOError):  # re-armed since it fired: nothing to read
            os.read(self._fd, 8)
        now = time.perf_counter_ns()
        woken = []
        while self._due and self._due[0][0] <= now:
            woken.append(heapq.heappop(self._due)[2])
        _wake(woken)
        if self._due:
            self._arm(self._due[0][0])


def _make_timer(loop: asyncio.AbstractEventLoop) -> _TimerFd | _TimerThread:
    """A timerfd in the loop's poll on Linux; a timer thread elsewhere."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            _tighten_timer_slack()  # the loop's thread: its poll timeouts get 1 us slack, not 50 us
            return _TimerFd(loop)
    return _TimerThread(loop)


class PreciseSleeper:
    """Sleeps to a deadline on ``time.perf_counter_ns``: a timer thread until ``margin`` before it, then a spin."""

    def __init__(self, margin_ns: int = DEFAULT_MARGIN_NS) -> None:
        if margin_ns < 0:
            raise ValueError(f"margin_ns must be 0 or more, got {margin_ns}")
        self.margin_ns = margin_ns
        """How long before the deadline the timer thread wakes the loop to spin; 0: the loop's timer alone."""
        self.spin_ns = 0
        """Total time the spinner ran (the loop never blocked), since creation or ``reset_counters``."""
        self.late_wakeups = 0
        """Waiters woken after their deadline itself: the margin did not cover the wake-up's lateness."""
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._spinner: asyncio.Task[None] | None = None
        self._timer: _TimerFd | _TimerThread | None = None

    def reset_counters(self) -> None:
        """Zero ``spin_ns`` and ``late_wakeups``."""
        self.spin_ns = 0
        self.late_wakeups = 0

    def close(self) -> None:
        """Stop the timer thread, if one was started."""
        if self._timer is not None:
            self._timer.close()
            self._timer = None

    async def sleep_until(self, deadline_ns: int) -> None:
        """Return at ``deadline_ns`` (``time.perf_counter_ns``) or just after; at once if it has passed."""
        if time.perf_counter_ns() >= deadline_ns:
            return
        if not self.margin_ns:  # the loop's timer alone
            await asyncio.sleep((deadline_ns - time.perf_counter_ns()) / 1e9)
            return
        loop = asyncio.get_running_loop()
        if deadline_ns - self.margin_ns > time.perf_counter_ns():
            if self._timer is None:
                self._timer = _make_timer(loop)
            woken: asyncio.Future[None] = loop.create_future()
            self._timer.wake_at(deadline_ns - self.margin_ns, woken)
            await woken
            if time.perf_counter_ns() >= deadline_ns:
                self.late_wakeups += 1
                return
        finish: asyncio.Future[None] = loop.create_future()
        heapq.heappush(self._waiting, (deadline_ns, next(self._order), finish))
        if self._spinner is None or self._spinner.done():
            self._spinner = loop.create_task(self._spin())
        await finish

    async def _spin(self) -> None:
        """Wake each waiter once its deadline has passed; yield to the loop in between; end when none wait."""
        began = time.perf_counter_ns()
        try:
            while self._waiting:
                now = time.perf_counter_ns()
                while self._waiting and self._waiting[0][0] <= now:
                    finish = heapq.heappop(self._waiting)[2]
                    if not finish.done():  # a cancelled waiter (the client went away) is simply dropped
                        finish.set_result(None)
                if self._waiting:
                    await asyncio.sleep(0)
        finally:
            self.spin_ns += time.perf_counter_ns() - began
