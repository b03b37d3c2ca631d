"""The lanes the core tests run on: the one list to extend when a lane is added.

Every test that takes the ``lane`` or ``any_pool`` fixture (conftest) runs
once per entry of :data:`LANES`, as CPython's ``test_concurrent_futures``
runs its executor tests once per executor: a new lane (inline, asyncio,
dask) gets the whole core suite by adding its name here.  The dask lane's
pools share one ``LocalCluster`` of worker processes (``dask_cluster``),
sized for each pool to the workers asked for.  Tests true of one
lane only (crashes, timeouts, kill, pickling, worker processes) use the
process-lane ``pool`` fixture or ``pygame_async.Pool`` itself, and carry the
``process_lane`` mark where they sit beside core tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import dask_cluster
import whitebox
from helpers import BOUND, pid_alive, wait_until

import pygame_async

LANES = ["process", "thread", "inline", "dask"]
"""Every lane a pool can run its defined functions on."""

THREAD_NAME_PREFIXES = ("pygame_async-thread-", "pygame_async-dask-")
"""How a thread lane names its threads (``pygame_async-thread-1``...), and a dask lane its own."""

Runner = int | threading.Thread
"""What runs a lane's calls: a worker process (its pid) or a thread."""


def make_pool(lane: str, workers: int = 2) -> pygame_async.Pool:
    """A pool of ``workers`` on ``lane``: worker processes, threads of this process, or inline.

    On the dask lane: the shared cluster, given to the pool, with ``workers``
    dask workers (the pool's own ``workers`` is ignored when it is given one).
    """
    if lane == "dask":
        return pygame_async.Pool(workers, lane=pygame_async.DaskLane(dask_cluster.sized(workers)))
    return pygame_async.Pool(workers, lane=lane)


def runners(pool: pygame_async.Pool) -> list[Runner]:
    """What runs the pool's calls right now: its worker processes, or its lane's threads.

    A thread lane starts its threads as calls need them: a pool that has run
    no call may have none yet.  A dask pool's calls run in its cluster's
    worker processes.
    """
    kind = whitebox.lane_kind(pool)
    if kind == "process":
        return whitebox.worker_pids(pool)
    if kind == "thread":
        return whitebox.lane_threads(pool)
    if kind == "dask":
        return whitebox.dask_worker_pids(pool)
    return []  # the inline lane runs calls on the game's own thread: nothing to outlive it


def owned(pool: pygame_async.Pool) -> list[Runner]:
    """What the pool started itself, which must be gone once it has shut down.

    The runners, except on a dask pool given its cluster: the lane's own
    thread, and the cluster, which must be left running (:func:`left_running`).
    """
    if whitebox.lane_kind(pool) != "dask":
        return runners(pool)
    started: list[Runner] = list(whitebox.dask_lane_threads(pool))
    if whitebox.dask_owns_cluster(pool):
        started += runners(pool)
    return started


def check_left_running(pool: pygame_async.Pool) -> None:
    """Check that a shut dask pool left the cluster it was given running (other lanes: nothing)."""
    if whitebox.lane_kind(pool) == "dask" and not whitebox.dask_owns_cluster(pool):
        assert whitebox.dask_cluster_running(pool), "a cluster the pool was given stays up"


def has_runners(pool: pygame_async.Pool) -> bool:
    """False for the inline lane, whose calls run on the game's own thread."""
    return whitebox.lane_kind(pool) != "inline"


def alive(runner: Runner) -> bool:
    """True while a worker process or lane thread still exists."""
    return pid_alive(runner) if isinstance(runner, int) else runner.is_alive()


def lane_threads_left() -> list[threading.Thread]:
    """Threads of any thread lane, or dask lane, still alive in this process (of any pool)."""
    return [
        thread for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME_PREFIXES)
    ]


STOPS_BETWEEN_STEPS = frozenset({"inline"})
"""Lanes where a running generator call can be cancelled between two of its steps."""


def wait_until_in(pool: pygame_async.Pool, condition: Callable[[], object]) -> None:
    """:func:`helpers.wait_until` for a condition a call of ``pool`` makes true.

    On the inline lane calls run only on a thread that lets them (``update()``,
    ``wait()``, ``Task.result()``), so the test's thread runs their steps
    meanwhile, delivering nothing; on other lanes this is ``wait_until``.
    """
    if whitebox.lane_kind(pool) != "inline":
        wait_until(condition, BOUND)
        return

    def stepped_then(condition: Callable[[], object] = condition) -> object:
        whitebox.run_a_step(pool)
        return condition()

    wait_until(stepped_then, BOUND)
