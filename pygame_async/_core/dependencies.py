"""Calls that wait for other calls: ``after=``, and Tasks passed as arguments.

A call with dependencies is ``WAITING`` until each of them has finished:

* all succeeded: it joins its lane's queue.  If a Task was among its
  arguments, that argument must first become the Task's result.  For the
  thread and inline lanes the value is at hand and is put in at once; for
  worker processes the result is a pickle, which is never opened under the
  pool's lock, so the call goes to :attr:`Dependencies.to_prepare` and the
  next ``update()``, ``wait()`` or ``Task.result()`` puts the value in and
  packs the arguments, on the thread that calls it;
* one failed or was cancelled: the call never runs and fails with
  :class:`DependencyError` (whose ``__cause__`` is that call's error),
  and so, in turn, do the calls that wait for it.

Everything here runs under the pool's lock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from concurrent.futures import CancelledError
from typing import Any, Protocol

from pygame_async._core.call_queue import CallQueue
from pygame_async._core.errors import DependencyError
from pygame_async._core.task import Task, TaskState


class _Filing(Protocol):
    """What dependencies ask of the ledger."""

    lock: Any

    def finish(self, task: Task, outcome: Any) -> None: ...

    def notify(self) -> None: ...

    def wake_watchers(self, task: Task) -> None: ...

    @property
    def dependencies(self) -> Dependencies: ...


class _Waiting:
    __slots__ = ("needs_values", "queue", "remaining")

    def __init__(self, queue: CallQueue, remaining: int, needs_values: bool) -> None:
        self.queue = queue
        self.remaining = remaining
        self.needs_values = needs_values


class Dependencies:
    """The calls waiting for others, and what becomes of them as those end."""

    def __init__(self, ledger: _Filing) -> None:
        self._ledger = ledger
        self._waiting: dict[Task, _Waiting] = {}
        self.to_prepare: deque[tuple[Task, CallQueue]] = deque()
        """Calls whose dependencies succeeded and whose Task arguments need their values."""

    def __bool__(self) -> bool:
        return bool(self._waiting or self.to_prepare)

    def hold(
        self, task: Task, dependencies: Iterable[Task], queue: CallQueue, needs_values: bool
    ) -> None:
        """Queue a new call, or make it wait for ``dependencies``, or fail it if one failed."""
        remaining = 0
        for dependency in dependencies:
            if dependency.state is TaskState.FINISHED and dependency._succeeded():
                continue
            if dependency.done():  # failed, or cancelled
                self._fail(task, dependency)
                return
            remaining += 1
            if dependency._dependents is None:
                dependency._dependents = []
            dependency._dependents.append(task)
        waiting = _Waiting(queue, remaining, needs_values)
        if remaining:
            task.state = TaskState.WAITING
            self._waiting[task] = waiting
        else:
            self._ready(task, waiting)

    def ended(self, dependency: Task) -> None:
        """Move on the calls waiting for ``dependency``, which finished or was cancelled."""
        dependents, dependency._dependents = dependency._dependents, None
        if not dependents:
            return
        succeeded = dependency._succeeded()
        for task in dependents:
            waiting = self._waiting.get(task)
            if waiting is None:
                continue  # it failed or was cancelled already
            if succeeded:
                waiting.remaining -= 1
                if waiting.remaining == 0:
                    del self._waiting[task]
                    self._ready(task, waiting)
            else:
                del self._waiting[task]
                self._fail(task, dependency)

    def drop(self, task: Task) -> None:
        """Forget a waiting call (it is being cancelled)."""
        self._waiting.pop(task, None)
        for entry in self.to_prepare:
            if entry[0] is task:
                self.to_prepare.remove(entry)
                break

    def take_all(self) -> list[Task]:
        """Forget every waiting call (shutdown), returning them."""
        tasks = list(self._waiting) + [task for task, _ in self.to_prepare]
        self._waiting.clear()
        self.to_prepare.clear()
        return tasks

    def _ready(self, task: Task, waiting: _Waiting) -> None:
        if waiting.needs_values:
            if not task.lane.in_game_process:
                task.state = TaskState.WAITING
                self.to_prepare.append((task, waiting.queue))
                self._ledger.wake_watchers(task)  # an awaiter prepares it (no update() runs)
                return
            try:
                task.arguments = substitute(task.arguments)
            except _DependencyUnusable as unusable:
                self._fail(task, unusable.dependency)
                return
        task.state = TaskState.QUEUED
        waiting.queue.push(task)

    def _fail(self, task: Task, dependency: Task) -> None:
        self._ledger.finish(task, DependencyFailed(task.name, dependency))


class DependencyFailed:
    """The outcome of a call that did not run because ``dependency`` did not succeed.

    Opened at delivery (never under the lock), when the dependency's own
    error, which may be a pickle, is opened to become the ``__cause__``.
    """

    __slots__ = ("_dependency", "_name")

    succeeded = False

    def __init__(self, name: str, dependency: Task) -> None:
        self._name = name
        self._dependency = dependency

    def open(self, name: str) -> tuple[Any, BaseException | None]:
        dependency = self._dependency
        if dependency.state is TaskState.CANCELLED:
            what = "was cancelled"
            cause: BaseException = CancelledError(f"task {dependency.id} was cancelled")
        else:
            dependency._open_outcome()
            what = "failed"
            cause = dependency._exception or RuntimeError("no error recorded")
        error = DependencyError(
            f"{name!r} did not run: it depends on task {dependency.id} "
            f"({dependency.name!r}), which {what} ({type(cause).__name__}: {cause})",
            dependency,
        )
        error.__cause__ = cause
        return None, error


class _DependencyUnusable(Exception):
    def __init__(self, dependency: Task) -> None:
        super().__init__(dependency)
        self.dependency = dependency


def has_task_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Tell whether a Task is among a call's arguments (top level only)."""
    # ``in`` over ``map(type, ...)`` runs in C: every call() asks this.
    return Task in map(type, args) or (bool(kwargs) and Task in map(type, kwargs.values()))


