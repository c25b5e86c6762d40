"""Failures kept in the exceptions' own words, bounded in length and in count; connections counted from the start
of the run's clock."""

from __future__ import annotations

import asyncio

import pytest

from bench.limits import MAX_FAILURE_MESSAGES, MAX_MESSAGE_CHARS
from bench.run.recording import OTHER_MESSAGES, Recorder, describe_failure
from bench.strategies import TaskFailed
from bench.targets.clients.base import Answer


class MaxConnectionsError(ConnectionError):
    """redis-py's, by name."""


def test_a_failure_is_its_type_and_message_on_one_line() -> None:
    assert describe_failure(MaxConnectionsError("Too many connections")) == "MaxConnectionsError: Too many connections"
    assert describe_failure(RuntimeError("line one\n   line two")) == "RuntimeError: line one line two"
    assert describe_failure(KeyError()) == "KeyError"
    assert describe_failure(TimeoutError()) == "TimeoutError: no answer before the task's deadline (timeout_s)"


def test_a_long_message_is_cut_with_an_ellipsis() -> None:
    text = describe_failure(ValueError("x" * 5000))
    assert len(text) == MAX_MESSAGE_CHARS and text.endswith("…") and text.startswith("ValueError: xxx")


def _run(n: int, op: object) -> Recorder:
    recorder = Recorder(n, fail_on_status=True)
    task = recorder.task_fn(op)  # type: ignore[arg-type]

    async def main() -> None:
        recorder.begin()
        await asyncio.gather(*(task(i) for i in range(n)), return_exceptions=True)

    asyncio.run(main())
    return recorder


def test_each_task_keeps_its_message_and_the_distinct_ones_are_bounded() -> None:
    async def op(i: int) -> Answer:
        if i % 2:
            return 503, 0, None
        raise OSError(f"failure number {i}")

    n = 4 * MAX_FAILURE_MESSAGES
    recorder = _run(n, op)
    assert len(recorder.messages) == MAX_FAILURE_MESSAGES + 1 and recorder.messages[-1] == OTHER_MESSAGES
    assert recorder.messages[recorder.message[1]] == "HTTP 503"
    assert recorder.messages[recorder.message[0]] == "OSError: failure number 0"
    assert all(recorder.message[i] >= 0 for i in range(n))  # every failed task points at a message
    kept = {recorder.messages[recorder.message[i]] for i in range(n)}
    assert OTHER_MESSAGES in kept and len(kept) == MAX_FAILURE_MESSAGES + 1


def test_task_failed_carries_the_words() -> None:
    async def op(i: int) -> Answer:
        raise MaxConnectionsError("Too many connections")

    recorder = Recorder(1, fail_on_status=True)

    async def main() -> None:
        recorder.begin()
        await recorder.task_fn(op)(0)

    with pytest.raises(TaskFailed, match="MaxConnectionsError: Too many connections"):
        asyncio.run(main())
    assert recorder.error == ["connection"]


def test_connections_count_from_the_start_of_the_clock() -> None:
    recorder = Recorder(1, fail_on_status=True)
    recorder.opened()  # the warm-up's
    recorder.begin()
    recorder.opened()
    recorder.opened()  # a reconnect
    assert recorder.connections == 2


def test_a_task_awaited_in_the_strategys_own_coroutine_leaves_no_index_behind() -> None:
    """sequential awaits its tasks in its own coroutine, in the context of the loop's runner, which the next run on
    that loop shares (another scenario's, with fewer tasks): the task index must not outlive the task."""

    async def op(i: int) -> Answer:
        return 200, 0, None

    with asyncio.Runner() as runner:
        first = Recorder(40, fail_on_status=True)
        task = first.task_fn(op)

        async def sequential() -> None:
            first.begin()
            for i in range(40):
                await task(i)

        runner.run(sequential())
        second = Recorder(40, fail_on_status=True)

        async def outside_a_task() -> None:
            second.begin()
            second.connected()  # a connector's stamp outside any task: nothing to stamp

        runner.run(outside_a_task())
    assert second.start == [-1] * 40
