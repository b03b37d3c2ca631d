"""The lane seam: the one interface through which the pool drives a place where calls run.

A *lane* runs calls: worker processes (``_lanes.process``), threads of the
game process (``_lanes.thread``), the game's own thread, step by step
(``_lanes.inline``, for web builds), and the workers of a dask.distributed
cluster (``_lanes.cluster``).  The pool's facade
(:mod:`pygame_async._core.pool`) knows lanes only through :class:`Lane`; a
lane knows the pool only through the :class:`~pygame_async._core.ledger.Ledger`
and the :class:`~pygame_async._core.call_queue.CallQueue` it is given.  Lanes
are made by a factory the package front registers (:func:`register`), so
the core imports no lane, and a lane's modules (``multiprocessing``, threads,
``distributed``) are imported only when a pool uses it.  A pool names its
lane with a string (``"process"``, ``"thread"``, ``"inline"``) or passes a
:class:`LaneSpec`, an object that says how to make one (``DaskLane(target)``).

What each method means for each kind of lane is in its docstring.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from pygame_async._core.call_queue import CallQueue
from pygame_async._core.definitions import Definition
from pygame_async._core.ledger import Ledger
from pygame_async._core.task import Task


class Lane(Protocol):
    """How the pool drives a lane.  ``[lock]``: called with ``Ledger.lock`` held, must not block."""

    kind: str
    """The lane's name in messages: ``"process"``, ``"thread"``, ``"inline"``."""

    in_game_process: bool
    """True if calls run in the game's own process (thread, inline): arguments by reference."""

    self_driving: bool
    """True if calls run and end with no game thread calling :meth:`collect` or :meth:`block`.

    Process and thread: the lane's own threads file every outcome (so
    ``await task`` and ``PoolExecutor`` futures complete with no
    ``update()``).  Inline: False, its calls advance only on a thread that
    asks.  Dask: True.
    """

    reruns: bool
    """True if the lane can run a call again after its worker died (dask: ``retries=``)."""

    def prepare_definition(self, name: str, function: Callable[..., Any]) -> Any:
        """Turn a function into the payload the lane runs; raise TypeError if it cannot.

        Called by ``define()`` without the lock.  Process and dask: pickle it
        by value (the closure crosses to each worker once).  Thread and
        inline: the function itself.
        """

    def pack_arguments(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Turn a call's arguments into what the lane sends; raise TypeError naming a bad one.

        Called by ``call()`` without the lock.  Process and dask: pickle them
        now, so a bad argument fails at ``call()``.  Thread and inline: keep
        them as they are (passed by reference).
        """

    def define(self, definition: Definition) -> None:
        """``[lock]`` A new current definition: make it known where calls will need it.

        Process: send it to idle workers at once, to the others before their
        next call of it.  Thread and inline: nothing.  Dask: register it with
        the cluster as a worker plugin (every worker, present and future,
        gets it once), before any call of it is submitted.
        """

    def forget(self, definition: Definition) -> None:
        """``[lock]`` No call will ever need this version again: drop it everywhere."""

    def dispatch(self) -> None:
        """``[lock]`` Calls wait in the lane's queue: take those that can start now.

        Called by ``call()`` for the first call of a burst and whenever a
        worker may have become free.  Must never block: process writes
        without blocking and leaves the rest to its I/O thread; thread hands
        calls to idle threads; inline only marks them runnable (they run in
        :meth:`collect`); dask forms batches, which its own thread submits.
        """

    def cancel(self, task: Task, kill: bool) -> bool:
        """``[lock]`` Cancel a call the lane has taken; True if its callback will never run.

        A taken call that has not started is dropped.  A running one is
        stopped only with ``kill``: process kills its worker and replaces it;
        thread cannot stop it (False); inline stops a generator between
        steps (with or without ``kill``), which :meth:`after_cancel` closes;
        dask cannot stop a call handed to the cluster (False), which may be
        running there already.
        """

    def after_cancel(self) -> None:
        """Without the lock, right after :meth:`cancel`: finish what cancelling began.

        Inline: close the generators of cancelled calls (their ``finally``
        runs here, never under the lock).  Others: nothing.
        """

    def collect(self, budget: float | None) -> None:
        """On the thread calling ``update()``, without the lock: gather outcomes without blocking.

        ``budget`` is ``update()``'s (seconds, or None).  Process: read the
        replies already on the busy workers' sockets and send the calls made
        since the last frame.  Thread: nothing (outcomes are filed as they
        happen).  Inline: run calls for about ``budget`` (a default slice
        when None), at least one step.  Dask: batch the calls made since the
        last frame (its thread submits them).
        """

    def block(self, seen: int, timeout: float | None) -> None:
        """Without the lock: wait until ``Ledger.changes`` moves past ``seen``, or ``timeout``.

        Called by ``wait()`` and ``Task.result()``; may gather outcomes on
        the calling thread while it waits.  Process: wait on the busy
        workers' sockets and a news pipe, reading replies here.  Thread and
        dask: the ledger's condition.  Inline: run the next step of a call.
        Asyncio: give the loop a turn.
        """

    def worker_count(self) -> int:
        """``[lock]`` How many calls can run at once: workers or threads, counting starting ones.

        Dask: the cluster's dask workers (as asked for, when the lane scales it).
        """

    def add_worker(self) -> None:
        """``[lock]`` Run one more call at once from now on (start a worker or a thread).

        Dask: scale the cluster up by one, if the lane was given a cluster
        object; else raise :class:`AsyncError` (the cluster manages its own).
        """

    def stop_workers(self, amount: int) -> None:
        """``[lock]`` Run ``amount`` fewer calls at once, each after its current call.

        Dask: as :meth:`add_worker`; idle workers are retired first.
        """

    def close(self) -> None:
        """``[lock]`` The pool is shutting down: stop once the lane's queue is drained.

        The lane calls ``Ledger.lane_closed()`` once no worker or thread of
        its own is left.
        """

    def join(self, timeout: float | None) -> None:
        """Without the lock, after :meth:`close`: wait for the lane's threads to end."""

    def kill_at_exit(self) -> None:
        """``[lock]`` The interpreter is exiting: end every worker now, abandoning its call."""


class LaneSpec(Protocol):
    """A lane named by an object rather than a string: it says how to make the lane."""

    kind: str
    """The lane's name in messages (``"dask"``)."""

    def make_lane(
        self, ledger: Ledger, queue: CallQueue, workers: int, options: dict[str, Any]
    ) -> Lane:
        """Make the lane for a pool; ``options`` are the pool's (``initializer``...)."""


LaneFactory = Callable[[str | LaneSpec | None, Ledger, CallQueue, int, dict[str, Any]], Lane]
"""``factory(kind, ledger, queue, workers, options)``: make a lane of ``kind`` (None: default)."""

_factory: LaneFactory | None = None


def register(factory: LaneFactory) -> None:
    """Install the factory that makes lanes (the package front does this)."""
    global _factory
    _factory = factory


def make(
    kind: str | LaneSpec | None,
    ledger: Ledger,
    queue: CallQueue,
    workers: int,
    options: dict[str, Any],
) -> Lane:
    """Make a lane of ``kind`` for a pool (None: the platform's default lane)."""
    if _factory is None:
        raise RuntimeError("pygame_async internal error: no lane factory is registered")
    return _factory(kind, ledger, queue, workers, options)


_worker_setups: list[Callable[[], object]] = []


def add_worker_setup(setup: Callable[[], object]) -> None:
    """Have every worker process a lane starts run ``setup()`` before anything else.

    A worker imports only what its calls need (it never runs the package
    front), so what the front plugs in for pickling must be plugged in there
    too: the pygame adapter adds the setup that lets a worker pickle a
    Surface.  ``setup`` travels by name: a module-level function.
    """
    if setup not in _worker_setups:
        _worker_setups.append(setup)


def worker_setups() -> tuple[Callable[[], object], ...]:
    """Return the setups every new worker process runs first (see :func:`add_worker_setup`)."""
    return tuple(_worker_setups)
