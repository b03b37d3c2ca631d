"""The shorthand caller that ``define()`` returns."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Protocol

from pygame_async._core import validate

if TYPE_CHECKING:
    from pygame_async._core.task import Task


class _UseDefinitionTimeout:
    """The default of a call's timeout: the one given to ``define()``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<the timeout given to define()>"


USE_DEFINITION_TIMEOUT: Final[Any] = _UseDefinitionTimeout()


class _Caller(Protocol):
    def _call(
        self,
        callback: object,
        name: str,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        timeout: Any,
    ) -> Task: ...


class AsyncFunction:
    """A defined function, callable as ``f(callback, *args, **kwargs)``.

    The same as ``pool.call(callback, name, *args, **kwargs)`` on the pool
    that defined it.  ``f.options(timeout=...)`` gives a caller with other
    options.
    """

    __slots__ = ("_name", "_pool", "_timeout")

    def __init__(self, pool: _Caller, name: str, timeout: Any = USE_DEFINITION_TIMEOUT) -> None:
        self._pool = pool
        self._name = name
        self._timeout = timeout

    @property
    def name(self) -> str:
        """The name the function is defined under."""
        return self._name

    def __repr__(self) -> str:
        return f"<AsyncFunction {self._name!r}>"

    def options(self, *, timeout: float | None) -> AsyncFunction:
        """Return a caller of the same function whose calls have these options.

        ``timeout`` (seconds, or None for no limit) replaces the one given to
        ``define()``: ``find_path.options(timeout=0.5)(on_path, start, goal)``.
        """
        checked = validate.seconds(f"{self._name}.options(timeout)", "timeout", timeout)
        if checked == 0:
            raise ValueError(f"{self._name}.options(timeout): timeout must be more than 0 seconds")
        return AsyncFunction(self._pool, self._name, checked)

    def __call__(self, callback: object, /, *args: Any, **kwargs: Any) -> Task:
        """Queue a call of the function; see ``Pool.call``."""
        return self._pool._call(callback, self._name, args, kwargs, self._timeout)
