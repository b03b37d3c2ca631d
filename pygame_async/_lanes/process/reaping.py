"""Reaping: what happens once a worker's process has exited, whatever killed it.

One path for every death (a crash, a kill for a timeout or a cancel, a
stop, a start failure), run once per worker on the I/O thread:

1. Everything the worker wrote before it died is read and filed: a worker
   writes each reply before it starts its next call, so every finished call
   is delivered, whatever happens to the calls after it.
2. Its calls are *settled*: the first one that wholly left for the worker
   and was not cancelled may have started, so it fails (with the reason the
   pool killed the worker for, or :class:`WorkerCrashedError`); the ones
   after it never started and go back to the front of the queue.  A call
   that may have started never runs again unless the game asks.
3. Its handles are released, and it is replaced unless it was asked to stop
   or workers keep dying before their first call (no restart storm).
"""

from __future__ import annotations

import logging

from pygame_async._core.errors import (
    ResultNotSentError,
    WorkerCrashedError,
    WorkerProtocolError,
    WorkerStartError,
)
from pygame_async._core.task import Task, TaskState
from pygame_async._lanes.process.channel import receive_bulk
from pygame_async._lanes.process.dispatch import Dispatcher
from pygame_async._lanes.process.handle import WorkerHandle, WorkerState, describe_exit
from pygame_async._lanes.process.lifecycle import Lifecycle
from pygame_async._lanes.process.receiving import Receiver
from pygame_async._lanes.process.state import LaneState
from pygame_async._lanes.process.wire import WireError

logger = logging.getLogger("pygame_async")

CRASH_STREAK_LIMIT = 3  # workers dying before their first call, in a row, before giving up


class Reaper:
    """Settles a dead worker's calls and replaces it."""

    def __init__(
        self, state: LaneState, dispatcher: Dispatcher, lifecycle: Lifecycle, receiver: Receiver
    ) -> None:
        self._state = state
        self._dispatcher = dispatcher
        self._lifecycle = lifecycle
        self._receiver = receiver

    def reap(self, worker: WorkerHandle) -> None:
        """Reap a worker whose process exited: file what it sent, settle its calls, replace it.

        Called on the I/O thread without the pool's lock.  It waits for the
        worker's ``reading`` lock, which a bulk read gives up quickly once it
        sees the worker gone.
        """
        ledger = self._state.ledger
        with ledger.lock:
            if worker.exited:
                return  # reaped already
            worker.exited = True
            worker.state = WorkerState.DEAD
            self._state.bulk_wanted.notify_all()  # its bulk reader ends
        with worker.reading:
            self._drain(worker)
            with ledger.lock:
                exitcode = worker.reap()
                running = self._settle(worker, exitcode)
                self._state.workers.remove(worker)
                self._after_death(worker, running, exitcode)
                self._dispatcher.dispatch()
                ledger.notify()
            worker.close()
        ledger.post_and_request_update()

    def _drain(self, worker: WorkerHandle) -> None:
        """Read and file every whole reply still on the dead worker's socket."""
        while True:
            frame = worker.bulk
            if frame is None:
                if not self._receiver.read_holding(worker):
                    return  # nothing more arrived whole
                continue
            try:
                reply = receive_bulk(worker.bulk_socket, frame, worker_gone=lambda: True)
            except (EOFError, OSError):
                worker.reader.truncated = True  # it died while sending this one
                return
            except MemoryError:
                with self._state.ledger.lock:
                    worker.kill_reason = worker.kill_reason or _out_of_memory(worker, frame.length)
                return
            except WireError as exc:
                with self._state.ledger.lock:
                    self._receiver.refuse(worker, str(exc))
                return
            with self._state.ledger.lock:
                worker.bulk = None
                self._receiver.file(worker, [reply])

    def _settle(self, worker: WorkerHandle, exitcode: int | None) -> Task | None:
        """Fail the call that may have started, put back the ones that never did."""
        ledger = self._state.ledger
        running: Task | None = None
        never_started: list[Task] = []
        for task in worker.in_flight:
            if task.state is not TaskState.ASSIGNED:
                continue  # cancelled while queued on the worker
            if running is None and worker.sent(task):
                running = task
            else:
                ledger.untake(task)
                never_started.append(task)
        worker.in_flight.clear()
        worker.queued_estimate = 0.0
        self._state.queue.put_back(never_started)
        if running is not None:
            ledger.fail(running, worker.kill_reason or _crash_error(worker, running, exitcode))
        return running

    def _after_death(
        self, worker: WorkerHandle, running: Task | None, exitcode: int | None
    ) -> None:
        """Log the death once, and replace the worker unless that would be a restart storm."""
        state = self._state
        if not worker.said_hello:
            self._failed_to_start(worker, exitcode)
            return
        if worker.stop_requested:
            logger.debug("worker %s left %s", worker.pid, describe_exit(exitcode))
            return
        logger.warning("worker process %s exited %s", worker.pid, describe_exit(exitcode))
        if running is None and worker.calls_done == 0:
            state.crash_streak += 1  # died before running anything: not a call's fault
        if state.crash_streak >= CRASH_STREAK_LIMIT:
            logger.error(
                "%d workers in a row died before running a call; not replacing them "
                "(add_worker() tries again)",
                state.crash_streak,
            )
            state.start_failure = WorkerStartError(
                f"{state.crash_streak} worker processes in a row died before running "
                f"a call, the last {describe_exit(exitcode)}; see the pygame_async log"
            )
            self._lifecycle.last_start_error = state.start_failure
        elif not state.closing:
            self._lifecycle.request_worker()

    def _failed_to_start(self, worker: WorkerHandle, exitcode: int | None) -> None:
        """Record why a worker never became ready; it is not replaced (no restart storm)."""
        failure = worker.kill_reason
        if not isinstance(failure, WorkerStartError):
            failure = WorkerStartError(
                f"a new worker process (pid {worker.pid}) exited {describe_exit(exitcode)} "
                "before it was ready"
            )
        if not worker.stop_requested or isinstance(worker.kill_reason, WorkerStartError):
            remote = failure.__cause__
            logger.warning("%s%s", failure, "" if remote is None else f"\n{remote}")
            self._state.start_failure = failure
            self._lifecycle.last_start_error = failure


def _crash_error(worker: WorkerHandle, task: Task, exitcode: int | None) -> WorkerCrashedError:
    how = describe_exit(exitcode)
    if worker.problem is not None:
        return WorkerProtocolError(
            f"the worker process (pid {worker.pid}) running {task.name!r} sent {worker.problem} "
            f"and exited {how}",
            pid=worker.pid,
            exitcode=exitcode,
        )
    cut = ", in the middle of a message" if worker.reader.truncated else ""
    return WorkerCrashedError(
        f"the worker process (pid {worker.pid}) running {task.name!r} died {how}{cut} "
        "before the call returned",
        pid=worker.pid,
        exitcode=exitcode,
    )


def _out_of_memory(worker: WorkerHandle, size: int) -> ResultNotSentError:
    task = worker.task
    name = "a call" if task is None else repr(task.name)
    return ResultNotSentError(
        f"cannot send result of {name}: the game ran out of memory receiving "
        f"{size / 2**20:.0f} MiB from its worker (pid {worker.pid}), which was replaced"
    )
