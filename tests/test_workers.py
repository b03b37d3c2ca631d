"""Worker counts: add, stop, ensure, and a worker that dies."""

from __future__ import annotations

import os

import pytest
import whitebox
from helpers import block_until, identity, pid_alive, wait_until

import pygame_async


def getpid() -> int:
    return os.getpid()


def test_add_worker_counts_at_once_and_the_worker_takes_calls() -> None:
    with pygame_async.Pool(1) as pool:
        pool.add_worker()
        assert pool.get_worker_count() == 2, "counted while still starting"
        pool.define("getpid", getpid)
        wait_until(lambda: whitebox.idle_count(pool) == 2)
        assert len(set(whitebox.worker_pids(pool))) == 2


def test_stop_workers_counts_at_once_and_the_processes_exit(pool: pygame_async.Pool) -> None:
    pids = whitebox.worker_pids(pool)
    pool.stop_workers(1)
    assert pool.get_worker_count() == 1
    wait_until(lambda: sum(pid_alive(pid) for pid in pids) == 1)
    pool.stop_workers(5)
    assert pool.get_worker_count() == 0
    wait_until(lambda: not any(pid_alive(pid) for pid in pids))


def test_stop_workers_stops_idle_workers_first_and_lets_busy_ones_finish(tmp_path) -> None:
    with pygame_async.Pool(2) as pool:
        pool.define("block_until", block_until)
        busy = pool.call(None, "block_until", str(tmp_path / "gate"))
        wait_until(lambda: busy.state.value == "assigned")
        busy_pid = whitebox.pid_running(pool, busy)
        pool.stop_workers(1)
        assert pool.get_worker_count() == 1
        assert busy_pid in whitebox.accepting_pids(pool), "the idle worker was the one stopped"
        pool.stop_workers(1)
        assert pool.get_worker_count() == 0
        (tmp_path / "gate").touch()
        assert busy.result(timeout=10) == str(tmp_path / "gate"), "its current call completes"
        wait_until(lambda: not pid_alive(busy_pid))


def test_ensure_chains_and_stops_the_whole_surplus() -> None:
    with pygame_async.Pool(1) as pool:
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


@pytest.mark.parametrize("method", ["exactly", "at_least", "at_most"])
@pytest.mark.parametrize(
    ("value", "error", "message"),
    [(-1, ValueError, "0 or more"), ("2", TypeError, "must be an int"), (True, TypeError, "int")],
)
def test_ensure_rejects_bad_counts(method: str, value: object, error: type, message: str) -> None:
    with pygame_async.Pool(0) as pool:
        with pytest.raises(error, match=message) as info:
            getattr(pool.ensure, method)(value)
        assert f"ensure.{method}(n)" in str(info.value)


def test_stop_workers_rejects_bad_amounts() -> None:
    with pygame_async.Pool(0) as pool:
        with pytest.raises(ValueError, match=r"stop_workers\(amount\)"):
            pool.stop_workers(-1)
        with pytest.raises(TypeError, match=r"stop_workers\(amount\)"):
            pool.stop_workers(1.5)  # type: ignore[arg-type]


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
