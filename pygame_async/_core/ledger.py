"""The call ledger: every call from the moment it is made until it is delivered.

The ledger holds the pool's one lock and what it guards: how many calls are
pending, the calls each lane has not taken yet (a :class:`CallQueue` per
lane), the finished calls waiting for delivery, who waits to hear that a
call ended (``await task``: :meth:`Ledger.watch`), and the pool's state.
Lanes write to it (a call was taken, finished, reported progress); the
pool's facade reads from it on the game's thread.

Three ways a finished call is delivered: by ``update()`` on the game's
thread (``completed``: function callbacks); by posting a pygame event, on
whatever thread filed it (``to_post``, in order, under ``_posting``); and by
completing a ``concurrent.futures.Future`` (``PoolExecutor``), also on
whatever thread filed it, holding no lock at all since a Future runs the
game's done-callbacks (``to_settle``: :meth:`Ledger.settle_futures`).

The locking rule, for the whole package: ``Ledger.lock`` guards every piece
of state of the pool and of its lanes.  While it is held, nothing may block:
no callback runs, no result is unpickled, no pipe or socket is read or
written except without blocking, no thread or process is waited for.  Locks
a lane keeps of its own (one per worker's socket reader, say) are taken
*before* this one, never while holding it.
"""

from __future__ import annotations

import enum
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable, Iterable
from typing import Any, Protocol

from pygame_async._core import delivery
from pygame_async._core.call_queue import CallQueue
from pygame_async._core.definitions import Definition
from pygame_async._core.dependencies import Dependencies
from pygame_async._core.errors import PoolBrokenError
from pygame_async._core.sync import Changed
from pygame_async._core.task import Outcome, Task, TaskState

logger = logging.getLogger("pygame_async")


class _Lane(Protocol):
    """What the ledger asks of a lane (the whole seam: ``lane_seam.Lane``)."""

    def forget(self, definition: Definition) -> None: ...


class PoolState(enum.Enum):
    """Where a pool is in its life."""

    RUNNING = "running"
    CLOSING = "closing"  # shutdown() called: no new calls; lanes leave when drained
    CLOSED = "closed"  # every lane has closed: no worker or thread is left
    BROKEN = "broken"  # the pool's machinery failed; see Ledger.broken


