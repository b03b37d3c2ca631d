"""The one place the tests read the pool's private state (white-box).

A change to the pool's insides changes this file, not the tests.  Importable
by the game scripts tests run in subprocesses (tests/ is on their path).
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

import pygame_async
from pygame_async._core import default


def default_pool() -> pygame_async.Pool | None:
    """The pool load() made, if it is still loaded."""
    return default._pool


def workers(pool: pygame_async.Pool) -> list[Any]:
    """The pool's worker handles, alive or not yet reaped."""
    return list(pool._lane._state.workers)  # type: ignore[attr-defined]


def worker_pids(pool: pygame_async.Pool) -> list[int]:
    """The pids of the pool's worker processes."""
    return [worker.pid for worker in workers(pool) if worker.pid]


def accepting_pids(pool: pygame_async.Pool) -> set[int]:
    """The pids of the workers that take calls."""
    return {worker.pid for worker in workers(pool) if worker.accepts_calls}


def idle_count(pool: pygame_async.Pool) -> int:
    """How many workers are idle."""
    return sum(worker.idle for worker in workers(pool))


def pid_running(pool: pygame_async.Pool, task: pygame_async.Task) -> int:
    """The pid of the worker whose current call is ``task``."""
    return next(worker.pid for worker in workers(pool) if worker.task is task)


def known_definitions(pool: pygame_async.Pool, pid: int) -> set[int]:
    """The definition ids a worker has been sent."""
    (worker,) = [worker for worker in workers(pool) if worker.pid == pid]
    return set(worker.known_definitions)


def current_definition(pool: pygame_async.Pool, name: str) -> Any:
    """The current Definition of ``name``."""
    return pool._definitions.lookup(name)


def waiting_reader(pool: pygame_async.Pool) -> bool:
    """True while a thread blocked in wait()/result() reads the busy workers itself.

    Only the process lane has such a reader; on other lanes, never.
    """
    if lane_kind(pool) != "process":
        return False
    return bool(pool._lane._state.waiting_reader)  # type: ignore[attr-defined]


def waiting_reader_spins(pool: pygame_async.Pool) -> bool:
    """True if the process lane's next waiting reader looks before it sleeps (last wait short)."""
    return bool(pool._lane._waiting._spin_pays)  # type: ignore[attr-defined]


def waiting_threads(pool: pygame_async.Pool) -> int:
    """How many threads block in wait() or Task.result().

    One of them may be reading the busy workers' sockets; the others wait on
    the ledger's condition.  On the inline lane a blocked thread may be running
    a call's step instead: every thread inside the lane's ``block()`` counts.
    """
    if lane_kind(pool) == "inline":
        return _threads_inside(type(pool._lane).block)
    return int(pool._ledger.changed.waiting) + waiting_reader(pool)


def _threads_inside(function: Any) -> int:
    """How many threads have ``function`` on their stack right now."""
    code = function.__code__
    inside = 0
    for frame in sys._current_frames().values():
        walking: FrameType | None = frame
        while walking is not None and walking.f_code is not code:
            walking = walking.f_back
        inside += walking is not None
    return inside


def io_thread_alive(pool: pygame_async.Pool) -> bool:
    """True while the pool's I/O thread runs."""
    return bool(pool._lane._io._thread.is_alive())  # type: ignore[attr-defined]


def io_thread_sees_a_burst(pool: pygame_async.Pool) -> bool:
    """True while the pool's I/O thread counts the game's calls as a burst (and leaves them)."""
    return bool(pool._lane._io._bursting)  # type: ignore[attr-defined]


def io_thread_parked(pool: pygame_async.Pool) -> bool:
    """True while the pool's I/O thread sleeps until a waiting reader leaves (a long wait)."""
    return bool(pool._lane._state.io_parked)  # type: ignore[attr-defined]


def count_io_turns(pool: pygame_async.Pool) -> list[int]:
    """Count the I/O thread's turns of its loop from now on, in the one-item list returned."""
    io = pool._lane._io  # type: ignore[attr-defined]
    turns = [0]
    turn = io._turn

    def counting() -> bool:
        turns[0] += 1
        return bool(turn())

    io._turn = counting  # its loop looks the method up on each turn
    return turns


