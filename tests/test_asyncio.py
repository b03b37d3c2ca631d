"""``await task`` in an asyncio loop, on every lane, with no ``update()``.

Awaiting returns the call's value or raises its exception (remote traceback
and all) and delivers nothing: the task's callback still runs in a later
``update()``.  Each test runs its coroutine with ``asyncio.run`` while the
pool's ``update`` is replaced by one that fails the test, so nothing in it
can lean on a frame.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Generator, Iterator
from concurrent.futures import CancelledError as FuturesCancelledError
from pathlib import Path
from typing import Any

import pytest
from helpers import BOUND, block_until, identity, signal_then_block, stepped_sum
from lanes import STOPS_BETWEEN_STEPS, make_pool, wait_until_in

import pygame_async


def forbid_update(pool: pygame_async.Pool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Make any update() of ``pool`` fail the test, until the monkeypatch is undone."""

    def update(budget: float | None = None) -> int:
        raise AssertionError("awaiting must not need update()")

    monkeypatch.setattr(pool, "update", update)


def run(coroutine: Any) -> Any:
    """Run a coroutine on a fresh loop, bounded: a hang fails the test instead of stalling it."""
    return asyncio.run(asyncio.wait_for(coroutine, BOUND))


@pytest.fixture
def pool(any_pool: pygame_async.Pool) -> Iterator[pygame_async.Pool]:
    """A two-worker pool on each lane with ``identity`` and ``fail`` defined."""

    def fail(message: str) -> None:
        raise ValueError(message)

    any_pool.define("identity", identity)
    any_pool.define("fail", fail)
    yield any_pool


