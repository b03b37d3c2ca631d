"""Lanes: where calls run.  Each lane imports the core, never the reverse.

:func:`make_lane` is the factory the package front registers with the core
(:func:`pygame_async._core.lane_seam.register`); it imports a lane's modules only
when a pool first asks for that lane, so ``import pygame_async`` starts no
thread and imports neither ``multiprocessing`` nor ``concurrent.futures.process``.
"""

from __future__ import annotations

from typing import Any

from pygame_async._core.call_queue import CallQueue
from pygame_async._core.lane_seam import Lane
from pygame_async._core.ledger import Ledger

KINDS = ("process", "thread")


def make_lane(
    kind: str, ledger: Ledger, queue: CallQueue, workers: int, options: dict[str, Any]
) -> Lane:
    """Make a lane of ``kind`` (see :data:`KINDS`) for a pool."""
    if kind == "process":
        from pygame_async._lanes.process import ProcessLane

        return ProcessLane(ledger, queue, workers, **options)
    if kind == "thread":
        from pygame_async._lanes.thread import ThreadLane

        return ThreadLane(ledger, queue, workers)
    raise ValueError(f"unknown lane {kind!r}; the lanes are {', '.join(map(repr, KINDS))}")