def rouse_io_thread(pool: pygame_async.Pool) -> None:
    """Wake the pool's I/O thread for one more turn of its loop."""
    with pool._ledger.lock:
        pool._lane._state.rouser.rouse()  # type: ignore[attr-defined]


def kill_at_exit(pool: pygame_async.Pool, timeout: float) -> None:
    """What the interpreter's exit does to a live pool."""
    pool._kill_at_exit(timeout=timeout)


def is_at_rest(pool: pygame_async.Pool) -> bool:
    """True if nothing is queued, pending, waiting for delivery or running."""
    ledger = pool._ledger
    return (
        not (
            pool._queue
            or ledger.completed
            or ledger.to_post
            or ledger.to_settle
            or ledger.progressed
        )
        and ledger.pending == 0
        and ledger.in_flight == 0
        and all(worker.task is None for worker in workers(pool))
    )


def calls_made(pool: pygame_async.Pool) -> int:
    """How many tasks the pool has made so far."""
    return next(pool._ledger.task_ids) - 1


def calls_made_by_game(pool: pygame_async.Pool) -> int:
    """How many times ``call()`` has made a call (the count a lane tells bursts by)."""
    return int(pool._ledger.calls_made)


def lane_kind(pool: pygame_async.Pool) -> str:
    """The kind of lane that runs the pool's defined functions: ``"process"``, ``"thread"``..."""
    return str(pool._lane.kind)


def lane_kinds() -> tuple[str, ...]:
    """Every kind of lane the package can make (named by a string, or by an object)."""
    from pygame_async import _lanes

    return tuple(_lanes.KINDS) + tuple(_lanes.OBJECT_KINDS)


def lane_threads(pool: pygame_async.Pool) -> list[Any]:
    """The threads of a thread-lane pool, alive or leaving."""
    return list(pool._lane._threads)  # type: ignore[attr-defined]


def worker_start_method() -> str:
    """How the process lane starts its workers (``"spawn"``...)."""
    from pygame_async._lanes.process.spawning import worker_context

    return str(worker_context().get_start_method())


def run_a_step(pool: pygame_async.Pool) -> None:
    """Let the pool's lane run one step of its calls on this thread, delivering nothing.

    Only the inline lane runs calls this way (on the thread that blocks in
    ``wait()`` or ``Task.result()``); for others it is a wait of no time.
    """
    pool._lane.block(pool._ledger.changes, 0)


def calls_on_workers(pool: pygame_async.Pool) -> list[int]:
    """How many calls each worker holds: its running one and those queued behind it."""
    return [len(worker.in_flight) for worker in workers(pool)]


def defined_names(pool: pygame_async.Pool) -> list[str]:
    """The names the pool's definition table holds now (defined and not undefined)."""
    return [definition.name for definition in pool._definitions]


# -- the dask lane ---------------------------------------------------------------------


def dask_state(pool: pygame_async.Pool) -> Any:
    """The dask lane's shared state."""
    return pool._lane._state  # type: ignore[attr-defined]


def dask_client(pool: pygame_async.Pool) -> Any:
    """The dask lane's own Client (open until the pool has shut down)."""
    return dask_state(pool).connection.client


def dask_worker_pids(pool: pygame_async.Pool) -> list[int]:
    """The pids of the worker processes of a dask pool's cluster.

    Asked of a LocalCluster's nannies in this process (asking a worker that
    is closing would wait for dask's 30 s timeout); of the workers otherwise.
    """
    import os

    state = dask_state(pool)
    nannies = getattr(state.connection.cluster, "workers", None)
    if isinstance(nannies, dict):
        return sorted(nanny.pid for nanny in list(nannies.values()) if getattr(nanny, "pid", None))
    if state.closed:
        return []
    return sorted(dask_client(pool).run(os.getpid, callback_timeout=10).values())


def dask_lane_threads(pool: pygame_async.Pool) -> list[Any]:
    """The dask lane's own thread."""
    return [pool._lane._collector._thread]  # type: ignore[attr-defined]


def dask_owns_cluster(pool: pygame_async.Pool) -> bool:
    """True if the dask lane started its cluster itself (``DaskLane()``)."""
    return bool(dask_state(pool).connection.owns_cluster)


def dask_cluster_running(pool: pygame_async.Pool) -> bool:
    """True while the cluster a dask pool was given still runs."""
    cluster = dask_state(pool).connection.cluster
    return cluster is not None and cluster.status.name == "running"
