"""Scheduling on every lane: priorities, latest-request-wins keys, dependencies, groups."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import CancelledError
from pathlib import Path

import lanes
import pytest
import whitebox
from helpers import BOUND, fail_on_odd, hold_until, identity, signal_then_block, started_at

import pygame_async
from pygame_async import DependencyError, TaskState


def hold_the_only_worker(
    pool: pygame_async.Pool, tmp_path: Path, callback: object = None
) -> tuple[pygame_async.Task, Path]:
    """Start a call that keeps the pool's one worker busy until the returned gate exists."""
    pool.define("signal_then_block", signal_then_block)
    started, gate = tmp_path / "started", tmp_path / "gate"
    task = pool.call(callback, "signal_then_block", str(started), str(gate))
    lanes.wait_until_in(pool, started.exists)
    return task, gate


# -- priorities -----------------------------------------------------------------------------


def test_higher_priority_goes_first_and_equal_ones_in_the_order_made(
    lane: str, tmp_path: Path
) -> None:
    with lanes.make_pool(lane, 1) as pool:
        _, gate = hold_the_only_worker(pool, tmp_path)
        tag = pool.define("identity", identity)
        order: list[str] = []
        for name, priority in [("a", 0), ("b", 5), ("c", 1), ("d", 5), ("e", -2), ("f", 0)]:
            task = tag.options(priority=priority)(order.append, name)
            assert task.priority == priority
        gate.touch()
        assert pool.wait(timeout=BOUND)
        assert order == ["b", "d", "c", "a", "f", "e"]


def test_set_priority_moves_a_queued_call_and_does_nothing_once_it_started(
    lane: str, tmp_path: Path
) -> None:
    with lanes.make_pool(lane, 1) as pool:
        holder, gate = hold_the_only_worker(pool, tmp_path)
        tag = pool.define("identity", identity)
        order: list[str] = []
        tasks = {name: tag(order.append, name) for name in "abc"}
        tasks["c"].set_priority(3)
        tasks["b"].set_priority(3)  # equal priorities: in the order made
        assert tasks["c"].priority == 3
        holder.set_priority(9)  # started: no effect, no error
        assert holder.priority == 0
        gate.touch()
        assert pool.wait(timeout=BOUND)
        assert order == ["b", "c", "a"]
        tasks["a"].set_priority(1)  # finished: no effect, no error
        assert tasks["a"].priority == 0
        with pytest.raises(TypeError, match=r"Task.set_priority\(priority\): priority must be"):
            tasks["a"].set_priority("high")  # type: ignore[arg-type]


def test_options_check_their_arguments_naming_them(any_pool: pygame_async.Pool) -> None:
    tag = any_pool.define("identity", identity)
    with pytest.raises(TypeError, match=r"identity.options\(priority\): priority must be an int"):
        tag.options(priority=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"identity.options\(key\): key must be hashable"):
        tag.options(key=[1, 2])
    with pytest.raises(TypeError, match=r"identity.options\(after\): after must be a Task"):
        tag.options(after=3)
    caller = tag.options(priority=2).options(key="k")  # each options() keeps the others
    assert caller(None, 1).priority == 2
    assert any_pool.wait(timeout=BOUND)


# -- latest-request-wins --------------------------------------------------------------------


def test_replanning_with_keys_delivers_one_path_per_unit_the_last_asked_for(
    any_pool: pygame_async.Pool,
) -> None:
    plan = any_pool.define("plan", lambda unit, request: (unit, request))
    delivered: dict[int, list[int]] = {}
    tasks = []
    for request in range(1000):
        unit = request % 50
        tasks.append(
            plan.options(key=unit)(lambda path: delivered.setdefault(*path), unit, request)
        )
    assert any_pool.wait(timeout=BOUND)
    assert delivered == {unit: 950 + unit for unit in range(50)}, "one path each, the last"
    assert all(task.cancelled() for task in tasks[:950])
    assert not any(task.cancelled() for task in tasks[950:])
    assert any_pool.get_pending_count() == 0


