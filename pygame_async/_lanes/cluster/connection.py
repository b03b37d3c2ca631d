"""The dask lane's Client, the cluster behind it, and who closes what.

The lane always talks to the scheduler through a Client of its own, so its
futures, event subscriptions and progress topic never mix with the game's
own use of dask, and closing the pool closes only what the pool opened:

* ``DaskLane()``: the lane starts a ``LocalCluster`` of ``workers`` worker
  processes (one thread each) and closes it with the pool;
* ``DaskLane(cluster)`` (a ``LocalCluster``, or any deployed cluster with
  ``scale()``): the lane scales it for ``add_worker``/``stop_workers`` and
  leaves it running;
* ``DaskLane(client)``: as the client's cluster, if it was made from one;
  else as its scheduler's address;
* ``DaskLane("tcp://host:8786")``: a cluster that manages its own workers.

Everything here blocks (it talks to the scheduler): only the lane's own
thread and ``Pool()`` call it, never under the pool's lock.
"""

from __future__ import annotations

import uuid
from typing import Any

import distributed

from pygame_async._core.errors import AsyncError

# distributed leaves its constructors unannotated: typed here as what they are to us.
Client: Any = distributed.Client
LocalCluster: Any = distributed.LocalCluster


class Connection:
    """A Client of the lane's own, to the cluster it was given or started."""

    def __init__(self, target: object, workers: int) -> None:
        self.token = uuid.uuid4().hex[:16]
        """Names this lane's plugins, claims and topics among every user of the cluster."""
        self._key_prefix = f"pygame_async-{self.token}-"
        self.owns_cluster = target is None
        self.cluster: Any = None
        where = "a LocalCluster" if target is None else repr(target)
        try:
            if target is None:
                self.cluster = LocalCluster(
                    n_workers=workers,
                    threads_per_worker=1,  # one call at a time per worker, as a worker process
                    processes=True,
                    dashboard_address=":0",  # any free port: 8787 may be the game's own
                )
                self.client = self._client_of(self.cluster)
            elif isinstance(target, Client):
                if target.cluster is not None:
                    self.cluster = target.cluster
                    self.client = self._client_of(target.cluster)
                else:
                    self.client = Client(
                        target.scheduler.address, security=target.security, set_as_default=False
                    )
            elif isinstance(target, str):
                self.client = Client(target, set_as_default=False)
            else:
                self.cluster = target
                self.client = self._client_of(target)
        except Exception as exc:
            if self.owns_cluster and self.cluster is not None:
                self.cluster.close()
            raise AsyncError(f"DaskLane: cannot connect to {where}: {exc}") from exc
        self.scalable = callable(getattr(self.cluster, "scale", None))

    @staticmethod
    def _client_of(cluster: object) -> Any:
        return Client(cluster, set_as_default=False)

    def batch_key(self, number: int) -> str:
        """Name the dask key of the lane's batch ``number`` (its future's, and its result's)."""
        return f"{self._key_prefix}{number}"

    def describe(self) -> str:
        """Name the cluster in messages."""
        return str(self.client.scheduler.address)

    # -- the lane's thread only ---------------------------------------------------------

    def workers(self) -> dict[str, int]:
        """Ask the scheduler for its workers: address -> threads."""
        info = self.client.scheduler_info(n_workers=-1)
        return {
            address: int(worker.get("nthreads", 1)) for address, worker in info["workers"].items()
        }

    def plan(self) -> int:
        """How many workers the cluster is asked to have (its own count of them)."""
        plan = getattr(self.cluster, "plan", None)
        return len(plan) if plan is not None else len(self.workers())

    def scale_up(self, count: int) -> None:
        """Ask the cluster for ``count`` workers (it starts them; this does not wait)."""
        self.cluster.scale(count)

    def scale_down(self, surplus: int) -> int:
        """Retire up to ``surplus`` workers that run nothing (not yet started ones first).

        Returns how many were retired; a busy worker is retired later, once
        idle (and once the results it holds are fetched), so that its
        current call finishes and its outcome reaches the game (dask's own ``scale()``
        would stop a busy one and run its task again elsewhere).  A cluster
        without ``scale_down`` (not a SpecCluster) gets ``scale(n)`` and
        picks for itself.
        """
        cluster = self.cluster
        scale_down = getattr(cluster, "scale_down", None)
        if not callable(scale_down) or getattr(cluster, "worker_spec", None) is None:
            cluster.scale(max(0, self.plan() - surplus))
            return surplus
        info = self.client.scheduler_info(n_workers=-1)["workers"]
        launched = {worker.get("name"): address for address, worker in info.items()}
        names = list(cluster.worker_spec)
        victims = [name for name in names if name not in launched][:surplus]
        if len(victims) < surplus:
            busy = {address for address, keys in self.client.processing().items() if keys}
            busy |= {  # a result not yet fetched would go with its worker
                address
                for address, keys in self.client.has_what().items()
                if any(str(key).startswith(self._key_prefix) for key in keys)
            }
            idle = [name for name, address in launched.items() if address not in busy]
            victims += [name for name in idle if name in cluster.worker_spec][
                : surplus - len(victims)
            ]
        for name in victims:  # as SpecCluster.scale() does: the spec, then its own correction
            del cluster.worker_spec[name]
        cluster.scale(len(cluster.worker_spec))  # removes no more; closes the victims
        return len(victims)

    def close(self) -> None:
        """Close the lane's Client, and the cluster if the lane started it."""
        try:
            self.client.close()
        finally:
            if self.owns_cluster:
                self.cluster.close()
