"""Worker lifecycle: asking for workers, starting them, killing and replacing them.

States and transitions (all under the pool's lock; see :class:`WorkerState`)::

    asked for --(starter thread)--> STARTING --HELLO--> READY <--> BUSY
                                       |                  |         |
                                       +----- stop() or kill() -----+--> STOPPING
                                                                          |
                    any state --- its process exits (I/O thread) --> DEAD --> reaped

A worker is *killed* (SIGKILL, at once: its state mid-call is unknowable and
SIGTERM can be ignored) when its call ran past its timeout, when it is
cancelled with ``kill=True``, when it sends what the game cannot read, or
when it does not leave within a grace after being told to stop.  What
happens once it has exited is :mod:`.reaping`'s.
"""

from __future__ import annotations

import logging
import multiprocessing.process
import socket
import time

from pygame_async._core.errors import TaskTimeoutError, WorkerStartError
from pygame_async._lanes.process.dispatch import Dispatcher
from pygame_async._lanes.process.handle import WorkerHandle, WorkerState
from pygame_async._lanes.process.state import LaneState

logger = logging.getLogger("pygame_async")


class Lifecycle:
    """Starts, stops, kills and replaces workers; the starter thread starts their processes."""

    def __init__(self, state: LaneState, dispatcher: Dispatcher) -> None:
        self._state = state
        self._dispatcher = dispatcher
        self.last_start_error: BaseException | None = None  # kept for Pool()'s own message

    def request_worker(self) -> None:
        """Ask the starter thread for one more worker; it counts from now on."""
        self._state.spawn_requests += 1
        self._state.spawn_wanted.notify()

    def withdraw_requests(self, amount: int) -> int:
        """Cancel up to ``amount`` requests not started yet; return how many."""
        withdrawn = min(amount, self._state.spawn_requests)
        self._state.spawn_requests -= withdrawn
        return withdrawn

    def started(
        self,
        process: multiprocessing.process.BaseProcess,
        sock: socket.socket,
        bulk: socket.socket,
    ) -> None:
        """Register a process the starter thread started; it waits for its HELLO."""
        state = self._state
        worker = WorkerHandle(process, sock, bulk)
        state.workers.append(worker)
        logger.debug("started worker %s", worker.pid)
        if state.spawn_requests and not state.closing:
            state.spawn_requests -= 1
        else:
            self._dispatcher.stop(worker)  # stop_workers() withdrew the request meanwhile
        state.rouser.rouse()
        state.ledger.notify()

    def start_failed(self, error: BaseException) -> None:
        """Record that starting a worker process failed (out of processes or descriptors...)."""
        state = self._state
        logger.error("could not start a worker process: %s", error, exc_info=error)
        failure = WorkerStartError(f"could not start a worker process: {error}")
        failure.__cause__ = error
        state.spawn_requests = 0  # the next would fail alike: no retry storm
        state.start_failure = failure
        self.last_start_error = failure
        self._dispatcher.dispatch()
        state.ledger.notify()

    def said_hello(self, worker: WorkerHandle) -> None:
        """Make a worker that said HELLO ready: send it every current definition."""
        worker.said_hello = True
        self._state.start_failure = None
        if worker.state is WorkerState.STARTING:
            worker.state = WorkerState.READY
        self._dispatcher.send_current_definitions(worker)
        logger.debug("worker %s is ready", worker.pid)

    def kill(self, worker: WorkerHandle, reason: BaseException | None) -> None:
        """Kill a worker whose call must not go on (``reason`` is what that call gets)."""
        if worker.kill_reason is None:
            worker.kill_reason = reason
        if not worker.alive:
            return  # it has exited already: its reaping decides what follows
        worker.deadline = None
        replace = worker.accepts_calls and not worker.stop_requested
        worker.stop_requested = True
        if worker.alive:
            worker.state = WorkerState.STOPPING
        worker.kill()
        if replace and not self._state.closing:
            self.request_worker()

    def replace_after_current_call(self, worker: WorkerHandle, why: str) -> None:
        """Replace a worker once its calls are done (the recycling options)."""
        if worker.accepts_calls:
            logger.info("replacing worker %s %s", worker.pid, why)
            self._dispatcher.stop(worker)
            if not self._state.closing:
                self.request_worker()

    def expire(self) -> None:
        """Kill the workers whose call ran past its timeout, or that did not leave in time."""
        now = time.monotonic()
        for worker in self._state.workers:
            task = worker.task
            if task is not None and worker.deadline is not None and worker.deadline <= now:
                assert task.timeout is not None
                self.kill(
                    worker,
                    TaskTimeoutError(
                        f"{task.name!r} ran longer than its timeout of {task.timeout:g} s; "
                        f"its worker process (pid {worker.pid}) was killed and replaced",
                        timeout=task.timeout,
                        pid=worker.pid,
                    ),
                )
            elif worker.leave_by is not None and worker.leave_by <= now and worker.alive:
                logger.debug("worker %s did not leave when told to; killing it", worker.pid)
                worker.leave_by = None
                self.kill(worker, None)

    def next_deadline(self) -> float | None:
        """Return the soonest moment :meth:`expire` has something to do."""
        moments = [w.deadline for w in self._state.workers if w.deadline is not None]
        moments += [w.leave_by for w in self._state.workers if w.leave_by is not None and w.alive]
        return min(moments) if moments else None
