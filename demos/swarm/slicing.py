"""Work sliced into steps: generator functions whose ``yield`` marks where a frame may stop.

The demo's slow functions (A*, cave generation, the survey of a world) are
generator functions that ``yield`` every small amount of work and
``return`` their result.  Defined with pygame_async, such a function is a
call whose result is that return value: the inline lane (web builds, or
``--lane inline``) runs one step per turn inside ``update()``, so no frame
waits for a whole path; the process and thread lanes run it to its end.
:func:`run_whole` does the same here, for plain calls (tests, ``--sync``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import TypeVar

T = TypeVar("T")

Steps = Generator[None, None, T]
"""A call of a sliced function: it yields between steps, and returns its result."""


def run_whole(steps: Steps[T]) -> T:
    """Run ``steps`` to its end and return what it returned."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            result: T = stop.value
            return result
