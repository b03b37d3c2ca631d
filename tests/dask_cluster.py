"""The dask cluster the core tests share: one LocalCluster of worker processes per session.

Starting a cluster of worker processes costs about a second, so the tests
of the dask lane share one (``LocalCluster(processes=True)``, one thread per
worker, as a pool of worker processes has), started by the first test that
needs it and closed at the end of the session (``conftest``), which proves
its processes gone.  Each pool the tests make on it is given the cluster
object, so a pool's ``add_worker``/``stop_workers`` scale it; :func:`sized`
brings it back to the size the next test asks for.  A pool leaves a cluster
it was given running: the tests check that too.

``distributed`` is imported only when a dask test runs.
"""

from __future__ import annotations

import multiprocessing
import time
from typing import Any

from helpers import BOUND

_cluster: Any = None


def cluster() -> Any:
    """The shared LocalCluster, started on first use."""
    global _cluster
    if _cluster is None:
        from distributed import LocalCluster

        _cluster = LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        )
    return _cluster


def started() -> bool:
    """True once a test has started the shared cluster (and until the session closes it)."""
    return _cluster is not None


def sized(workers: int) -> Any:
    """The shared cluster with exactly ``workers`` workers running, and nothing else left."""
    shared = cluster()
    if len(shared.worker_spec) != workers:
        shared.scale(workers)
    settle(workers)
    return shared


def settle(workers: int | None = None) -> None:
    """Wait until the cluster runs as many workers as planned (or ``workers``), no leftover.

    Asked of the cluster's nannies, in this process: asking the workers
    themselves would wait for one that is closing (dask's 30 s timeout).
    """
    shared = cluster()
    deadline = time.monotonic() + 3 * BOUND
    while True:
        want = len(shared.worker_spec) if workers is None else workers
        pids = worker_pids()
        registered = len(shared.scheduler_info.get("workers", {}))
        if (
            len(pids) == want == registered
            and len(shared.workers) == want
            and stray_processes(set(pids.values())) == []
        ):
            return
        if time.monotonic() > deadline:
            raise AssertionError(
                f"the shared dask cluster did not settle at {want} workers: {pids}, "
                f"{registered} registered, stray {stray_processes(set(pids.values()))}"
            )
        time.sleep(0.02)


def worker_pids() -> dict[str, int]:
    """The shared cluster's workers: name -> pid of the worker process (alive)."""
    shared = cluster()
    return {
        str(name): nanny.pid
        for name, nanny in list(shared.workers.items())
        if getattr(nanny, "pid", None)
    }


def stray_processes(expected: set[int]) -> list[multiprocessing.process.BaseProcess]:
    """Child processes of this test process that are not the shared cluster's workers."""
    return [child for child in multiprocessing.active_children() if child.pid not in expected]


_known: set[int] = set()  # the shared workers' pids when last asked


def not_shared(also: set[int] | None = None) -> list[multiprocessing.process.BaseProcess]:
    """Child processes of this test process, except the shared cluster's current workers.

    Nor the pids in ``also`` (other processes a test may leave running on
    purpose).  Cheap while the workers are those seen last; asks the cluster
    otherwise.
    """
    global _known
    others = also or set()
    strays = stray_processes(_known | others)
    if strays and _cluster is not None:
        _known = current_pids()
        strays = stray_processes(_known | others)
    return strays


def current_pids() -> set[int]:
    """The pids of the shared cluster's workers now (none when it is not started)."""
    if _cluster is None:
        return set()
    settle()
    return set(worker_pids().values())


def close() -> None:
    """Close the shared cluster (end of session); its worker processes must then be gone."""
    global _cluster
    if _cluster is None:
        return
    pids = set(worker_pids().values())
    _cluster.close()
    _cluster = None
    from helpers import pid_alive, wait_until

    wait_until(lambda: not any(pid_alive(pid) for pid in pids))
    assert multiprocessing.active_children() == []
