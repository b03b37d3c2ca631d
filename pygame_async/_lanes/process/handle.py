"""The game's handle on one worker process: the executor seam.

Each worker is a ``concurrent.futures.ProcessPoolExecutor(max_workers=1)``
started with a context that never forks the game nor re-runs its script
(:mod:`pygame_async._process`).  The executor owns the process: it starts it,
runs our initializer there, watches it and joins it.  It is given one task,
the worker's serve loop; calls then travel over the worker's own pipe,
because going through the executor's queues for each call would cost two
thread hand-offs per call in the game process and would let one dead worker
break every queued call (a broken executor fails all of its futures).

One executor per worker gives what the pool needs from the stdlib without
fighting it: a registry per process, adding and stopping exactly one worker,
and a crash that breaks one executor holding one call.
"""

from __future__ import annotations

import contextlib
import enum
import logging
import multiprocessing
import pickle
import signal
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from multiprocessing.connection import Connection
from typing import TYPE_CHECKING, Any

from pygame_async._core import serialization as _serialization
from pygame_async._lanes.process import child as _worker
from pygame_async._lanes.process import wire as _protocol
from pygame_async._lanes.process.spawning import worker_context

if TYPE_CHECKING:
    from pygame_async._core.task import Task

logger = logging.getLogger("pygame_async")


class WorkerState(enum.Enum):
    """Where a worker is in its life; every transition happens in the pool."""

    STARTING = "starting"  # process launched, no hello yet
    READY = "ready"  # idle, takes calls
    BUSY = "busy"  # running a call, maybe with short ones queued behind it
    STOPPING = "stopping"  # asked to stop after its current call
    DEAD = "dead"  # its pipe closed: stopped or crashed


