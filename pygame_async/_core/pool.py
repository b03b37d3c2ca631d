"""The pool: calls in on the game's thread, results out on the game's thread.

How one call travels::

    game thread                  pool I/O thread                 worker process
    -----------                  ---------------                 --------------
    call() -> Task -> _queue --- _dispatch() -- batch on pipe -->  serve(): run it
                                                                       |
    update() <- _completed <---- _receive() <-- reply on pipe -------+
       runs the callback         then _dispatch() the next call

* ``call()`` checks everything it can at once (name, callback, pickling of
  the arguments), queues the task, and hands it to an idle worker if there
  is one; the calls of a frame that found none leave at ``update()``, in one
  message per worker.
* The I/O thread waits on every worker's pipe without holding the GIL.  When
  replies arrive it files their tasks under ``_completed`` and feeds the
  workers again, so they stay busy between frames.  ``update()`` also reads
  the pipes itself, for games that seldom let the I/O thread have the GIL,
  but leaves a big result's raw buffers to the I/O thread, which reads them
  without the GIL.  A thread blocked in ``wait()`` or ``Task.result()``
  reads the busy workers' pipes itself too (``_arm_or_wait``): one
  thread wakes per reply instead of two; the news pipe wakes it for
  everything else.  While either reads, the I/O thread leaves those pipes
  alone rather than fight it for the GIL.
* ``update()`` runs callbacks, only ever on the thread that calls it.
* A call whose callback is a pygame event type is delivered by posting its
  event, which the I/O thread does as soon as the reply arrives (an event
  that cannot be posted yet waits, in order, for a later try).  When
  callbacks wait for ``update()``, the pool asks the game for one through a
  wake-up event (see :mod:`pygame_async._events`).
* A worker that dies closes its pipe; the I/O thread fails the one call it
  was running, puts back the calls queued behind it, joins the process and
  starts a replacement.  Timeouts and ``cancel(kill=True)`` kill a worker
  and let the same path bury it.
* The thread lane (``_run_in_thread``) runs game-process work, such as
  decoders that release the GIL, and files its outcomes like a worker's.

A worker runs its calls one at a time, in the order it got them.  An idle
worker gets the next queued call; a busy one is given more only while they
are short (``_pick_worker``), so a long call never waits behind another.
Calls are handed out in the order they were made; a call not yet started
can be cancelled, on a worker too (SKIP).  ``_lock`` guards all the state
below; no callback ever runs while it is held, nor does any unpickling of
results, nor any read of a pipe (each worker's ``reading`` lock orders those).
"""

from __future__ import annotations

import enum
import itertools
import logging
import math
import sys
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import CancelledError, ThreadPoolExecutor
from multiprocessing import connection
from types import TracebackType
from typing import Any

from pygame_async._core import caller as _async_function
from pygame_async._core import delivery as _callbacks
from pygame_async._core import serialization as _serialization
from pygame_async._core import validate as _validate
from pygame_async._core.caller import AsyncFunction
from pygame_async._core.definitions import Definition, Definitions
from pygame_async._core.ensure import Ensure
from pygame_async._core.errors import (
    AsyncError,
    RemoteTraceback,
    TaskTimeoutError,
    WorkerCrashedError,
    WorkerStartError,
)
from pygame_async._core.task import Task, TaskState
from pygame_async._lanes.process import wire as _protocol
from pygame_async._lanes.process.handle import Worker, WorkerState, describe_exit

logger = logging.getLogger("pygame_async")


class _PoolState(enum.Enum):
    RUNNING = "running"
    CLOSING = "closing"  # shutdown() called: no new calls, workers leave when drained
    CLOSED = "closed"  # no worker left


_live_pools: weakref.WeakSet[Pool] = weakref.WeakSet()

LOCAL_DEFINITION_ID = 0
"""The definition id of thread-lane calls: they run in the game process."""
_THREAD_LANE_WIDTH = 2
# A busy worker is handed more calls only while the estimated work queued on it
# stays under this: short calls then flow without a round trip each, and a
# long call never waits behind another.
_PREFETCH_SECONDS = 0.002
_PREFETCH_CALLS = 256
_POLLED_WINDOW = 0.002  # seconds after an update() during which it counts as polling
_PIPE_PATIENCE = 0.001  # seconds update() waits for a pipe the I/O thread is reading
_LONGEST_POLL = 3600.0  # seconds: longer waits on pipes are done as several
_CRASH_STREAK_LIMIT = 3  # workers dying before their first call, in a row, before giving up
_DEFINITION_TIMEOUT = _async_function._DEFINITION_TIMEOUT


