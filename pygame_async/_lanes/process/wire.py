"""The messages between the game process and a worker, and how failures travel.

Each worker has its own duplex pipe.  The game sends it *batches*: a list of
operations, pickled once.  The worker answers with one message per event.

Game to worker::

    (DEFINE, definition_id, name, function_blob)   load a function into the registry
                                  (a big blob's size instead: the blob follows raw)
    (FORGET, definition_id)                        drop a superseded definition
    (CALL, task_id, definition_id, arguments_blob)  run a call
    (SKIP, task_id)                                 drop that call if it has not started
    (STOP,)                                         leave after the current call

Worker to game (replies to short calls run back to back may come as a list
of several, in one message)::

    (HELLO, pid)                  ready to take calls
    (START_FAILED, failure)       the pool's initializer raised; the worker leaves
    (OVER_MEMORY, bytes)          above the pool's memory limit; sent before the reply
    (PROGRESS, task_id, fraction, message)   the running call reported progress
    (RESULT, task_id, blob, seconds, layout)  the call returned; blob is the pickled
                                  value, followed on the pipe by one raw buffer per
                                  (size, writable) pair of layout
    (FAILED, task_id, failure, seconds)   the call failed; see :class:`RemoteFailure`
    (SKIPPED, task_id)            the call was dropped before it started (SKIP)

``seconds`` is how long the worker spent on the call, unpickling and
pickling included: the pool's estimate of what the next one will cost.

Envelopes are plain pickles of plain tuples: only the blobs inside hold user
objects, and those are opened by code that handles their errors.

Large raw buffers of a result (a Surface's pixels) travel out of band: the
reply lists their sizes (and which are writable) and the bytes follow it on
the pipe, written and read without framing or copies (:func:`send_raw`,
:func:`receive_raw`).  The game
reads them on the pool's I/O thread, with the GIL released, straight into
fresh memory that the rebuilt value then uses as its own (a Surface adopts
writable memory; a big ``bytes`` arrives as ``bytes``), so a 64 MiB result
costs the game's main thread almost nothing.
"""

from __future__ import annotations

import math
import mmap
import os
import pickle
import select
import socket
import sys
from collections.abc import Sequence
from multiprocessing import connection
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from pygame_async._core import serialization as _serialization
from pygame_async._core.errors import (
    DefinitionLoadError,
    RemoteError,
    RemoteTraceback,
    ResultNotSentError,
)

DEFINE, FORGET, CALL, STOP, SKIP = range(5)
HELLO, RESULT, FAILED, PROGRESS, START_FAILED, OVER_MEMORY, SKIPPED = range(5, 12)

# Failure kinds.
RAISED = "raised"  # the function raised
NOT_SENT = "not-sent"  # the result could not be pickled in the worker
NOT_LOADED = "not-loaded"  # the definition could not be loaded in the worker


class RemoteFailure(NamedTuple):
    """A failure in a worker, in a form that always pickles."""

    kind: str
    type_name: str
    message: str
    traceback: str
    exception_blob: bytes | None


# Windows pipes are not file descriptors: there raw buffers go as messages.
_RAW_FD = sys.platform != "win32"
_HUGE_PAGES: int | None = getattr(mmap, "MADV_HUGEPAGE", None)  # Linux only


class Readable:
    """Tells whether a pipe has something to read, without blocking.

    ``Connection.poll()`` builds a selector on every call (about 7 us here);
    a ``select.poll`` object registered once answers in under 1 us, and the
    pool asks this for every message.
    """

    __slots__ = ("_channel", "_poller")

    def __init__(self, channel: Connection) -> None:
        self._channel = channel
        self._poller = None
        if _RAW_FD and hasattr(select, "poll"):
            self._poller = select.poll()
            self._poller.register(channel.fileno(), select.POLLIN)

    def __call__(self) -> bool:
        """Return True if a message (or the end of the pipe) is waiting."""
        if self._poller is None:
            return self._channel.poll()
        return bool(self._poller.poll(0))


