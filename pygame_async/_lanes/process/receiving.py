"""Receiving: reading a worker's replies on any thread, and filing them in the ledger.

Any thread may read a worker's socket (the I/O thread, the game's thread in
``update()``, a thread blocked in ``wait()``): :meth:`Receiver.read` takes
the worker's ``reading`` lock without waiting (or waits a moment, see
``patience``), reads the whole frames that have arrived without blocking,
and files them under the pool's lock while still holding ``reading``, so
replies are filed in the order they were sent.  A frame to be read in bulk
is set aside for the I/O thread.  Whatever a worker sends that is not a
valid reply costs that worker only: it is killed, and its running call
fails with :class:`WorkerProtocolError` saying what arrived.
"""

from __future__ import annotations

import logging
import time

from pygame_async._core.arguments_apart import Apart
from pygame_async._core.errors import (
    RemoteTraceback,
    WorkerProtocolError,
    WorkerStartError,
)
from pygame_async._core.task import Task, TaskState
from pygame_async._lanes.failures import PickledResult, RemoteFailed
from pygame_async._lanes.process import wire
from pygame_async._lanes.process.dispatch import Dispatcher
from pygame_async._lanes.process.handle import WorkerHandle, WorkerState
from pygame_async._lanes.process.lifecycle import Lifecycle
from pygame_async._lanes.process.state import LaneState
from pygame_async._lanes.process.wire import Reply, WireError

logger = logging.getLogger("pygame_async")

EOF_GRACE = 1.0  # seconds a worker whose socket closed has to exit before it is killed