class Ledger:
    """The pool's book of calls, and the lock that guards the pool (see the module docstring)."""

    def __init__(self, pool: object) -> None:
        self.pool = pool  # passed to the update request, which names it to the game
        self.lock = threading.RLock()
        self.changed = Changed(self.lock)
        self.state = PoolState.RUNNING
        self.broken: PoolBrokenError | None = None
        self.pending = 0  # calls made and not yet delivered or cancelled
        self.calls_made = 0  # call()s so far: a lane can tell when the game makes a burst
        self.in_flight = 0  # calls handed to a lane and not finished
        self.changes = 0  # counts notify(): a waiter blocks only until it moves
        self.completed: deque[Task] = deque()  # finished, for update() to deliver
        self.to_post: deque[Task] = deque()  # finished, delivered by posting an event
        # Calls whose Future must be told (PoolExecutor): filed in to_post like
        # events (so whoever posts notices them), then set aside here by
        # whoever posts next, and settled outside every lock (settle_futures).
        self.to_settle: deque[Task] = deque()
        self._futures_in_to_post = 0
        self.progressed: dict[Task, None] = {}  # tasks with a progress report to deliver
        self.deferred: deque[Callable[[], object]] = deque()  # game code for the next update()
        self.dependencies = Dependencies(self)  # calls waiting for others (after=)
        self.keyed: dict[tuple[str, Hashable], Task] = {}  # the latest call of each key
        self.lanes: list[_Lane] = []
        self.task_ids = itertools.count(1)
        self.lanes_open = 0  # lanes with a worker or thread left
        self._listeners: list[Callable[[], None]] = []
        self._watchers: dict[Task, list[Callable[[], None]]] = {}  # see watch()
        self._posting = threading.Lock()  # one thread at a time posts, so events keep order

    # -- changes: all under self.lock ------------------------------------------------

    def add_lane(self, lane: _Lane) -> None:
        """Count a lane the pool now drives; the pool closes when all have closed."""
        self.lanes.append(lane)
        self.lanes_open += 1

    def lane_closed(self) -> None:
        """Record that a lane has no worker or thread left."""
        self.lanes_open -= 1
        if self.lanes_open == 0 and self.state is PoolState.CLOSING:
            self.state = PoolState.CLOSED
        self.notify()

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Have ``listener()`` called (under the lock) by every :meth:`notify`."""
        self._listeners.append(listener)

    def notify(self) -> None:
        """Tell every thread waiting for the pool that something changed."""
        self.changes += 1
        self.changed.notify_all()
        for listener in self._listeners:
            listener()

    def watch(self, task: Task, hook: Callable[[], None]) -> bool:
        """Have ``hook()`` called once ``task`` ends or the pool breaks; False if one has already.

        Takes the lock.  The hook runs under the lock, on whatever thread
        ends the call, so it must neither block nor raise nor run the game's
        code (``await task`` has it schedule a wake-up on its asyncio loop).
        It is called once at most, and forgotten then; :meth:`unwatch`
        forgets it sooner.
        """
        with self.lock:
            if task.done() or self.broken is not None:
                return False
            self._watchers.setdefault(task, []).append(hook)
            return True

    def unwatch(self, task: Task, hook: Callable[[], None]) -> None:
        """Forget a hook given to :meth:`watch`, if it has not been called yet (takes the lock)."""
        with self.lock:
            hooks = self._watchers.get(task)
            if hooks is not None and hook in hooks:
                hooks.remove(hook)
                if not hooks:
                    del self._watchers[task]

    def take(self, task: Task) -> None:
        """Record that a lane took a queued call: it may start at any moment now."""
        task.state = TaskState.ASSIGNED
        self.in_flight += 1

    def untake(self, task: Task) -> None:
        """Take back a call a lane took but never started (its worker was lost)."""
        task.state = TaskState.QUEUED
        self.in_flight -= 1

    def finish(self, task: Task, outcome: Outcome) -> None:
        """Finish a taken (or waiting) call with an outcome the game opens later.

        A call cancelled meanwhile (superseded while it ran) keeps nothing:
        the same holds for :meth:`finish_with_value` and :meth:`fail`.
        """
        if task.state is TaskState.CANCELLED:
            return
        self._leave_flight(task)
        task._record(outcome)
        self._file(task)

    def finish_with_value(self, task: Task, value: Any) -> None:
        """Finish a taken call with a value computed in this process."""
        if task.state is TaskState.CANCELLED:
            return
        self._leave_flight(task)
        task._record_value(value)
        self._file(task)

    def fail(self, task: Task, exception: BaseException) -> None:
        """Fail a queued or taken call that has no outcome of its own (crash, timeout...)."""
        if task.state is TaskState.CANCELLED:
            return
        self._leave_flight(task)
        task._record_error(exception)
        self._file(task)

    def cancel(self, task: Task) -> None:
        """Cancel a call not finished: its callback never runs (a running one's outcome is dropped).

        The lane has dropped it, or will drop its outcome; the calls waiting
        for it fail with ``DependencyError``.
        """
        self._leave_flight(task)
        task._record_cancelled()
        if task._hears_every_end:
            self._post_future(task)  # its Future hears of it too, off the lock
        else:
            self.pending -= 1
        self._settle(task.definition)
        self._release_key(task)
        if isinstance(task._delivery, delivery.Prepared):
            task._delivery.cancelled(task)
        if task._dependents:
            self.dependencies.ended(task)
        self._ended(task)
        self.notify()

    def supersede(self, stale: Task, queue: CallQueue) -> None:
        """Cancel an older call with the key of a new one, whatever its state (``key=``).

        Not started: dropped.  Running: its lane drops it if it can (a
        generator between steps, a call queued on a busy worker), else it
        runs on and its outcome is dropped.  Finished but not delivered:
        taken back from delivery.  Delivered, or cancelled: nothing to do.
        """
        state = stale.state
        if state is TaskState.QUEUED:
            queue.remove(stale)
            self.cancel(stale)
        elif state is TaskState.WAITING:
            self.dependencies.drop(stale)
            self.cancel(stale)
        elif state is TaskState.ASSIGNED:
            if not stale.lane.cancel(stale, False):
                self.cancel(stale)
        elif state is TaskState.FINISHED:
            for line in (self.completed, self.to_post):
                if stale in line:
                    line.remove(stale)
                    self.pending -= 1
                    stale._record_cancelled()
                    if isinstance(stale._delivery, delivery.Prepared):
                        stale._delivery.cancelled(stale)
                    self.notify()
                    return

    def claim_key(self, task: Task) -> Task | None:
        """Make ``task`` the latest call of its key; return the call it supersedes, if any."""
        slot = (task.name, task.key)
        stale = self.keyed.get(slot)
        self.keyed[slot] = task
        return stale

    def delivered(self, task: Task) -> None:
        """Forget a delivered call's key (its latest call is gone)."""
        if task.key is not None:
            self._release_key(task)

    def _release_key(self, task: Task) -> None:
        if task.key is not None:
            slot = (task.name, task.key)
            if self.keyed.get(slot) is task:
                del self.keyed[slot]

    def defer(self, function: Callable[[], object]) -> None:
        """Have ``function()`` run on the thread of the next ``update()`` (game code)."""
        self.deferred.append(function)

    def close(self, queues: Iterable[CallQueue], cancel_pending: bool) -> None:
        """Stop the pool taking calls (shutdown): no callback runs from now on.

        A Future of ``PoolExecutor`` still hears of its call: it is no
        callback of the game's, and one left pending would hang its waiter.
        """
        if self.state is PoolState.RUNNING:
            self.state = PoolState.CLOSING
        for task in self.dependencies.take_all():  # the calls they wait for may never end now
            self.cancel(task)
        if cancel_pending:
            for queue in queues:
                for task in queue.take_all():
                    self.cancel(task)
        kept = [task for task in self.to_post if task._hears_every_end]  # Futures still hear
        self.pending -= len(self.completed) + len(self.to_post) - len(kept)
        self.completed.clear()
        self.to_post.clear()
        self.to_post.extend(kept)
        self.progressed.clear()
        self.deferred.clear()
        self.keyed.clear()

    def require_running(self, what: str) -> None:
        """Raise unless the pool takes calls: ``what`` names the call refused."""
        if self.state is PoolState.BROKEN:
            raise self.broken_error()
        if self.state is not PoolState.RUNNING:
            raise RuntimeError(f"{what}: this pool has been shut down")

    def record_progress(self, task: Task, fraction: float, message: str | None) -> None:
        """Record a running call's progress; ``update()`` delivers the latest."""
        if task.state is not TaskState.ASSIGNED:
            return  # superseded while it ran: nothing of it is delivered any more
        task.progress, task.progress_message = fraction, message
        self.progressed[task] = None

    def break_down(self, error: BaseException) -> PoolBrokenError:
        """Mark the pool broken (its own machinery failed): every later use says so."""
        if self.broken is None:
            logger.critical("pygame_async internal error; the pool stops", exc_info=error)
            broken = PoolBrokenError(
                f"the pool stopped after an internal error ({type(error).__name__}: {error}); "
                "please report this bug"
            )
            broken.__cause__ = error
            self.broken = broken
            self.state = PoolState.BROKEN
            watchers, self._watchers = self._watchers, {}
            for hooks in watchers.values():  # their calls may never end now: say so
                for hook in hooks:
                    hook()
            self.notify()
        return self.broken

    def broken_error(self) -> PoolBrokenError:
        """Return a fresh copy of the breakdown: raising one twice would grow its traceback."""
        assert self.broken is not None
        error = PoolBrokenError(str(self.broken))
        error.__cause__ = self.broken.__cause__
        return error

    def _leave_flight(self, task: Task) -> None:
        if task.state is TaskState.ASSIGNED:
            self.in_flight -= 1

    def _file(self, task: Task) -> None:
        self._settle(task.definition)
        if task._hears_every_end:
            self._post_future(task)
        elif self.state is not PoolState.RUNNING:
            self.pending -= 1  # shutdown() runs no callbacks
        elif task._posted:
            self.to_post.append(task)
        else:
            self.completed.append(task)
        if task._dependents:  # after it: a dependent failing now is delivered after it
            self.dependencies.ended(task)
        self._ended(task)
        # No notify here: lanes notify once for a whole batch of outcomes.

    def _post_future(self, task: Task) -> None:
        """File a call whose Future must be told of its end (finished, or cancelled)."""
        self.to_post.append(task)
        self._futures_in_to_post += 1

    def _set_futures_aside(self) -> None:
        """Move the calls whose Futures are due from ``to_post`` to ``to_settle``.

        They keep no order with the events, so none waits behind an event
        that cannot be posted yet.  The count spares a scan when there is none.
        """
        if self._futures_in_to_post:
            queued = list(self.to_post)
            self.to_post.clear()
            for task in queued:
                (self.to_settle if task._hears_every_end else self.to_post).append(task)
            self._futures_in_to_post = 0

    def wake_watchers(self, task: Task) -> None:
        """Call the hooks of whoever watches ``task`` now, though it has not ended.

        A call released from waiting whose arguments wait for a result
        (``Dependencies.to_prepare``): an awaiter must prepare it.
        """
        self._ended(task)

    def _ended(self, task: Task) -> None:
        """Call the hooks of whoever watches ``task`` (see :meth:`watch`): it has ended."""
        if self._watchers:
            for hook in self._watchers.pop(task, ()):
                hook()

    def _settle(self, definition: Definition) -> None:
        """One call on ``definition`` is over: lanes forget a version nothing needs."""
        definition.live_calls -= 1
        if definition.retirable:
            self._forget_everywhere(definition)

    def _forget_everywhere(self, definition: Definition) -> None:
        for lane in self.lanes:
            lane.forget(definition)

    # -- delivery: never under self.lock -------------------------------------------------

    def post_and_request_update(self) -> None:
        """Post finished event-type calls, then ask the game for an ``update()`` if one is due.

        Then complete the Futures that are due (:meth:`settle_futures`).
        """
        with self._posting:
            self.post_finished()
            with self.lock:
                due = self.state is PoolState.RUNNING and bool(self.completed or self.progressed)
            if due:
                delivery.request_update(self.pool)
        self.settle_futures()

    def post_finished(self) -> None:
        """Post the events of finished calls, in order, until one cannot be posted yet.

        The caller holds ``_posting`` (or calls :meth:`post_and_request_update`).  A call
        counts as pending until its event is posted, so ``wait()`` waits for it.  The
        outcome is opened without the lock; the event is posted with it held, so that
        a call superseded or dropped by ``shutdown()`` meanwhile is never posted.
        """
        while True:
            with self.lock:
                self._set_futures_aside()  # their done-callbacks never run under _posting
                if not self.to_post:
                    return
                task = self.to_post[0]
            task._open_outcome()  # may unpickle: not under the lock
            with self.lock:
                if not self.to_post or self.to_post[0] is not task:
                    continue  # superseded, or dropped by shutdown(), meanwhile
                if not task._deliver_opened():  # posting an event runs no game code
                    return
                self.to_post.popleft()
                self.pending -= 1
                self.delivered(task)
                self.notify()

    def try_posting(self) -> None:
        """Post what waits to be posted, unless a pool thread is doing so right now.

        Futures that are due are completed either way.
        """
        if self._posting.acquire(blocking=False):
            try:
                self.post_finished()
            finally:
                self._posting.release()
        self.settle_futures()

    def settle_futures(self) -> None:
        """Complete the Futures of the calls that ended (``PoolExecutor``), with no lock held.

        Any thread may do it, several at once: Futures keep no order.  A
        Future's done-callbacks are the game's code, which may wait for
        another Future (settled meanwhile by another thread) or submit a
        call (which the inline lane runs right there, settling its Future
        on the way): so this holds neither the lock nor ``_posting``.  A
        call counts as pending until its Future is completed.
        """
        while True:
            with self.lock:
                self._set_futures_aside()
                if not self.to_settle:
                    return
                task = self.to_settle.popleft()
            try:
                task._deliver()  # opens the outcome here: off the lock
            finally:
                with self.lock:
                    self.pending -= 1
                    self.notify()
