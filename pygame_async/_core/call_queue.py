"""The calls waiting for a lane to take them, in the order they go: by priority, then as made."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator

from pygame_async._core.task import Task


class CallQueue:
    """Calls made and not yet handed to a lane; the next one is taken first.

    Higher ``task.priority`` goes first; equal priorities go in the order the
    calls were made (``task.id``), also for calls put back or re-prioritised.
    One per lane, only used under the pool's lock.  Every call passes
    through here, so it is a deque per priority: a game that never sets a
    priority has one deque, and pushing and taking a call cost what they
    cost a deque.
    """

    __slots__ = ("_buckets", "_priorities", "zero", "zero_only")

    def __init__(self) -> None:
        self.zero: deque[Task] = deque()
        """Priority 0's calls: ``call()`` appends a new call of priority 0 here itself."""
        self._buckets: dict[int, deque[Task]] = {0: self.zero}
        self._priorities = [0]  # the buckets' priorities, highest first; others never empty
        self.zero_only = True
        """True while priority 0's is the only bucket: ``call()`` then needs no other look."""

    def __len__(self) -> int:
        return sum(map(len, self._buckets.values()))

    def __bool__(self) -> bool:
        return bool(self.zero) or len(self._priorities) > 1

    def __iter__(self) -> Iterator[Task]:
        """Yield the calls in the order they go."""
        for priority in self._priorities:
            yield from self._buckets[priority]

    def __contains__(self, task: object) -> bool:
        return isinstance(task, Task) and task in self._buckets.get(task.priority, ())

    def push(self, task: Task) -> None:
        """Queue a call after those of its priority made before it."""
        bucket = self._buckets.get(task.priority)
        if bucket is None:
            bucket = self._add_bucket(task.priority)
        elif bucket and bucket[-1].id > task.id:  # an older call coming back (put back, released)
            _insert_in_order(bucket, task)
            return
        bucket.append(task)

    def pop_next(self) -> Task:
        """Take the call that goes next (the queue must not be empty)."""
        for priority in self._priorities:
            bucket = self._buckets[priority]
            if bucket:
                task = bucket.popleft()
                if not bucket and priority:
                    self._drop_bucket(priority)
                return task
        raise IndexError("pop_next() from an empty CallQueue")

    def peek(self) -> Task:
        """Return the call that goes next (the queue must not be empty)."""
        for priority in self._priorities:
            bucket = self._buckets[priority]
            if bucket:
                return bucket[0]
        raise IndexError("peek() at an empty CallQueue")

    def outranked_by(self, task: Task) -> bool:
        """Tell whether ``task`` would go before every call queued (a higher priority)."""
        if task.priority == 0 and len(self._priorities) == 1:
            return False  # the common case, asked by every call() of a burst: all are 0
        return task.priority > self.peek().priority

    def remove(self, task: Task) -> None:
        """Take a call out of the queue (it was cancelled or superseded); ValueError if absent."""
        bucket = self._buckets.get(task.priority)
        if bucket is None:
            raise ValueError(f"{task!r} is not queued")
        bucket.remove(task)
        if not bucket and task.priority:
            self._drop_bucket(task.priority)

    def reprioritize(self, task: Task, priority: int) -> None:
        """Give a queued call another priority; it goes among those as if made with it."""
        self.remove(task)
        task.priority = priority
        self.push(task)

    def put_back(self, tasks: Iterable[Task]) -> None:
        """Return calls a lane took but never started: each goes where it was."""
        for task in tasks:
            self.push(task)

    def take_all(self) -> list[Task]:
        """Empty the queue, returning what it held in the order it would have gone."""
        tasks = list(self)
        self.zero.clear()
        self._buckets = {0: self.zero}
        self._priorities = [0]
        self.zero_only = True
        return tasks

    def _add_bucket(self, priority: int) -> deque[Task]:
        bucket: deque[Task] = deque()
        self._buckets[priority] = bucket
        position = 0
        while position < len(self._priorities) and self._priorities[position] > priority:
            position += 1
        self._priorities.insert(position, priority)
        self.zero_only = False
        return bucket

    def _drop_bucket(self, priority: int) -> None:
        # Priority 0's bucket stays: most games use no other, and keep reusing it.
        del self._buckets[priority]
        self._priorities.remove(priority)
        self.zero_only = len(self._priorities) == 1


def _insert_in_order(bucket: deque[Task], task: Task) -> None:
    """Insert ``task`` among calls of its priority, in the order the calls were made."""
    for position, queued in enumerate(bucket):
        if queued.id > task.id:
            bucket.insert(position, task)
            return
    bucket.append(task)
