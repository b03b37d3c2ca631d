"""``pygame_async.DaskLane``: the object that names the dask lane, importing nothing of dask.

``import pygame_async`` imports this module, so it must stay free of
``distributed``: the lane's own modules are imported by :meth:`DaskLane.make_lane`,
when a pool is made with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pygame_async._core.call_queue import CallQueue
    from pygame_async._core.lane_seam import Lane
    from pygame_async._core.ledger import Ledger


class DaskLane:
    """Run a pool's calls on the workers of a dask.distributed cluster.

    ``Pool(lane=pygame_async.DaskLane(target))`` or
    ``load(lane=DaskLane(target))``; the same ``define``/``call``/``update``
    as on every lane (README: Beyond one machine).  ``target`` is:

    * a cluster object (``distributed.LocalCluster``, or any deployed cluster
      with ``scale()``): ``add_worker``, ``stop_workers`` and ``ensure`` scale
      it; the pool leaves it running when it shuts down;
    * a ``distributed.Client``: its cluster, if it was made from one, else
      its scheduler (the lane opens a Client of its own to it);
    * a scheduler address (``"tcp://10.0.0.5:8786"``): a cluster that
      manages its own workers (scaling raises ``AsyncError``);
    * None (``DaskLane()``): the lane starts a ``LocalCluster`` of the pool's
      ``workers`` worker processes and closes it with the pool.

    The pool's ``workers`` is ignored when a target is given: the cluster
    has the workers it has.  ``distributed`` (the ``[dask]`` extra) must be
    installed in the game and, with pygame_async of the same version, on
    every dask worker.
    """

    kind = "dask"

    def __init__(self, target: object = None) -> None:
        self.target = target

    def __repr__(self) -> str:
        return f"DaskLane({self.target!r})"

    def make_lane(
        self, ledger: Ledger, queue: CallQueue, workers: int, options: dict[str, Any]
    ) -> Lane:
        """Connect to the cluster (or start one) and make the pool's lane on it."""
        try:
            from pygame_async._lanes.cluster.cluster_lane import DaskClusterLane
        except ImportError as exc:
            raise ImportError(
                f"pygame_async.DaskLane needs dask.distributed: pip install "
                f"'pygame_async[dask]' ({exc})"
            ) from exc
        return DaskClusterLane(ledger, queue, self.target, workers)
