"""The thread lane: what is true of it only (the core tests run on it too, through lanes.py).

The pool's own thread lane (``_run_in_thread``, for assets) delivers game-process work
like a worker call; a pool on the thread lane passes arguments by reference and can
neither kill a running call nor time one out.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from helpers import BOUND, signal_then_block, wait_until
from lanes import make_pool

import pygame_async


def test_thread_lane_delivers_in_update_on_the_main_thread(pool: pygame_async.Pool) -> None:
    ran_on: list[threading.Thread] = []
    delivered_on: list[threading.Thread] = []
    results: list[object] = []

    def work(value: int) -> int:
        ran_on.append(threading.current_thread())
        return value * 2

    def on_result(value: object) -> None:
        delivered_on.append(threading.current_thread())
        results.append(value)

    tasks = [pool._run_in_thread(on_result, "double", work, i) for i in range(10)]
    assert pool.get_pending_count() == 10
    assert pool.wait(timeout=BOUND)
    assert sorted(results) == [i * 2 for i in range(10)]
    assert all(thread is not threading.main_thread() for thread in ran_on)
    assert set(delivered_on) == {threading.main_thread()}
    assert [task.name for task in tasks] == ["double"] * 10


def test_thread_lane_errors_reach_the_error_callback_with_their_traceback(
    pool: pygame_async.Pool,
) -> None:
    def broken() -> None:
        raise OSError("no such file: 'x.png'")

    errors: list[BaseException] = []
    task = pool._run_in_thread({"error": errors.append}, "load", broken)
    assert pool.wait(timeout=BOUND)
    assert isinstance(errors[0], OSError) and "x.png" in str(errors[0])
    assert errors[0].__traceback__ is not None
    assert task.exception() is errors[0]


def test_thread_lane_call_can_be_cancelled_until_it_starts(pool: pygame_async.Pool) -> None:
    release = threading.Event()
    started = threading.Semaphore(0)

    def hold() -> None:
        started.release()
        assert release.wait(BOUND)

    ran: list[str] = []
    holders = [pool._run_in_thread(None, "hold", hold) for _ in range(2)]
    for _ in holders:
        assert started.acquire(timeout=BOUND)  # both lane threads are busy now
    queued = pool._run_in_thread(ran.append, "late", lambda: "ran")
    assert queued.cancel() and queued.cancelled()
    assert not holders[0].cancel()  # already running
    release.set()
    assert pool.wait(timeout=BOUND)
    assert ran == []


def test_thread_lane_checks_its_callback_and_refuses_after_shutdown() -> None:
    pool = pygame_async.Pool(0)
    with pytest.raises(TypeError, match="callback must be None"):
        pool._run_in_thread(4.5, "x", print)
    pool.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        pool._run_in_thread(None, "x", print)


# -- a pool on the thread lane: what only it does ------------------------------------------


def run_for(seconds: float) -> str:
    """Work (in a thread of the game) for ``seconds``, then return."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.001)
    return "done"


def test_a_thread_lane_pool_passes_arguments_and_results_by_reference() -> None:
    with make_pool("thread", 1) as pool:
        pool.define("append_to", lambda items, item: items.append(item) or items)
        items: list[object] = []
        marker = object()
        returned = pool.call(None, "append_to", items, marker).result(timeout=BOUND)
        assert returned is items, "the very list, not a copy"
        assert items == [marker] and items[0] is marker
        assert pool.wait(timeout=BOUND)


def test_a_thread_lane_pool_cannot_kill_a_running_call(tmp_path: Path) -> None:
    with make_pool("thread", 1) as pool:
        pool.define("signal_then_block", signal_then_block)
        started, gate = tmp_path / "started", tmp_path / "gate"
        delivered: list[object] = []
        task = pool.call(delivered.append, "signal_then_block", str(started), str(gate))
        wait_until(started.exists)
        assert task.cancel(kill=True) is False, "a thread cannot be stopped"
        assert not task.cancelled()
        gate.touch()
        assert pool.wait(timeout=BOUND)
        assert delivered == [str(gate)], "it ran to its end and was delivered"


def test_a_thread_lane_pool_enforces_no_timeout() -> None:
    with make_pool("thread", 1) as pool:
        run = pool.define("run_for", run_for, timeout=0.01)
        assert run(None, 0.2).result(timeout=BOUND) == "done"
        assert run.options(timeout=0.01)(None, 0.2).result(timeout=BOUND) == "done"
        assert pool.wait(timeout=BOUND)