def test_a_stale_path_is_never_delivered_while_the_game_plays_on(
    any_pool: pygame_async.Pool,
) -> None:
    plan = any_pool.define("plan", lambda unit, request: (unit, request))
    latest: dict[int, int] = {}
    stale: list[tuple[int, int]] = []
    last_delivered: dict[int, int] = {}

    def arrive(path: tuple[int, int]) -> None:
        unit, request = path
        if request != latest[unit]:
            stale.append(path)
        last_delivered[unit] = request

    for request in range(1000):
        unit = request % 50
        latest[unit] = request
        plan.options(key=unit)(arrive, unit, request)
        if request % 37 == 0:
            any_pool.update()  # older requests finish, or are delivered, meanwhile
    assert any_pool.wait(timeout=BOUND)
    assert stale == [], "a path asked for before the unit's latest request"
    assert last_delivered == latest


def test_a_superseded_call_that_was_already_running_never_reaches_its_callback(
    lane: str, tmp_path: Path
) -> None:
    with lanes.make_pool(lane, 1) as pool:
        pool.define("signal_then_block", signal_then_block)
        started, gate = tmp_path / "started", tmp_path / "gate"
        blocker = pool.define("signal_then_block", signal_then_block).options(key="unit 7")
        ran: list[object] = []
        stale = blocker(ran.append, str(started), str(gate))
        lanes.wait_until_in(pool, started.exists)
        fresh = blocker(ran.append, str(tmp_path / "again"), str(gate))
        assert stale.cancelled(), "superseded at once"
        gate.touch()
        assert pool.wait(timeout=BOUND)
        assert ran == [str(gate)] and fresh.result(timeout=0) == str(gate)
        with pytest.raises(CancelledError):
            stale.result(timeout=0)


def test_a_finished_call_not_yet_delivered_is_superseded_too(any_pool: pygame_async.Pool) -> None:
    plan = any_pool.define("identity", identity).options(key=("unit", 1))
    delivered: list[object] = []
    stale = plan(delivered.append, "old path")
    assert stale.result(timeout=BOUND) == "old path"  # finished; update() has not run
    plan(delivered.append, "new path")
    assert stale.cancelled()
    assert any_pool.wait(timeout=BOUND)
    assert delivered == ["new path"]


def test_calls_with_other_keys_or_functions_or_no_key_are_independent(
    any_pool: pygame_async.Pool,
) -> None:
    first = any_pool.define("first", identity)
    second = any_pool.define("second", identity)
    delivered: list[object] = []
    first.options(key=1)(delivered.append, "first 1")
    first.options(key=2)(delivered.append, "first 2")
    second.options(key=1)(delivered.append, "second 1")
    first(delivered.append, "no key")
    first(delivered.append, "no key again")
    assert any_pool.wait(timeout=BOUND)
    assert sorted(delivered) == ["first 1", "first 2", "no key", "no key again", "second 1"]


# -- dependencies ---------------------------------------------------------------------------


def test_a_call_after_another_waits_for_it(lane: str, tmp_path: Path) -> None:
    with lanes.make_pool(lane, 2) as pool:
        order: list[object] = []
        holder, gate = hold_the_only_worker(pool, tmp_path, order.append)
        tag = pool.define("identity", identity)
        follower = tag.options(after=holder)(order.append, "after")
        assert follower.state is TaskState.WAITING
        assert pool.update() == 0 and follower.state is TaskState.WAITING
        gate.touch()
        assert pool.wait(timeout=BOUND)
        assert order == [str(gate), "after"]


def test_a_task_argument_is_replaced_by_its_result(any_pool: pygame_async.Pool) -> None:
    any_pool.define("identity", identity)
    any_pool.define("combine", lambda left, right=0: left * 10 + right)
    left = any_pool.call(None, "identity", 4)
    right = any_pool.call(None, "identity", 2)
    combined = any_pool.call(None, "combine", left, right=right)
    assert combined.result(timeout=BOUND) == 42
    chained = any_pool.call(None, "combine", combined, 1)
    assert chained.result(timeout=BOUND) == 421
    assert any_pool.wait(timeout=BOUND)