class Receiver:
    """Reads replies off workers' sockets and files each where it belongs."""

    def __init__(self, state: LaneState, dispatcher: Dispatcher, lifecycle: Lifecycle) -> None:
        self._state = state
        self._dispatcher = dispatcher
        self._lifecycle = lifecycle

    def read(self, worker: WorkerHandle, patience: float = 0.0) -> None:
        """Read and file what the worker has sent, unless another thread is reading it.

        ``patience`` is how long to wait for that other thread (the game's
        thread waits a moment for the I/O thread, which most likely only
        waits for the GIL the game holds).  Never blocks on the socket.
        """
        if worker.bulk is not None or worker.reader.eof:
            return
        if patience > 0:
            acquired = worker.reading.acquire(timeout=patience)
        else:
            acquired = worker.reading.acquire(blocking=False)
        if not acquired:
            return
        try:
            self.read_holding(worker)
        finally:
            worker.reading.release()

    def read_holding(self, worker: WorkerHandle) -> bool:
        """Like :meth:`read`, for a thread that holds ``worker.reading``; True if anything came."""
        if worker.bulk is not None:
            return False
        problem: WireError | None = None
        try:
            replies, bulk = worker.reader.read_nowait()
        except WireError as exc:
            replies, bulk, problem = [], None, exc
        with self._state.ledger.lock:
            if replies:
                self.file(worker, replies)
            if bulk is not None:
                worker.bulk = bulk
                if worker.bulk_reader is not None:
                    self._state.bulk_wanted.notify_all()  # straight to the worker's bulk reader
                else:
                    self._state.rouser.rouse()  # the I/O thread starts it
            if problem is not None:
                self.refuse(worker, str(problem))
            elif worker.reader.eof and worker.leave_by is None:
                # Its end closed: it is exiting, or it closed the socket and
                # cannot answer any more; either way it must be gone soon.
                worker.leave_by = time.monotonic() + EOF_GRACE
                self._state.rouser.rouse()
        return bool(replies) or bulk is not None

    def refuse(self, worker: WorkerHandle, what: str) -> None:
        """Kill a worker that sent something that is not a valid reply (hold the pool's lock)."""
        if worker.problem is None:
            worker.problem = what
            logger.error("worker %s sent %s; killing it", worker.pid, what)
        self._lifecycle.kill(
            worker,
            WorkerProtocolError(
                f"the worker process (pid {worker.pid}) sent {what}, which is not a message "
                "of pygame_async's; it was killed and replaced",
                pid=worker.pid,
                exitcode=None,
            ),
        )

    def file(self, worker: WorkerHandle, replies: list[Reply]) -> None:
        """File replies read from a worker, then feed the workers again (hold the pool's lock)."""
        for reply in replies:
            if worker.kill_reason is not None:
                break  # the pool gave up on this worker: what it says no longer counts
            self._on_reply(worker, reply)
        self._dispatcher.dispatch()
        self._state.ledger.notify()

    def _on_reply(self, worker: WorkerHandle, reply: Reply) -> None:
        """File one reply (hold the pool's lock), by kind.

        * RESULT and FAILED answer the worker's running call, the first of
          its calls in flight, which ends; the next one starts running.  A
          reply to any other call is not ours: the worker is refused.
        * PROGRESS counts only for the running call, while it runs.
        * SKIPPED removes a call the game cancelled while it was queued on
          the worker (it is already cancelled in the ledger).
        * HELLO makes a starting worker ready (a second one is refused);
          START_FAILED gives the reason its exit will be reported with;
          OVER_MEMORY replaces the worker once its calls are done.
        """
        if type(reply) is wire.Result:  # the usual reply first
            self._on_outcome(
                worker, reply.task_id, reply.seconds, PickledResult(reply.blob, reply.buffers)
            )
        elif isinstance(reply, wire.Failed):
            self._on_outcome(worker, reply.task_id, reply.seconds, RemoteFailed(reply.failure))
        elif isinstance(reply, wire.Progress):
            task = worker.task
            if task is not None and task.id == reply.task_id and task.state is TaskState.ASSIGNED:
                self._state.ledger.record_progress(task, reply.fraction, reply.message)
        elif isinstance(reply, wire.Skipped):
            self._on_skipped(worker, reply.task_id)
        elif isinstance(reply, wire.Hello):
            if worker.said_hello:
                self.refuse(worker, "a second HELLO")
            else:
                self._lifecycle.said_hello(worker)
        elif isinstance(reply, wire.StartFailed):
            failure = reply.failure
            error = WorkerStartError(
                f"the pool's initializer raised in a new worker process (pid {worker.pid}): "
                f"{failure.type_name}: {failure.message}"
            )
            error.__cause__ = RemoteTraceback(failure.traceback)
            worker.kill_reason = error
        elif isinstance(reply, wire.OverMemory):
            self._lifecycle.replace_after_current_call(
                worker, f"whose resident memory reached {reply.resident / 2**20:.0f} MiB"
            )

    def _on_outcome(
        self,
        worker: WorkerHandle,
        task_id: int,
        seconds: float,
        outcome: PickledResult | RemoteFailed,
    ) -> None:
        in_flight = worker.in_flight
        if not in_flight or in_flight[0].id != task_id:
            # Replies come in the order the calls were given: anything else is not ours.
            self.refuse(worker, f"a reply to call {task_id}, which it was not running")
            return
        task = self._take_first(worker)
        arguments = task.arguments
        if worker.retracting:
            worker.retracting.discard(task.id)  # it had started when the SKIP arrived
        worker.calls_done += 1
        self._state.crash_streak = 0
        task.definition.measured(seconds)
        if task.state is TaskState.ASSIGNED:  # else cancelled while queued on the worker
            self._state.ledger.finish(task, outcome)
        if type(arguments) is Apart:  # the worker read its buffers before it started
            self._state.staging.give_back_all(arguments)
        max_calls = self._state.settings.max_calls
        if max_calls is not None and worker.calls_done >= max_calls:
            self._lifecycle.replace_after_current_call(worker, f"after {worker.calls_done} calls")

    def _on_skipped(self, worker: WorkerHandle, task_id: int) -> None:
        """Take off the worker a call it skipped unstarted: cancelled, or retracted.

        A retracted call (a higher-priority one goes first) returns to the
        queue, where it was; a cancelled one is already settled in the ledger.
        """
        retracted = task_id in worker.retracting
        worker.retracting.discard(task_id)
        for task in worker.in_flight:
            if task.id == task_id and (retracted or task.state is TaskState.CANCELLED):
                if task is worker.in_flight[0]:
                    self._take_first(worker)
                else:
                    worker.in_flight.remove(task)
                    estimate = task.definition.estimate or 0.0
                    worker.queued_estimate = max(0.0, worker.queued_estimate - estimate)
                if task.state is TaskState.ASSIGNED:  # retracted, not cancelled since
                    self._state.ledger.untake(task)
                    self._state.queue.put_back([task])
                return
        self.refuse(worker, f"SKIPPED for call {task_id}, which it was not asked to skip")

    def _take_first(self, worker: WorkerHandle) -> Task:
        """Take the answered running call off the worker; the next one in line runs now."""
        task = worker.in_flight.popleft()
        estimate = task.definition.estimate
        if estimate:
            worker.queued_estimate = max(0.0, worker.queued_estimate - estimate)
        worker.deadline = None
        if worker.in_flight:
            worker.running_since = time.monotonic()
        else:
            if worker.state is WorkerState.BUSY:
                worker.state = WorkerState.READY
            if worker.stop_requested:
                self._dispatcher.start_grace_if_done(worker)
        return task
