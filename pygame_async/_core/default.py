"""The default pool behind the module-level functions: ``load()`` makes it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pygame_async._core import validate
from pygame_async._core.caller import AsyncFunction
from pygame_async._core.ensure import Ensure
from pygame_async._core.lane_seam import LaneSpec
from pygame_async._core.pool import Pool
from pygame_async._core.task import Task

_pool: Pool | None = None
_loading = threading.Lock()


def _loaded(what: str) -> Pool:
    pool = _pool
    if pool is None:
        raise RuntimeError(
            f"pygame_async.{what} needs the default pool: call pygame_async.load() first"
        )
    return pool


def load(workers: int = 1, *, lane: str | LaneSpec | None = None, **options: Any) -> Pool:
    """Start the default pool with ``workers`` workers, ready when this returns.

    ``lane`` and ``options`` are those of :class:`Pool`: ``lane`` is
    ``"process"``, ``"thread"`` or ``"inline"`` (None: ``"process"``, or
    ``"inline"`` in a web build), or ``DaskLane(target)``; ``initializer``, ``initargs``,
    ``max_calls_per_worker``, ``max_worker_memory`` and ``worker_priority``
    are for worker processes.  Raises RuntimeError if
    it is already loaded: call ``shutdown()`` first, or make an independent
    ``Pool()``.
    """
    global _pool
    validate.count("load(workers)", "workers", workers)
    with _loading:
        if _pool is not None:
            raise RuntimeError(
                "pygame_async.load(): already loaded; call pygame_async.shutdown() first, "
                "or use pygame_async.Pool() for a second, independent pool"
            )
        _pool = Pool(workers, lane=lane, **options)
        return _pool


def shutdown(wait: bool = True, cancel_pending: bool = False) -> None:
    """Shut the default pool down (see ``Pool.shutdown``); ``load()`` may then be called again.

    Does nothing when no default pool is loaded, so it is safe to call twice.
    """
    global _pool
    with _loading:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=wait, cancel_pending=cancel_pending)


def update(budget: float | None = None) -> int:
    """Deliver finished calls of the default pool (see ``Pool.update``)."""
    return _loaded("update()").update(budget)


def wait(timeout: float | None = None) -> bool:
    """Deliver calls of the default pool until none is pending (see ``Pool.wait``)."""
    return _loaded("wait()").wait(timeout)


def get_worker_count() -> int:
    """Return the default pool's worker count (see ``Pool.get_worker_count``)."""
    return _loaded("get_worker_count()").get_worker_count()


def get_pending_count() -> int:
    """Return the default pool's pending calls (see ``Pool.get_pending_count``)."""
    return _loaded("get_pending_count()").get_pending_count()


def add_worker() -> None:
    """Start one more worker in the default pool (see ``Pool.add_worker``)."""
    _loaded("add_worker()").add_worker()


def stop_workers(amount: int = 1) -> None:
    """Stop ``amount`` workers of the default pool (see ``Pool.stop_workers``)."""
    _loaded("stop_workers()").stop_workers(amount)


def define(
    name: str, function: Callable[..., Any], *, timeout: float | None = None
) -> AsyncFunction:
    """Define ``function`` as ``name`` on the default pool (see ``Pool.define``)."""
    return _loaded("define()").define(name, function, timeout=timeout)


def undefine(name: str) -> None:
    """Undefine ``name`` on the default pool (see ``Pool.undefine``)."""
    _loaded("undefine()").undefine(name)


def call(callback: object, name: str, /, *args: Any, **kwargs: Any) -> Task:
    """Queue a call on the default pool (see ``Pool.call``)."""
    return _loaded("call()").call(callback, name, *args, **kwargs)


class _DefaultEnsure(Ensure):
    """``pygame_async.ensure``: the default pool's ``ensure``, whichever pool is loaded."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(self)

    def get_worker_count(self) -> int:
        return _loaded("ensure").get_worker_count()

    def add_worker(self) -> None:
        _loaded("ensure").add_worker()

    def stop_workers(self, amount: int = 1) -> None:
        _loaded("ensure").stop_workers(amount)


ensure: Ensure = _DefaultEnsure()
"""Adjust the default pool's worker count: ``ensure.at_least(2).at_most(4)``."""