def task_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[Task]:
    """Return the Tasks among a call's arguments (top level only), in order."""
    return [value for value in (*args, *kwargs.values()) if type(value) is Task]


def substitute(arguments: tuple[tuple[Any, ...], dict[str, Any]]) -> tuple[Any, Any]:
    """Replace each Task among ``(args, kwargs)`` by its result (opening it if need be).

    Raises ``_DependencyUnusable`` for a Task whose result cannot be had
    (it failed to unpickle in the game).
    """
    args, kwargs = arguments

    def value_of(value: Any) -> Any:
        if type(value) is not Task:
            return value
        if value._outcome is not None:
            value._open_outcome()
        if value._exception is not None:
            raise _DependencyUnusable(value)
        return value._value

    return tuple(map(value_of, args)), {name: value_of(value) for name, value in kwargs.items()}


def without_tasks(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, Any]:
    """Return the arguments, each Task replaced by None: to check the rest at ``call()``."""

    def blank(value: Any) -> Any:
        return None if type(value) is Task else value

    return tuple(map(blank, args)), {name: blank(value) for name, value in kwargs.items()}


def check_same_pool(caller: str, owner: object, dependencies: Iterable[Task]) -> None:
    """Refuse a dependency made by another pool: its end would never reach this one."""
    for dependency in dependencies:
        if dependency._owner is not owner:
            raise ValueError(
                f"{caller}: task {dependency.id} ({dependency.name!r}) belongs to another pool; "
                "a call can only wait for calls of its own pool"
            )


def prepare_released(ledger: _Filing) -> None:
    """Put their Tasks' results into the arguments of released calls, and queue them.

    On the thread of ``update()``, ``wait()`` or ``Task.result()``, without
    the lock: opening a result may unpickle it, and packing the arguments
    pickles them, as ``call()`` does.
    """
    dependencies = ledger.dependencies
    while True:
        with ledger.lock:
            if not dependencies.to_prepare:
                return
            task, queue = dependencies.to_prepare.popleft()
            arguments = task.arguments
        try:
            args, kwargs = substitute(arguments)
            packed = task.lane.pack_arguments(task.name, args, kwargs)
        except _DependencyUnusable as unusable:
            with ledger.lock:
                if task.state is TaskState.WAITING:
                    dependencies._fail(task, unusable.dependency)
                    ledger.notify()
            continue
        except TypeError as exc:  # a result that cannot be sent on as an argument
            with ledger.lock:
                if task.state is TaskState.WAITING:
                    ledger.finish(task, _Raised(exc))
                    ledger.notify()
            continue
        with ledger.lock:
            if task.state is TaskState.WAITING:  # else cancelled meanwhile
                task.arguments = packed
                task.state = TaskState.QUEUED
                queue.push(task)
                task.lane.dispatch()


class _Raised:
    """The outcome of a call that failed in the game before it could be sent."""

    __slots__ = ("_error",)

    succeeded = False

    def __init__(self, error: BaseException) -> None:
        self._error = error

    def open(self, name: str) -> tuple[Any, BaseException | None]:
        return None, self._error
