"""The dask lane: defined functions run on the workers of a dask.distributed cluster.

How a call travels, and which module does what::

    game thread                 the lane's thread (collector)          a dask worker (remote)
    -----------                 -----------------------------          ----------------------
    call() -> CallQueue -- dispatch: calls in batches (batching) ---->  run_batch: claim it,
                                 client.submit, one task per batch       run its calls in order
    update() <- Ledger <------ gather the batch's outcomes (bytes) <--- one outcome per call
                                 file them; progress, worker events <-- log_event (progress)
                                 arrive on dask's loop (state)

Parts: :mod:`.spec` (``DaskLane``, the public object; it imports nothing of
dask), :mod:`.cluster_lane` (the lane seam), :mod:`.state` (what the parts share),
:mod:`.batching` (which calls share a dask task), :mod:`.collector` (the
lane's one thread: submits, gathers, times out, scales), :mod:`.filing`
(what a dask task came back with, into the ledger),
:mod:`.connection` (the Client, the cluster, who closes what) and
:mod:`.remote` (what runs on the dask workers: the definitions plugin and
the batch).  Nothing here is imported until a pool uses the lane, so
``import pygame_async`` never imports ``distributed``.
"""
