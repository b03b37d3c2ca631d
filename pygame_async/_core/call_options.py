"""How one call is scheduled: ``f.options(priority=, key=, after=, timeout=, retries=)``."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import Any, Final, NamedTuple

from pygame_async._core import validate
from pygame_async._core.task import Task


class _UseDefinitionTimeout:
    """The default of a call's timeout: the one given to ``define()``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<the timeout given to define()>"


USE_DEFINITION_TIMEOUT: Final[Any] = _UseDefinitionTimeout()


class _Unchanged:
    """The default of each ``options()`` argument: keep what the caller had."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<unchanged>"


UNCHANGED: Final[Any] = _Unchanged()


class CallOptions(NamedTuple):
    """A caller's options, checked; the defaults are those of a plain ``f(callback, ...)``."""

    timeout: Any = USE_DEFINITION_TIMEOUT  # seconds, None, or the definition's
    priority: int = 0
    key: Hashable | None = None
    after: tuple[Task, ...] = ()
    retries: int = 0  # runs again after its worker died: lanes that can (dask) say so


PLAIN: Final = CallOptions()
"""The options of a call made without ``options()``."""


def with_changes(
    name: str,
    options: CallOptions,
    timeout: Any,
    priority: Any,
    key: Any,
    after: Any,
    retries: Any = UNCHANGED,
) -> CallOptions:
    """Return ``options`` with the arguments given to ``f.options()`` (of function ``name``)."""
    caller = f"{name}.options"
    if timeout is not UNCHANGED:
        limit = validate.seconds(f"{caller}(timeout)", "timeout", timeout)
        if limit == 0:
            raise ValueError(f"{caller}(timeout): timeout must be more than 0 seconds")
        options = options._replace(timeout=limit)
    if priority is not UNCHANGED:
        options = options._replace(priority=validate.priority(f"{caller}(priority)", priority))
    if key is not UNCHANGED:
        try:
            hash(key)
        except TypeError:
            raise TypeError(
                f"{caller}(key): key must be hashable (a str, an int, a tuple...), "
                f"got {type(key).__name__}"
            ) from None
        options = options._replace(key=key)
    if after is not UNCHANGED:
        options = options._replace(after=dependencies_of(f"{caller}(after)", after))
    if retries is not UNCHANGED:
        options = options._replace(retries=validate.count(f"{caller}(retries)", "retries", retries))
    return options


def dependencies_of(caller: str, after: object) -> tuple[Task, ...]:
    """Check ``after``: None, a Task, a Group, or a sequence of them; return its Tasks."""
    if after is None:
        return ()
    if isinstance(after, Task):
        return (after,)
    tasks = getattr(after, "tasks", None)  # a Group
    if isinstance(tasks, list) and all(isinstance(task, Task) for task in tasks):
        return tuple(tasks)
    if isinstance(after, Iterable) and not isinstance(after, str | bytes):
        found: list[Task] = []
        for each in after:
            found.extend(dependencies_of(caller, each) if not isinstance(each, Task) else (each,))
        return tuple(found)
    raise TypeError(
        f"{caller}: after must be a Task, a Group or a sequence of them, got {type(after).__name__}"
    )
