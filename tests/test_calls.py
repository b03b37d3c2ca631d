"""Calls and their delivery: order, threads, update(), wait(), budgets, Task; on every lane."""

from __future__ import annotations

import threading
from concurrent.futures import CancelledError

import pytest
from helpers import block_until, identity, signal_then_block
from lanes import STOPS_BETWEEN_STEPS, make_pool, wait_until_in

import pygame_async


def test_callbacks_run_only_in_update_on_the_calling_thread(any_pool: pygame_async.Pool) -> None:
    any_pool.define("identity", identity)
    seen: list[tuple[object, threading.Thread]] = []
    tasks = [
        any_pool.call(lambda value: seen.append((value, threading.current_thread())), "identity", i)
        for i in range(5)
    ]
    for task in tasks:
        task.result(timeout=10)
    assert seen == [], "callbacks never run inside call() or on another thread"
    assert all(task.done() for task in tasks)
    assert any_pool.update() == 5
    assert sorted(value for value, _ in seen) == [0, 1, 2, 3, 4]
    assert {thread for _, thread in seen} == {threading.current_thread()}
    assert any_pool.update() == 0


def test_delivery_follows_completion_order(any_pool: pygame_async.Pool, tmp_path) -> None:
    any_pool.define("block_until", block_until)
    any_pool.define("identity", identity)
    order: list[str] = []
    gate = tmp_path / "gate"
    slow = any_pool.call(lambda _: order.append("slow"), "block_until", str(gate))
    fast = any_pool.call(lambda _: order.append("fast"), "identity", 1)
    fast.result(timeout=10)
    gate.touch()
    slow.result(timeout=10)
    assert any_pool.update() == 2
    assert order == ["fast", "slow"]


def test_calls_start_in_the_order_made(lane: str) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        results: list[int] = []
        for i in range(50):
            pool.call(results.append, "identity", i)
        assert pool.wait(timeout=10)
        assert results == list(range(50))


def test_arguments_and_keywords_reach_the_function(any_pool: pygame_async.Pool) -> None:
    any_pool.define("describe", lambda *args, **kwargs: (args, kwargs))
    # `callback` and `name` are positional-only, so the function may take them as keywords.
    task = any_pool.call(None, "describe", 1, [2], name="n", callback="c")
    assert task.result(timeout=10) == ((1, [2]), {"name": "n", "callback": "c"})


def test_update_budget_stops_after_the_budget_and_keeps_the_rest(
    any_pool: pygame_async.Pool,
) -> None:
    any_pool.define("identity", identity)
    delivered: list[int] = []
    tasks = [any_pool.call(delivered.append, "identity", i) for i in range(20)]
    for task in tasks:
        task.result(timeout=10)
    assert any_pool.update(budget=0) == 1, "at least one, then the budget is spent"
    assert any_pool.get_pending_count() == 19
    assert any_pool.update(budget=60) == 19
    assert sorted(delivered) == list(range(20))


def test_wait_includes_calls_made_by_callbacks(any_pool: pygame_async.Pool) -> None:
    any_pool.define("identity", identity)
    results: list[int] = []

    def chain(value: int) -> None:
        results.append(value)
        if value < 5:
            any_pool.call(chain, "identity", value + 1)

    any_pool.call(chain, "identity", 0)
    assert any_pool.wait(timeout=10)
    assert results == [0, 1, 2, 3, 4, 5]
    assert any_pool.get_pending_count() == 0


def test_wait_times_out_when_no_worker_can_run_the_call(lane: str) -> None:
    with make_pool(lane, 0) as pool:
        pool.define("identity", identity)
        pool.call(None, "identity", 1)
        assert pool.wait(timeout=0.05) is False
        assert pool.get_pending_count() == 1


def test_pending_count_covers_queued_running_and_undelivered(any_pool: pygame_async.Pool) -> None:
    any_pool.define("identity", identity)
    tasks = [any_pool.call(None, "identity", i) for i in range(4)]
    assert any_pool.get_pending_count() == 4
    for task in tasks:
        task.result(timeout=10)
    assert any_pool.get_pending_count() == 4, "finished but not yet delivered"
    any_pool.update()
    assert any_pool.get_pending_count() == 0


def test_task_identity_and_result(any_pool: pygame_async.Pool) -> None:
    any_pool.define("identity", identity)
    first = any_pool.call(None, "identity", "a")
    second = any_pool.call(None, "identity", "b")
    assert second.id > first.id
    assert first.name == "identity"
    assert first.result(timeout=10) == "a"
    assert first.exception(timeout=10) is None
    assert first.done() and not first.cancelled()
    assert "identity" in repr(first)


def test_result_raises_the_remote_exception_and_times_out(
    any_pool: pygame_async.Pool, tmp_path
) -> None:
    any_pool.define("fail", lambda: 1 / 0)
    any_pool.define("block_until", block_until)
    failing = any_pool.call({"error": lambda exc: None}, "fail")
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=10)
    assert isinstance(failing.exception(timeout=10), ZeroDivisionError)
    blocked = any_pool.call(None, "block_until", str(tmp_path / "gate"))
    with pytest.raises(TimeoutError):
        blocked.result(timeout=0.05)
    (tmp_path / "gate").touch()
    assert blocked.result(timeout=10)


def test_cancel_a_queued_call(lane: str, tmp_path) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("signal_then_block", signal_then_block)
        pool.define("identity", identity)
        ran: list[object] = []
        started, gate = tmp_path / "started", tmp_path / "gate"
        running = pool.call(ran.append, "signal_then_block", str(started), str(gate))
        wait_until_in(pool, started.exists)
        queued = pool.call(ran.append, "identity", "never")
        assert queued.cancel() is True
        assert queued.cancel() is True, "cancelling twice is fine"
        assert queued.cancelled() and queued.done()
        with pytest.raises(CancelledError):
            queued.result(timeout=1)
        if lane in STOPS_BETWEEN_STEPS:  # a generator call stops between two steps
            assert running.cancel() is True and running.cancelled()
        else:
            assert running.cancel() is False, "a running call cannot be cancelled"
        gate.touch()
        assert pool.wait(timeout=10)
        expected = [] if lane in STOPS_BETWEEN_STEPS else [str(gate)]
        assert ran == expected, "a cancelled call's callback never runs"
        assert running.cancel() is (lane in STOPS_BETWEEN_STEPS), "it stays as it ended"


def test_calls_queued_with_zero_workers_run_once_a_worker_is_added(lane: str) -> None:
    with make_pool(lane, 0) as pool:
        pool.define("identity", identity)
        results: list[int] = []
        for i in range(3):
            pool.call(results.append, "identity", i)
        assert pool.get_worker_count() == 0
        pool.add_worker()
        assert pool.wait(timeout=10)
        assert results == [0, 1, 2]
