"""Groups: the calls ``f.map()`` and ``f.starmap()`` make, counted and collected as one.

Each member call is delivered, like any call, in ``update()``: the group
counts it there (so its counts are exact at every ``update()``), stores its
result or error by input index, runs ``on_each`` or ``on_error``, and, once
every member was delivered or cancelled, ``on_done``.  A member cancelled
(``group.cancel()``, ``task.cancel()``) counts as done without a delivery;
if that completes the group, ``on_done`` runs in the next ``update()``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any, Protocol

from pygame_async._core.delivery import Delivered, Prepared, log_failure

if TYPE_CHECKING:
    from pygame_async._core.call_options import CallOptions
    from pygame_async._core.task import Task


class _GroupOwner(Protocol):
    def _call(
        self,
        callback: object,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        options: CallOptions,
    ) -> Task: ...

    def _defer(self, function: Callable[[], object]) -> None: ...

    def _wait_for(self, condition: Callable[[], bool], limit: float | None) -> bool: ...


class Group:
    """The calls of one ``f.map(items)`` or ``f.starmap(argument_tuples)``.

    ``tasks`` are the member calls in input order; ``total``, ``finished``
    (delivered with a result) and ``failed`` (delivered with an error) count
    them, and ``fraction`` is ``(finished + failed) / total``, for a loading
    bar.  ``results`` lists the results in input order (None where a call
    failed or is not delivered yet); ``errors`` maps an input index to its
    exception.  Counts change only in ``update()``, as members are delivered.
    A Group can be given to ``after=``: the call then waits for every member.
    """

    __slots__ = (
        "_cancelled",
        "_finished_reported",
        "_on_done",
        "_on_each",
        "_on_error",
        "_owner",
        "_results",
        "errors",
        "failed",
        "finished",
        "tasks",
        "total",
    )

    def __init__(
        self,
        owner: _GroupOwner,
        total: int,
        on_each: Callable[[int, Any], object] | None,
        on_error: Callable[[int, Any], object] | None,
        on_done: Callable[[Group], object] | None,
    ) -> None:
        self._owner = owner
        self.tasks: list[Task] = []
        """The member calls, in input order."""
        self.total = total
        """How many calls the group made."""
        self.finished = 0
        """How many were delivered with a result."""
        self.failed = 0
        """How many were delivered with an error."""
        self.errors: dict[int, BaseException] = {}
        """Input index -> the exception of each failed call."""
        self._results: list[Any] = [None] * total
        self._cancelled = 0
        self._finished_reported = False
        self._on_each = on_each
        self._on_error = on_error
        self._on_done = on_done

    def __repr__(self) -> str:
        return f"<Group {self.finished + self.failed}/{self.total} done, {self.failed} failed>"

    @property
    def results(self) -> list[Any]:
        """The results in input order; None where a call failed or is not delivered yet."""
        return list(self._results)

    @property
    def fraction(self) -> float:
        """``(finished + failed) / total``: 1.0 for an empty group."""
        return (self.finished + self.failed) / self.total if self.total else 1.0

    def done(self) -> bool:
        """Return True once every member call was delivered or cancelled."""
        return self.finished + self.failed + self._cancelled >= self.total

    def cancel(self) -> int:
        """Cancel every member call not started yet; return how many were cancelled."""
        return sum(task.cancel() for task in self.tasks if not task.done())

    def wait(self, timeout: float | None = None) -> bool:
        """Run the pool's ``update()`` until the group is done; False if ``timeout`` passes first.

        Like ``Pool.wait``, it delivers every finished call of the pool, not
        only the group's.
        """
        return self._owner._wait_for(self.done, timeout)

    def __await__(self) -> Generator[Any, None, list[Any]]:
        """``await group`` in an asyncio loop: the results in input order, or the first error.

        As ``await task`` does for each member: nothing is delivered, the
        counts and callbacks still wait for ``update()``.
        """
        from pygame_async._core import awaitable  # asyncio only once something awaits

        return awaitable.gather(self.tasks).__await__()

    # -- used by the member deliveries ------------------------------------------------

    def _delivered(self, index: int, value: Any, exception: BaseException | None) -> None:
        callback: Callable[[int, Any], object] | None
        if exception is None:
            self.finished += 1
            self._results[index] = value
            callback, argument = self._on_each, value
        else:
            self.failed += 1
            self.errors[index] = exception
            callback, argument = self._on_error, exception
        try:
            if callback is not None:
                callback(index, argument)
            elif exception is not None:
                log_failure(self.tasks[index], exception)
        finally:
            if self.done():
                self._report_done()

    def _member_cancelled(self) -> None:
        """``[lock]`` A member was cancelled: once that completes the group, report it."""
        self._cancelled += 1
        if self.done():
            self._owner._defer(self._report_done)

    def _report_done(self) -> None:
        if not self._finished_reported:
            self._finished_reported = True
            if self._on_done is not None:
                self._on_done(self)


class _Member(Prepared):
    """How one member call of a group is delivered: to the group, by its input index."""

    __slots__ = ("_group", "_index")

    def __init__(self, group: Group, index: int) -> None:
        self._group = group
        self._index = index

    def deliver(self, task: Delivered, value: Any, exception: BaseException | None) -> bool:
        self._group._delivered(self._index, value, exception)
        return True

    def cancelled(self, task: Delivered) -> None:
        self._group._member_cancelled()


def start_group(
    owner: _GroupOwner,
    name: str,
    arguments: list[tuple[Any, ...]],
    options: CallOptions,
    on_each: Callable[[int, Any], object] | None,
    on_error: Callable[[int, Any], object] | None,
    on_done: Callable[[Group], object] | None,
) -> Group:
    """Make the calls of a group, one per argument tuple; return the Group.

    If one of them cannot be made (an argument that cannot be sent), those
    already made are cancelled and the error names the item.
    """
    group = Group(owner, len(arguments), on_each, on_error, on_done)
    for index, args in enumerate(arguments):
        try:
            group.tasks.append(owner._call(_Member(group, index), name, args, {}, options))
        except (TypeError, ValueError, LookupError) as exc:
            for task in group.tasks:
                task.cancel()
            raise type(exc)(f"{name}: item {index} of the group: {exc}") from exc
        except BaseException:
            for task in group.tasks:
                task.cancel()
            raise
    if not arguments:
        owner._defer(group._report_done)  # on_done still runs inside update()
    return group
