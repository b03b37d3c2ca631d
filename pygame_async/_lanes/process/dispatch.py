"""Dispatch: which worker gets which queued call, and what it must be sent first.

A worker runs its calls one at a time, in the order it got them.  An idle
worker gets the next queued call (the highest priority, then the oldest); a
busy one is given more (*prefetch*) only while they are short: up to
``_PREFETCH_SECONDS`` of estimated work, so a long call never waits behind
another and a call with a timeout never waits at all.  A call queued with a
higher priority than calls prefetched onto busy workers takes them back
(*retract*: the worker is told to skip them, and they return to the queue),
so it goes first when a worker becomes free.  Everything here runs under
the pool's lock and never blocks: batches are written as far as the socket
takes them, and the I/O thread writes the rest.
"""

from __future__ import annotations

import itertools
import logging
import math
import time
from typing import NamedTuple

from pygame_async._core import serialization
from pygame_async._core.arguments_apart import Apart
from pygame_async._core.definitions import Definition
from pygame_async._core.errors import WorkerStartError
from pygame_async._core.task import Task
from pygame_async._lanes.process import wire
from pygame_async._lanes.process.handle import WorkerHandle, WorkerState
from pygame_async._lanes.process.state import LaneState

logger = logging.getLogger("pygame_async")

_PREFETCH_SECONDS = 0.002  # estimated work a busy worker may have queued behind its call
_PREFETCH_CALLS = 256  # and at most this many calls
_STALLED = 0.02  # seconds past which a running call's worker is given no more calls
STOP_GRACE = 2.0  # seconds a worker told to stop (with no call left) has to exit


class DefinitionPayload(NamedTuple):
    """What the process lane keeps of a definition: the pickled function, and where it was made."""

    blob: bytes
    sys_path: tuple[str, ...]  # the game's sys.path when it was defined


