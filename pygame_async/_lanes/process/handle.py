"""The game's handle on one worker process: its process, socket, and what the game sent it.

A worker's death is watched through its *process*, never through its socket:
a process it forked may hold the socket open long after the worker died.
On Linux a pidfd becomes readable the moment the process exits; elsewhere
the process's sentinel, checked again every :data:`EXIT_CHECK_INTERVAL`
while the worker matters (a child of the worker may hold the sentinel too).
"""

from __future__ import annotations

import contextlib
import enum
import logging
import multiprocessing.process
import os
import pickle
import signal
import socket
import threading
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from pygame_async._lanes.process import channel as channels
from pygame_async._lanes.process.channel import BulkFrame, FrameReader, Outbox
from pygame_async._lanes.process.wire import encode_batch

if TYPE_CHECKING:
    from pygame_async._core.task import Task

logger = logging.getLogger("pygame_async")

Buffer: TypeAlias = bytes | memoryview | pickle.PickleBuffer
"""What the bulk writer sends: a big definition's blob, an argument's raw buffer."""

EXIT_CHECK_INTERVAL = 0.25
"""Seconds between checks that a worker is alive where no pidfd tells at once."""


class WorkerState(enum.Enum):
    """Where a worker is in its life; every transition happens under the pool's lock."""

    STARTING = "starting"  # process started, no HELLO yet
    READY = "ready"  # idle, takes calls
    BUSY = "busy"  # has calls: one running, maybe short ones queued behind it
    STOPPING = "stopping"  # asked to leave after its calls, or killed
    DEAD = "dead"  # its process has exited; being (or already) reaped


