"""The pool: the public API, a facade over the call ledger and the lanes that run calls.

How one call travels::

    game thread                     the pool's lane                  (e.g. a worker)
    -----------                     ---------------                  ---------------
    call() -> Task -> CallQueue --- Lane.dispatch() --- the call --->  runs it
                                                                         |
    update() <- Ledger.completed <- Lane (its I/O thread, or  <-- outcome -+
       runs the callback            update() itself via Lane.collect())

* ``call()`` checks everything it can at once (name, callback, and the
  arguments, which the lane packs), queues the task in the lane's
  :class:`CallQueue` and lets the lane take it if it can start now.
* The lane files each outcome in the :class:`Ledger` (see its module for the
  one lock and the locking rule).  ``update()`` delivers finished calls to
  their callbacks, only ever on the thread that calls it; ``wait()`` and
  ``Task.result()`` block through the lane (``Lane.block``).
* A call whose callback is a pygame event type is delivered by posting its
  event, which the lane's thread does as soon as the outcome arrives; when
  callbacks wait for ``update()``, the ledger asks the game for one
  (:func:`pygame_async._core.delivery.request_update`).
* Ctrl+C in the middle of a public method is deferred until the pool is
  consistent (:mod:`pygame_async._core.interrupts`).

Which lane runs what: the pool's own lane (``Pool(lane=...)``) runs defined
functions; ``_run_in_thread`` (used by ``pygame_async.assets``) runs plain
functions in the game process: on the pool's own lane if that is a thread or
inline lane, else on a thread lane the pool makes when first asked.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any, Literal

from pygame_async._core import calls, exiting, updating, validate
from pygame_async._core.call_options import PLAIN
from pygame_async._core.caller import AsyncFunction
from pygame_async._core.definitions import Definitions
from pygame_async._core.dependencies import prepare_released
from pygame_async._core.ensure import Ensure
from pygame_async._core.executor import PoolExecutor
from pygame_async._core.interrupts import blocking, install, protected, uninstall
from pygame_async._core.lane_seam import LaneSpec
from pygame_async._core.ledger import Ledger, PoolState
from pygame_async._core.pool_lanes import PoolLanes
from pygame_async._core.task import Task, TaskState

_live_pools: weakref.WeakSet[Pool] = weakref.WeakSet()


class Pool:
    """A pool of workers running defined functions for the game, on one *lane*.

    ``Pool(workers)`` returns once its workers are started and ready.  Use it
    as a context manager, or call :meth:`shutdown`, so that no worker outlives
    the game.  The module-level functions of ``pygame_async`` act on a default
    pool made by ``load()``; several pools may also exist side by side.

    ``lane`` says where calls run, ``workers`` at a time (README: Lanes):
    ``"process"``, worker processes (arguments and results pickled; a stuck
    call can be killed or timed out); ``"thread"``, threads of the game
    process, for work that releases the GIL (arguments and results passed by
    reference); ``"inline"``, no thread nor process: calls run on the thread
    that calls ``update()``, ``wait()`` or ``Task.result()``, a generator
    function one step per turn (for web builds).  The default (None) is
    ``"process"``, and ``"inline"`` in a web build (``sys.platform``
    ``"emscripten"`` or ``"wasi"``), where the other lanes cannot run.
    ``lane=pygame_async.DaskLane(target)`` runs calls on the workers of a
    dask.distributed cluster (README: Beyond one machine); ``workers`` is
    then the cluster's business, unless the lane starts a cluster itself.

    Options for worker processes only, all keyword-only:

    * ``initializer(*initargs)`` runs in each worker as it starts (seed a
      random generator, ``pygame.init()``...).  If it raises, that worker
      does not start; calls no worker can run fail with
      :class:`WorkerStartError`, and the pool does not retry on its own.
    * ``max_calls_per_worker``: replace a worker after that many calls.
    * ``max_worker_memory``: replace a worker, after its current call, once
      its resident memory exceeds that many bytes (for long sessions with
      leaky native code; not on Windows).
    * ``worker_priority``: ``"low"`` (None, the default) runs the workers
      below the game (nice +10; below normal on Windows), so that when
      every core is busy the game's frames come first; ``"normal"`` runs
      them at the game's own priority.
    """

    def __init__(
        self,
        workers: int = 1,
        *,
        lane: str | LaneSpec | None = None,
        initializer: Callable[..., object] | None = None,
        initargs: tuple[Any, ...] = (),
        max_calls_per_worker: int | None = None,
        max_worker_memory: int | None = None,
        worker_priority: Literal["low", "normal"] | None = None,
    ) -> None:
        validate.count("Pool(workers)", "workers", workers)
        options = {
            "initializer": initializer,
            "initargs": initargs,
            "max_calls_per_worker": max_calls_per_worker,
            "max_worker_memory": max_worker_memory,
            "worker_priority": worker_priority,
        }
        self._open(lane, workers, options)

    def _open(self, kind: str | LaneSpec | None, workers: int, options: dict[str, Any]) -> None:
        self._ledger = Ledger(self)
        self._definitions = Definitions()
        # One thread at a time opens a given outcome; a failed dependency's is
        # opened while its dependent's is.
        self._opening = threading.RLock()
        self.ensure = Ensure(self)
        """Adjust the worker count: ``pool.ensure.at_least(2).at_most(4)``."""
        install()
        try:
            self._lanes = PoolLanes(self._ledger, kind, workers, options)
        except BaseException:
            uninstall()
            raise
        self._lane = self._lanes.own
        self._queue = self._lanes.own_queue
        self._uninstalled = False
        _live_pools.add(self)

    def __repr__(self) -> str:
        return (
            f"<pygame_async.Pool {self._ledger.state.value} lane={self.lane} "
            f"workers={self.get_worker_count()} pending={self._ledger.pending}>"
        )

    @property
    def lane(self) -> str:
        """The lane the pool runs its calls on: ``"process"``, ``"thread"`` or ``"inline"``."""
        return self._lane.kind

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

    @protected
    def define(
        self, name: str, function: Callable[..., Any], *, timeout: float | None = None
    ) -> AsyncFunction:
        """Make ``function`` callable on every worker, present and future, as ``name``.

        Redefining a name replaces its function for later calls.  ``function``
        may be a lambda, a closure or a function of the game's ``__main__``;
        it crosses to each worker once, with everything it closes over, not
        with every call.  Returns the shorthand ``f(callback, *args)``.

        A generator function is a call whose result is its ``return`` value:
        the inline lane runs it one step (``yield``) per turn, other lanes
        whole.  With ``timeout`` (seconds), a call that runs longer than that
        on its worker fails with :class:`TaskTimeoutError`; its worker is
        killed and replaced.  ``f.options(timeout=...)`` overrides it per call.
        """
        validate.name("define(name, function)", name)
        limit = validate.seconds(f"define({name!r}, function, timeout)", "timeout", timeout)
        if limit == 0:
            raise ValueError(f"define({name!r}, function, timeout): timeout must be more than 0")
        if not callable(function):
            raise TypeError(
                f"define({name!r}, function): function must be callable, "
                f"got {type(function).__name__}"
            )
        payload = self._lane.prepare_definition(name, function)  # may take a while: no lock
        with self._ledger.lock:
            self._require_running(f"define({name!r})")
            definition, replaced = self._definitions.define(name, payload, limit)
            if replaced is not None and replaced.retirable:
                self._lane.forget(replaced)
            self._lane.define(definition)
        return AsyncFunction(self, name)

    @protected
    def undefine(self, name: str) -> None:
        """Make later calls to ``name`` fail at once; calls already made still run.

        Undefining a name that is not defined does nothing.
        """
        validate.name("undefine(name)", name)
        with self._ledger.lock:
            definition = self._definitions.undefine(name)
            if definition is not None and definition.retirable:
                self._lane.forget(definition)

    # -- calls ------------------------------------------------------------------

    def call(self, callback: object, name: str, /, *args: Any, **kwargs: Any) -> Task:
        """Queue a call of the function defined as ``name``; workers get calls in the order made.

        ``callback`` is None (fire and forget), a function called with the
        result, a success/error pair (an object or mapping with ``success``
        and/or ``error`` functions), which run in a later ``update()``, or a
        pygame event type (``pygame.event.custom_type()``): the completion is
        then posted as an event as soon as it arrives.  Raises LookupError
        when ``name`` is not defined and TypeError when the callback or an
        argument cannot be used, naming it.
        """
        return self._call(callback, name, args, kwargs, PLAIN)

    # A call's whole path is calls.make_call, Ctrl+C deferred: one frame less on every call().
    _call = protected(calls.make_call)

    def update(self, budget: float | None = None) -> int:
        """Deliver finished calls to their callbacks, in completion order, on this thread.

        Returns how many were delivered.  With ``budget`` (seconds), stops once
        that much time is spent, after at least one, and leaves the rest for
        the next call.  An exception raised by a callback propagates; the
        calls not yet delivered stay queued.
        """
        limit = None if budget is None else validate.seconds("update(budget)", "budget", budget)
        book = self._ledger
        if not (
            book.in_flight
            or book.completed
            or book.progressed
            or book.to_post
            or book.deferred
            or book.dependencies.to_prepare
            or book.broken
        ):
            return 0  # the common idle frame: no lock, no system call
        return self._update(limit)

    @protected
    def _update(self, limit: float | None) -> int:
        return updating.deliver_finished(self._ledger, self._lane, limit)

    @protected
    def wait(self, timeout: float | None = None) -> bool:
        """Run ``update()`` until no call is pending, including calls made meanwhile.

        Returns False if ``timeout`` seconds pass first.  Calls made while no
        worker exists wait for one, so give a timeout in that case.
        """
        limit = validate.seconds("wait(timeout)", "timeout", timeout)
        return self._wait_for(self._nothing_pending, limit)

    def _nothing_pending(self) -> bool:
        return self._ledger.pending == 0

    @protected
    def _wait_for(self, condition: Callable[[], bool], limit: float | None) -> bool:
        """Run ``update()`` until ``condition()`` (checked under the lock) holds, or ``limit``."""
        deadline = None if limit is None else time.monotonic() + limit
        ledger = self._ledger
        while True:
            self.update()
            with ledger.lock:
                if condition():
                    return True
                if ledger.completed or ledger.deferred or ledger.dependencies.to_prepare:
                    continue
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                seen = ledger.changes
            self._lane.block(seen, remaining)

    def get_pending_count(self) -> int:
        """Return how many calls were made and are not yet delivered (nor cancelled)."""
        return self._ledger.pending

    def as_executor(self) -> PoolExecutor:
        """Return a ``concurrent.futures.Executor`` view of the pool (a new one each time).

        Its ``submit(fn, *args)`` defines ``fn`` once per function and returns
        a Future completed without ``update()``; its ``shutdown()`` leaves the
        pool running.  On the inline lane ``submit`` runs the call to its end.
        """
        return PoolExecutor(self)

    # -- workers ----------------------------------------------------------------

    def get_worker_count(self) -> int:
        """Return how many workers accept calls, counting those still starting."""
        with self._ledger.lock:
            return self._lane.worker_count()

    @protected
    def add_worker(self) -> None:
        """Start one more worker; it takes calls as soon as it is ready."""
        with self._ledger.lock:
            self._require_running("add_worker()")
            self._lane.add_worker()

    @protected
    def stop_workers(self, amount: int = 1) -> None:
        """Stop ``amount`` workers after their current call, idle ones first.

        Asking for more than there are stops them all; queued calls then wait
        for a worker to be added.
        """
        validate.count("stop_workers(amount)", "amount", amount)
        with self._ledger.lock:
            self._lane.stop_workers(amount)

    @protected
    def shutdown(self, wait: bool = True, cancel_pending: bool = False) -> None:
        """Stop every worker once queued calls are done (or cancelled) and release the pool.

        Queued calls still run unless ``cancel_pending`` is true.  With
        ``wait`` it returns only once no worker process remains.  Callbacks
        are not run: a call that finishes from now on is not delivered.
        It is safe to call it several times.
        """
        ledger = self._ledger
        with ledger.lock:
            if ledger.state is PoolState.RUNNING:
                ledger.close(self._lanes.queues(), cancel_pending)
                for each in self._lanes.all():
                    each.close()
                ledger.notify()
            lanes = self._lanes.all()
        if wait:
            for each in lanes:  # an inline lane runs what is left here
                blocking(each.join, None)
            with ledger.lock:
                blocking(ledger.changed.wait_for, self._closed)
        with ledger.lock:
            release, self._uninstalled = not self._uninstalled and self._closed(), True
        if release:
            _live_pools.discard(self)
            uninstall()

    def _closed(self) -> bool:
        return self._ledger.state is PoolState.CLOSED or (
            self._ledger.state is PoolState.BROKEN and self._ledger.lanes_open == 0
        )

    # -- work that must run in the game process -------------------------------------

    @protected
    def _run_in_thread(
        self, callback: object, name: str, function: Callable[..., Any], /, *args: Any
    ) -> Task:
        """Run ``function(*args)`` in the game process (see ``PoolLanes``).

        For work that must happen in this process and does not hold the GIL
        for long (decoders that release it, file reads).  The outcome reaches
        ``callback`` like any call's: through ``update()``, counted as
        pending, cancellable until it starts.  Used by ``pygame_async.assets``.
        """
        return calls.make_game_process_call(self, self._lanes, callback, name, function, args)

    # -- used by Task ---------------------------------------------------------------

    @protected
    def _cancel(self, task: Task, kill: bool) -> bool:
        with self._ledger.lock:
            if task.state is TaskState.QUEUED:
                self._lanes.queue_of(task).remove(task)
                self._ledger.cancel(task)
            elif task.state is TaskState.WAITING:
                self._ledger.dependencies.drop(task)
                self._ledger.cancel(task)
            elif task.state is TaskState.ASSIGNED:
                task.lane.cancel(task, kill)
            cancelled = task.state is TaskState.CANCELLED
        task.lane.after_cancel()
        return cancelled

    def _set_priority(self, task: Task, priority: int) -> None:
        with self._ledger.lock:
            if task.state is TaskState.QUEUED:
                self._lanes.queue_of(task).reprioritize(task, priority)
            elif task.state is TaskState.WAITING:
                task.priority = priority

    def _prepare_released(self) -> None:
        """Give released calls their Task arguments' results and queue them (see dependencies)."""
        if self._ledger.dependencies.to_prepare:
            prepare_released(self._ledger)

    def _defer(self, function: Callable[[], object]) -> None:
        """Run ``function()`` (game code) in the next ``update()``."""
        with self._ledger.lock:
            self._ledger.defer(function)

    @protected
    def _wait_until_done(self, task: Task, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        ledger = self._ledger
        while True:
            self._prepare_released()
            with ledger.lock:
                if task.done():
                    return True
                if ledger.broken is not None:
                    raise self._ledger.broken_error()
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                seen = ledger.changes
            task.lane.block(seen, remaining)

    # -- state ------------------------------------------------------------------------

    def _require_running(self, what: str) -> None:
        self._ledger.require_running(what)

    def _kill_at_exit(self, timeout: float) -> None:
        """Abandon running calls and end every worker: the game is closing."""
        ledger = self._ledger
        with ledger.lock:
            ledger.close(self._lanes.queues(), cancel_pending=True)
            for each in self._lanes.all():
                each.close()
                each.kill_at_exit()
            ledger.changed.wait_for(self._closed, timeout)


def _kill_workers_at_exit() -> None:
    """Kill every worker as the interpreter exits, before anything waits for them."""
    for pool in list(_live_pools):
        deadline = time.monotonic() + 1.0
        while True:
            try:
                pool._kill_at_exit(timeout=max(0.0, deadline - time.monotonic()))
                break
            except KeyboardInterrupt:  # the game is exiting anyway: finish the job first
                continue


exiting.at_exit(_kill_workers_at_exit)  # before multiprocessing's own (see exiting)
