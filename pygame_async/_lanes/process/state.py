"""What the parts of the process lane share, and the pipe that rouses its I/O thread.

Glossary of the process lane (each word means one thing throughout):

* *dispatch*: hand queued calls to workers (:mod:`.dispatch`).
* *prefetch*: give a busy worker short calls to run after its current one.
* *send a definition*: make sure a worker has a function before a call of it;
  *forget*: tell workers to drop a version no call needs.
* *stop*: ask a worker to leave after its calls; *kill*: end its process now,
  with a *kill reason* its running call fails with; *replace*: start another
  in its place.
* *exit*: a worker's process has ended (its pidfd or sentinel says so);
  *reap*: collect its exit code, settle its calls, release its handles
  (:mod:`.lifecycle`).
* *settle* a dead worker's calls: deliver those whose replies arrived, fail
  the one that may have started, put back the ones that never did.
* *rouse*: make the I/O thread look again at the workers (:class:`Rouser`);
  *notify*: tell waiting game threads that the ledger changed (the ledger's).
* *bulk read*: read a big frame on a thread of its own (:mod:`.channel`).
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from pygame_async._core.call_queue import CallQueue
from pygame_async._core.definitions import Definition
from pygame_async._core.errors import WorkerStartError
from pygame_async._core.ledger import Ledger
from pygame_async._lanes.process.handle import WorkerHandle
from pygame_async._lanes.process.staging import Staging


class LaneThread:
    """A daemon thread of the lane's, which ends by itself once the lane has closed."""

    def __init__(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def join(self, timeout: float | None) -> None:
        """Wait for the thread to end (not from the thread itself)."""
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError


class Rouser:
    """A pipe whose read end the I/O thread watches: writing to it rouses the thread.

    Written under the pool's lock, at most once until the I/O thread drains it.
    """

    __slots__ = ("_read", "_sent", "_write")

    def __init__(self) -> None:
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._sent = False

    @property
    def fileno(self) -> int:
        """The descriptor to watch for reading."""
        return self._read

    def rouse(self) -> None:
        """Make the I/O thread look again (hold the pool's lock)."""
        if not self._sent:
            self._sent = True
            with contextlib.suppress(BlockingIOError):
                os.write(self._write, b"!")

    def drain(self) -> None:
        """Take the wake-ups (the I/O thread, holding the pool's lock)."""
        if self._sent:
            self._sent = False
            with contextlib.suppress(BlockingIOError):
                os.read(self._read, 4096)

    def close(self) -> None:
        """Release both ends."""
        os.close(self._read)
        os.close(self._write)


WORKER_PRIORITIES: Final = ("low", "normal")
"""What ``Pool(worker_priority)`` takes; None means ``"low"``."""


@dataclass(eq=False)
class Settings:
    """The options a process lane was made with."""

    setup: bytes | None = None  # the pickled (initializer, initargs)
    max_calls: int | None = None
    memory_limit: int | None = None
    low_priority: bool = True  # workers run below the game (Pool(worker_priority))


@dataclass(eq=False)
class LaneState:
    """The process lane's state, shared by its parts; all guarded by ``ledger.lock``."""

    ledger: Ledger
    queue: CallQueue
    settings: Settings
    rouser: Rouser = field(default_factory=Rouser)
    staging: Staging = field(default_factory=Staging)  # snapshots of big mutable arguments
    workers: list[WorkerHandle] = field(default_factory=list)  # until reaped
    current: dict[str, Definition] = field(default_factory=dict)  # taught to new workers
    spawn_requests: int = 0  # workers asked for, not yet started by the starter thread
    spawning: bool = False  # the starter thread is starting a worker process
    start_failure: WorkerStartError | None = None  # why the last worker failed to start
    crash_streak: int = 0  # workers that died in a row before running any call
    closing: bool = False  # the pool is shutting down: workers leave once drained
    closed: bool = False  # no worker left, threads ending
    polled_at: float = -math.inf  # when update() last read the busy sockets itself
    waiting_reader: bool = False  # a thread blocked in wait()/result() reads them
    waiting_since: float = -math.inf  # when that thread began to block
    io_parked: bool = False  # the I/O thread sleeps until roused: the waiting reader reads
    # The lowest priority of a call queued on a busy worker (prefetched) since
    # the last look: a queued call above it takes such calls back (retract).
    prefetched_floor: float = math.inf
    spawn_wanted: threading.Condition = field(init=False)  # the starter thread waits on it
    bulk_wanted: threading.Condition = field(init=False)  # the bulk readers wait on it
    release_at_end: list[Callable[[], None]] = field(default_factory=list)  # run by the I/O thread

    def __post_init__(self) -> None:
        self.spawn_wanted = threading.Condition(self.ledger.lock)
        self.bulk_wanted = threading.Condition(self.ledger.lock)

    def worker_count(self) -> int:
        """Workers that accept calls, counting those asked for and not started yet."""
        return self.spawn_requests + sum(
            worker.accepts_calls or (worker.said_hello and not worker.stop_requested)
            for worker in self.workers  # a crashed worker counts until it is replaced
        )

    def can_run_calls(self) -> bool:
        """Tell whether some worker (or one asked for) may still run a queued call."""
        return bool(self.spawn_requests) or any(w.accepts_calls for w in self.workers)
