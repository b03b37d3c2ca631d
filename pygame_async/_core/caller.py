"""The shorthand caller that ``define()`` returns, with its options and its groups."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol

from pygame_async._core import validate
from pygame_async._core.call_options import (
    PLAIN,
    UNCHANGED,
    USE_DEFINITION_TIMEOUT,
    CallOptions,
    with_changes,
)
from pygame_async._core.group import Group, start_group

if TYPE_CHECKING:
    from pygame_async._core.errors import AsyncError
    from pygame_async._core.task import Task

__all__ = ["USE_DEFINITION_TIMEOUT", "AsyncFunction"]


class _Caller(Protocol):
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


class AsyncFunction:
    """A defined function, callable as ``f(callback, *args, **kwargs)``.

    The same as ``pool.call(callback, name, *args, **kwargs)`` on the pool
    that defined it.  ``f.options(priority=..., key=..., after=...,
    timeout=..., retries=...)`` gives a caller whose calls have those options;
    ``f.map(items)`` and ``f.starmap(argument_tuples)`` make a :class:`Group`.
    """

    __slots__ = ("_name", "_options", "_pool")

    def __init__(self, pool: _Caller, name: str, options: CallOptions = PLAIN) -> None:
        self._pool = pool
        self._name = name
        self._options = options

    @property
    def name(self) -> str:
        """The name the function is defined under."""
        return self._name

    def __repr__(self) -> str:
        return f"<AsyncFunction {self._name!r}>"

    def options(
        self,
        *,
        timeout: float | None = UNCHANGED,
        priority: int = UNCHANGED,
        key: object = UNCHANGED,
        after: object = UNCHANGED,
        retries: int = UNCHANGED,
    ) -> AsyncFunction:
        """Return a caller of the same function whose calls have these options.

        Each option left out keeps this caller's.  README: Scheduling.

        * ``timeout`` (seconds, or None for no limit) replaces the one given
          to ``define()``: ``find_path.options(timeout=0.5)(on_path, a, b)``.
        * ``priority`` (an int, default 0): among calls not yet handed to a
          worker, higher goes first; equal ones in the order made.
        * ``key`` (any hashable): a new call of this function with the same
          key supersedes the older one, which is dropped, or whose outcome is
          discarded if it already ran: its callback never runs.
        * ``after`` (a Task, a Group, or a sequence of them): the call starts
          only once each of them finished successfully, else it fails with
          :class:`DependencyError`.  A Task passed as an argument implies it,
          and is replaced by its result.
        * ``retries`` (an int, default 0): on the dask lane, how many more
          times a call may run when the worker running it dies; other lanes
          refuse it at the call (``ValueError``): they never run a call twice.
        """
        return AsyncFunction(
            self._pool,
            self._name,
            with_changes(self._name, self._options, timeout, priority, key, after, retries),
        )

    def __call__(self, callback: object, /, *args: Any, **kwargs: Any) -> Task:
        """Queue a call of the function; see ``Pool.call``."""
        return self._pool._call(callback, self._name, args, kwargs, self._options)

    def map(
        self,
        items: Iterable[Any],
        /,
        *,
        on_each: Callable[[int, Any], object] | None = None,
        on_error: Callable[[int, AsyncError | BaseException], object] | None = None,
        on_done: Callable[[Group], object] | None = None,
        priority: int = UNCHANGED,
    ) -> Group:
        """Make one call per item, ``f(item)``; return their :class:`Group`.

        ``on_each(index, result)``, ``on_error(index, error)`` and
        ``on_done(group)`` run in ``update()``.  ``priority`` applies to every
        call (default: this caller's).
        """
        return self._group("map", ((item,) for item in items), on_each, on_error, on_done, priority)

    def starmap(
        self,
        argument_tuples: Iterable[Iterable[Any]],
        /,
        *,
        on_each: Callable[[int, Any], object] | None = None,
        on_error: Callable[[int, AsyncError | BaseException], object] | None = None,
        on_done: Callable[[Group], object] | None = None,
        priority: int = UNCHANGED,
    ) -> Group:
        """Make one call per tuple, ``f(*arguments)``; return their :class:`Group` (see map)."""
        return self._group(
            "starmap",
            (tuple(each) for each in argument_tuples),
            on_each,
            on_error,
            on_done,
            priority,
        )

    def _group(
        self,
        how: str,
        arguments: Iterable[tuple[Any, ...]],
        on_each: Callable[[int, Any], object] | None,
        on_error: Callable[[int, Any], object] | None,
        on_done: Callable[[Group], object] | None,
        priority: int,
    ) -> Group:
        caller = f"{self._name}.{how}"
        for argument, value in (("on_each", on_each), ("on_error", on_error), ("on_done", on_done)):
            if value is not None and not callable(value):
                raise TypeError(
                    f"{caller}({argument}): {argument} must be a function or None, "
                    f"got {type(value).__name__}"
                )
        options = self._options
        if priority is not UNCHANGED:
            options = options._replace(priority=validate.priority(f"{caller}(priority)", priority))
        if options.key is not None:
            raise ValueError(
                f"{caller}: a group's calls cannot share a key (they would supersede each other)"
            )
        return start_group(
            self._pool, self._name, list(arguments), options, on_each, on_error, on_done
        )