def test_await_returns_the_value_and_the_callback_still_runs_in_update(
    pool: pygame_async.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    delivered: list[object] = []
    task = pool.call(delivered.append, "identity", {"a": 1})
    forbid_update(pool, monkeypatch)

    async def main() -> object:
        return await task

    assert run(main()) == {"a": 1}
    assert delivered == [], "awaiting delivers nothing"
    assert pool.get_pending_count() == 1, "the call waits for update() as before"
    monkeypatch.undo()
    assert pool.update() == 1
    assert delivered == [{"a": 1}]
    assert pool.get_pending_count() == 0


def test_await_raises_the_calls_exception_with_its_remote_traceback(
    pool: pygame_async.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[BaseException] = []
    task = pool.call({"error": errors.append}, "fail", "no path to the goal")
    forbid_update(pool, monkeypatch)

    async def main() -> None:
        await task

    with pytest.raises(ValueError, match="no path to the goal") as info:
        run(main())
    assert isinstance(info.value.__cause__, pygame_async.RemoteTraceback)
    assert "in fail" in str(info.value.__cause__), "the traceback of where it was raised"
    monkeypatch.undo()
    assert pool.wait(timeout=BOUND)
    assert errors == [info.value], "the error callback still gets it, in update()"


def test_gather_awaits_many_calls_and_a_finished_one_returns_at_once(
    pool: pygame_async.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished = pool.call(None, "identity", "early")
    finished.result(timeout=BOUND)
    tasks = [pool.call(None, "identity", i) for i in range(60)]
    forbid_update(pool, monkeypatch)

    async def main() -> tuple[object, list[object]]:
        return await finished, await asyncio.gather(*tasks)

    assert run(main()) == ("early", list(range(60)))
    monkeypatch.undo()
    assert pool.wait(timeout=BOUND)


def test_the_loop_runs_other_coroutines_while_a_call_is_awaited(
    pool: pygame_async.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The call ends only once another coroutine of the same loop has run: a
    # blocked loop would never get there.
    gate = tmp_path / "gate"
    pool.define("block_until", block_until)
    task = pool.call(None, "block_until", str(gate))
    forbid_update(pool, monkeypatch)

    async def open_gate() -> None:
        for _ in range(3):
            await asyncio.sleep(0)
        gate.touch()

    async def main() -> list[object]:
        return await asyncio.gather(task, open_gate())

    assert run(main()) == [str(gate), None]
    monkeypatch.undo()
    assert pool.wait(timeout=BOUND)


def test_awaiting_a_cancelled_call_raises_cancelled_error(
    lane: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with make_pool(lane, 0) as pool:  # no worker: the call stays queued
        pool.define("identity", identity)
        task = pool.call(None, "identity", 1)
        assert task.cancel()
        forbid_update(pool, monkeypatch)

        async def main() -> None:
            await task

        with pytest.raises(asyncio.CancelledError, match="was cancelled"):
            run(main())


def test_a_call_that_raises_futures_cancelled_error_is_not_taken_for_cancelled(
    pool: pygame_async.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def give_up() -> None:
        raise FuturesCancelledError("the call's own")  # an Exception, the call's outcome

    pool.define("give_up", give_up)
    task = pool.call({"error": lambda _: None}, "give_up")
    forbid_update(pool, monkeypatch)

    async def main() -> None:
        await task

    with pytest.raises(FuturesCancelledError, match="the call's own"):
        run(main())
    assert not task.cancelled()
    monkeypatch.undo()
    assert pool.wait(timeout=BOUND)


def start_busy(pool: pygame_async.Pool, tmp_path: Path) -> tuple[pygame_async.Task, Path]:
    """Start a call that runs until ``gate`` exists, once it is running: (its task, gate)."""
    pool.define("signal_then_block", signal_then_block)
    started, gate = tmp_path / "started", tmp_path / "gate"
    running = pool.call(None, "signal_then_block", str(started), str(gate))
    wait_until_in(pool, started.exists)
    return running, gate


async def cancel_while_awaiting(task: pygame_async.Task) -> None:
    """Await ``task`` in an asyncio task, then cancel that asyncio task: it ends cancelled."""
    awaiting = asyncio.ensure_future(task)
    await asyncio.sleep(0)  # it awaits the call now
    assert not awaiting.done()
    awaiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await awaiting


def test_cancelling_the_awaiting_task_cancels_a_call_that_has_not_started(
    lane: str, tmp_path: Path
) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        running, gate = start_busy(pool, tmp_path)
        delivered: list[object] = []
        queued = pool.call(delivered.append, "identity", "never")
        run(cancel_while_awaiting(queued))
        assert queued.cancelled(), "the call itself is cancelled"
        gate.touch()
        assert pool.wait(timeout=BOUND)
        assert delivered == [], "its callback never runs"
        assert running.result(timeout=0) == str(gate)


def test_cancelling_the_awaiting_task_leaves_a_started_call_running(
    lane: str, tmp_path: Path
) -> None:
    # cancel(), never a kill: a started call runs on and is delivered as
    # usual.  Where a generator call stops between two steps (inline),
    # cancel() stops it there, as it does for any caller.
    with make_pool(lane, 1) as pool:
        running, gate = start_busy(pool, tmp_path)
        delivered: list[object] = []
        pool.define("identity", identity)
        watched = pool.call(delivered.append, "identity", "after")
        run(cancel_while_awaiting(running))
        gate.touch()
        assert pool.wait(timeout=BOUND)
        if lane in STOPS_BETWEEN_STEPS:
            assert running.cancelled()
        else:
            assert not running.cancelled()
            assert running.result(timeout=0) == str(gate), "it ran to its end"
        assert watched.result(timeout=0) == "after"
        assert delivered == ["after"]


def test_on_the_inline_lane_the_loop_turns_between_two_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    turns = 0
    seen: list[int] = []  # the loop's turn count at each step of the call

    def steps(count: int) -> Generator[None, None, int]:
        for _ in range(count):
            seen.append(turns)
            yield
        return count

    async def count_turns(task: pygame_async.Task) -> None:
        nonlocal turns
        while not task.done():
            turns += 1
            await asyncio.sleep(0)

    with make_pool("inline", 1) as pool:
        pool.define("steps", steps)
        task = pool.call(None, "steps", 5)
        forbid_update(pool, monkeypatch)

        async def main() -> list[object]:
            return await asyncio.gather(task, count_turns(task))

        assert run(main()) == [5, None]
        assert len(seen) == 5
        assert all(later > earlier for earlier, later in itertools.pairwise(seen)), seen
        monkeypatch.undo()
        assert pool.wait(timeout=BOUND)


def test_a_generator_call_is_awaited_on_every_lane(
    pool: pygame_async.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool.define("stepped_sum", stepped_sum)
    task = pool.call(None, "stepped_sum", 20)
    forbid_update(pool, monkeypatch)

    async def main() -> object:
        return await task

    assert run(main()) == 210
    monkeypatch.undo()
    assert pool.wait(timeout=BOUND)
