"""pygame_async: run a game's heavy work on worker processes, get results on the main thread.

The Python successor of LÖVE's Async library::

    import pygame_async

    pygame_async.load(2)                      # two warm worker processes
    find_path = pygame_async.define("find_path", astar)
    find_path(unit.follow, start, goal)       # queued; runs in a worker
    ...
    pygame_async.update()                     # every frame: run finished callbacks
    ...                                       # (or on pygame_async.UPDATE_EVENT)
    pygame_async.shutdown()

The module-level functions act on the default pool made by :func:`load`;
:class:`Pool` offers the same API as an object.  Everything public is
listed in ``__all__``; everything else is private.

Layout: ``_core/`` is the pygame-free core (definitions, tasks, delivery,
the call ledger, the pool, errors); ``_lanes/`` holds the lanes that run
calls (``process/``: worker processes; ``thread.py``; ``inline.py``;
``cluster/``: the dask lane, imported only when a pool uses it); ``_pygame/`` is the
pygame adapter (completions as events, Surfaces across processes), plugged
into the core's seams here; ``assets.py`` is the public asset loader.
Arrows run one way: front -> adapter, lanes -> core.
"""

from pygame_async import _lanes, _pygame
from pygame_async._core import lane_seam as _lane_seam
from pygame_async._core.caller import AsyncFunction
from pygame_async._core.default import (
    add_worker,
    call,
    define,
    ensure,
    get_pending_count,
    get_worker_count,
    load,
    shutdown,
    stop_workers,
    undefine,
    update,
    wait,
)
from pygame_async._core.ensure import Ensure
from pygame_async._core.errors import (
    AsyncError,
    CallAbortedError,
    DefinitionLoadError,
    DependencyError,
    PoolBrokenError,
    RemoteError,
    RemoteTraceback,
    ResultNotSentError,
    TaskTimeoutError,
    WorkerCrashedError,
    WorkerProtocolError,
    WorkerStartError,
)
from pygame_async._core.group import Group
from pygame_async._core.pool import Pool
from pygame_async._core.progress import report_progress
from pygame_async._core.task import Task, TaskState
from pygame_async._lanes.cluster.spec import DaskLane
from pygame_async._pygame import UPDATE_EVENT
from pygame_async._version import __version__ as __version__

_lane_seam.register(_lanes.make_lane)
_pygame.install()

__all__ = [
    "UPDATE_EVENT",
    "AsyncError",
    "AsyncFunction",
    "CallAbortedError",
    "DaskLane",
    "DefinitionLoadError",
    "DependencyError",
    "Ensure",
    "Group",
    "Pool",
    "PoolBrokenError",
    "RemoteError",
    "RemoteTraceback",
    "ResultNotSentError",
    "Task",
    "TaskState",
    "TaskTimeoutError",
    "WorkerCrashedError",
    "WorkerProtocolError",
    "WorkerStartError",
    "add_worker",
    "call",
    "define",
    "ensure",
    "get_pending_count",
    "get_worker_count",
    "load",
    "report_progress",
    "shutdown",
    "stop_workers",
    "undefine",
    "update",
    "wait",
]

# Users see pygame_async.Pool, not pygame_async._core.pool.Pool (in reprs,
# tracebacks and help()).
for _name in __all__:
    _public = globals()[_name]
    if isinstance(_public, type) or callable(_public):
        _public.__module__ = __name__
del _name, _public
