"""The ledger's condition, on real threads and on a web build's green threads.

pygbag replaces ``threading`` with green threads (``aio.gthread``): its
``Lock`` is a counter that never blocks and its ``Condition`` has no
``notify_all()``, while ``wait()`` raises.  There is one real thread there,
so a wait could never end anyway: :class:`Changed` then makes notifying a
no-op and waiting return at once, and the callers (which always loop, or
check a condition first) go on.  Everywhere else it is ``threading.Condition``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

_T = TypeVar("_T")


class Changed:
    """A condition on the pool's lock: threads wait on it until the pool changes."""

    __slots__ = ("_condition",)

    def __init__(self, lock: Any) -> None:
        condition = threading.Condition(lock)
        # No notify_all(): green threads only, where nothing can wait for another thread.
        self._condition = condition if hasattr(condition, "notify_all") else None

    def notify_all(self) -> None:
        """Wake every thread waiting (the lock is held)."""
        if self._condition is not None:
            self._condition.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait (the lock is held) until notified or ``timeout``; at once on green threads."""
        if self._condition is None:
            return False
        return self._condition.wait(timeout)

    def wait_for(self, predicate: Callable[[], _T], timeout: float | None = None) -> _T:
        """Wait until ``predicate()`` is true, or ``timeout``; return its last value."""
        if self._condition is None:
            return predicate()
        return self._condition.wait_for(predicate, timeout)

    @property
    def waiting(self) -> int:
        """How many threads wait on it now."""
        return len(getattr(self._condition, "_waiters", ()))
