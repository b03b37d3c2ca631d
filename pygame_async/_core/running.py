"""Running a defined function on any lane: plain functions, generator functions, failures.

A defined function that is a generator function is a call whose result is
the generator's return value.  The inline lane resumes it one step (one
``yield``) at a time across frames; every other lane runs it to completion
with :func:`run_to_completion`.  Lanes that run calls in the game process
turn what a call raised into what the game receives with :func:`failure`,
as a worker process does for its own calls.
"""

from __future__ import annotations

import inspect
import traceback
from collections.abc import Callable, Generator
from typing import Any

from pygame_async._core.errors import CallAbortedError, RemoteTraceback


def is_stepped(function: Callable[..., Any]) -> bool:
    """Tell whether calls of ``function`` are generators to step through (a generator function)."""
    return inspect.isgeneratorfunction(function)


def run_to_completion(function: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """Call ``function``; a generator function's generator is run to its ``return`` value."""
    value = function(*args, **kwargs)
    if is_stepped(function) and inspect.isgenerator(value):
        return finish_generator(value)
    return value


def finish_generator(generator: Generator[Any, Any, Any]) -> Any:
    """Resume ``generator`` until it returns, and return what it returned."""
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value


def failure(name: str, exc: BaseException) -> BaseException:
    """Return what the game receives for a call of ``name`` (run here) that raised ``exc``.

    An :class:`Exception` is delivered itself; any other ``BaseException``
    (``SystemExit``, ``KeyboardInterrupt``...) as a :class:`CallAbortedError`
    naming it, which never ends the game.  Either way, as from a worker
    process, the traceback as text is the ``__cause__`` of what is delivered.
    """
    error = exc
    if not isinstance(exc, Exception):
        error = CallAbortedError(
            f"{name!r} raised {type(exc).__name__}: {exc}", type(exc).__qualname__
        )
    error.__cause__ = RemoteTraceback("".join(traceback.format_exception(exc)))
    return error
