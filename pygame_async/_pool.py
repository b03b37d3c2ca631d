"""The pool: calls in on the game's thread, results out on the game's thread.

How one call travels::

    game thread                  pool I/O thread                 worker process
    -----------                  ---------------                 --------------
    call() -> Task -> _queue --- _dispatch() -- batch on pipe -->  serve(): run it
                                                                       |
    update() <- _completed <---- _receive() <-- reply on pipe -------+
       runs the callback         then _dispatch() the next call

* ``call()`` checks everything it can at once (name, callback, pickling of
  the arguments), queues the task, and starts it if a worker is idle.
* The I/O thread waits on every worker's pipe without holding the GIL.  When
  a reply arrives it files the task under ``_completed`` and gives the now
  idle worker the next queued call, so workers stay busy between frames.
* ``update()`` runs callbacks, only ever on the thread that calls it.
* A worker that dies closes its pipe; the I/O thread fails the one call it
  was running, joins the process and starts a replacement.

Each worker runs at most one call at a time, so "handed to a worker" means
"started": a queued call can be cancelled until then, and calls start in the
order they were made.  ``_lock`` guards all the state below; no callback ever
runs while it is held.
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from multiprocessing import connection
from types import TracebackType
from typing import Any

from pygame_async import _callbacks, _protocol, _serialization, _validate
from pygame_async._async_function import AsyncFunction
from pygame_async._definitions import Definition, Definitions
from pygame_async._ensure import Ensure
from pygame_async._errors import AsyncError, WorkerCrashedError
from pygame_async._task import Task, TaskState
from pygame_async._workers import Worker, WorkerState, describe_exit

logger = logging.getLogger("pygame_async")


class _PoolState(enum.Enum):
    RUNNING = "running"
    CLOSING = "closing"  # shutdown() called: no new calls, workers leave when drained
    CLOSED = "closed"  # no worker left


_live_pools: weakref.WeakSet[Pool] = weakref.WeakSet()


class Pool:
    """A pool of worker processes running defined functions for the game.

    ``Pool(workers)`` returns once its workers are started and ready.  Use it
    as a context manager, or call :meth:`shutdown`, so that no worker outlives
    the game.  The module-level functions of ``pygame_async`` act on a default
    pool made by ``load()``; several pools may also exist side by side.
    """

    def __init__(self, workers: int = 1) -> None:
        _validate.count("Pool(workers)", "workers", workers)
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._state = _PoolState.RUNNING
        self._definitions = Definitions()
        self._workers: list[Worker] = []  # alive, stopping, or dead but not yet joined
        self._lost: list[Worker] = []  # dead, waiting for the I/O thread to join them
        self._queue: deque[Task] = deque()
        self._completed: deque[Task] = deque()
        self._pending = 0  # calls made and not yet delivered or cancelled
        self._task_ids = itertools.count(1)
        self._wakeup_reader, self._wakeup_writer = connection.Pipe(duplex=False)
        self._wakeup_sent = False
        self.ensure = Ensure(self)
        """Adjust the worker count: ``pool.ensure.at_least(2).at_most(4)``."""
        self._io_thread = threading.Thread(
            target=self._serve_io, name="pygame_async-io", daemon=True
        )
        self._io_thread.start()
        _live_pools.add(self)
        with self._lock:
            for _ in range(workers):
                self._start_worker()
            self._changed.wait_for(self._no_worker_starting)
            failed = workers - self.get_worker_count()
        if failed:
            self.shutdown()
            raise AsyncError(
                f"Pool({workers}): {failed} worker process(es) exited before they were ready; "
                "the 'pygame_async' log says how"
            )

    def __repr__(self) -> str:
        return (
            f"<pygame_async.Pool {self._state.value} workers={self.get_worker_count()} "
            f"pending={self._pending}>"
        )

    def __enter__(self) -> Pool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.shutdown(wait=True, cancel_pending=exc_type is not None)

    # -- definitions ----------------------------------------------------------

    def define(self, name: str, function: Callable[..., Any]) -> AsyncFunction:
        """Make ``function`` callable on every worker, present and future, as ``name``.

        Redefining a name replaces its function for later calls.  ``function``
        may be a lambda, a closure or a function of the game's ``__main__``;
        it crosses to each worker once, with everything it closes over, not
        with every call.  Returns the shorthand ``f(callback, *args)``.
        """
        _validate.name("define(name, function)", name)
        if not callable(function):
            raise TypeError(
                f"define({name!r}, function): function must be callable, "
                f"got {type(function).__name__}"
            )
        try:
            blob = _serialization.dumps(function)
        except Exception as exc:
            raise TypeError(
                f"define({name!r}, function): the function cannot be sent to workers: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        with self._lock:
            self._require_running(f"define({name!r})")
            definition, replaced = self._definitions.define(name, blob)
            if replaced is not None and replaced.retirable:
                self._retire(replaced)
            for worker in self._workers:
                if worker.idle:
                    self._teach(worker, definition)
                    self._flush(worker)
        return AsyncFunction(self, name)

    def undefine(self, name: str) -> None:
        """Make later calls to ``name`` fail at once; calls already made still run.

        Undefining a name that is not defined does nothing.
        """
        _validate.name("undefine(name)", name)
        with self._lock:
            definition = self._definitions.undefine(name)
            if definition is not None and definition.retirable:
                self._retire(definition)

    # -- calls ------------------------------------------------------------------

    def call(self, callback: object, name: str, /, *args: Any, **kwargs: Any) -> Task:
        """Queue a call of the function defined as ``name``; calls start in the order made.

        ``callback`` is None (fire and forget), a function called with the
        result, or a success/error pair (an object or mapping with ``success``
        and/or ``error`` functions).  It runs in a later ``update()``.
        Raises LookupError when ``name`` is not defined and TypeError when the
        callback or an argument cannot be used, naming it.
        """
        _validate.name("call(callback, name, ...)", name)
        delivery = _callbacks.resolve(callback, name)
        with self._lock:
            definition = self._definitions.lookup(name)
        arguments = _pack_arguments(name, args, kwargs)
        with self._lock:
            self._require_running(f"call({name!r})")
            task = Task(self, next(self._task_ids), definition, delivery, arguments)
            definition.calls_in_flight += 1
            self._queue.append(task)
            self._pending += 1
            self._dispatch()
        return task

    def update(self, budget: float | None = None) -> int:
        """Deliver finished calls to their callbacks, in completion order, on this thread.

        Returns how many were delivered.  With ``budget`` (seconds), stops once
        that much time is spent, after at least one, and leaves the rest for
        the next call.  An exception raised by a callback propagates; the
        calls not yet delivered stay queued.
        """
        limit = _validate.seconds("update(budget)", "budget", budget)
        started = time.perf_counter()
        delivered = 0
        while True:
            with self._lock:
                if not self._completed:
                    return delivered
                task = self._completed.popleft()
                self._pending -= 1
            delivered += 1
            task._deliver()
            if limit is not None and time.perf_counter() - started >= limit:
                return delivered

    def wait(self, timeout: float | None = None) -> bool:
        """Run ``update()`` until no call is pending, including calls made meanwhile.

        Returns False if ``timeout`` seconds pass first.  Calls made while no
        worker exists wait for one, so give a timeout in that case.
        """
        limit = _validate.seconds("wait(timeout)", "timeout", timeout)
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            self.update()
            with self._lock:
                if self._pending == 0:
                    return True
                if not self._completed:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._changed.wait(remaining)

    def get_pending_count(self) -> int:
        """Return how many calls were made and are not yet delivered (nor cancelled)."""
        return self._pending

    # -- workers ----------------------------------------------------------------

    def get_worker_count(self) -> int:
        """Return how many workers accept calls, counting those still starting."""
        with self._lock:
            return sum(worker.accepts_calls for worker in self._workers)

    def add_worker(self) -> None:
        """Start one more worker; it takes calls as soon as it is ready."""
        with self._lock:
            self._require_running("add_worker()")
            self._start_worker()

    def stop_workers(self, amount: int = 1) -> None:
        """Stop ``amount`` workers after their current call, idle ones first.

        Asking for more than there are stops them all; queued calls then wait
        for a worker to be added.
        """
        _validate.count("stop_workers(amount)", "amount", amount)
        with self._lock:
            candidates = [worker for worker in self._workers if worker.accepts_calls]
            candidates.sort(key=lambda worker: worker.state is WorkerState.BUSY)
            for worker in candidates[:amount]:
                logger.debug("stopping worker %s", worker.pid)
                worker.stop()
            self._changed.notify_all()

    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        """Stop every worker once queued calls are done (or cancelled) and release the pool.

        Queued calls still run unless ``cancel_pending`` is true.  With
        ``wait`` it returns only once no worker process remains.  Callbacks
        are not run: a call that finishes from now on is not delivered.
        """
        with self._lock:
            if self._state is _PoolState.RUNNING:
                logger.debug("shutting down %r", self)
                self._state = _PoolState.CLOSING
                if cancel_pending:
                    self._cancel_queued()
                self._pending -= len(self._completed)
                self._completed.clear()
                self._dispatch()
                self._wake_io()
            if wait:
                self._changed.wait_for(lambda: self._state is _PoolState.CLOSED)
        if wait and self._io_thread is not threading.current_thread():
            self._io_thread.join()

    # -- state changes: all under self._lock --------------------------------------

    def _require_running(self, what: str) -> None:
        if self._state is not _PoolState.RUNNING:
            raise RuntimeError(f"{what}: this pool has been shut down")

    def _no_worker_starting(self) -> bool:
        return not any(worker.state is WorkerState.STARTING for worker in self._workers)

    def _start_worker(self) -> None:
        worker = Worker()
        logger.debug("started worker %s", worker.pid)
        self._workers.append(worker)
        self._wake_io()

    def _dispatch(self) -> None:
        """Hand queued calls to idle workers; stop idle workers of a closing pool."""
        while self._queue:
            worker = next((worker for worker in self._workers if worker.idle), None)
            if worker is None:
                break
            self._start_call(worker, self._queue.popleft())
        if self._state is _PoolState.CLOSING:
            if self._queue and not any(worker.accepts_calls for worker in self._workers):
                self._cancel_queued()  # no worker is left to run them
            if not self._queue:
                for worker in self._workers:
                    if worker.accepts_calls and worker.task is None:
                        worker.stop()
            if not self._workers:
                self._state = _PoolState.CLOSED
                _live_pools.discard(self)
                self._changed.notify_all()
                self._wake_io()

    def _start_call(self, worker: Worker, task: Task) -> None:
        self._teach(worker, task.definition)
        worker.queue((_protocol.CALL, task.id, task.definition.id, task.arguments))
        worker.task = task
        worker.state = WorkerState.BUSY
        task.state = TaskState.RUNNING
        if not self._flush(worker):
            # The worker died before it got the call: the call never started.
            task.state = TaskState.QUEUED
            self._queue.appendleft(task)

    def _teach(self, worker: Worker, definition: Definition) -> None:
        """Make sure the worker will have ``definition`` before its next call."""
        if definition.id not in worker.known_definitions:
            worker.queue((_protocol.DEFINE, definition.id, definition.name, definition.blob))
            worker.known_definitions.add(definition.id)

    def _flush(self, worker: Worker) -> bool:
        """Send the worker its queued operations; False (and the worker lost) if it is gone."""
        try:
            worker.flush()
        except OSError:
            self._lose(worker)
            return False
        return True

    def _retire(self, definition: Definition) -> None:
        """Tell workers to forget a definition no call needs any more."""
        for worker in self._workers:
            if definition.id in worker.known_definitions:
                worker.known_definitions.discard(definition.id)
                worker.queue((_protocol.FORGET, definition.id))

    def _finished(self, task: Task) -> None:
        definition = task.definition
        definition.calls_in_flight -= 1
        if definition.retirable:
            self._retire(definition)
        if self._state is _PoolState.RUNNING:
            self._completed.append(task)
        else:
            self._pending -= 1  # shutdown() runs no callbacks
        self._changed.notify_all()

    def _cancel(self, task: Task) -> bool:
        with self._lock:
            if task.state is TaskState.QUEUED:
                self._queue.remove(task)
                self._cancelled(task)
            return task.state is TaskState.CANCELLED

    def _cancel_queued(self) -> None:
        while self._queue:
            self._cancelled(self._queue.popleft())

    def _cancelled(self, task: Task) -> None:
        task.state = TaskState.CANCELLED
        task.arguments = b""
        self._pending -= 1
        definition = task.definition
        definition.calls_in_flight -= 1
        if definition.retirable:
            self._retire(definition)
        self._changed.notify_all()

    def _wait_until_done(self, task: Task, timeout: float | None) -> bool:
        with self._lock:
            return self._changed.wait_for(task.done, timeout)

    def _wake_io(self) -> None:
        """Make the I/O thread look again at the set of workers."""
        if not self._wakeup_sent:
            self._wakeup_sent = True
            self._wakeup_writer.send_bytes(b"")

    def _lose(self, worker: Worker) -> None:
        """Write off a worker whose pipe closed; the I/O thread then joins it."""
        if worker.state is WorkerState.DEAD:
            return
        worker.closed()
        self._lost.append(worker)
        self._wake_io()

    # -- the I/O thread ---------------------------------------------------------------

    def _serve_io(self) -> None:
        """Receive replies, start queued calls and bury dead workers until the pool closes."""
        while True:
            with self._lock:
                if self._state is _PoolState.CLOSED:
                    return
                listening = {w.channel: w for w in self._workers if w.state is not WorkerState.DEAD}
                lost, self._lost = self._lost, []
            for worker in lost:
                self._bury(worker)
            if lost:
                continue
            ready = connection.wait([*listening, self._wakeup_reader])
            with self._lock:
                for channel in ready:
                    if channel is self._wakeup_reader:
                        while self._wakeup_reader.poll():
                            self._wakeup_reader.recv_bytes()
                        self._wakeup_sent = False
                    else:
                        self._receive(listening[channel])  # type: ignore[index]

    def _receive(self, worker: Worker) -> None:
        if worker.state is WorkerState.DEAD:
            return
        messages, gone = worker.receive()
        for message in messages:
            self._on_message(worker, message)
        if gone:
            self._lose(worker)

    def _on_message(self, worker: Worker, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == _protocol.HELLO:
            worker.said_hello = True
            if worker.state is WorkerState.STARTING:
                worker.state = WorkerState.READY
            for definition in self._definitions:
                self._teach(worker, definition)
            self._flush(worker)
            logger.debug("worker %s is ready", worker.pid)
        else:
            task = worker.task
            if task is None or task.id != message[1]:
                # Never expected; raising here would kill the I/O thread and hang the pool.
                logger.error(
                    "pygame_async internal error: reply %r from %r does not match %r; "
                    "please report this bug",
                    message[:2],
                    worker,
                    task,
                )
                return
            worker.task = None
            if worker.state is WorkerState.BUSY:
                worker.state = WorkerState.READY
            task._finish(message)
            self._finished(task)
        self._dispatch()
        self._changed.notify_all()

    def _bury(self, worker: Worker) -> None:
        """Join a dead worker's process, fail the call it was running, replace it."""
        exitcode = worker.join()  # without the lock: the game keeps calling meanwhile
        with self._lock:
            self._workers.remove(worker)
            task, worker.task = worker.task, None
            if task is not None:
                crash = WorkerCrashedError(
                    f"the worker process (pid {worker.pid}) running {task.name!r} died "
                    f"{describe_exit(exitcode)} before the call returned",
                    pid=worker.pid,
                    exitcode=exitcode,
                )
                task._fail(crash)
                self._finished(task)
            if not worker.stop_requested:
                logger.warning(
                    "worker process %s exited %s%s",
                    worker.pid,
                    describe_exit(exitcode),
                    "" if worker.said_hello else " before it was ready",
                )
                if worker.said_hello and self._state is _PoolState.RUNNING:
                    self._start_worker()
            self._dispatch()
            self._changed.notify_all()

    # -- interpreter exit -----------------------------------------------------------

    def _kill_at_exit(self, timeout: float) -> None:
        """Abandon running calls and end every worker: the game is closing."""
        with self._lock:
            if self._state is _PoolState.RUNNING:
                self._state = _PoolState.CLOSING
            self._cancel_queued()
            self._completed.clear()
            for worker in self._workers:
                worker.stop()
                worker.kill()
            self._dispatch()
            self._changed.wait_for(lambda: self._state is _PoolState.CLOSED, timeout)


def _pack_arguments(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """Pickle a call's arguments now, so a bad one fails at ``call()``, named."""
    try:
        return _serialization.dumps((args, kwargs))
    except Exception as exc:
        culprit = _find_unpicklable(args, kwargs)
        raise TypeError(
            f"call({name!r}): {culprit} cannot be sent to a worker: {type(exc).__name__}: {exc}"
        ) from exc


def _find_unpicklable(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    named = [(f"argument {index + 1}", value) for index, value in enumerate(args)]
    named += [(f"keyword argument {key!r}", value) for key, value in kwargs.items()]
    for label, value in named:
        try:
            _serialization.dumps(value)
        except Exception:
            return f"{label} ({_serialization.describe(value)})"
    return "an argument"


def _kill_workers_at_exit() -> None:
    """Kill every worker before ``concurrent.futures``' own exit hook would wait for them."""
    for pool in list(_live_pools):
        pool._kill_at_exit(timeout=1.0)


# The executors' exit hook joins every executor thread, which waits for the
# call its worker is running; ours must run first.  These hooks run last in,
# first out, and concurrent.futures.process has registered its hook on import.
threading._register_atexit(_kill_workers_at_exit)  # type: ignore[attr-defined]
