"""The calls waiting for a lane to take them, in the order they go."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from pygame_async._core.task import Task


class CallQueue(deque[Task]):
    """Calls made and not yet handed to a lane; the next one is taken first.

    One per lane, only used under the pool's lock.  A deque underneath:
    every call passes through here, so its common operations are the
    deque's own (C) methods under names that say what they mean.
    """

    __slots__ = ()

    push = deque.append
    """Queue a new call after the others."""
    pop_next = deque.popleft
    """Take the call that goes next."""

    def peek(self) -> Task:
        """Return the call that goes next (the queue must not be empty)."""
        return self[0]

    def put_back(self, tasks: Iterable[Task]) -> None:
        """Return calls a lane took but never started, to go first, in their order."""
        self.extendleft(reversed(list(tasks)))

    def take_all(self) -> list[Task]:
        """Empty the queue, returning what it held in order."""
        tasks = list(self)
        self.clear()
        return tasks
