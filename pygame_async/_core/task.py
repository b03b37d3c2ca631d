"""A call made to the pool, from the moment it is queued to its delivery."""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable, Generator, Hashable
from concurrent.futures import CancelledError
from typing import TYPE_CHECKING, Any, Protocol

from pygame_async._core import validate
from pygame_async._core.delivery import Delivery, FutureCompletion

if TYPE_CHECKING:
    from pygame_async._core.definitions import Definition


class TaskState(enum.Enum):
    """Where a call is in its life (``task.state``); ``.value`` is its name as a string.

    (``WAITING`` ->) ``QUEUED`` -> ``ASSIGNED`` -> ``FINISHED``, or
    ``CANCELLED`` from any of them (a finished call is cancelled only when a
    newer call with its key supersedes it before delivery).  A finished call
    may still wait for ``update()`` to deliver it.  Every transition happens
    under the pool's lock.
    """

    WAITING = "waiting"  # for the calls it depends on (after=, Task arguments) to finish
    QUEUED = "queued"  # in the pool's queue, not yet handed to a lane
    ASSIGNED = "assigned"  # handed to a lane: running, or waiting there behind another call
    FINISHED = "finished"  # its outcome is known (delivered or not yet)
    CANCELLED = "cancelled"  # it never ran and never will; its callback never runs


class Outcome(Protocol):
    """A finished call's outcome as a lane hands it over, opened only when needed.

    A process lane's outcome is a pickle: opening it runs the unpickler, which
    must never happen under the pool's lock, nor on a thread that does not
    need the value.
    """

    succeeded: bool
    """True if the call returned (the value may still fail to unpickle), False if it raised."""

    def open(self, name: str) -> tuple[Any, BaseException | None]:
        """Return ``(value, None)`` or ``(None, exception)`` for a call of ``name``."""


class _Watching(Protocol):
    """What a task asks of its pool's ledger to be told of its end (``Ledger.watch``)."""

    def watch(self, task: Task, hook: Callable[[], None]) -> bool: ...

    def unwatch(self, task: Task, hook: Callable[[], None]) -> None: ...


class _TaskOwner(Protocol):
    _opening: threading.RLock

    @property
    def _ledger(self) -> _Watching: ...

    def _cancel(self, task: Task, kill: bool) -> bool: ...

    def _set_priority(self, task: Task, priority: int) -> None: ...

    def _prepare_released(self) -> None: ...

    def _wait_until_done(self, task: Task, timeout: float | None) -> bool: ...


_NO_VALUE: Any = object()


