"""What the parts of the dask lane share, all guarded by the pool's lock.

Glossary:

* *batch*: the calls that travel in one dask task (:class:`Batch`); a call
  that may be long, or has a timeout or retries, travels alone.
* *slots*: how many tasks the cluster runs at once (its workers' threads).
  The lane hands the cluster a task only while a slot is free (see
  :mod:`.batching`).
* *ops*: what the lane's thread does outside the lock, in order: register or
  unregister a definition, submit a batch, clear an epoch's claims.
* *epoch*: batches are numbered; each 256 of them share one branch of the
  scheduler's metadata, where they claim themselves, dropped once all of
  them are over.
* *target*: the number of workers the lane asked its cluster for, when it
  scales it; ``None`` until it does (the count is then what the cluster has).
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Final

from pygame_async._core.call_queue import CallQueue
from pygame_async._core.definitions import Definition
from pygame_async._core.ledger import Ledger
from pygame_async._core.task import Task
from pygame_async._lanes.cluster.connection import Connection

EPOCH_SIZE: Final = 256
"""Batches per branch of claims in the scheduler's metadata."""


@dataclass(eq=False)
class Batch:
    """Calls that travel in one dask task, and that task's future once submitted."""

    number: int
    tasks: list[Task]
    alone: bool  # a call that may be long (or has a timeout, or retries): it has a slot
    priority: int
    calls: list[tuple[int, int, bytes]]  # what travels: (task id, definition id, arguments)
    future: Any = None  # the dask Future, once the lane's thread submitted it
    submitted_at: float = field(default_factory=time.monotonic)
    done: bool = False  # its future finished (or was cancelled); not yet filed

    @property
    def epoch(self) -> int:
        """The branch of the scheduler's metadata its claim is in."""
        return self.number // EPOCH_SIZE


@dataclass
class Op:
    """Something the lane's thread does outside the lock: see the module docstring."""

    kind: str  # "define", "forget", "submit", "clear_epoch"
    definition: Definition | None = None
    batch: Batch | None = None
    epoch: int = 0


class DaskState:
    """The dask lane's state (under the pool's lock unless said otherwise)."""

    def __init__(self, ledger: Ledger, queue: CallQueue, connection: Connection) -> None:
        self.ledger = ledger
        self.queue = queue
        self.connection = connection
        self.token = connection.token  # names this lane's plugins, claims and progress topic
        self.progress_topic = f"pygame_async-progress-{self.token}"
        self.wake = threading.Condition(ledger.lock)  # the lane's thread waits on it
        self.ops: deque[Op] = deque()
        self.finished: list[Batch] = []  # futures done, for the lane's thread to gather
        self.in_flight: dict[int, Batch] = {}  # by number: submitted (or about to be)
        self.batch_of: dict[Task, Batch] = {}  # calls in flight
        self.by_id: dict[int, Task] = {}  # calls in flight, for their progress reports
        self.deadlines: dict[Task, float] = {}  # monotonic time a call times out
        self.next_number = 0
        self.epoch_open: dict[int, int] = {}  # batches of each epoch not over yet
        self.workers: dict[str, int] = {}  # dask workers: address -> threads
        self.observe = True  # the worker list may have changed: ask the scheduler
        self.observe_failed = False  # the scheduler did not answer: ask again in a while
        self.target: int | None = None
        self.scaling = False  # a target the lane's thread has not applied yet
        self.retiring = False  # fewer workers asked for, but the surplus is busy: look again
        self.closing = False
        self.closed = False
        self.abandon = False  # the interpreter is exiting: drop everything at once
        self.post_due = False  # progress arrived on dask's loop: post it from the lane's thread
        self.plugins: set[str] = set()  # worker plugins registered by the lane (its thread's)

    @property
    def slots(self) -> int:
        """How many tasks the cluster runs at once (its workers' threads)."""
        return sum(self.workers.values())

    def worker_count(self) -> int:
        """Say what ``get_worker_count()`` says: asked for, once the lane scales; else there."""
        if self.closed:
            return 0
        if self.target is not None:
            return self.target
        return len(self.workers)

    def push(self, op: Op) -> None:
        """Hand the lane's thread something to do outside the lock."""
        self.ops.append(op)
        self.wake.notify()

    def new_batch(self, tasks: list[Task], alone: bool) -> Batch:
        """Make a numbered batch of calls taken from the queue, and count it in its epoch."""
        calls = [(task.id, task.definition.id, task.arguments) for task in tasks]
        priority = max(task.priority for task in tasks)
        batch = Batch(self.next_number, tasks, alone, priority, calls)
        self.next_number += 1
        epoch = batch.epoch
        if batch.number % EPOCH_SIZE == 0 and self.epoch_open.get(epoch - 1) == 0:
            del self.epoch_open[epoch - 1]  # its last batch ended while it was current
            self.push(Op("clear_epoch", epoch=epoch - 1))
        self.epoch_open[epoch] = self.epoch_open.get(epoch, 0) + 1
        self.in_flight[batch.number] = batch
        for task in tasks:
            self.batch_of[task] = batch
            self.by_id[task.id] = task
            if task.timeout is not None:
                self.deadlines[task] = batch.submitted_at + task.timeout
        return batch

    def end_batch(self, batch: Batch) -> None:
        """Forget a batch that is over; clear its epoch's claims once that epoch is over."""
        if self.in_flight.pop(batch.number, None) is None:
            return
        for task in batch.tasks:
            if self.batch_of.get(task) is batch:
                del self.batch_of[task]
                del self.by_id[task.id]
            self.deadlines.pop(task, None)
        epoch = batch.epoch
        self.epoch_open[epoch] -= 1
        current = self.next_number // EPOCH_SIZE
        if self.epoch_open[epoch] == 0 and epoch < current:
            del self.epoch_open[epoch]
            self.push(Op("clear_epoch", epoch=epoch))
