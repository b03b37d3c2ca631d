"""shutdown() and the context manager: what still runs, what is cancelled, what is left.

On every lane, but for the module-level API (its default pool has worker processes).
"""

from __future__ import annotations

import lanes
import pytest
from helpers import block_until, identity, wait_until

import pygame_async


def test_shutdown_runs_queued_calls_but_not_their_callbacks(lane: str) -> None:
    pool = lanes.make_pool(lane, 1)
    pool.define("identity", identity)
    called: list[object] = []
    tasks = [pool.call(called.append, "identity", i) for i in range(10)]
    started = lanes.owned(pool)
    pool.shutdown(wait=True)
    assert [task.result(timeout=0) for task in tasks] == list(range(10))
    assert pool.update() == 0 and called == [], "shutdown runs no callbacks"
    assert not any(lanes.alive(runner) for runner in started)
    lanes.check_left_running(pool)
    with pytest.raises(RuntimeError, match="shut down"):
        pool.call(None, "identity", 1)


def test_shutdown_can_cancel_queued_calls(lane: str, tmp_path) -> None:
    pool = lanes.make_pool(lane, 1)
    pool.define("block_until", block_until)
    pool.define("identity", identity)
    running = pool.call(None, "block_until", str(tmp_path / "gate"))
    wait_until(lambda: running.state.value == "assigned")
    queued = [pool.call(None, "identity", i) for i in range(5)]
    pool.shutdown(wait=False, cancel_pending=True)
    assert all(task.cancelled() for task in queued)
    (tmp_path / "gate").touch()
    assert running.result(timeout=10) == str(tmp_path / "gate"), "the current call finishes"
    pool.shutdown(wait=True)  # a second shutdown waits for the first to complete
    assert pool.get_worker_count() == 0


def test_shutdown_without_waiting_still_finishes_queued_calls(lane: str) -> None:
    pool = lanes.make_pool(lane, 2)
    pool.define("identity", identity)
    tasks = [pool.call(None, "identity", i) for i in range(30)]
    pool.shutdown(wait=False)
    assert [task.result(timeout=10) for task in tasks] == list(range(30))
    pool.shutdown(wait=True)


def test_shutdown_with_no_worker_cancels_what_is_queued(lane: str) -> None:
    pool = lanes.make_pool(lane, 0)
    pool.define("identity", identity)
    task = pool.call(None, "identity", 1)
    pool.shutdown()
    assert task.cancelled()


def test_the_context_manager_cancels_pending_calls_on_error(lane: str, tmp_path) -> None:
    with pytest.raises(KeyError), lanes.make_pool(lane, 1) as pool:
        pool.define("block_until", block_until)
        pool.define("identity", identity)
        running = pool.call(None, "block_until", str(tmp_path / "gate"))
        wait_until(lambda: running.state.value == "assigned")
        queued = pool.call(None, "identity", 1)
        (tmp_path / "gate").touch()
        raise KeyError("game crashed")
    assert queued.cancelled()
    assert running.result(timeout=0) == str(tmp_path / "gate")


def test_load_shutdown_load_again_with_the_module_api() -> None:
    for workers in (1, 2):
        pygame_async.load(workers)
        assert pygame_async.get_worker_count() == workers
        pygame_async.shutdown()