class Dispatcher:
    """Hands queued calls to workers and keeps each worker's registry in step."""

    def __init__(self, state: LaneState) -> None:
        self._state = state

    def dispatch(self, prefetch: bool = True) -> None:
        """Hand queued calls to workers, in order; finish closing a closing pool.

        ``call()`` dispatches without prefetch, so the calls of a frame leave
        together at ``update()``, in one batch per worker.
        """
        state = self._state
        queue = state.queue
        if queue:
            for worker in self._hand_out(prefetch):
                self.flush(worker)
            if queue and queue.peek().priority > state.prefetched_floor:
                self._retract_below(queue.peek().priority)
            if queue and state.start_failure is not None and not state.can_run_calls():
                for task in queue.take_all():  # no worker will ever run them: say why now
                    state.ledger.fail(task, copy_start_error(state.start_failure))
                state.ledger.notify()
        if state.closing:
            self._finish_closing()

    def flush(self, worker: WorkerHandle) -> None:
        """Send the worker its queued operations; the I/O thread writes what is left."""
        worker.flush()
        if worker.outbox:
            self._state.rouser.rouse()  # the rest waits for room on the socket

    def _hand_out(self, prefetch: bool) -> list[WorkerHandle]:
        """Give queued calls to idle workers, then (``prefetch``) to busy ones; return those."""
        queue = self._state.queue
        idle = [worker for worker in self._state.workers if worker.state is WorkerState.READY]
        touched: list[WorkerHandle] = []
        now = time.monotonic()
        target: WorkerHandle | None = None  # the last busy worker given a call: likely again
        while queue:
            task = queue.peek()
            if idle:
                worker = idle.pop(0)
            elif not prefetch or task.timeout is not None or task.definition.estimate is None:
                break  # a timeout counts from the start: never queue behind another call
            else:
                if target is None or not self._may_prefetch(target, task, now):
                    target = self._prefetch_target(task, now)
                    if target is None:
                        break
                worker = target
            self._start_call(worker, queue.pop_next(), now)
            if worker not in touched:
                touched.append(worker)
        return touched

    def _prefetch_target(self, task: Task, now: float) -> WorkerHandle | None:
        """Return the busy worker with the least queued work that may take a short call next."""
        best = None
        for worker in self._state.workers:
            if self._may_prefetch(worker, task, now) and (
                best is None or worker.queued_estimate < best.queued_estimate
            ):
                best = worker
        return best

    @staticmethod
    def _may_prefetch(worker: WorkerHandle, task: Task, now: float) -> bool:
        """Tell whether a busy worker may take this short call after the ones it has."""
        return (
            worker.state is WorkerState.BUSY
            and len(worker.in_flight) < _PREFETCH_CALLS
            and worker.queued_estimate + (task.definition.estimate or 0.0) <= _PREFETCH_SECONDS
            # A busy worker that must first learn the function could keep the
            # call waiting behind a big definition.
            and task.definition.id in worker.known_definitions
            # Nor one whose call runs far longer than it should (stopped,
            # stuck): what it holds waits as long as it does.
            and now - worker.running_since < _STALLED
            and not worker.outbox
        )

    def _start_call(self, worker: WorkerHandle, task: Task, now: float) -> None:
        """Hand a call to a worker; it leaves with the worker's next flush."""
        state = self._state
        definition = task.definition
        if definition.id not in worker.known_definitions:
            self.send_definition(worker, definition)
        arguments = task.arguments
        if type(arguments) is Apart:  # big buffers follow the batch, on bulk
            operation = (wire.CALL, task.id, definition.id, arguments.blob, arguments.layout)
            worker.queue(operation, call=task, raw=[buffer for buffer, _ in arguments.buffers])
        else:
            worker.queue((wire.CALL, task.id, definition.id, arguments), call=task)
        if not worker.in_flight:
            worker.running_since = now
            if task.timeout is not None:
                worker.deadline = worker.running_since + task.timeout
                state.rouser.rouse()  # its wait must end by the new deadline
            if state.waiting_reader:
                state.ledger.notify()  # a socket to watch that the waiting thread does not
        else:
            state.prefetched_floor = min(state.prefetched_floor, task.priority)
        worker.in_flight.append(task)
        worker.queued_estimate += definition.estimate or 0.0
        worker.state = WorkerState.BUSY
        state.ledger.take(task)

    def send_definition(self, worker: WorkerHandle, definition: Definition) -> None:
        """Make sure the worker will have ``definition`` before its next call.

        The game's ``sys.path`` as it was when the definition was made goes
        first, if it differs from what the worker was last sent: a folder
        added since the worker started (a mod, a level pack) may be where the
        function, or what it imports, lives.
        """
        if definition.id in worker.known_definitions:
            return
        payload: DefinitionPayload = definition.payload
        if payload.sys_path is not worker.sys_path and payload.sys_path != worker.sys_path:
            worker.queue((wire.SYS_PATH, payload.sys_path))
            worker.sys_path = payload.sys_path
        blob = payload.blob
        if len(blob) >= serialization.OUT_OF_BAND_BYTES:
            # A big definition (a closure over a large map) follows the batch
            # raw, rather than being copied into it.
            worker.queue((wire.DEFINE, definition.id, definition.name, len(blob)), raw=[blob])
        else:
            worker.queue((wire.DEFINE, definition.id, definition.name, blob))
        worker.known_definitions.add(definition.id)

    def send_current_definitions(self, worker: WorkerHandle) -> None:
        """Send a new worker every current definition, so its first calls start at once."""
        for definition in self._state.current.values():
            self.send_definition(worker, definition)
        self.flush(worker)

    def forget(self, definition: Definition) -> None:
        """Tell workers to drop a definition no call needs any more."""
        state = self._state
        if state.current.get(definition.name) is definition:
            del state.current[definition.name]
        for worker in state.workers:
            if definition.id in worker.known_definitions:
                worker.known_definitions.discard(definition.id)
                worker.queue((wire.FORGET, definition.id))

    def _retract_below(self, priority: int) -> None:
        """Take back the prefetched calls of lower priority than ``priority`` (see module)."""
        state = self._state
        floor = math.inf
        for worker in state.workers:
            retracted = False
            for task in itertools.islice(worker.in_flight, 1, None):  # the first may be running
                if task.id in worker.retracting:
                    continue
                if task.priority < priority and worker.alive:
                    worker.retracting.add(task.id)
                    worker.queue((wire.SKIP, task.id))
                    retracted = True
                else:
                    floor = min(floor, task.priority)
            if retracted:
                self.flush(worker)
        state.prefetched_floor = floor

    def skip(self, worker: WorkerHandle, task: Task) -> None:
        """Tell a worker to drop a call queued on it behind another."""
        worker.queue((wire.SKIP, task.id))
        self.flush(worker)

    def stop(self, worker: WorkerHandle) -> None:
        """Ask a worker to leave after its calls; past a grace, it is killed."""
        worker.stop_requested = True
        if worker.alive:
            worker.state = WorkerState.STOPPING
            worker.queue((wire.STOP,))
            self.flush(worker)
        self.start_grace_if_done(worker)

    def start_grace_if_done(self, worker: WorkerHandle) -> None:
        """Give a stopping worker with no call left ``STOP_GRACE`` to exit."""
        if worker.stop_requested and not worker.in_flight and worker.leave_by is None:
            worker.leave_by = time.monotonic() + STOP_GRACE
            self._state.rouser.rouse()

    def _finish_closing(self) -> None:
        """Stop idle workers of a closing pool; close the lane once none is left."""
        state = self._state
        if state.queue and not any(worker.accepts_calls for worker in state.workers):
            for task in state.queue.take_all():  # no worker is left to run them
                state.ledger.cancel(task)
        if not state.queue:
            for worker in state.workers:
                if worker.accepts_calls and not worker.in_flight:
                    self.stop(worker)
        if not state.workers and not state.spawning and not state.closed:
            state.closed = True
            state.ledger.lane_closed()
            state.spawn_wanted.notify_all()  # the starter thread ends
            state.rouser.rouse()  # and the I/O thread


def copy_start_error(error: WorkerStartError) -> WorkerStartError:
    """Return a fresh copy for one task: raising a shared one would grow its traceback."""
    copy = WorkerStartError(str(error))
    copy.__cause__ = error.__cause__
    return copy
