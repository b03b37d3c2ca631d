"""Which queued calls share a dask task, and when they are handed to the cluster.

dask's scheduler spends hundreds of microseconds on every task, so tiny
calls one task each would cost more than they run.  Calls known to be short
(their definition's measured average is under :data:`SHORT`) share a task,
a *batch*, up to :data:`BATCH_WORK` of estimated work; any other call (not
measured yet, long, with a timeout or with retries) travels alone.

A crash costs a batch's calls that had not come back: the lane cannot know
which of them ran (their outcomes die with the worker), so none runs again
and all fail with ``WorkerCrashedError``.  That is why only calls measured
short are batched, never a call that may run long: a call that kills its
worker in its first run travels alone, and a batch holds at most about 20
ms of work.

When: the lane hands the cluster one task per free slot (a worker's
thread), never more, so every call handed over is running, or about to:
the calls behind it wait in the pool's queue, where a priority still
orders them, a cancel still drops them and a new call of the same key
still replaces them (a task dask has cannot be taken back, and dask would
queue it on a worker that may be busy with a long call).  A timeout counts
from the hand-over.  The calls made while every slot is busy leave together
when a slot frees, in few tasks.  Everything here runs under the pool's lock.
"""

from __future__ import annotations

from typing import Final

from pygame_async._core.task import Task, TaskState
from pygame_async._lanes.cluster.state import DaskState, Op

SHORT: Final = 0.002
"""Seconds: a call measured shorter than this may share a dask task (as prefetch on processes)."""

BATCH_WORK: Final = 0.02
"""Seconds of estimated work in one batch."""

BATCH_CALLS: Final = 2000
"""Calls in one batch at most (its message stays small)."""


def travels_alone(task: Task) -> bool:
    """Tell whether a call gets a dask task of its own (see the module docstring)."""
    estimate = task.definition.estimate
    return estimate is None or estimate >= SHORT or task.timeout is not None or task.retries > 0


def dispatch(state: DaskState) -> None:
    """Take queued calls into a task per free slot; the lane's thread submits them."""
    if state.closed or state.abandon:
        return
    queue, ledger = state.queue, state.ledger
    while queue and len(state.in_flight) < state.slots:
        head = queue.peek()
        if travels_alone(head):
            queue.pop_next()
            ledger.take(head)
            state.push(Op("submit", batch=state.new_batch([head], alone=True)))
            continue
        tasks: list[Task] = []
        work = 0.0
        while queue and len(tasks) < BATCH_CALLS and work < BATCH_WORK:
            task = queue.peek()
            if travels_alone(task):
                break
            queue.pop_next()
            ledger.take(task)
            tasks.append(task)
            work += task.definition.estimate or 0.0
        state.push(Op("submit", batch=state.new_batch(tasks, alone=False)))


def fail_unrunnable(state: DaskState) -> None:
    """Once closing with no worker at all: cancel what can never run (as other lanes do).

    Calls handed to the cluster are cancelled too: with no worker, none is
    running (their outcomes, should a worker come after all, are dropped).
    """
    if state.workers or state.target:
        return
    for task in state.queue.take_all():
        state.ledger.cancel(task)
    for batch in list(state.in_flight.values()):
        for task in batch.tasks:
            if task.state is TaskState.ASSIGNED:
                state.ledger.cancel(task)
        state.end_batch(batch)
