"""The dask lane's side of the lane seam: what the pool asks of it, never blocking.

Every method the pool calls under its lock only changes the lane's state
and hands work to the lane's thread (:mod:`.collector`), which talks to the
cluster; ``Pool()`` connects (and starts a cluster, if asked) before the
pool exists, and ``join()`` waits for the thread to finish.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from pygame_async._core import exiting
from pygame_async._core.call_queue import CallQueue
from pygame_async._core.definitions import Definition
from pygame_async._core.errors import AsyncError
from pygame_async._core.interrupts import blocking
from pygame_async._core.ledger import Ledger
from pygame_async._core.task import Task
from pygame_async._lanes import pickling
from pygame_async._lanes.cluster import batching
from pygame_async._lanes.cluster.collector import Collector
from pygame_async._lanes.cluster.connection import Connection
from pygame_async._lanes.cluster.state import DaskState, Op

# distributed brought exit hooks that stop dask's callback threads from taking
# work: the pools' own hook must run before them, while the lane can still
# cancel its tasks and close its client quietly.
exiting.again()

_SPINNING: Final = 0.001  # seconds: update() called again sooner than this is being spun
_YIELD: Final = 0.0002  # seconds a spun update() lets dask's threads have the GIL


@dataclass(frozen=True, slots=True)
class Shipped:
    """A definition as it crosses to the dask workers: its pickle, and the game's ``sys.path``."""

    blob: bytes
    sys_path: tuple[str, ...]


class DaskClusterLane:
    """The workers of a dask.distributed cluster: the lane seam (``_core.lane_seam.Lane``)."""

    kind = "dask"
    self_driving = True  # the lane's thread files every outcome, update() or not
    in_game_process = False
    reruns = True  # f.options(retries=n): a call whose worker died runs again, n times at most

    def __init__(self, ledger: Ledger, queue: CallQueue, target: object, workers: int) -> None:
        connection = Connection(target, workers)  # may start a cluster: before the lock exists
        self._state = state = DaskState(ledger, queue, connection)
        self._collected_at = 0.0
        self._collector = Collector(state)
        try:
            self._collector.start()
        except BaseException:
            connection.close()
            raise

    # -- definitions and calls: under the pool's lock unless said ----------------------

    def prepare_definition(self, name: str, function: Callable[..., Any]) -> Shipped:
        """Pickle the function by value (it crosses to each dask worker once), with ``sys.path``."""
        path = tuple(entry for entry in sys.path if isinstance(entry, str))
        return Shipped(pickling.pickle_definition(name, function), path)

    def pack_arguments(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
        """Pickle a call's arguments now, so a bad one fails at ``call()``, named."""
        return pickling.pickle_arguments(name, args, kwargs)

    def define(self, definition: Definition) -> None:
        """Have the lane's thread register the definition before it submits a call of it."""
        self._state.push(Op("define", definition=definition))

    def forget(self, definition: Definition) -> None:
        """Have the lane's thread unregister a version no call needs any more."""
        self._state.push(Op("forget", definition=definition))

    def dispatch(self) -> None:
        """Batch queued calls into a task per free slot; the others wait for a slot to free."""
        batching.dispatch(self._state)

    def cancel(self, task: Task, kill: bool) -> bool:
        """Refuse: a call handed to the cluster may be running there, and dask cannot stop it.

        (A call still in the pool's queue never reaches the lane's cancel: the
        pool drops it.)  Its outcome is thrown away if the pool cancels it
        anyway (a newer call with its key).
        """
        return False

    def after_cancel(self) -> None:
        """Nothing to finish."""

    def collect(self, budget: float | None) -> None:
        """In ``update()``: queued calls take the slots that freed, in few batches.

        Outcomes arrive through dask's threads and the lane's (they need the
        GIL, several times each): a game that spins ``update()`` without ever
        sleeping would starve them, and wait for its results hundreds of
        times longer, so a spun ``update()`` with nothing to deliver lets them
        run for a moment.  A game that sleeps between frames never pays it.
        """
        state = self._state
        now = time.perf_counter()
        spun, self._collected_at = now - self._collected_at < _SPINNING, now
        with state.ledger.lock:
            if state.queue:
                batching.dispatch(state)
            idle = not state.ledger.completed
        if spun and idle:
            blocking(time.sleep, _YIELD)

    def block(self, seen: int, timeout: float | None) -> None:
        """Send what waits, then wait on the ledger's condition until it changes."""
        ledger = self._state.ledger
        with ledger.lock:
            if self._state.queue:
                batching.dispatch(self._state)
            if ledger.changes == seen and ledger.broken is None:
                limit = None if timeout is None else min(timeout, threading.TIMEOUT_MAX)
                blocking(ledger.changed.wait, limit)

    # -- workers --------------------------------------------------------------------

    def worker_count(self) -> int:
        """Count the cluster's dask workers (as many as the lane asked for, once it scaled it)."""
        return self._state.worker_count()

    def add_worker(self) -> None:
        """Scale the cluster up by one worker (the lane's thread asks it)."""
        self._scale("add_worker()", self._state.worker_count() + 1)

    def stop_workers(self, amount: int) -> None:
        """Scale the cluster down by ``amount``; busy workers finish their call first."""
        self._scale("stop_workers()", max(0, self._state.worker_count() - amount))

    def _scale(self, what: str, target: int) -> None:
        state = self._state
        if not state.connection.scalable:
            raise AsyncError(
                f"{what}: the dask cluster at {state.connection.describe()} manages its own "
                "workers; pygame_async.DaskLane scales a cluster only when given the cluster "
                "object (a LocalCluster, or a deployed cluster with scale())"
            )
        if state.closing:
            return
        state.target = target
        state.scaling = True
        state.wake.notify()

    def close(self) -> None:
        """Stop for shutdown: the queued calls still leave; the thread ends once all are back."""
        state = self._state
        if not state.closing:
            state.closing = True
            batching.dispatch(state)
            batching.fail_unrunnable(state)
            state.wake.notify()

    def join(self, timeout: float | None) -> None:
        """Wait for the lane's thread, which closes what the lane opened."""
        self._collector.join(timeout)

    def kill_at_exit(self) -> None:
        """Abandon every call (the interpreter is exiting); the thread closes what it opened."""
        state = self._state
        state.abandon = True
        for task in state.queue.take_all():
            state.ledger.cancel(task)
        for task in list(state.batch_of):
            if task.state.value == "assigned":
                state.ledger.cancel(task)
        state.wake.notify()