class Worker:
    """One worker process, its pipe, and what the pool has sent it."""

    def __init__(self, setup: bytes | None = None, memory_limit: int | None = None) -> None:
        context = worker_context()
        ours, theirs = context.Pipe(duplex=True)
        self.executor = ProcessPoolExecutor(
            max_workers=1,
            mp_context=context,
            initializer=_worker.initialize,
            initargs=(theirs, setup, memory_limit),
        )
        self._serving = self.executor.submit(_worker.serve)
        # submit() has started the process; only the child needs its end now,
        # and closing ours is what lets us see EOF when the child dies.
        theirs.close()
        self.process = _process_of(self.executor)
        self.pid: int | None = self.process.pid
        self.channel: Connection = ours
        # Held while reading the pipe and filing what was read, so replies are
        # handled in order, and so a big reply is read without the pool's lock.
        self.reading = threading.Lock()
        self.readable = _protocol.Readable(ours)
        self.reading_bulk = False  # reading a big result's raw buffers: it takes a while
        # A big result's reply whose raw buffers are still on the pipe: the
        # I/O thread reads them (see receive()).
        self.held: tuple[Any, ...] | None = None
        self.state = WorkerState.STARTING
        self.said_hello = False
        self.stop_requested = False
        # Calls handed to the worker, oldest (running) first; a worker is given
        # more than one only when they are short (see Pool._pick_worker).
        self.in_flight: deque[Task] = deque()
        self.unsent: list[Task] = []  # in_flight, but still in the outbox
        self.queued_estimate = 0.0  # seconds of work in_flight is expected to take
        self.deadline: float | None = None  # time.monotonic() by which the task must finish
        self.fate: BaseException | None = None  # set when the pool kills it: what its task gets
        self.calls_done = 0
        self.known_definitions: set[int] = set()
        self._outbox: list[tuple[Any, ...]] = []

    def __repr__(self) -> str:
        return f"<Worker pid={self.pid} {self.state.value}>"

    @property
    def task(self) -> Task | None:
        """The call the worker is running (or about to), if any."""
        return self.in_flight[0] if self.in_flight else None

    @property
    def accepts_calls(self) -> bool:
        """True for a worker that counts towards the pool's worker count."""
        return self.state in (WorkerState.STARTING, WorkerState.READY, WorkerState.BUSY)

    @property
    def idle(self) -> bool:
        """True for a worker that can start a call now."""
        return self.state is WorkerState.READY

    def queue(self, operation: tuple[Any, ...]) -> None:
        """Add an operation to the next batch sent to this worker."""
        self._outbox.append(operation)

    def flush(self) -> None:
        """Send the queued operations as one message; raises OSError if the worker is gone."""
        if self._outbox:
            batch, self._outbox = self._outbox, []
            # A big definition (a closure over a large map) follows the batch
            # raw, rather than being copied into it.
            raw = [op[3] for op in batch if op[0] == _protocol.DEFINE and _is_big(op[3])]
            if raw:
                batch = [
                    (*op[:3], len(op[3])) if op[0] == _protocol.DEFINE and _is_big(op[3]) else op
                    for op in batch
                ]
            self.channel.send_bytes(_protocol.encode(batch))
            for blob in raw:
                _protocol.send_raw(self.channel, pickle.PickleBuffer(blob))
        self.unsent.clear()

    def receive(self, bulk: bool = True) -> tuple[list[Any], bool]:
        """Return every message the worker has sent so far, and whether its pipe has closed.

        With ``bulk`` False (the game's own thread, which must not wait while
        megabytes arrive) reading stops at a result with raw buffers: it is
        kept in :attr:`held`, and the next ``receive()`` with ``bulk`` reads
        its buffers and carries on.
        """
        messages: list[Any] = []
        try:
            if self.held is not None:
                if not bulk:
                    return messages, False
                held, self.held = self.held, None
                messages.append(self._with_buffers(held))
            while self.readable():
                message = _protocol.decode(self.channel.recv_bytes())
                if type(message) is list:  # replies the worker held and sent together
                    messages.extend(message)
                    continue
                if message[0] == _protocol.RESULT and message[4]:
                    if not bulk:
                        self.held = message
                        break
                    message = self._with_buffers(message)
                messages.append(message)
        except (EOFError, OSError):
            return messages, True
        return messages, False

    def _with_buffers(self, reply: tuple[Any, ...]) -> tuple[Any, ...]:
        """Read the raw buffers that follow ``reply`` and put them in its place."""
        self.reading_bulk = True
        try:
            buffers = [
                _protocol.receive_raw(self.channel, size, writable) for size, writable in reply[4]
            ]
        finally:
            self.reading_bulk = False
        return (*reply[:4], buffers)

    def stop(self) -> None:
        """Ask the worker to leave after its current call; its pipe closes when it does."""
        self.stop_requested = True
        if self.state is not WorkerState.DEAD:
            self.state = WorkerState.STOPPING
        self.queue((_protocol.STOP,))
        with contextlib.suppress(OSError):  # already gone: the pool sees its pipe close
            self.flush()

    def kill(self) -> None:
        """End the process now, whatever it is doing."""
        if self.process.exitcode is None:
            with contextlib.suppress(ProcessLookupError):  # it exited meanwhile
                self.process.kill()

    def closed(self) -> None:
        """Mark the worker gone: it will never be sent anything again."""
        self.state = WorkerState.DEAD

    def release_pipe(self) -> None:
        """Close our end of the pipe, once no thread can be reading it."""
        with self.reading:
            self.channel.close()

    def join(self) -> int | None:
        """Wait until the process has exited and return its exit code.

        The executor's thread reaps the process, so joining the executor (not
        the process) is what makes the exit code reliably known.  A negative
        code is the signal that ended the process.  This is the only call to
        the executor's ``shutdown()``: after a first one it forgets its thread
        and could not be joined any more.
        """
        self.executor.shutdown(wait=True)
        return self.process.exitcode


def _is_big(blob: bytes) -> bool:
    return len(blob) >= _serialization.OUT_OF_BAND_BYTES


def describe_exit(exitcode: int | None) -> str:
    """Say how a process ended, naming the signal that killed it."""
    if exitcode is None:
        return "with an unknown status"
    if exitcode < 0:
        try:
            return f"killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"killed by signal {-exitcode}"
    return f"with exit code {exitcode}"


def _process_of(executor: ProcessPoolExecutor) -> multiprocessing.process.BaseProcess:
    """Return the single process of a one-worker executor.

    ``ProcessPoolExecutor`` only exposes its processes through ``_processes``
    before Python 3.14; the pool needs the process to read its exit code and
    to kill it, so this is the one place that reaches inside.
    """
    processes = executor._processes
    (process,) = processes.values()
    return process