def test_a_failed_dependency_fails_its_dependents_in_turn(any_pool: pygame_async.Pool) -> None:
    failing = any_pool.define("fail_on_odd", fail_on_odd)
    tag = any_pool.define("identity", identity)
    errors: list[BaseException] = []
    broken = failing({"error": lambda exc: None}, 3)
    child = tag.options(after=broken)({"error": errors.append}, "never")
    grandchild = any_pool.call({"error": errors.append}, "identity", child)
    assert any_pool.wait(timeout=BOUND)
    assert len(errors) == 2 and all(isinstance(error, DependencyError) for error in errors)
    assert errors[0].dependency is broken and isinstance(errors[0].__cause__, ValueError)
    assert "depends on task" in str(errors[0]) and "'fail_on_odd'" in str(errors[0])
    assert errors[1].dependency is child and isinstance(errors[1].__cause__, DependencyError)
    assert grandchild.exception(timeout=0) is errors[1]


def test_cancelling_a_call_fails_the_calls_waiting_for_it(lane: str, tmp_path: Path) -> None:
    with lanes.make_pool(lane, 1) as pool:
        holder, gate = hold_the_only_worker(pool, tmp_path)
        tag = pool.define("identity", identity)
        queued = tag(None, "queued")
        errors: list[BaseException] = []
        waiting = tag.options(after=[queued, holder])({"error": errors.append}, "never")
        assert queued.cancel()
        assert waiting.done() and isinstance(waiting.exception(timeout=0), DependencyError)
        assert isinstance(waiting.exception(timeout=0).__cause__, CancelledError)  # type: ignore[union-attr]
        gate.touch()
        assert pool.wait(timeout=BOUND)
        assert len(errors) == 1


def test_a_waiting_call_can_be_cancelled_and_dependencies_must_be_of_the_pool(
    any_pool: pygame_async.Pool, tmp_path: Path
) -> None:
    tag = any_pool.define("identity", identity)
    first = tag(None, 1)
    ran: list[object] = []
    later = tag.options(after=first)(ran.append, 2)
    if later.state is TaskState.WAITING:
        assert later.cancel() and later.cancelled()
    with lanes.make_pool("inline", 1) as other:
        foreign = other.define("identity", identity)(None, 3)
        with pytest.raises(ValueError, match="belongs to another pool"):
            tag.options(after=foreign)(None, 4)
        other.wait(timeout=BOUND)
    assert any_pool.wait(timeout=BOUND)
    assert ran in ([], [2])


def test_after_a_call_already_done(any_pool: pygame_async.Pool) -> None:
    tag = any_pool.define("identity", identity)
    failing = any_pool.define("fail_on_odd", fail_on_odd)
    done = tag(None, "done")
    done.result(timeout=BOUND)
    broken = failing({"error": lambda exc: None}, 1)
    broken.exception(timeout=BOUND)
    assert tag.options(after=done)(None, "ok").result(timeout=BOUND) == "ok"
    with pytest.raises(DependencyError):
        tag.options(after=broken)(None, "never").result(timeout=BOUND)
    assert any_pool.wait(timeout=BOUND)


# -- groups ---------------------------------------------------------------------------------


def test_a_group_counts_exactly_at_every_update_and_keeps_input_order(
    any_pool: pygame_async.Pool,
) -> None:
    double = any_pool.define("double", lambda value: value * 2)
    seen: list[tuple[int, object]] = []
    finished: list[pygame_async.Group] = []
    group = double.map(range(30), on_each=lambda i, r: seen.append((i, r)), on_done=finished.append)
    assert group.total == 30 and len(group.tasks) == 30 and group.fraction == 0
    while not group.done():
        any_pool.update()
        assert group.finished == len(seen) and group.failed == 0
        assert group.fraction == group.finished / 30
        lanes.wait_until_in(any_pool, lambda: True)
    assert sorted(seen) == [(i, i * 2) for i in range(30)]
    assert group.results == [i * 2 for i in range(30)]
    assert finished == [group] and group.fraction == 1.0


