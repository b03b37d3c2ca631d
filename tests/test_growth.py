"""Growth: what a pending call leaves in the game process, and the queue's plain fast path.

A game may have thousands of calls pending; each object a pending call
holds is one more for the garbage collector to scan on every full
collection, so a call made with a function (or an object with
``success``/``error``) callback holds one object only: its Task.
"""

from __future__ import annotations

import gc

from helpers import block_until

import pygame_async
from pygame_async._core.call_queue import CallQueue
from pygame_async._core.definitions import Definition
from pygame_async._core.task import Task

CALLS = 2_000
ATTEMPTS = 3  # of CALLS calls each: another thread's objects alive meanwhile only ever add


class Handlers:
    """A callback object with both functions, as a game's loader might pass."""

    def __init__(self) -> None:
        self.values: list[int] = []
        self.errors: list[BaseException] = []

    def success(self, value: int) -> None:
        self.values.append(value)

    def error(self, exception: BaseException) -> None:
        self.errors.append(exception)


def _tracked_per_call(make_call: object) -> float:
    """Objects the collector tracks, per call, that CALLS calls add (and keep, pending).

    The fewest of ``ATTEMPTS``: the count is of the whole process, where an
    object another thread (a test's before, the pool's own) holds at that
    moment only ever adds to it.
    """
    assert callable(make_call)
    fewest = float("inf")
    for _ in range(ATTEMPTS):
        gc.collect()
        before = len(gc.get_objects())
        tasks = [make_call(index) for index in range(CALLS)]
        gc.collect()
        added = len(gc.get_objects()) - before - 1  # the list of tasks itself
        assert len(tasks) == CALLS
        fewest = min(fewest, added / CALLS)
    return fewest


def test_a_pending_call_holds_its_task_and_nothing_else(pool: pygame_async.Pool, tmp_path) -> None:
    gate = tmp_path / "gate"
    pool.define("block_until", block_until)
    add = pool.define("add", lambda x: x + 1)
    holders = [pool.call(None, "block_until", str(gate)) for _ in range(2)]
    received: list[int] = []
    handlers = Handlers()

    deliver = received.append  # one bound method for every call, as a game would keep it
    assert _tracked_per_call(lambda i: add(deliver, i)) < 1.1
    assert _tracked_per_call(lambda i: add(handlers, i)) < 1.1
    assert pool.get_pending_count() == 2 + 2 * ATTEMPTS * CALLS

    gate.touch()
    assert pool.wait(60)
    every = sorted(list(range(1, CALLS + 1)) * ATTEMPTS)
    assert sorted(received) == every
    assert sorted(handlers.values) == every
    assert handlers.errors == []
    assert all(holder.result(0) == str(gate) for holder in holders)


def test_an_object_callback_still_gets_errors_and_a_bad_one_fails_at_the_call(
    pool: pygame_async.Pool,
) -> None:
    pool.define("fail", lambda: 1 / 0)
    first, second = Handlers(), Handlers()
    pool.call(first, "fail")
    pool.call(second, "fail")  # a second object of the type takes the shortcut
    assert pool.wait(60)
    assert [type(e) for e in first.errors + second.errors] == [ZeroDivisionError] * 2

    class Broken:
        success = 3

    for _ in range(2):  # the type is known the second time, the check is the same
        try:
            pool.call(Broken(), "fail")
        except TypeError as exc:
            assert "'success' must be a function" in str(exc)
        else:
            raise AssertionError("a callback whose success is not callable was accepted")
    assert pool.get_pending_count() == 0


def test_the_queue_knows_when_priority_zero_is_its_only_bucket() -> None:
    definition = Definition(1, "add", None)
    high, plain, low = (Task(None, i, definition, None, None) for i in (1, 2, 3))  # type: ignore[arg-type]
    high.priority, low.priority = 5, -1
    queue = CallQueue()
    assert queue.zero_only
    queue.push(high)
    assert not queue.zero_only
    queue.push(plain)
    queue.push(low)
    assert [queue.pop_next() for _ in range(2)] == [high, plain]
    assert not queue.zero_only  # -1's bucket is still there
    assert queue.pop_next() is low
    assert queue.zero_only
    queue.push(low)
    queue.remove(low)
    assert queue.zero_only
    queue.push(high)
    assert queue.take_all() == [high]
    assert queue.zero_only
