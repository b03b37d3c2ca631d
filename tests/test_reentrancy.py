"""Re-entrant and cross-thread use of a pool: each case is correct or refused, never a deadlock.

On every lane (but for the module-level API, whose default pool has worker processes).

The decisions these tests hold the pool to:

* ``shutdown()`` from a callback (Pool and module API) is allowed: it returns,
  the callback finishes, the calls finished but not yet delivered are dropped
  (shutdown runs no callbacks), ``update()``/``wait()`` return normally, and
  the pool then refuses calls with RuntimeError.
* ``update()`` re-entered from a callback delivers the next completions, in
  order; no call is ever delivered twice; each update returns what it delivered.
* ``wait()`` from a callback delivers everything else pending (including calls
  the callback made) and returns True; the callback running it is not pending.
* After ``shutdown()`` the module API says to ``load()`` first; a new ``load()``
  starts an empty pool; an AsyncFunction stays bound to its (shut) pool.
* Several pools, threads making calls, and threads calling ``update()`` all
  share nothing they should not: every call is delivered exactly once, on the
  thread whose ``update()`` delivered it.
* ``shutdown()`` from another thread ends a ``wait()`` of the main thread
  promptly (True: nothing is pending any more), delivering nothing.
* A callback that raises propagates out of ``update()``/``wait()``; everything
  else is delivered by the next one, once.
* ``define``/``undefine``/``cancel`` work from callbacks as anywhere else.

Risky steps run through ``bounded()``, so a deadlock fails the test in
``BOUND`` seconds instead of hanging the suite.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import CancelledError
from pathlib import Path
from typing import Any, TypeVar

import lanes
import pytest
import whitebox
from helpers import BOUND, block_until, identity, wait_until
from lanes import STOPS_BETWEEN_STEPS, make_pool, wait_until_in

import pygame_async

T = TypeVar("T")


def tag_a(value: object) -> tuple[str, object]:
    return ("a", value)


def tag_b(value: object) -> tuple[str, object]:
    return ("b", value)


def report_then_block(path: str) -> Generator[None, None, str]:
    pygame_async.report_progress(0.5, "half")
    return (yield from block_until(path))


def report_half(value: object) -> object:
    pygame_async.report_progress(0.5, "half")
    return value


def bounded(action: Callable[[], T], timeout: float = BOUND) -> T:
    """Run ``action`` on a helper thread; fail the test if it does not return in time."""
    outcome: list[tuple[bool, Any]] = []

    def run() -> None:
        try:
            outcome.append((True, action()))
        except BaseException as exc:
            outcome.append((False, exc))

    thread = threading.Thread(target=run, name="bounded", daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), f"deadlock: {action} did not return within {timeout} s"
    ok, value = outcome[0]
    if not ok:
        raise value
    return value  # type: ignore[no-any-return]


def running(task: pygame_async.Task) -> bool:
    return bool(task.state.value == "assigned")


def waiting_threads(pool: pygame_async.Pool) -> int:
    """How many threads block in wait() or Task.result() (white-box).

    One of them may be reading the busy workers' pipes; the others wait on the
    pool's condition.
    """
    return whitebox.waiting_threads(pool)


# -- shutdown() from a callback -------------------------------------------------------


@pytest.mark.parametrize("wait", [True, False])
def test_pool_shutdown_from_a_callback_drops_the_rest(lane: str, wait: bool) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        delivered: list[object] = []

        def shut_down_once(value: object) -> None:
            delivered.append(value)
            if len(delivered) == 1:
                pool.shutdown(wait=wait)

        tasks = [pool.call(shut_down_once, "identity", i) for i in range(6)]
        for task in tasks:
            task.result(timeout=BOUND)
        started = lanes.owned(pool)
        assert bounded(pool.update) == 1
        assert len(delivered) == 1, "shutdown runs no callbacks"
        assert pool.update() == 0
        assert pool.get_pending_count() == 0
        with pytest.raises(RuntimeError, match="shut down"):
            pool.call(None, "identity", 1)
        bounded(pool.shutdown)
        assert pool.get_worker_count() == 0
    assert not any(lanes.alive(runner) for runner in started)
    lanes.check_left_running(pool)


def test_shutdown_from_a_callback_lets_a_running_call_finish_undelivered(
    lane: str, tmp_path: Path
) -> None:
    with make_pool(lane, 2) as pool:
        pool.define("identity", identity)
        pool.define("block_until", block_until)
        gate = str(tmp_path / "gate")
        ran: list[object] = []
        slow = pool.call(ran.append, "block_until", gate)
        wait_until(lambda: running(slow))

        def shut_down(value: object) -> None:
            ran.append(value)
            pool.shutdown(wait=False)

        pool.call(shut_down, "identity", "first").result(timeout=BOUND)
        assert bounded(pool.update) == 1
        Path(gate).touch()
        assert slow.result(timeout=BOUND) == gate, "a running call still finishes"
        bounded(pool.shutdown)
        assert pool.update() == 0
        assert ran == ["first"], "but its callback never runs"


def test_module_shutdown_from_a_callback_inside_wait() -> None:
    pool = pygame_async.load(1)
    try:
        pygame_async.define("identity", identity)
        delivered: list[object] = []

        def shut_down_once(value: object) -> None:
            delivered.append(value)
            if len(delivered) == 1:
                pygame_async.shutdown()

        for i in range(6):
            pygame_async.call(shut_down_once, "identity", i)
        assert bounded(lambda: pygame_async.wait(timeout=BOUND)) is True
        assert len(delivered) == 1
        assert pool.get_worker_count() == 0 and pool.get_pending_count() == 0
        with pytest.raises(RuntimeError, match=r"load\(\) first"):
            pygame_async.update()
    finally:
        if whitebox.default_pool() is not None:
            pygame_async.shutdown()


# -- update() and wait() from a callback ---------------------------------------------------


def test_update_re_entered_from_a_callback_delivers_each_call_once_in_order(lane: str) -> None:
    with make_pool(lane, 1) as pool:  # one worker: completion order is call order
        pool.define("identity", identity)
        order: list[int] = []
        inner: list[int] = []

        def re_enter(value: int) -> None:
            order.append(value)
            if value == 0:
                inner.append(pool.update())

        tasks = [pool.call(re_enter, "identity", i) for i in range(6)]
        for task in tasks:
            task.result(timeout=BOUND)
        assert bounded(pool.update) == 1, "the outer update delivered only the first"
        assert inner == [5], "the inner update delivered the rest"
        assert order == list(range(6))
        assert pool.update() == 0
        assert pool.get_pending_count() == 0


def test_wait_from_a_callback_delivers_everything_else(lane: str) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        seen: list[object] = []
        inner: list[bool] = []

        def wait_inside(value: object) -> None:
            seen.append(value)
            pool.call(seen.append, "identity", "made by the callback")
            inner.append(pool.wait(timeout=BOUND))

        pool.call(wait_inside, "identity", "first")
        for i in range(4):
            pool.call(seen.append, "identity", i)
        assert bounded(lambda: pool.wait(timeout=BOUND)) is True
        assert inner == [True]
        assert sorted(map(str, seen)) == sorted(
            map(str, ["first", "made by the callback", *range(4)])
        )
        assert pool.get_pending_count() == 0


def test_update_re_entered_from_a_progress_callback_keeps_progress_before_completion(
    lane: str,
) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("report_half", report_half)
        events: list[tuple[str, object]] = []
        re_entered: list[int] = []

        def on_progress(name: str) -> Callable[[float, str | None], None]:
            def progress(fraction: float, message: str | None) -> None:
                events.append(("progress", name))
                if not re_entered:
                    re_entered.append(pool.update())

            return progress

        tasks = [
            pool.call(
                lambda value: events.append(("done", value)), "report_half", name
            ).on_progress(on_progress(name))
            for name in ("a", "b")
        ]
        for task in tasks:
            task.result(timeout=BOUND)  # each report arrives before its result
        bounded(pool.update)
        assert sorted(events) == [
            ("done", "a"),
            ("done", "b"),
            ("progress", "a"),
            ("progress", "b"),
        ]
        for name in ("a", "b"):
            assert events.index(("progress", name)) < events.index(("done", name)), events


# -- after shutdown() -------------------------------------------------------------------


def test_load_after_shutdown_starts_a_fresh_default_pool() -> None:
    first = pygame_async.load(1)
    old_identity = pygame_async.define("identity", identity)
    pygame_async.shutdown()
    for step in (
        pygame_async.update,
        lambda: pygame_async.wait(0),
        lambda: pygame_async.call(None, "identity", 1),
        lambda: pygame_async.define("identity", identity),
    ):
        with pytest.raises(RuntimeError, match=r"load\(\) first"):
            step()
    pygame_async.shutdown()  # a second shutdown() does nothing (issue 13)
    second = pygame_async.load(1)
    try:
        assert second is not first
        with pytest.raises(LookupError):
            pygame_async.call(None, "identity", 1)  # a new pool starts with no definitions
        with pytest.raises(RuntimeError, match="shut down"):
            old_identity(None, 1)  # bound to the pool that defined it
        new_identity = pygame_async.define("identity", identity)
        assert new_identity(None, 5).result(timeout=BOUND) == 5
        assert pygame_async.wait(timeout=BOUND)
    finally:
        pygame_async.shutdown()


def test_a_shut_pool_refuses_work_and_answers_the_rest_harmlessly(lane: str) -> None:
    pool = make_pool(lane, 1)
    pool.define("identity", identity)
    pool.shutdown()
    for step in (
        lambda: pool.call(None, "identity", 1),
        lambda: pool.define("identity", identity),
        pool.add_worker,
        lambda: pool.ensure.at_least(2),
    ):
        with pytest.raises(RuntimeError, match="shut down"):
            step()
    assert pool.update() == 0
    assert pool.wait(timeout=0) is True
    assert (pool.get_worker_count(), pool.get_pending_count()) == (0, 0)
    pool.stop_workers(1)
    pool.ensure.at_most(0)
    bounded(pool.shutdown)  # a second shutdown returns at once


# -- two pools -----------------------------------------------------------------------


def test_two_pools_used_alternately_keep_their_own_calls(lane: str) -> None:
    with make_pool(lane, 1) as a, make_pool(lane, 1) as b:
        a.define("tag", tag_a)
        b.define("tag", tag_b)
        results: list[tuple[str, object]] = []

        def on_a(result: tuple[str, object]) -> None:
            results.append(result)
            b.call(on_b, "tag", len(results))

        def on_b(result: tuple[str, object]) -> None:
            results.append(result)
            if len(results) < 10:
                a.call(on_a, "tag", len(results))

        a.call(on_a, "tag", 0)
        for _ in range(5):
            assert bounded(lambda: a.wait(timeout=BOUND))
            assert bounded(lambda: b.wait(timeout=BOUND))
        assert results == [("ab"[i % 2], i) for i in range(10)]
        assert (a.get_pending_count(), b.get_pending_count()) == (0, 0)
        b.shutdown()
        assert a.call(None, "tag", "alone").result(timeout=BOUND) == ("a", "alone")
        assert a.wait(timeout=BOUND)


# -- threads ----------------------------------------------------------------------------


def test_calls_made_on_a_thread_are_delivered_once_on_the_updating_thread(lane: str) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        seen: list[tuple[object, threading.Thread]] = []

        def record(value: object) -> None:
            seen.append((value, threading.current_thread()))

        from_thread: list[pygame_async.Task] = []

        def make_calls() -> None:
            for i in range(50):
                from_thread.append(pool.call(record, "identity", ("thread", i)))

        caller = threading.Thread(target=make_calls)
        caller.start()
        from_main = [pool.call(record, "identity", ("main", i)) for i in range(50)]
        pool.update()  # deliver some while the thread still calls
        caller.join(BOUND)
        assert not caller.is_alive()
        assert pool.wait(timeout=BOUND)
        expected = {(who, i) for who in ("thread", "main") for i in range(50)}
        assert len(seen) == 100 and {value for value, _ in seen} == expected
        assert {thread for _, thread in seen} == {threading.current_thread()}
        assert len({task.id for task in from_thread + from_main}) == 100


def test_update_on_two_threads_at_once_delivers_each_call_once(lane: str) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        calls = 200
        seen: list[tuple[int, int]] = []  # (value, ident of the thread running the callback)

        def record(value: int) -> None:
            seen.append((value, threading.get_ident()))

        tasks = [pool.call(record, "identity", i) for i in range(calls)]
        for task in tasks:
            task.result(timeout=BOUND)
        start = threading.Barrier(2, timeout=BOUND)
        returned: dict[int, int] = {}

        def drain() -> None:
            start.wait()
            total = 0
            while delivered := pool.update(budget=0):
                total += delivered
            returned[threading.get_ident()] = total

        other = threading.Thread(target=drain)
        other.start()
        drain()
        other.join(BOUND)
        assert not other.is_alive()
        assert sorted(value for value, _ in seen) == list(range(calls)), "each exactly once"
        for ident, total in returned.items():
            assert total == sum(1 for _, thread in seen if thread == ident)
        assert sum(returned.values()) == calls
        assert pool.get_pending_count() == 0


@pytest.mark.parametrize("cancel_pending", [True, False])
def test_shutdown_from_another_thread_ends_a_wait_of_the_main_thread(
    lane: str, cancel_pending: bool, tmp_path: Path
) -> None:
    pool = make_pool(lane, 1)
    try:
        pool.define("identity", identity)
        pool.define("block_until", block_until)
        gate = str(tmp_path / "gate")
        ran: list[object] = []
        slow = pool.call(ran.append, "block_until", gate)
        queued = [pool.call(ran.append, "identity", i) for i in range(3)]
        returned = threading.Event()

        def stop_from_a_thread() -> None:
            wait_until(lambda: waiting_threads(pool) == 2 or returned.is_set())  # main and getter
            pool.shutdown(wait=False, cancel_pending=cancel_pending)
            Path(gate).touch()
            pool.shutdown(wait=True)

        got: list[object] = []

        def get_result() -> None:
            try:
                got.append(queued[0].result(timeout=BOUND))
            except CancelledError as exc:
                got.append(exc)

        getter = threading.Thread(target=get_result)
        getter.start()
        wait_until(lambda: waiting_threads(pool) == 1)
        stopper = threading.Thread(target=stop_from_a_thread)
        stopper.start()
        started = time.monotonic()
        try:
            assert pool.wait(timeout=4 * BOUND) is True
        finally:
            returned.set()
            Path(gate).touch()
            stopper.join(BOUND)
            getter.join(BOUND)
        assert time.monotonic() - started < BOUND, "wait() returned long before its timeout"
        assert not stopper.is_alive() and not getter.is_alive()
        assert slow.result(timeout=0) == gate
        if cancel_pending:
            assert all(task.cancelled() for task in queued)
            assert len(got) == 1 and isinstance(got[0], CancelledError), got
        else:
            assert got == [0]
            assert [task.result(timeout=0) for task in queued] == [0, 1, 2]
        assert ran == [], "shutdown runs no callbacks"
        assert pool.get_pending_count() == 0
    finally:
        pool.shutdown()


def test_shutdown_from_another_thread_while_a_callback_runs(lane: str) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        in_callback = threading.Event()
        shut = threading.Event()
        delivered: list[object] = []

        def slow_callback(value: object) -> None:
            delivered.append(value)
            in_callback.set()
            assert shut.wait(BOUND), "shutdown() waited for the running callback"

        def stop_from_a_thread() -> None:
            if in_callback.wait(BOUND):
                pool.shutdown(wait=True)
                shut.set()

        tasks = [pool.call(slow_callback, "identity", i) for i in range(3)]
        for task in tasks:
            task.result(timeout=BOUND)
        stopper = threading.Thread(target=stop_from_a_thread)
        stopper.start()
        try:
            assert bounded(pool.update, 2 * BOUND) == 1, "the rest are dropped by the shutdown"
        finally:
            in_callback.set()
            stopper.join(BOUND)
        assert not stopper.is_alive()
        assert delivered == [0]
        assert pool.get_pending_count() == 0


# -- callbacks that raise --------------------------------------------------------------


def test_a_callback_that_raises_propagates_and_the_rest_come_next_update(lane: str) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        delivered: list[int] = []

        def explode(value: int) -> None:
            delivered.append(value)
            raise RuntimeError("callback bug")

        tasks = [
            pool.call(explode if i == 1 else delivered.append, "identity", i) for i in range(5)
        ]
        for task in tasks:
            task.result(timeout=BOUND)
        with pytest.raises(RuntimeError, match="callback bug"):
            bounded(pool.update)
        assert delivered == [0, 1]
        assert pool.get_pending_count() == 3
        assert bounded(pool.update) == 3
        assert delivered == [0, 1, 2, 3, 4], "nothing lost, nothing delivered twice"


def test_a_callback_that_raises_propagates_out_of_wait_and_the_next_wait_finishes(
    lane: str,
) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        delivered: list[int] = []

        def explode(value: int) -> None:
            delivered.append(value)
            raise RuntimeError("callback bug")

        for i in range(8):
            pool.call(explode if i == 3 else delivered.append, "identity", i)
        with pytest.raises(RuntimeError, match="callback bug"):
            bounded(lambda: pool.wait(timeout=BOUND))
        assert bounded(lambda: pool.wait(timeout=BOUND)) is True
        assert sorted(delivered) == list(range(8))
        assert pool.get_pending_count() == 0


def test_a_progress_callback_that_raises_loses_no_other_report(lane: str, tmp_path: Path) -> None:
    with make_pool(lane, 2) as pool:
        pool.define("report_then_block", report_then_block)
        gates = [str(tmp_path / "a"), str(tmp_path / "b")]
        seen: list[str] = []

        def on_progress(name: str) -> Callable[[float, str | None], None]:
            def progress(fraction: float, message: str | None) -> None:
                seen.append(name)
                if len(seen) == 1:
                    raise RuntimeError("progress callback bug")

            return progress

        tasks = [
            pool.call(None, "report_then_block", gate).on_progress(on_progress(name))
            for gate, name in zip(gates, "ab", strict=True)
        ]
        try:
            wait_until_in(pool, lambda: all(task.progress == 0.5 for task in tasks))
            with pytest.raises(RuntimeError, match="progress callback bug"):
                pool.update()
            pool.update()
            assert sorted(seen) == ["a", "b"], "the other task's report was lost"
        finally:
            for gate in gates:
                Path(gate).touch()
            pool.wait(timeout=BOUND)


# -- define, undefine and cancel from a callback ------------------------------------------


def test_define_and_undefine_from_a_callback(lane: str) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        results: list[object] = []
        refused: list[BaseException] = []

        def redefine(value: object) -> None:
            results.append(value)
            pool.define("tag", tag_a)
            pool.call(results.append, "tag", 1)
            pool.define("tag", tag_b)  # later calls run the new version
            pool.call(results.append, "tag", 2)
            pool.undefine("identity")
            try:
                pool.call(None, "identity", "refused")
            except LookupError as exc:
                refused.append(exc)

        pool.call(redefine, "identity", "first")
        pool.call(results.append, "identity", "made before undefine")
        assert bounded(lambda: pool.wait(timeout=BOUND)) is True
        assert results[0] == "first"
        assert set(results[1:]) == {"made before undefine", ("a", 1), ("b", 2)}
        assert len(results) == 4
        assert len(refused) == 1 and "identity" in str(refused[0])


def test_cancel_from_a_callback(lane: str, tmp_path: Path) -> None:
    with make_pool(lane, 1) as pool:  # one worker: fast, then slow, then queued
        pool.define("identity", identity)
        pool.define("block_until", block_until)
        gate = str(tmp_path / "gate")
        ran: list[object] = []
        outcomes: dict[str, bool] = {}
        tasks: dict[str, pygame_async.Task] = {}

        def cancel_others(value: object) -> None:
            ran.append(value)
            outcomes["queued"] = tasks["queued"].cancel()
            outcomes["running"] = tasks["slow"].cancel()
            outcomes["itself"] = tasks["fast"].cancel()

        tasks["fast"] = pool.call(cancel_others, "identity", "fast")
        tasks["slow"] = pool.call(ran.append, "block_until", gate)
        tasks["queued"] = pool.call(ran.append, "identity", "never")
        wait_until_in(pool, lambda: running(tasks["slow"]))
        assert bounded(pool.update) == 1
        stops = lane in STOPS_BETWEEN_STEPS  # there, the running generator call stops too
        assert outcomes == {"queued": True, "running": stops, "itself": False}
        assert tasks["queued"].cancelled()
        Path(gate).touch()
        assert bounded(lambda: pool.wait(timeout=BOUND)) is True
        assert ran == (["fast"] if stops else ["fast", gate])
        assert pool.get_pending_count() == 0


def test_cancelling_a_finished_call_from_a_callback_still_delivers_it(lane: str) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        ran: list[object] = []
        later: list[pygame_async.Task] = []
        cancelled: list[bool] = []

        def cancel_later(value: object) -> None:
            ran.append(value)
            cancelled.append(later[0].cancel())

        first = pool.call(cancel_later, "identity", 1)
        later.append(pool.call(ran.append, "identity", 2))
        first.result(timeout=BOUND)
        later[0].result(timeout=BOUND)
        assert bounded(pool.update) == 2
        assert cancelled == [False]
        assert ran == [1, 2]