class Pool:
    """A pool of worker processes running defined functions for the game.

    ``Pool(workers)`` returns once its workers are started and ready.  Use it
    as a context manager, or call :meth:`shutdown`, so that no worker outlives
    the game.  The module-level functions of ``pygame_async`` act on a default
    pool made by ``load()``; several pools may also exist side by side.

    Options, all keyword-only:

    * ``initializer(*initargs)`` runs in each worker as it starts (seed a
      random generator, ``pygame.init()``...).  If it raises, that worker
      does not start; calls no worker can run fail with
      :class:`WorkerStartError`, and the pool does not retry on its own.
    * ``max_calls_per_worker``: replace a worker after that many calls.
    * ``max_worker_memory``: replace a worker, after its current call, once
      its resident memory exceeds that many bytes (for long sessions with
      leaky native code; not on Windows).
    """

    def __init__(
        self,
        workers: int = 1,
        *,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        max_calls_per_worker: int | None = None,
        max_worker_memory: int | None = None,
    ) -> None:
        _validate.count("Pool(workers)", "workers", workers)
        self._setup = _pack_initializer(initializer, initargs)
        self._max_calls = _validate.positive_or_none(
            "Pool(max_calls_per_worker)", "max_calls_per_worker", max_calls_per_worker
        )
        self._memory_limit = _validate.positive_or_none(
            "Pool(max_worker_memory)", "max_worker_memory", max_worker_memory
        )
        if self._memory_limit is not None and sys.platform == "win32":
            raise ValueError("Pool(max_worker_memory): not supported on Windows")
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._state = _PoolState.RUNNING
        self._definitions = Definitions()
        self._workers: list[Worker] = []  # alive, stopping, or dead but not yet joined
        self._lost: list[Worker] = []  # dead, waiting for the I/O thread to join them
        self._queue: deque[Task] = deque()
        self._completed: deque[Task] = deque()  # finished, for update() to deliver
        self._to_post: deque[Task] = deque()  # finished, delivered by posting an event
        self._progressed: dict[Task, None] = {}  # tasks with a progress report to deliver
        self._pending = 0  # calls made and not yet delivered or cancelled
        self._polled_at = -math.inf  # when update() last read the pipes itself
        self._in_flight = 0  # calls handed to workers and not yet answered
        self._posting = threading.Lock()  # one thread at a time posts, so events keep order
        self._opening = threading.Lock()  # one thread at a time unpickles a given reply
        self._threads: ThreadPoolExecutor | None = None  # the thread lane, made when needed
        self._spawn_requests = 0  # workers asked for, not yet started by the I/O thread
        self._constructing = False  # the I/O thread is starting a worker process
        self._start_failure: WorkerStartError | None = None  # why the last worker failed to start
        self._crash_streak = 0  # workers that died in a row before running any call
        self._task_ids = itertools.count(1)
        self._wakeup_reader, self._wakeup_writer = connection.Pipe(duplex=False)
        self._wakeup_sent = False
        # A thread blocked in wait() or Task.result() reads the busy workers'
        # pipes itself (see _arm_or_wait); this pipe wakes it for
        # every other change.
        self._waiting_reader = False
        self._news_reader, self._news_writer = connection.Pipe(duplex=False)
        self._news_sent = False
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
            reason = self._start_failure
        if failed:
            self.shutdown()
            error = AsyncError if reason is None else WorkerStartError
            raise error(
                f"Pool({workers}): {failed} worker process(es) failed to start: "
                f"{reason or 'see the pygame_async log'}"
            ) from reason

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

    def define(
        self, name: str, function: Callable[..., Any], *, timeout: float | None = None
    ) -> AsyncFunction:
        """Make ``function`` callable on every worker, present and future, as ``name``.

        Redefining a name replaces its function for later calls.  ``function``
        may be a lambda, a closure or a function of the game's ``__main__``;
        it crosses to each worker once, with everything it closes over, not
        with every call.  Returns the shorthand ``f(callback, *args)``.

        With ``timeout`` (seconds), a call that runs longer than that on its
        worker fails with :class:`TaskTimeoutError`; its worker is killed and
        replaced.  ``f.options(timeout=...)`` overrides it per call.
        """
        _validate.name("define(name, function)", name)
        limit = _validate.seconds(f"define({name!r}, function, timeout)", "timeout", timeout)
        if limit == 0:
            raise ValueError(f"define({name!r}, function, timeout): timeout must be more than 0")
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
            definition, replaced = self._definitions.define(name, blob, limit)
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
        """Queue a call of the function defined as ``name``; workers get calls in the order made.

        ``callback`` is None (fire and forget), a function called with the
        result, or a success/error pair (an object or mapping with ``success``
        and/or ``error`` functions).  It runs in a later ``update()``.
        Raises LookupError when ``name`` is not defined and TypeError when the
        callback or an argument cannot be used, naming it.
        """
        return self._call(callback, name, args, kwargs, _DEFINITION_TIMEOUT)

    def _call(
        self,
        callback: object,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        timeout: Any,
    ) -> Task:
        _validate.name("call(callback, name, ...)", name)
        delivery = _callbacks.resolve(callback, name)
        self._definitions.lookup(name)  # an unknown name fails before any pickling
        arguments = _pack_arguments(name, args, kwargs)
        with self._lock:
            self._require_running(f"call({name!r})")
            # Looked up again under the lock: a definition replaced meanwhile
            # could otherwise be retired from the workers under this call.
            definition = self._definitions.lookup(name)
            if timeout is _DEFINITION_TIMEOUT:
                timeout = definition.timeout
            task = Task(self, next(self._task_ids), definition, delivery, arguments, timeout)
            definition.calls_in_flight += 1
            # Calls already waiting mean no worker is idle (every change that
            # frees one dispatches): only the first call of a burst may start now.
            dispatch = not self._queue
            self._queue.append(task)
            self._pending += 1
            if dispatch:
                self._dispatch(prefetch=False)
        return task

    def update(self, budget: float | None = None) -> int:
        """Deliver finished calls to their callbacks, in completion order, on this thread.

        Returns how many were delivered.  With ``budget`` (seconds), stops once
        that much time is spent, after at least one, and leaves the rest for
        the next call.  An exception raised by a callback propagates; the
        calls not yet delivered stay queued.
        """
        limit = None if budget is None else _validate.seconds("update(budget)", "budget", budget)
        if not (self._in_flight or self._completed or self._progressed or self._to_post):
            return 0  # the common idle frame: no lock, no system call
        started = time.perf_counter()
        if self._in_flight:
            # Read replies here rather than wait for the I/O thread: it needs
            # the GIL, which a game that never sleeps would make it wait for.
            self._polled_at = time.monotonic()
            for worker in list(self._workers):
                if worker.in_flight:
                    self._read_replies_here(worker)
            with self._lock:
                if self._queue:
                    self._dispatch()  # the frame's calls leave in one message per worker
        while self._progressed:  # one at a time: a callback that raises loses no other report
            with self._lock:
                if not self._progressed:
                    break
                task = next(iter(self._progressed))
                del self._progressed[task]
            task._report_progress()
        if self._to_post and self._posting.acquire(blocking=False):
            # Otherwise a pool thread is posting them right now.
            try:
                self._post_finished()
            finally:
                self._posting.release()
        delivered = 0
        while True:
            with self._lock:
                if not self._completed:
                    return delivered
                task = self._completed.popleft()
                self._pending -= 1
                # A report taken by a re-entered update() must still come first.
                progress_first = self._progressed.pop(task, False) is None
            delivered += 1
            if progress_first:
                task._report_progress()
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
                if self._completed:
                    continue
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                channels = self._arm_or_wait(remaining)
                if channels is None:
                    continue
            self._wait_for_news(channels, remaining)  # the next update() reads the replies

    def _run_in_thread(
        self, callback: object, name: str, function: Callable[..., Any], /, *args: Any
    ) -> Task:
        """Run ``function(*args)`` on the pool's thread lane, in the game process.

        For work that must happen in this process and does not hold the GIL
        for long (decoders that release it, file reads).  The outcome reaches
        ``callback`` like a worker call's: through ``update()``, counted as
        pending, cancellable until it starts.  Used by ``pygame_async.assets``.
        """
        _validate.name("_run_in_thread(callback, name, function)", name)
        delivery = _callbacks.resolve(callback, name)
        with self._lock:
            self._require_running(f"_run_in_thread({name!r})")
            if self._threads is None:
                self._threads = ThreadPoolExecutor(
                    max_workers=_THREAD_LANE_WIDTH, thread_name_prefix="pygame_async-thread"
                )
            definition = Definition(LOCAL_DEFINITION_ID, name, b"")
            task = Task(self, next(self._task_ids), definition, delivery, b"")
            definition.calls_in_flight += 1
            self._pending += 1
            self._threads.submit(self._run_local, task, function, args)
        return task

    def _run_local(self, task: Task, function: Callable[..., Any], args: tuple[Any, ...]) -> None:
        with self._lock:
            if task.state is not TaskState.QUEUED:
                return  # cancelled meanwhile
            task.state = TaskState.RUNNING
        try:
            value = function(*args)
        except BaseException as exc:
            with self._lock:
                task._fail(exc)
                self._finished(task)
                self._notify()
        else:
            with self._lock:
                task._succeed(value)
                self._finished(task)
                self._notify()
        self._announce()

    def get_pending_count(self) -> int:
        """Return how many calls were made and are not yet delivered (nor cancelled)."""
        return self._pending

    # -- workers ----------------------------------------------------------------

    def get_worker_count(self) -> int:
        """Return how many workers accept calls, counting those still starting."""
        with self._lock:
            return self._spawn_requests + sum(
                worker.accepts_calls or (worker.said_hello and not worker.stop_requested)
                for worker in self._workers  # a crashed worker counts until it is replaced
            )

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
            withdrawn = min(amount, self._spawn_requests)  # not started yet: cheapest to stop
            self._spawn_requests -= withdrawn
            amount -= withdrawn
            candidates = [worker for worker in self._workers if worker.accepts_calls]
            candidates.sort(key=lambda worker: worker.state is WorkerState.BUSY)
            for worker in candidates[:amount]:
                logger.debug("stopping worker %s", worker.pid)
                worker.stop()
            self._notify()

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
                self._spawn_requests = 0
                if cancel_pending:
                    self._cancel_queued()
                self._pending -= len(self._completed) + len(self._to_post)
                self._completed.clear()
                self._to_post.clear()
                self._progressed.clear()
                self._dispatch()
                self._wake_io()
            threads = self._threads
            if wait:
                self._changed.wait_for(lambda: self._state is _PoolState.CLOSED)
        if threads is not None:
            threads.shutdown(wait=wait, cancel_futures=cancel_pending)
        if wait and self._io_thread is not threading.current_thread():
            self._io_thread.join()

    # -- state changes: all under self._lock --------------------------------------

    def _require_running(self, what: str) -> None:
        if self._state is not _PoolState.RUNNING:
            raise RuntimeError(f"{what}: this pool has been shut down")

    def _no_worker_starting(self) -> bool:
        return (
            not self._spawn_requests
            and not self._constructing
            and not any(worker.state is WorkerState.STARTING for worker in self._workers)
        )

    def _start_worker(self) -> None:
        """Ask the I/O thread for one more worker; it counts from now on."""
        self._spawn_requests += 1
        self._wake_io()

    def _can_run_calls(self) -> bool:
        return bool(self._spawn_requests) or any(w.accepts_calls for w in self._workers)

    def _condemn(self, worker: Worker, fate: BaseException) -> None:
        """Kill a worker whose call must not go on, and start its replacement."""
        worker.fate = fate
        worker.deadline = None
        worker.stop_requested = True
        worker.state = WorkerState.STOPPING
        worker.kill()
        if self._state is _PoolState.RUNNING:
            self._start_worker()

    def _recycle(self, worker: Worker, why: str) -> None:
        """Replace a worker after its current call (recycling options)."""
        if worker.accepts_calls:
            logger.info("replacing worker %s %s", worker.pid, why)
            worker.stop()
            if self._state is _PoolState.RUNNING:
                self._start_worker()

    def _dispatch(self, prefetch: bool = True) -> None:
        """Hand queued calls to workers, in order; stop idle workers of a closing pool.

        An idle worker gets the next call at once.  With ``prefetch``, a busy
        worker is also given short calls to run next, up to
        ``_PREFETCH_SECONDS`` of estimated work, in one message: that is what
        lets thousands of tiny calls a second through.  ``call()`` does not
        prefetch, so calls made during a frame leave in batches.
        """
        touched: list[Worker] = []
        while self._queue:
            worker = self._pick_worker(self._queue[0], prefetch)
            if worker is None:
                break
            self._start_call(worker, self._queue.popleft())
            if worker not in touched:
                touched.append(worker)
        for worker in touched:
            self._flush(worker)
        if self._queue and self._start_failure is not None and not self._can_run_calls():
            while self._queue:  # no worker will ever run them: say why now
                task = self._queue.popleft()
                task._fail(_copy_error(self._start_failure))
                self._finished(task)
            self._notify()
        if self._state is _PoolState.CLOSING:
            if self._queue and not any(worker.accepts_calls for worker in self._workers):
                self._cancel_queued()  # no worker is left to run them
            if not self._queue:
                for worker in self._workers:
                    if worker.accepts_calls and not worker.in_flight:
                        worker.stop()
            if not self._workers and not self._constructing:
                self._state = _PoolState.CLOSED
                _live_pools.discard(self)
                self._notify()
                self._wake_io()

    def _pick_worker(self, task: Task, prefetch: bool) -> Worker | None:
        """Choose the worker for the next queued call, or None if it must wait."""
        for worker in self._workers:
            if worker.idle:
                return worker
        estimate = task.definition.estimate
        if not prefetch or task.timeout is not None or estimate is None:
            return None  # a timeout counts from the start: never queue behind another call
        best = None
        for worker in self._workers:
            if (
                worker.state is WorkerState.BUSY
                and len(worker.in_flight) < _PREFETCH_CALLS
                and worker.queued_estimate + estimate <= _PREFETCH_SECONDS
                # A busy worker that must first learn the function could keep
                # the sender waiting on its pipe for a big definition.
                and task.definition.id in worker.known_definitions
                and (best is None or worker.queued_estimate < best.queued_estimate)
            ):
                best = worker
        return best

    def _start_call(self, worker: Worker, task: Task) -> None:
        """Hand a call to a worker; it leaves with the worker's next flush."""
        self._teach(worker, task.definition)
        worker.queue((_protocol.CALL, task.id, task.definition.id, task.arguments))
        if not worker.in_flight:
            if task.timeout is not None:
                worker.deadline = time.monotonic() + task.timeout
                self._wake_io()  # its wait must end by the new deadline
            if self._waiting_reader:
                self._notify()  # a pipe to watch that the waiting thread does not
        worker.in_flight.append(task)
        worker.unsent.append(task)
        worker.queued_estimate += task.definition.estimate or 0.0
        self._in_flight += 1
        worker.state = WorkerState.BUSY
        task.state = TaskState.RUNNING

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
            # The calls that never left did not start: they go back to the queue.
            for task in reversed(worker.unsent):
                worker.in_flight.remove(task)
                self._in_flight -= 1
                task.state = TaskState.QUEUED
                self._queue.appendleft(task)
            worker.unsent.clear()
            self._lose(worker)
            return False
        return True

    def _take_reply(self, worker: Worker, task_id: int) -> Task | None:
        """Remove the call a reply answers from the worker's calls in flight."""
        for task in worker.in_flight:
            if task.id == task_id:
                worker.in_flight.remove(task)
                worker.queued_estimate = max(
                    0.0, worker.queued_estimate - (task.definition.estimate or 0.0)
                )
                self._in_flight -= 1
                return task
        return None

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
        if self._state is not _PoolState.RUNNING:
            self._pending -= 1  # shutdown() runs no callbacks
        elif task._posted:
            self._to_post.append(task)
        else:
            self._completed.append(task)
        # No notify here: callers notify once for a whole batch of replies.

    def _cancel(self, task: Task, kill: bool) -> bool:
        with self._lock:
            if task.state is TaskState.QUEUED:
                if task.definition.id != LOCAL_DEFINITION_ID:
                    self._queue.remove(task)
                self._cancelled(task)
            elif task.state is TaskState.RUNNING:
                worker = next((w for w in self._workers if task in w.in_flight), None)
                if worker is None:
                    pass  # on the thread lane: it cannot be stopped
                elif worker.in_flight[0] is not task:
                    # Queued behind another call on the worker: it has not started.
                    worker.queue((_protocol.SKIP, task.id))
                    self._flush(worker)
                    self._cancelled(task)
                elif kill:
                    worker.in_flight.popleft()
                    self._in_flight -= 1
                    self._requeue_behind(worker)
                    self._condemn(worker, CancelledError(f"task {task.id} was cancelled"))
                    self._cancelled(task)
            return task.state is TaskState.CANCELLED

    def _requeue_behind(self, worker: Worker) -> None:
        """Put back the calls a lost worker held behind its running one: they never started."""
        while worker.in_flight:
            task = worker.in_flight.pop()
            self._in_flight -= 1
            if task.state is TaskState.RUNNING:
                task.state = TaskState.QUEUED
                self._queue.appendleft(task)
        worker.queued_estimate = 0.0

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
        self._notify()

    def _wait_until_done(self, task: Task, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with self._lock:
                if task.done():
                    return True
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                channels = self._arm_or_wait(remaining)
                if channels is None:
                    continue
            for worker in self._wait_for_news(channels, remaining):
                self._read_replies_here(worker)

    def _read_replies_here(self, worker: Worker) -> None:
        """Read a busy worker's replies on this thread, except a big result's raw buffers."""
        if worker.held is not None:
            return  # its raw buffers are the I/O thread's to read, without the GIL
        # If the I/O thread holds the pipe, it is most likely waiting for the
        # GIL this thread holds: waiting a moment lets it finish at once, while
        # a big result it is reading does not stall this thread.
        patience = 0 if worker.reading_bulk else _PIPE_PATIENCE
        if worker.reading.acquire(timeout=patience):
            try:
                self._receive(worker, bulk=False)
            finally:
                worker.reading.release()

    def _arm_or_wait(self, remaining: float | None) -> dict[connection.Connection, Worker] | None:
        """Before blocking (hold _lock): become the thread that reads the busy pipes, or wait.

        Returns the pipes this thread is now to watch with :meth:`_wait_for_news`:
        a reply then wakes one thread, the one waiting for it, instead of the
        I/O thread and then the waiter (measured: half the round trip).  If
        another thread already reads, or no worker is busy, waits on the
        pool's condition for up to ``remaining`` seconds instead and returns None.
        """
        channels = {
            worker.channel: worker
            for worker in self._workers
            if worker.in_flight and worker.held is None and worker.state is not WorkerState.DEAD
        }
        if self._waiting_reader or not channels:
            self._stop_polling()
            self._changed.wait(_bounded(remaining))
            return None
        self._waiting_reader = True
        return channels

    def _wait_for_news(
        self, channels: dict[connection.Connection, Worker], timeout: float | None
    ) -> list[Worker]:
        """Block until a watched pipe has a reply, the pool changes, or ``timeout`` passes.

        Returns the workers whose pipes are ready.  Called without _lock,
        after :meth:`_arm_or_wait`: a change made after that writes to
        the news pipe, so none is missed.
        """
        try:
            # A far deadline is met by waking up again: poll() takes no more than ~24 days.
            ready = _protocol.wait(
                [*channels, self._news_reader],
                None if timeout is None else min(timeout, _LONGEST_POLL),
            )
        finally:
            with self._lock:
                self._waiting_reader = False
                self._polled_at = time.monotonic()  # like update(): the I/O thread waits a moment
                if self._news_sent:
                    while self._news_reader.poll():
                        self._news_reader.recv_bytes()
                    self._news_sent = False
        return [channels[channel] for channel in ready if channel in channels]

    def _notify(self) -> None:
        """Wake the threads waiting for the pool to change; hold _lock."""
        self._changed.notify_all()
        if self._waiting_reader and not self._news_sent:
            self._news_sent = True
            self._news_writer.send_bytes(b"")

    def _stop_polling(self) -> None:
        """Before blocking: from now on the I/O thread must read every reply."""
        if self._polled_at != -math.inf:
            self._polled_at = -math.inf
            self._wake_io()

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

    # -- posting: any thread, never holding _lock ------------------------------------

    def _announce(self) -> None:
        """Post finished event-type calls, then ask the game for an ``update()`` if one is due."""
        with self._posting:
            self._post_finished()
            with self._lock:
                due = self._state is _PoolState.RUNNING and bool(
                    self._completed or self._progressed
                )
            if due:
                _callbacks.wake(self)

    def _post_finished(self) -> None:
        """Post the events of finished calls, in order, until one cannot be posted yet.

        The caller holds ``_posting``.  A call counts as pending until its
        event is posted, so ``wait()`` waits for it.
        """
        while True:
            with self._lock:
                if not self._to_post:
                    return
                task = self._to_post[0]
            if not task._deliver():  # unpickles the result: not under _lock
                return
            with self._lock:
                if self._to_post and self._to_post[0] is task:  # else shutdown() dropped it
                    self._to_post.popleft()
                    self._pending -= 1
                    self._notify()

    # -- the I/O thread ---------------------------------------------------------------

    def _serve_io(self) -> None:
        """Start workers, receive replies, enforce timeouts and bury the dead until closed."""
        while True:
            self._start_requested_workers()
            with self._lock:
                if self._state is _PoolState.CLOSED:
                    return
                # While the game's thread polls (update() called very recently)
                # or a thread blocked in wait()/result() reads, that thread reads
                # the busy workers' replies itself: listening to them too would
                # only make this thread fight it for the GIL (measured: 120 us
                # more on a round trip).  Look again every _POLLED_WINDOW.
                polled = time.monotonic() - self._polled_at < _POLLED_WINDOW or self._waiting_reader
                listening = {
                    w.channel: w
                    for w in self._workers
                    if w.state is not WorkerState.DEAD and not (polled and w.in_flight)
                }
                holding = [
                    w
                    for w in self._workers
                    if w.held is not None and w.state is not WorkerState.DEAD
                ]
                lost, self._lost = self._lost, []
                deadlines = [w.deadline for w in self._workers if w.deadline is not None]
            for worker in lost:
                self._bury(worker)
            if lost:
                continue
            # A far deadline is met by waking up again: poll() takes no more than ~24 days.
            timeout = (
                min(max(0.0, min(deadlines) - time.monotonic()), _LONGEST_POLL)
                if deadlines
                else None
            )
            if polled:
                timeout = _POLLED_WINDOW if timeout is None else min(timeout, _POLLED_WINDOW)
            if holding:
                timeout = 0  # update() left a big result to read: at once
            ready = _protocol.wait([*listening, self._wakeup_reader], timeout)
            for worker in holding:
                with worker.reading:
                    self._receive(worker)
            for channel in ready:
                if channel is self._wakeup_reader:
                    with self._lock:
                        while self._wakeup_reader.poll():
                            self._wakeup_reader.recv_bytes()
                        self._wakeup_sent = False
                else:
                    worker = listening[channel]
                    with worker.reading:
                        self._receive(worker)
            with self._lock:
                self._expire_timeouts()
                news = bool(self._to_post or self._completed or self._progressed)
            if news:
                self._announce()

    def _start_requested_workers(self) -> None:
        """Start the worker processes asked for, from this thread.

        Every worker is started by the I/O thread, which lives as long as the
        pool: on Linux a worker's parent-death signal fires when the thread
        that started it ends, which must not be a short-lived game thread.
        """
        while True:
            with self._lock:
                if not self._spawn_requests or self._state is not _PoolState.RUNNING:
                    return
                self._constructing = True
            try:
                worker = Worker(self._setup, self._memory_limit)
            except Exception as exc:  # e.g. out of processes or file descriptors
                logger.error("could not start a worker process: %s", exc, exc_info=True)
                with self._lock:
                    self._constructing = False
                    self._spawn_requests = 0  # the next would fail alike: no retry storm
                    failure = WorkerStartError(f"could not start a worker process: {exc}")
                    failure.__cause__ = exc
                    self._start_failure = failure
                    self._dispatch()
                    self._notify()
                return
            with self._lock:
                self._constructing = False
                self._workers.append(worker)
                logger.debug("started worker %s", worker.pid)
                if self._spawn_requests:
                    self._spawn_requests -= 1
                else:
                    worker.stop()  # stop_workers() withdrew the request meanwhile
                self._dispatch()
                self._notify()

    def _expire_timeouts(self) -> None:
        now = time.monotonic()
        for worker in self._workers:
            task = worker.task
            if task is None or worker.deadline is None or worker.deadline > now:
                continue
            assert task.timeout is not None
            self._condemn(
                worker,
                TaskTimeoutError(
                    f"{task.name!r} ran longer than its timeout of {task.timeout:g} s; "
                    f"its worker process (pid {worker.pid}) was killed and replaced",
                    timeout=task.timeout,
                    pid=worker.pid,
                ),
            )

    def _receive(self, worker: Worker, bulk: bool = True) -> None:
        """Read what the worker sent, then file it under the lock; hold ``worker.reading``.

        ``bulk`` False leaves a big result's raw buffers to the I/O thread.
        """
        if worker.state is WorkerState.DEAD:
            return
        messages, gone = worker.receive(bulk)
        with self._lock:
            if worker.held is not None:
                self._wake_io()
            for message in messages:
                self._on_message(worker, message)
            if gone:
                self._lose(worker)
            if messages:
                self._dispatch()
                self._notify()

    def _on_message(self, worker: Worker, message: tuple[Any, ...]) -> None:
        if worker.fate is not None:
            return  # the pool has given up on this worker; what it says no longer counts
        kind = message[0]
        if kind == _protocol.HELLO:
            worker.said_hello = True
            self._start_failure = None
            if worker.state is WorkerState.STARTING:
                worker.state = WorkerState.READY
            for definition in self._definitions:
                self._teach(worker, definition)
            self._flush(worker)
            logger.debug("worker %s is ready", worker.pid)
        elif kind == _protocol.PROGRESS:
            task = worker.task
            if task is not None and task.id == message[1]:
                task.progress, task.progress_message = message[2], message[3]
                self._progressed[task] = None
            return
        elif kind == _protocol.START_FAILED:
            failure = message[1]
            worker.fate = WorkerStartError(
                f"the pool's initializer raised in a new worker process (pid {worker.pid}): "
                f"{failure.type_name}: {failure.message}"
            )
            worker.fate.__cause__ = RemoteTraceback(failure.traceback)
            return
        elif kind == _protocol.OVER_MEMORY:
            self._recycle(worker, f"whose resident memory reached {message[1] / 2**20:.0f} MiB")
        else:
            task = self._take_reply(worker, message[1])
            if task is None:
                # Never expected; raising here would kill the I/O thread and hang the pool.
                logger.error(
                    "pygame_async internal error: reply %r from %r matches no call in flight; "
                    "please report this bug",
                    message[:2],
                    worker,
                )
                return
            worker.deadline = None
            if worker.state is WorkerState.BUSY and not worker.in_flight:
                worker.state = WorkerState.READY
            if kind != _protocol.SKIPPED:
                worker.calls_done += 1
                self._crash_streak = 0
                task.definition.measured(message[3])
                if task.state is TaskState.RUNNING:  # else cancelled while queued on the worker
                    task._finish(message)
                    self._finished(task)
            if self._max_calls is not None and worker.calls_done >= self._max_calls:
                self._recycle(worker, f"after {worker.calls_done} calls")

    def _bury(self, worker: Worker) -> None:
        """Join a dead worker's process, fail the call it was running, replace it."""
        exitcode = worker.join()  # without the lock: the game keeps calling meanwhile
        worker.release_pipe()
        worker.held = None  # a result whose raw buffers never came: its call failed with it
        with self._lock:
            self._workers.remove(worker)
            task = worker.in_flight.popleft() if worker.in_flight else None
            if task is not None:
                self._in_flight -= 1
            self._requeue_behind(worker)
            if task is not None and task.state is TaskState.RUNNING:
                error = worker.fate or WorkerCrashedError(
                    f"the worker process (pid {worker.pid}) running {task.name!r} died "
                    f"{describe_exit(exitcode)} before the call returned",
                    pid=worker.pid,
                    exitcode=exitcode,
                )
                task._fail(error)
                self._finished(task)
            if not worker.said_hello:
                self._failed_to_start(worker, exitcode)
            elif not worker.stop_requested:
                logger.warning("worker process %s exited %s", worker.pid, describe_exit(exitcode))
                if task is None and worker.calls_done == 0:
                    self._crash_streak += 1  # died before running anything: not a call's fault
                if self._crash_streak >= _CRASH_STREAK_LIMIT:
                    logger.error(
                        "%d workers in a row died before running a call; not replacing them "
                        "(add_worker() tries again)",
                        self._crash_streak,
                    )
                    self._start_failure = WorkerStartError(
                        f"{self._crash_streak} worker processes in a row died before running "
                        f"a call, the last {describe_exit(exitcode)}; see the pygame_async log"
                    )
                elif self._state is _PoolState.RUNNING:
                    self._start_worker()
            self._dispatch()
            self._notify()
        self._announce()

    def _failed_to_start(self, worker: Worker, exitcode: int | None) -> None:
        """Record why a worker never became ready; it is not replaced (no restart storm)."""
        failure = worker.fate
        if not isinstance(failure, WorkerStartError):
            failure = WorkerStartError(
                f"a new worker process (pid {worker.pid}) exited {describe_exit(exitcode)} "
                "before it was ready"
            )
        if not worker.stop_requested or isinstance(worker.fate, WorkerStartError):
            remote = failure.__cause__
            logger.warning("%s%s", failure, "" if remote is None else f"\n{remote}")
            self._start_failure = failure

    # -- interpreter exit -----------------------------------------------------------

    def _kill_at_exit(self, timeout: float) -> None:
        """Abandon running calls and end every worker: the game is closing."""
        with self._lock:
            if self._state is _PoolState.RUNNING:
                self._state = _PoolState.CLOSING
            self._cancel_queued()
            self._completed.clear()
            self._to_post.clear()
            self._progressed.clear()
            for worker in self._workers:
                worker.stop()
                worker.kill()
            self._dispatch()
            self._changed.wait_for(lambda: self._state is _PoolState.CLOSED, timeout)


def _pack_arguments(name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """Pickle a call's arguments now, so a bad one fails at ``call()``, named."""
    try:
        return _serialization.dumps_arguments(args, kwargs)
    except Exception as exc:
        culprit = _find_unpicklable(args, kwargs)
        raise TypeError(
            f"call({name!r}): {culprit} cannot be sent to a worker: {type(exc).__name__}: {exc}"
        ) from exc


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
        return _serialization.dumps((initializer, initargs))
    except Exception as exc:
        raise TypeError(
            f"Pool(initializer): the initializer or its initargs cannot be sent to workers: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def _bounded(timeout: float | None) -> float | None:
    """Clamp a timeout the threading module would refuse as too large; it is as good as none."""
    return None if timeout is None else min(timeout, threading.TIMEOUT_MAX)


def _copy_error(error: WorkerStartError) -> WorkerStartError:
    """Return a fresh copy for one task: raising a shared one would grow its traceback."""
    copy = WorkerStartError(str(error))
    copy.__cause__ = error.__cause__
    return copy


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