class WorkerHandle:
    """One worker process as the game sees it.

    Everything here is guarded by the pool's lock, except the socket's
    reading side: ``reader`` (and ``bulk``) belong to whichever thread holds
    ``reading``, which is taken before the pool's lock, never under it.
    """

    def __init__(
        self,
        process: multiprocessing.process.BaseProcess,
        sock: socket.socket,
        bulk: socket.socket,
    ) -> None:
        self.process = process
        self.pid: int = process.pid or 0
        self.socket = sock  # main: batches out, frames in
        self.bulk_socket = bulk  # what frames announce: raw buffers, long bodies
        channels.prepare(sock, bulk)
        self.exit_fd, self._pidfd = _watch_exit(process)
        self.outbox = Outbox(sock)
        self.reader = FrameReader(sock)
        self.reading = threading.Lock()
        self.bulk: BulkFrame | None = None  # a frame whose bulk data is still to be read
        self.bulk_reader: threading.Thread | None = None  # started at the first bulk frame
        self.state = WorkerState.STARTING
        self.said_hello = False
        self.exited = False  # its process has exited (watched by the I/O thread)
        self.reaped = False
        self.stop_requested = False
        # Calls handed to the worker, oldest (running, or about to) first; a
        # worker is given more than one only when they are short.
        self.in_flight: deque[Task] = deque()
        self.queued_estimate = 0.0  # seconds of work in_flight is expected to take
        self.retracting: set[int] = set()  # ids of calls it was told to skip, to run elsewhere
        self.running_since = 0.0  # time.monotonic() when in_flight[0] was handed over
        self.deadline: float | None = None  # time.monotonic() by which its call must end
        self.leave_by: float | None = None  # after which a worker that was told to stop is killed
        self.kill_reason: BaseException | None = None  # what its call gets, if the pool killed it
        self.problem: str | None = None  # what it sent that could not be read, if anything
        self.calls_done = 0
        self.known_definitions: set[int] = set()
        self.sys_path: tuple[str, ...] | None = None  # the game's sys.path as last sent to it
        self._batch: list[tuple[Any, ...]] = []  # operations for the next batch
        self._batch_calls: list[Task] = []
        self._raw_after_batch: list[Buffer] = []
        self._bulk_out: deque[Buffer] = deque()  # raw buffers for the bulk writer, in order
        self._bulk_writer: threading.Thread | None = None  # started at the first raw buffer
        self._bulk_closed = False  # the bulk socket is closed or broken: nothing more is sent
        self._bulk_lock = threading.Lock()  # guards the three above (taken after the pool's)
        self._bulk_wanted = threading.Condition(self._bulk_lock)  # the bulk writer waits on it

    def __repr__(self) -> str:
        return f"<worker pid={self.pid} {self.state.value}>"

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

    @property
    def watched_by_pidfd(self) -> bool:
        """True if its exit shows at once on :attr:`exit_fd`, whatever its children hold."""
        return self._pidfd is not None

    @property
    def alive(self) -> bool:
        """True until its process is known to have exited."""
        return self.state is not WorkerState.DEAD

    # -- sending: under the pool's lock, never blocking ---------------------------

    def queue(
        self, operation: tuple[Any, ...], call: Task | None = None, raw: Sequence[Buffer] = ()
    ) -> None:
        """Add an operation to the next batch; the ``raw`` buffers travel on the bulk socket.

        The worker reads them from its bulk socket when it meets the
        operation in the batch, so raw buffers go in the order of their batches.
        """
        self._batch.append(operation)
        if call is not None:
            self._batch_calls.append(call)
        if raw:
            self._raw_after_batch.extend(raw)

    def flush(self) -> None:
        """Frame the queued operations as one batch and write what the socket takes now.

        What it does not take waits in the outbox for the I/O thread; raw
        blobs are written by the worker's bulk writer, a thread of its own.
        A worker whose end is closed is left for its exit to be noticed.
        """
        if self._batch:
            self.outbox.add(encode_batch(self._batch), self._batch_calls)
            if self._raw_after_batch:
                self._hand_to_bulk_writer(self._raw_after_batch)
            self._batch, self._batch_calls, self._raw_after_batch = [], [], []
        self.send_nowait()

    def _hand_to_bulk_writer(self, buffers: list[Buffer]) -> None:
        """Queue raw buffers for the bulk writer, starting it the first time.

        The writer then stays, waiting for more, until the worker is closed:
        starting a thread makes the caller wait for it to run, and this runs
        on the game's thread, inside ``call()``.
        """
        with self._bulk_lock:
            if self._bulk_closed:
                return  # the worker is gone: its calls are settled by its reaping
            self._bulk_out.extend(buffers)
            writer = self._bulk_writer
            if writer is not None:
                self._bulk_wanted.notify()
                return
            writer = self._bulk_writer = threading.Thread(
                target=self._write_bulk, name="pygame_async-bulk-writer", daemon=True
            )
        writer.start()

    def _write_bulk(self) -> None:
        """Write the raw buffers queued for the worker, in order, blocking on its bulk socket only.

        ``sendall`` releases the GIL for the whole write and holds no lock of
        the pool's; a stopped worker stalls only this thread, which ends when
        the worker is closed (its socket is shut then, which ends the write).
        """
        while True:
            with self._bulk_lock:
                while not self._bulk_out and not self._bulk_closed:
                    self._bulk_wanted.wait()
                if self._bulk_closed:
                    self._bulk_out.clear()
                    return
                buffer = self._bulk_out.popleft()
            try:
                self.bulk_socket.sendall(buffer)
            except OSError:
                with self._bulk_lock:
                    self._bulk_closed = True
                    self._bulk_out.clear()
                return

    def send_nowait(self) -> None:
        """Write what the socket takes of the outbox, without blocking."""
        if not self.outbox or not self.alive:
            return
        try:
            self.outbox.send_nowait()
        except OSError:
            # Its end is closed: it is leaving or gone.  Its exit is what counts.
            self.outbox.clear()

    def sent(self, task: Task) -> bool:
        """Tell whether the call has wholly left for the worker (so it may have started)."""
        return task not in self.outbox.unsent and task not in self._batch_calls

    # -- its process --------------------------------------------------------------

    def kill(self) -> None:
        """End the process now, whatever it is doing (it is not waited for here)."""
        if self.reaped:
            return
        with contextlib.suppress(ProcessLookupError, OSError):
            if self._pidfd is not None:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            else:
                os.kill(self.pid, signal.SIGKILL)

    def has_exited(self) -> bool:
        """Tell, without blocking, whether the process has exited (reaping it if so)."""
        return self.process.exitcode is not None

    def reap(self) -> int | None:
        """Collect the exit code of a process known to have exited, and close its handles.

        A negative code is the signal that ended the process.
        """
        exitcode = self.process.exitcode  # waitpid(WNOHANG): it has exited, so at once
        self.reaped = True
        return exitcode

    def close(self) -> None:
        """Release the sockets, the pidfd and the process object (once reaped); end the writer."""
        with self._bulk_lock:
            self._bulk_closed = True
            self._bulk_wanted.notify()
        with contextlib.suppress(OSError):
            self.socket.close()
        with contextlib.suppress(OSError):
            # Shut first: it ends a bulk write a child of the worker's would stall.
            self.bulk_socket.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.bulk_socket.close()
        if self._pidfd is not None:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = None
        with contextlib.suppress(ValueError):  # close() refuses a process still running
            self.process.close()


def _watch_exit(process: multiprocessing.process.BaseProcess) -> tuple[int, int | None]:
    """Return a descriptor that becomes readable when ``process`` exits, and its pidfd if any."""
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is not None and process.pid is not None:
        try:
            pidfd: int = pidfd_open(process.pid)
        except OSError:
            pass  # an old kernel: fall back to the sentinel
        else:
            return pidfd, pidfd
    return process.sentinel, None


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