def wait(channels: Sequence[Connection], timeout: float | None) -> list[Connection]:
    """Return the channels ready to read, waiting at most ``timeout`` seconds for one.

    ``multiprocessing.connection.wait`` with a one-off ``select.poll``:
    1.3 us instead of 7.6 here, on the path of every reply a waiting thread
    or the I/O thread reads.
    """
    if not _RAW_FD or not hasattr(select, "poll"):
        return connection.wait(channels, timeout)  # type: ignore[return-value]
    poller = select.poll()
    by_fd = {}
    for channel in channels:
        descriptor = channel.fileno()
        by_fd[descriptor] = channel
        poller.register(descriptor, select.POLLIN)
    # poll() takes milliseconds; rounding up so a timeout never ends early.
    events = poller.poll(None if timeout is None else math.ceil(timeout * 1000))
    return [by_fd[descriptor] for descriptor, _ in events]


def send_raw(channel: Connection, buffer: pickle.PickleBuffer) -> None:
    """Write a buffer whose size the previous message announced."""
    with buffer.raw() as view:
        if not _RAW_FD:
            channel.send_bytes(view)
            return
        descriptor = channel.fileno()
        sent = 0
        while sent < view.nbytes:
            sent += os.write(descriptor, view[sent:])


def receive_raw(channel: Connection, size: int, writable: bool) -> mmap.mmap | bytes:
    """Read a buffer of ``size`` bytes into fresh memory, releasing the GIL while it reads.

    A writable buffer (a Surface's pixels) arrives as writable memory its
    new owner can adopt; a read-only one (``bytes``) arrives as ``bytes``,
    so that rebuilding the value copies nothing.
    """
    if not _RAW_FD:
        return channel.recv_bytes()
    with socket.fromfd(channel.fileno(), socket.AF_UNIX, socket.SOCK_STREAM) as pipe:
        # MSG_WAITALL makes each read one call rather than hundreds, each of
        # which would take the GIL back from the game for a moment.
        if not writable:
            return _receive_bytes(pipe, size)
        # An anonymous mapping costs nothing until the read fills its pages,
        # and the kernel fills them inside the read, without the GIL.  Private,
        # because a shared anonymous mapping is shmem, which Linux backs with
        # 4 KiB pages only; a private one takes 2 MiB pages where allowed:
        # measured, 64 MiB filled in 17 ms instead of 85.
        target = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE)
        if _HUGE_PAGES is not None:
            target.madvise(_HUGE_PAGES)
        with memoryview(target) as view:
            received = 0
            while received < size:
                count = pipe.recv_into(view[received:], size - received, socket.MSG_WAITALL)
                if count == 0:
                    raise EOFError("the worker's pipe closed in the middle of a result")
                received += count
        return target


def _receive_bytes(pipe: socket.socket, size: int) -> bytes:
    """Read ``size`` bytes; the socket module allocates them and reads with the GIL released."""
    data = pipe.recv(size, socket.MSG_WAITALL)
    if len(data) == size:
        return data
    parts = [data]  # interrupted by a signal, or the pipe closed: rare, a copy is fine
    received = len(data)
    while received < size:
        part = pipe.recv(size - received, socket.MSG_WAITALL)
        if not part:
            raise EOFError("the worker's pipe closed in the middle of a result")
        parts.append(part)
        received += len(part)
    return b"".join(parts)


def encode(message: Any) -> bytes:
    """Pickle a message envelope."""
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def decode(data: bytes) -> Any:
    """Unpickle a message envelope."""
    return pickle.loads(data)


def failure_to_exception(name: str, failure: RemoteFailure) -> BaseException:
    """Rebuild, in the game, the exception a failed call of ``name`` delivers.

    The worker's own exception comes back with its own type where it can be
    unpickled here; otherwise a :class:`RemoteError` stands in for it.  Either
    way its ``__cause__`` is the remote traceback, as in ``concurrent.futures``.
    """
    cause = RemoteTraceback(failure.traceback)
    exception: BaseException
    if failure.kind == NOT_SENT:
        exception = ResultNotSentError(f"cannot send result of {name!r}: {failure.message}")
    elif failure.kind == NOT_LOADED:
        exception = DefinitionLoadError(
            f"the worker could not load the definition of {name!r}: "
            f"{failure.type_name}: {failure.message}"
        )
    else:
        exception = _unpickle_exception(failure)
    exception.__cause__ = cause
    return exception


def _unpickle_exception(failure: RemoteFailure) -> BaseException:
    if failure.exception_blob is not None:
        try:
            exception = _serialization.loads(failure.exception_blob)
        except Exception:
            pass
        else:
            if isinstance(exception, BaseException):
                return exception
    return RemoteError(f"{failure.type_name}: {failure.message}", failure.type_name)
