"""The lanes of one pool: its own, and a thread lane for work that must stay in the game process."""

from __future__ import annotations

from typing import Any, Final

from pygame_async._core import lane_seam
from pygame_async._core.call_queue import CallQueue
from pygame_async._core.ledger import Ledger
from pygame_async._core.task import Task

_THREAD_LANE_WIDTH: Final = 2


class PoolLanes:
    """A pool's own lane (``Pool(lane=...)``) and the lanes it makes beside it.

    Work that must run in the game process (``pygame_async.assets`` decoding
    images and sounds) runs on the own lane when that lane runs calls in the
    game process (thread, inline: a web build starts no thread), else on a
    thread lane made when first needed.  Each lane has its own queue.
    """

    def __init__(
        self,
        ledger: Ledger,
        kind: str | lane_seam.LaneSpec | None,
        workers: int,
        options: dict[str, Any],
    ) -> None:
        self.ledger = ledger
        self.own_queue = CallQueue()
        self.own = lane_seam.make(kind, ledger, self.own_queue, workers, options)
        ledger.add_lane(self.own)
        self._threads: lane_seam.Lane | None = None
        self._thread_queue = CallQueue()

    def for_game_process_work(self) -> tuple[lane_seam.Lane, CallQueue]:
        """``[lock]`` The lane, and its queue, for work that must run in the game process."""
        if self.own.in_game_process:
            return self.own, self.own_queue
        if self._threads is None:
            self._threads = lane_seam.make(
                "thread", self.ledger, self._thread_queue, _THREAD_LANE_WIDTH, {}
            )
            self.ledger.add_lane(self._threads)
        return self._threads, self._thread_queue

    def all(self) -> list[lane_seam.Lane]:
        """``[lock]`` Every lane made so far, the own lane first."""
        return [self.own] if self._threads is None else [self.own, self._threads]

    def queues(self) -> tuple[CallQueue, ...]:
        """Every lane's queue."""
        return (self.own_queue, self._thread_queue)

    def queue_of(self, task: Task) -> CallQueue:
        """Return the queue a call waits in until its lane takes it."""
        return self._thread_queue if task.lane is self._threads else self.own_queue
