"""The process lane: defined functions run in worker processes, one call at a time each.

How a call travels, and which module does what::

    game thread                 I/O thread (io_thread)           worker process (child)
    -----------                 ----------------------           ----------------------
    call() -> CallQueue -- dispatch: a batch per worker -------->  serve: run it
               (dispatch)     written without blocking                |
                              (channel.Outbox)                        |
    update() <- Ledger <----- receiving: frames read without <-- one reply per call,
     (collect reads too)        blocking (channel.FrameReader);    before the next
                                big ones on a bulk thread
                              reaping: a worker's exit (pidfd)
                                -> settle its calls, replace it (lifecycle)

Parts: :mod:`.state` (what they share, and a glossary), :mod:`.dispatch`,
:mod:`.lifecycle`, :mod:`.receiving`, :mod:`.reaping`, :mod:`.io_thread`,
:mod:`.starter` (the thread that starts worker processes), :mod:`.waiting`
(a thread blocked in ``wait()`` reads replies itself), :mod:`.channel` and
:mod:`.wire` (the socket and what travels on it), :mod:`.spawning`, :mod:`.bootstrap` and
:mod:`.child` (starting a worker, and what runs inside it).
"""

from __future__ import annotations

import functools
import sys
import time
from collections.abc import Callable
from concurrent.futures import CancelledError
from typing import Any

from pygame_async._core import serialization, validate
from pygame_async._core.call_queue import CallQueue
from pygame_async._core.definitions import Definition
from pygame_async._core.errors import AsyncError, WorkerStartError
from pygame_async._core.ledger import Ledger
from pygame_async._core.task import Task, TaskState
from pygame_async._lanes import pickling
from pygame_async._lanes.process.dispatch import DefinitionPayload, Dispatcher
from pygame_async._lanes.process.handle import WorkerHandle, WorkerState
from pygame_async._lanes.process.io_thread import IoThread
from pygame_async._lanes.process.lifecycle import Lifecycle
from pygame_async._lanes.process.reaping import Reaper
from pygame_async._lanes.process.receiving import Receiver
from pygame_async._lanes.process.starter import StarterThread
from pygame_async._lanes.process.state import WORKER_PRIORITIES, LaneState, Settings
from pygame_async._lanes.process.waiting import WaitingReader

_PATIENCE = 0.001  # seconds update() waits for a socket the I/O thread is reading


