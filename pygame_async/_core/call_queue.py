"""The calls waiting for a lane to take them, in the order they go."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from pygame_async._core.task import Task


class CallQueue:
    """Calls made and not yet handed to a lane; the next one is taken first.

    One per lane.  Only used under the pool's lock.
    """

    __slots__ = ("_tasks",)

    def __init__(self) -> None:
        self._tasks: deque[Task] = deque()

    def __len__(self) -> int:
        return len(self._tasks)

    def __bool__(self) -> bool:
        return bool(self._tasks)

    def __iter__(self) -> Iterator[Task]:
        return iter(self._tasks)

    def push(self, task: Task) -> None:
        """Queue a new call after the others."""
        self._tasks.append(task)

    def peek(self) -> Task:
        """Return the call that goes next (the queue must not be empty)."""
        return self._tasks[0]

    def pop(self) -> Task:
        """Take the call that goes next."""
        return self._tasks.popleft()

    def put_back(self, tasks: Iterable[Task]) -> None:
        """Return calls a lane took but never started, to go first, in their order."""
        for task in reversed(list(tasks)):
            self._tasks.appendleft(task)

    def remove(self, task: Task) -> None:
        """Drop a queued call (it was cancelled)."""
        self._tasks.remove(task)

    def take_all(self) -> list[Task]:
        """Empty the queue, returning what it held in order."""
        tasks = list(self._tasks)
        self._tasks.clear()
        return tasks
