"""Pool(worker_priority): worker processes run below the game unless told otherwise."""

from __future__ import annotations

import os
import sys
import threading

import pytest

import pygame_async

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="niceness is POSIX")


def niceness() -> tuple[int, int]:
    """This process's niceness, and that of a thread it starts now (Linux: each thread's own)."""
    seen: list[int] = []
    thread = threading.Thread(target=lambda: seen.append(os.nice(0)))
    thread.start()
    thread.join()
    return os.nice(0), seen[0]


def workers_niceness(pool: pygame_async.Pool) -> tuple[int, int]:
    results: list[tuple[int, int]] = []
    pool.define("niceness", niceness)(results.append)
    assert pool.wait(30)
    return results[0]


def test_workers_run_below_the_game_by_default_and_so_do_the_threads_they_start() -> None:
    below = min(os.nice(0) + 10, 19)
    with pygame_async.Pool(1) as pool:
        assert workers_niceness(pool) == (below, below)


def test_low_is_the_default_said_out_loud() -> None:
    below = min(os.nice(0) + 10, 19)
    with pygame_async.Pool(1, worker_priority="low") as pool:
        assert workers_niceness(pool) == (below, below)


def test_normal_workers_run_at_the_game_s_own_priority() -> None:
    with pygame_async.Pool(1, worker_priority="normal") as pool:
        assert workers_niceness(pool) == (os.nice(0), os.nice(0))


@pytest.mark.parametrize(
    ("value", "error"), [("high", ValueError), ("LOW", ValueError), (10, TypeError)]
)
def test_an_unknown_priority_is_refused_at_pool_naming_the_argument(
    value: object, error: type[Exception]
) -> None:
    with pytest.raises(error, match=r"Pool\(worker_priority\): .*'low', 'normal'"):
        pygame_async.Pool(1, worker_priority=value)  # type: ignore[arg-type]


@pytest.mark.parametrize("lane", ["thread", "inline"])
def test_lanes_without_worker_processes_refuse_it(lane: str) -> None:
    with pytest.raises(ValueError, match=r"Pool\(worker_priority\): only worker processes"):
        pygame_async.Pool(1, lane=lane, worker_priority="low")