class ProcessLane:
    """Worker processes for a pool: the lane seam (``_core.lane_seam.Lane``) they implement."""

    kind = "process"
    in_game_process = False
    self_driving = True  # the I/O thread reads replies when the game does not
    reruns = False  # a call whose worker died fails: it may have run halfway

    def __init__(
        self,
        ledger: Ledger,
        queue: CallQueue,
        workers: int,
        *,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        max_calls_per_worker: int | None = None,
        max_worker_memory: int | None = None,
        worker_priority: str | None = None,
    ) -> None:
        priority = (
            "low"
            if worker_priority is None
            else validate.one_of(
                "Pool(worker_priority)", "worker_priority", worker_priority, WORKER_PRIORITIES
            )
        )
        settings = Settings(
            setup=_pack_initializer(initializer, initargs),
            max_calls=validate.positive_or_none(
                "Pool(max_calls_per_worker)", "max_calls_per_worker", max_calls_per_worker
            ),
            memory_limit=validate.positive_or_none(
                "Pool(max_worker_memory)", "max_worker_memory", max_worker_memory
            ),
            low_priority=priority == "low",
        )
        if settings.memory_limit is not None and sys.platform == "win32":
            raise ValueError("Pool(max_worker_memory): not supported on Windows")
        self._state = state = LaneState(ledger, queue, settings)
        # Pickle a call's arguments now, so a bad one fails at call(), named;
        # big raw buffers stay apart, mutable ones snapshotted into staging
        # memory (see .staging).  Every call() runs it: a partial, not a method
        # around it, spares a frame.
        self.pack_arguments = functools.partial(
            pickling.pickle_arguments_apart, snapshot=state.staging.snapshot
        )
        self._last_sys_path: tuple[str, ...] = ()
        self._dispatcher = Dispatcher(state)
        self._lifecycle = Lifecycle(state, self._dispatcher)
        self._receiver = Receiver(state, self._dispatcher, self._lifecycle)
        reaper = Reaper(state, self._dispatcher, self._lifecycle, self._receiver)
        self._waiting = WaitingReader(state, self._receiver)
        self._io = IoThread(state, self._lifecycle, self._receiver, reaper)
        state.release_at_end.append(self._waiting.close)
        state.release_at_end.append(state.staging.close)
        self._starter = StarterThread(state, self._lifecycle)
        self._io.start()
        self._starter.start()
        self._start(workers)

    def _start(self, workers: int) -> None:
        """Start the first workers; raise, with the reason, if some failed to start."""
        state = self._state
        with state.ledger.lock:
            for _ in range(workers):
                self._lifecycle.request_worker()
            state.ledger.changed.wait_for(self._none_starting)
            failed = workers - state.worker_count()
            reason = self._lifecycle.last_start_error
        if failed:
            with state.ledger.lock:
                self.close()
            self.join(None)
            error = AsyncError if reason is None else WorkerStartError
            raise error(
                f"Pool({workers}): {failed} worker process(es) failed to start: "
                f"{reason or 'see the pygame_async log'}"
            ) from reason

    def _none_starting(self) -> bool:
        state = self._state
        return (
            not state.spawn_requests
            and not state.spawning
            and not any(worker.state is WorkerState.STARTING for worker in state.workers)
        )

    # -- definitions and calls ------------------------------------------------------

    def prepare_definition(self, name: str, function: Callable[..., Any]) -> DefinitionPayload:
        """Pickle the function by value (it crosses to each worker once), noting ``sys.path``."""
        return DefinitionPayload(pickling.pickle_definition(name, function), self._sys_path())

    def _sys_path(self) -> tuple[str, ...]:
        """Return the game's ``sys.path`` now; the same tuple as last time while it is unchanged."""
        # Only strings: the import system skips anything else on sys.path.
        path = tuple(entry for entry in sys.path if isinstance(entry, str))
        if path != self._last_sys_path:
            self._last_sys_path = path
        return self._last_sys_path

    def define(self, definition: Definition) -> None:
        """Teach idle workers the new definition now; busy ones before their next call of it."""
        self._state.current[definition.name] = definition
        for worker in self._state.workers:
            if worker.idle:
                self._dispatcher.send_definition(worker, definition)
                self._dispatcher.flush(worker)

    def forget(self, definition: Definition) -> None:
        """Tell workers to drop a definition no call needs any more."""
        self._dispatcher.forget(definition)

    def dispatch(self) -> None:
        """Hand queued calls to idle workers (no prefetch: a frame's calls leave together)."""
        self._dispatcher.dispatch(prefetch=False)

    def cancel(self, task: Task, kill: bool) -> bool:
        """Cancel a call handed to a worker; True if its callback will never run.

        * Queued on the worker behind another call: it has not started, so
          the worker is told to skip it (SKIP) and it is cancelled now; if
          the SKIP arrives too late the worker runs it, and its outcome is
          dropped (a cancelled task is never filed).
        * Running, with ``kill``: the worker is killed (its state mid-call is
          unknowable); the calls queued behind it never started and go back
          to the front of the queue; the worker's reaping replaces it.
        * Running, without ``kill``: nothing changes (False).
        """
        worker = self._worker_of(task)
        if worker is None:
            return False
        ledger = self._state.ledger
        if worker.in_flight[0] is not task:
            # Queued behind another call on the worker: it has not started.
            self._dispatcher.skip(worker, task)
            ledger.cancel(task)
        elif kill:
            worker.in_flight.popleft()
            ledger.cancel(task)
            for behind in list(worker.in_flight):  # they never started: they run elsewhere
                if behind.state is TaskState.ASSIGNED:
                    ledger.untake(behind)
                    self._state.queue.put_back([behind])
            worker.in_flight.clear()
            self._lifecycle.kill(worker, CancelledError(f"task {task.id} was cancelled"))
            self._dispatcher.dispatch()
        return task.cancelled()

    def _worker_of(self, task: Task) -> WorkerHandle | None:
        for worker in self._state.workers:
            if task in worker.in_flight:
                return worker
        return None

    # -- outcomes ---------------------------------------------------------------------

    def after_cancel(self) -> None:
        """Nothing to finish: a killed worker is reaped by the I/O thread."""

    def collect(self, budget: float | None) -> None:
        """In ``update()``: read the busy workers' replies here, then send the frame's calls.

        The game's thread reads them rather than wait for the I/O thread: it
        needs the GIL, which a game that never sleeps would make it wait for.
        """
        state = self._state
        state.polled_at = time.monotonic()
        for worker in list(state.workers):
            if worker.in_flight:
                self._receiver.read(worker, patience=_PATIENCE)
        with state.ledger.lock:
            if state.queue:
                self._dispatcher.dispatch()  # the frame's calls leave in one batch per worker

    def block(self, seen: int, timeout: float | None) -> None:
        """Wait for the pool to change, reading the busy workers' replies meanwhile."""
        self._waiting.block(seen, timeout)

    # -- workers ------------------------------------------------------------------------

    def worker_count(self) -> int:
        """Workers that accept calls, counting those still starting."""
        return self._state.worker_count()

    def add_worker(self) -> None:
        """Ask for one more worker; it takes calls once ready."""
        self._lifecycle.request_worker()

    def stop_workers(self, amount: int) -> None:
        """Stop ``amount`` workers after their calls: not-yet-started ones, then idle ones."""
        amount -= self._lifecycle.withdraw_requests(amount)
        candidates = [worker for worker in self._state.workers if worker.accepts_calls]
        candidates.sort(key=lambda worker: worker.state is WorkerState.BUSY)
        for worker in candidates[:amount]:
            self._dispatcher.stop(worker)
        self._state.ledger.notify()

    def close(self) -> None:
        """Stop for shutdown: workers leave once the queue is drained."""
        state = self._state
        if not state.closing:
            state.closing = True
            state.spawn_requests = 0
            self._dispatcher.dispatch()
            state.rouser.rouse()

    def join(self, timeout: float | None) -> None:
        """Wait for the starter and I/O threads to end."""
        self._starter.join(timeout)
        self._io.join(timeout)

    def kill_at_exit(self) -> None:
        """End every worker now: the interpreter is exiting."""
        for worker in self._state.workers:
            self._dispatcher.stop(worker)
            worker.kill()
        self._dispatcher.dispatch()


def _pack_initializer(
    initializer: Callable[..., object] | None, initargs: tuple[Any, ...]
) -> bytes | None:
    """Pickle the pool's initializer and its arguments once, for every worker."""
    if not isinstance(initargs, tuple):
        raise TypeError(f"Pool(initargs): initargs must be a tuple, got {type(initargs).__name__}")
    if initializer is None:
        if initargs:
            raise TypeError("Pool(initargs): initargs given without an initializer")
        return None
    if not callable(initializer):
        raise TypeError(
            f"Pool(initializer): initializer must be callable, got {type(initializer).__name__}"
        )
    try:
        return serialization.dumps((initializer, initargs))
    except Exception as exc:
        if isinstance(exc, serialization.UnsendableError):
            reason = f"one is or holds {exc.what}: {exc.advice('call')}"
        else:
            reason = f"{type(exc).__name__}: {exc}"
        raise TypeError(
            f"Pool(initializer): the initializer or its initargs cannot be sent to workers: "
            f"{reason}"
        ) from exc
