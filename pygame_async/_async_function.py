"""The shorthand caller that ``define()`` returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygame_async._pool import Pool
    from pygame_async._task import Task


class AsyncFunction:
    """A defined function, callable as ``f(callback, *args, **kwargs)``.

    The same as ``pool.call(callback, name, *args, **kwargs)`` on the pool
    that defined it.
    """

    __slots__ = ("_name", "_pool")

    def __init__(self, pool: Pool, name: str) -> None:
        self._pool = pool
        self._name = name

    @property
    def name(self) -> str:
        """The name the function is defined under."""
        return self._name

    def __repr__(self) -> str:
        return f"<AsyncFunction {self._name!r}>"

    def __call__(self, callback: object, /, *args: Any, **kwargs: Any) -> Task:
        """Queue a call of the function; see ``Pool.call``."""
        return self._pool.call(callback, self._name, *args, **kwargs)
