"""Worker counts: add, stop, ensure, on every lane; and a worker process that dies."""

from __future__ import annotations

import os
from pathlib import Path

import lanes
import pytest
from helpers import BOUND, identity, pid_alive, signal_then_block, wait_until
from lanes import make_pool

import pygame_async


def run_two_at_once(pool: pygame_async.Pool, tmp_path: Path) -> tuple[pygame_async.Task, Path]:
    """Run two calls at once, so both workers (or threads) exist; let the second finish.

    Returns the first call, still running until the returned gate is created.
    """
    pool.define("signal_then_block", signal_then_block)
    started = [tmp_path / "started-1", tmp_path / "started-2"]
    gates = [tmp_path / "gate-1", tmp_path / "gate-2"]
    tasks = [
        pool.call(None, "signal_then_block", str(mark), str(gate))
        for mark, gate in zip(started, gates, strict=True)
    ]
    lanes.wait_until_in(pool, lambda: all(mark.exists() for mark in started))
    gates[1].touch()
    assert tasks[1].result(timeout=BOUND) == str(gates[1])
    return tasks[0], gates[0]


def test_add_worker_counts_at_once_and_the_worker_takes_calls(lane: str, tmp_path: Path) -> None:
    with make_pool(lane, 1) as pool:
        pool.add_worker()
        assert pool.get_worker_count() == 2, "counted while still starting"
        busy, gate = run_two_at_once(pool, tmp_path)  # the added worker ran the second
        gate.touch()
        assert busy.result(timeout=BOUND) == str(gate)


def test_stop_workers_counts_at_once_and_the_workers_exit(
    any_pool: pygame_async.Pool, tmp_path: Path
) -> None:
    busy, gate = run_two_at_once(any_pool, tmp_path)
    gate.touch()
    busy.result(timeout=BOUND)
    runners = lanes.runners(any_pool)
    assert len(runners) == 2 * lanes.has_runners(any_pool)
    any_pool.stop_workers(1)
    assert any_pool.get_worker_count() == 1
    wait_until(lambda: sum(lanes.alive(runner) for runner in runners) == len(runners) // 2)
    any_pool.stop_workers(5)
    assert any_pool.get_worker_count() == 0
    wait_until(lambda: not any(lanes.alive(runner) for runner in runners))
    any_pool.define("identity", identity)
    late = any_pool.call(None, "identity", 1)
    assert any_pool.wait(timeout=0.05) is False and not late.done(), "no worker: it waits"


def test_stop_workers_stops_idle_workers_first_and_lets_busy_ones_finish(
    any_pool: pygame_async.Pool, tmp_path: Path
) -> None:
    busy, gate = run_two_at_once(any_pool, tmp_path)
    runners = lanes.runners(any_pool)
    assert len(runners) == 2 * lanes.has_runners(any_pool)
    any_pool.stop_workers(1)
    assert any_pool.get_worker_count() == 1
    # One exits while the other still runs its call: the idle one was the one stopped.
    wait_until(lambda: sum(lanes.alive(runner) for runner in runners) == len(runners) // 2)
    assert not busy.done()
    any_pool.stop_workers(1)
    assert any_pool.get_worker_count() == 0
    gate.touch()
    assert busy.result(timeout=BOUND) == str(gate), "its current call completes"
    wait_until(lambda: not any(lanes.alive(runner) for runner in runners))


def test_ensure_chains_and_stops_the_whole_surplus(lane: str) -> None:
    with make_pool(lane, 1) as pool:
        assert pool.ensure.at_least(4) is pool.ensure
        assert pool.get_worker_count() == 4
        pool.ensure.at_most(1)  # LÖVE's atMost stopped one worker whatever the surplus
        assert pool.get_worker_count() == 1
        pool.ensure.at_least(3).at_most(2)
        assert pool.get_worker_count() == 2
        pool.ensure.exactly(3)
        assert pool.get_worker_count() == 3
        pool.ensure.exactly(0)
        assert pool.get_worker_count() == 0
        pool.ensure.at_most(5).at_least(1)
        assert pool.get_worker_count() == 1
        pool.define("identity", identity)
        assert pool.call(None, "identity", 7).result(timeout=10) == 7


@pytest.mark.process_lane
def test_a_dead_worker_costs_one_call_not_the_pool() -> None:
    with pygame_async.Pool(2) as pool:
        pool.define("exit", lambda code: os._exit(code))
        pool.define("identity", identity)
        crashed = pool.call(None, "exit", 3)
        others = [pool.call(None, "identity", i) for i in range(20)]
        error = crashed.exception(timeout=10)
        assert isinstance(error, pygame_async.WorkerCrashedError)
        assert error.exitcode == 3 and error.pid is not None
        assert f"pid {error.pid}" in str(error) and "'exit'" in str(error)
        assert "exit code 3" in str(error)
        assert [task.result(timeout=10) for task in others] == list(range(20))
        wait_until(lambda: pool.get_worker_count() == 2)
        assert not pid_alive(error.pid)
