"""Lanes: where calls run.  Each lane imports the core, never the reverse.

:func:`make_lane` is the factory the package front registers with the core
(:func:`pygame_async._core.lane_seam.register`); it imports a lane's modules only
when a pool first asks for that lane, so ``import pygame_async`` starts no
thread and imports neither ``multiprocessing``, ``concurrent.futures.process``
nor ``distributed``.  A lane may also be named by an object, a
:class:`~pygame_async._core.lane_seam.LaneSpec` (``DaskLane(target)``), which
makes the lane itself.
"""

from __future__ import annotations

import sys
from typing import Any, Final

from pygame_async._core.call_queue import CallQueue
from pygame_async._core.lane_seam import Lane, LaneSpec
from pygame_async._core.ledger import Ledger

KINDS: Final = ("process", "thread", "inline")
"""The lanes a pool names with a string (``Pool(lane=...)``)."""

OBJECT_KINDS: Final = ("dask",)
"""The lanes a pool names with an object: ``Pool(lane=pygame_async.DaskLane(target))``."""

WEB_PLATFORMS: Final = ("emscripten", "wasi")
"""``sys.platform`` of web builds (pygbag...): no processes, no real threads."""

_PROCESS_ONLY: Final = (
    "initializer",
    "initargs",
    "max_calls_per_worker",
    "max_worker_memory",
    "worker_priority",
)


def default_kind() -> str:
    """Return the lane a pool uses when none is named: inline on the web, else worker processes."""
    return "inline" if sys.platform in WEB_PLATFORMS else "process"


def make_lane(
    kind: str | LaneSpec | None,
    ledger: Ledger,
    queue: CallQueue,
    workers: int,
    options: dict[str, Any],
) -> Lane:
    """Make a lane of ``kind`` (see :data:`KINDS`; None: :func:`default_kind`) for a pool.

    ``kind`` may also be a lane spec (``DaskLane(target)``), which makes the lane.
    """
    if kind is None:
        kind = default_kind()
    if not isinstance(kind, str) and callable(getattr(kind, "make_lane", None)):
        _check_options(kind.kind, options)
        return kind.make_lane(ledger, queue, workers, options)
    _check(kind, options)
    if kind == "process":
        from pygame_async._lanes.process import ProcessLane

        return ProcessLane(ledger, queue, workers, **options)
    if kind == "thread":
        from pygame_async._lanes.thread import ThreadLane

        return ThreadLane(ledger, queue, workers)
    from pygame_async._lanes.inline import InlineLane

    return InlineLane(ledger, queue, workers)


def _check(kind: object, options: dict[str, Any]) -> None:
    """Refuse a lane that does not exist, cannot run here, or does not take these options."""
    if not isinstance(kind, str):
        raise TypeError(
            f"Pool(lane): lane must be one of {', '.join(map(repr, KINDS))}, "
            f"a pygame_async.DaskLane or None, got {type(kind).__name__}"
        )
    if kind not in KINDS:
        raise ValueError(
            f"Pool(lane): unknown lane {kind!r}; the lanes are {', '.join(map(repr, KINDS))}"
        )
    if kind != "inline" and sys.platform in WEB_PLATFORMS:
        what = "worker processes" if kind == "process" else "threads"
        raise ValueError(
            f"Pool(lane={kind!r}): a web build ({sys.platform}) has no {what}; "
            "use lane='inline' (the default there), whose calls run inside update()"
        )
    if kind != "process":
        _check_options(kind, options)


def _check_options(kind: str, options: dict[str, Any]) -> None:
    """Refuse the options of worker processes on any other lane, saying why."""
    given = [name for name in _PROCESS_ONLY if options.get(name) not in (None, ())]
    if given:
        where = (
            "runs calls on the cluster's own dask workers (set them up with a dask "
            "WorkerPlugin or --preload)"
            if kind == "dask"
            else "runs calls in the game's own process"
        )
        raise ValueError(
            f"Pool({given[0]}): only worker processes (lane='process') take it; "
            f"the {kind} lane {where}"
        )