class Task:
    """A call made with ``call()``: its identity, state and outcome.

    Its callback runs when ``update()`` delivers it; ``await task`` (in an
    asyncio loop), ``result()`` and ``exception()`` let code that cannot
    wait for that (coroutines, loading screens, tests) have the outcome
    sooner, without delivering it.
    """

    __slots__ = (
        "_callback",
        "_delivery",
        "_dependents",
        "_exception",
        "_on_progress",
        "_outcome",
        "_owner",
        "_value",
        "arguments",
        "definition",
        "id",
        "key",
        "lane",
        "priority",
        "progress",
        "progress_message",
        "retries",
        "state",
        "timeout",
    )

    def __init__(
        self,
        owner: _TaskOwner,
        task_id: int,
        definition: Definition,
        delivery: Delivery,
        arguments: Any,
        timeout: float | None = None,
        callback: object = None,
    ) -> None:
        self._owner = owner
        self.timeout = timeout
        """Seconds the call may run on a worker before it is stopped, or None."""
        self.id = task_id
        """The call's number, unique within its pool, in the order calls were made."""
        self.definition = definition
        """The version of the defined function this call runs (for pygame_async's own use)."""
        self._delivery = delivery
        self._callback = callback  # the call's callback argument: shared deliveries use it
        self.arguments = arguments
        """The call's arguments as its lane holds them (for pygame_async's own use)."""
        self.lane: Any = None  # the lane that runs it, set when it is queued
        self.priority = 0
        """Among calls not yet handed to a worker, higher goes first (``set_priority``)."""
        self.key: Hashable | None = None
        """The call's latest-request-wins key (``f.options(key=...)``), or None."""
        self.retries = 0
        """How many more times the call may run if its worker dies (``f.options(retries=...)``)."""
        self._dependents: list[Task] | None = None  # calls waiting for this one (after=)
        self.state = TaskState.QUEUED
        """Where the call is: a :class:`TaskState`."""
        self._outcome: Outcome | None = None
        self._value: Any = _NO_VALUE
        self._exception: BaseException | None = None
        self._on_progress: Callable[[float, str | None], object] | None = None
        self.progress: float | None = None
        """The latest fraction (0 to 1) the function reported with ``report_progress()``."""
        self.progress_message: str | None = None
        """The message of the latest ``report_progress()``, if it gave one."""

    @property
    def name(self) -> str:
        """The name of the definition this call runs."""
        return self.definition.name

    def __repr__(self) -> str:
        return f"<Task {self.id} {self.name!r} {self.state.value}>"

    def done(self) -> bool:
        """Return True once the call has finished in its worker or was cancelled.

        A done task may still wait for ``update()`` to deliver it.
        """
        return self.state in (TaskState.FINISHED, TaskState.CANCELLED)

    def cancelled(self) -> bool:
        """Return True if the call was cancelled: its callback never runs.

        A call cancelled before it started never runs at all; one stopped
        with ``cancel(kill=True)`` was cut short by killing its worker.
        """
        return self.state is TaskState.CANCELLED

    def cancel(self, kill: bool = False) -> bool:
        """Cancel the call; its callback then never runs.

        A call that has not started is simply dropped.  A running call is
        stopped only with ``kill=True``: its worker process is killed and
        replaced (the only way to stop arbitrary code); on the inline lane a
        generator call is stopped between two steps (closed: its ``finally``
        runs), with or without ``kill``.  Returns True if the call is (now)
        cancelled, False if it had finished, or was running and could not be
        stopped (``kill`` false, a thread-lane call, an inline plain function).
        """
        return self._owner._cancel(self, kill)

    def result(self, timeout: float | None = None) -> Any:
        """Block until the call finishes and return its value, or raise its exception.

        Raises ``concurrent.futures.CancelledError`` for a cancelled call and
        ``TimeoutError`` when ``timeout`` seconds pass first.  Runs no
        callbacks: delivery stays the job of ``update()``.
        """
        exception = self._wait_for_outcome("Task.result(timeout)", timeout)
        if exception is not None:
            raise exception
        return self._value

    def exception(self, timeout: float | None = None) -> BaseException | None:
        """Block until the call finishes and return its exception, or None on success.

        Raises like :meth:`result` when cancelled or out of time.
        """
        return self._wait_for_outcome("Task.exception(timeout)", timeout)

    def _wait_for_outcome(self, caller: str, timeout: float | None) -> BaseException | None:
        limit = validate.seconds(caller, "timeout", timeout)
        if not self._owner._wait_until_done(self, limit):
            raise TimeoutError(f"task {self.id} ({self.name!r}) did not finish in {timeout} s")
        if self.state is TaskState.CANCELLED:
            raise CancelledError(f"task {self.id} ({self.name!r}) was cancelled")
        self._open_outcome()
        return self._exception

    def set_priority(self, priority: int) -> None:
        """Change the call's priority while it is not yet handed to a worker.

        Once it started (or finished) this has no effect, and is no error.
        """
        self._owner._set_priority(self, validate.priority("Task.set_priority(priority)", priority))

    def __await__(self) -> Generator[Any, None, Any]:
        """``await task`` in an asyncio loop: the call's value, or its exception raised.

        Works on every lane without ``update()``: the awaiting drives nothing
        but the loop (on the inline lane it runs the lane's steps, giving the
        loop a turn between two).  It delivers nothing either: the task's
        callback still runs in a later ``update()``.  Raises
        ``asyncio.CancelledError`` for a cancelled call (as awaiting a
        cancelled Future does); cancelling the awaiting asyncio task cancels
        the call (``cancel()``, never a kill).  See
        :mod:`pygame_async._core.awaitable`.
        """
        from pygame_async._core import awaitable  # asyncio is imported only once something awaits

        return awaitable.outcome(self).__await__()

    def on_progress(self, callback: Callable[[float, str | None], object]) -> Task:
        """Call ``callback(fraction, message)`` in ``update()`` when the function reports progress.

        Only the latest report is delivered if several arrive between two
        updates, and always before the call's own completion.  Returns the
        task, so ``f(done, *args).on_progress(bar)`` reads naturally.
        """
        if not callable(callback):
            raise TypeError(
                f"Task.on_progress(callback): callback must be a function taking "
                f"(fraction, message), got {type(callback).__name__}"
            )
        self._on_progress = callback
        return self

    # -- used by the pool and its lanes, under the pool's lock --------------------

    def _record(self, outcome: Outcome) -> None:
        """Finish the task with an outcome a lane will let the game open later."""
        self._outcome = outcome
        self.arguments = None
        self.state = TaskState.FINISHED

    def _record_value(self, value: Any) -> None:
        """Finish the task with a value computed in the game process."""
        self._value = value
        self.arguments = None
        self.state = TaskState.FINISHED

    def _record_error(self, exception: BaseException) -> None:
        """Finish the task with an error decided in the game process (a crash, a timeout)."""
        self._exception = exception
        self.arguments = None
        self.state = TaskState.FINISHED

    def _succeeded(self) -> bool:
        """Tell whether the call finished without raising (under the lock; opens nothing)."""
        if self.state is not TaskState.FINISHED:
            return False
        if self._outcome is not None:
            return self._outcome.succeeded
        return self._exception is None

    def _record_cancelled(self) -> None:
        self.arguments = None
        self.state = TaskState.CANCELLED

    # -- used by await (pygame_async._core.awaitable): they take the pool's lock ----

    def _watch(self, hook: Callable[[], None]) -> bool:
        """Have ``hook()`` called when the call ends (``Ledger.watch``); False if it has.

        First, released calls whose arguments wait for a result get it (as
        ``update()`` would), on this thread: this one may be among them.
        """
        self._owner._prepare_released()
        return self._owner._ledger.watch(self, hook)

    def _unwatch(self, hook: Callable[[], None]) -> None:
        """Forget a hook given to :meth:`_watch` (it may have been called already)."""
        self._owner._ledger.unwatch(self, hook)

    # -- delivery: never under the pool's lock -------------------------------------

    def _open_outcome(self) -> None:
        with self._owner._opening:  # result() on another thread may open it too
            outcome, self._outcome = self._outcome, None
            if outcome is not None:
                self._value, self._exception = outcome.open(self.name)

    def _deliver(self) -> bool:
        """Hand the outcome to the callback; False if it must be tried again later.

        Callbacks run on the thread that calls ``update()``; only a delivery
        that posts a pygame event may run on a pool thread, and only that kind
        can fail (the event queue is full, or not there).
        """
        self._open_outcome()
        return self._delivery.deliver(self, self._value, self._exception)

    def _deliver_opened(self) -> bool:
        """Deliver an outcome already opened (posting an event may happen under the lock)."""
        return self._delivery.deliver(self, self._value, self._exception)

    @property
    def _posted(self) -> bool:
        return self._delivery.posted

    @property
    def _hears_every_end(self) -> bool:
        """True if the delivery must hear of any end: a cancellation, an outcome after shutdown.

        Only a Future's (``PoolExecutor``): one left pending would hang
        whoever waits on it.  The ledger files such a task for posting
        whatever its end.
        """
        return type(self._delivery) is FutureCompletion

    def _report_progress(self) -> None:
        """Run the progress callback with the latest report (in ``update()``)."""
        if self._on_progress is not None and self.progress is not None:
            self._on_progress(self.progress, self.progress_message)