def test_a_group_keeps_errors_by_index(any_pool: pygame_async.Pool) -> None:
    failing = any_pool.define("fail_on_odd", fail_on_odd)
    indices: list[int] = []
    group = failing.map(range(6), on_error=lambda index, error: indices.append(index))
    assert group.wait(timeout=BOUND)
    assert group.finished == 3 and group.failed == 3 and sorted(indices) == [1, 3, 5]
    assert group.results == [0, None, 2, None, 4, None]
    assert sorted(group.errors) == [1, 3, 5] and isinstance(group.errors[3], ValueError)


def test_starmap_and_an_empty_group(any_pool: pygame_async.Pool) -> None:
    add = any_pool.define("add", lambda left, right: left + right)
    group = add.starmap([(1, 2), (3, 4)])
    assert group.wait(timeout=BOUND) and group.results == [3, 7]
    finished: list[pygame_async.Group] = []
    empty = add.map([], on_done=finished.append)
    assert empty.done() and empty.fraction == 1.0 and finished == []
    any_pool.update()
    assert finished == [empty], "on_done still runs inside update()"


def test_cancelling_a_group_stops_the_rest_and_it_is_done(lane: str, tmp_path: Path) -> None:
    with lanes.make_pool(lane, 1) as pool:
        _, gate = hold_the_only_worker(pool, tmp_path)
        tag = pool.define("identity", identity)
        finished: list[pygame_async.Group] = []
        group = tag.map(range(5), on_done=finished.append)
        assert group.cancel() == 5 and all(task.cancelled() for task in group.tasks)
        assert group.done() and group.finished == 0
        pool.update()
        assert finished == [group], "on_done runs in the next update()"
        gate.touch()
        assert pool.wait(timeout=BOUND)


def test_a_call_after_a_group_waits_for_all_of_it(any_pool: pygame_async.Pool) -> None:
    double = any_pool.define("double", lambda value: value * 2)
    group = double.map(range(10))
    total = any_pool.define("total", lambda: "after all")
    survey = total.options(after=group)(None)
    assert survey.result(timeout=BOUND) == "after all"
    assert all(task.done() for task in group.tasks)
    assert any_pool.wait(timeout=BOUND)


@pytest.mark.process_lane
def test_a_higher_priority_call_takes_back_calls_queued_on_a_busy_worker() -> None:
    with pygame_async.Pool(1) as pool:
        mark = pool.define("started_at", started_at)
        for tag in range(5):  # the pool learns the call is short: it may queue it behind another
            mark(None, tag)
        assert pool.wait(timeout=BOUND)
        free_at = time.monotonic() + 0.5
        holder = pool.define("hold_until", hold_until)(None, free_at)
        lows = [mark(None, f"low {index}") for index in range(5)]
        pool.update()  # the frame's calls leave: short ones queue behind the running one
        assert whitebox.calls_on_workers(pool)[0] > 1, "some low calls wait on the worker"
        high = mark.options(priority=1)(None, "high")
        _, high_started = high.result(timeout=BOUND)
        assert holder.result(timeout=BOUND) == free_at
        low_starts = [low.result(timeout=BOUND)[1] for low in lows]
        assert high_started < min(low_starts), "the high call ran first when the worker was free"
        assert pool.wait(timeout=BOUND) and pool.get_pending_count() == 0


def test_awaiting_a_call_with_a_task_argument_and_a_group(any_pool: pygame_async.Pool) -> None:
    any_pool.define("identity", identity)
    any_pool.define("combine", lambda left, right: left * 10 + right)
    double = any_pool.define("double", lambda value: value * 2)
    failing = any_pool.define("fail_on_odd", fail_on_odd)

    async def play() -> tuple[object, object]:
        left = any_pool.call(None, "identity", 4)
        combined = any_pool.call(None, "combine", left, 2)  # waits for left, then gets its result
        return await combined, await double.map(range(5))

    assert asyncio.run(play()) == (42, [0, 2, 4, 6, 8]), "no update() was needed"
    with pytest.raises(ValueError, match="odd: 1"):
        asyncio.run(_awaited(failing.map([0, 1, 2], on_error=lambda index, error: None)))
    assert any_pool.wait(timeout=BOUND)


async def _awaited(group: pygame_async.Group) -> object:
    return await group
