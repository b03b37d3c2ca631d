"""What the lanes that run calls in the game process share (thread and inline lanes)."""

from __future__ import annotations

from pygame_async._core.ledger import Ledger
from pygame_async._core.task import Task


class Reporter:
    """Progress of a call run in the game process goes straight into the ledger."""

    __slots__ = ("_ledger", "_task")

    def __init__(self, ledger: Ledger, task: Task) -> None:
        self._ledger = ledger
        self._task = task

    def report(self, fraction: float, message: str | None) -> None:
        """Record the report; ``update()`` delivers the latest."""
        with self._ledger.lock:
            self._ledger.record_progress(self._task, fraction, message)
            self._ledger.notify()
        self._ledger.post_and_request_update()
