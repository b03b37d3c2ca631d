"""What runs inside a worker process.

A worker is the single process of a one-worker ``ProcessPoolExecutor``.  The
executor runs :func:`initialize` when the process starts, then the one task it
is ever given, :func:`serve`, which reads operations from the worker's own
pipe until it is told to stop (see :mod:`pygame_async._protocol`).

The worker keeps a registry of definitions: a function crosses the process
boundary, with everything it closes over, once per worker and version, and
calls name it by id.  Nothing a user function does (raise, return something
unpicklable, need a module the worker lacks) can break this loop: only
killing the process can.
"""

from __future__ import annotations

import ctypes
import math
import multiprocessing
import os
import pickle
import signal
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from multiprocessing import connection
from multiprocessing.connection import Connection
from typing import Any

from pygame_async._core import serialization as _serialization
from pygame_async._lanes.process import wire as _protocol
from pygame_async._lanes.process.wire import RemoteFailure

_channel: Connection | None = None
_setup: bytes | None = None  # the pickled (initializer, initargs) the pool was given
_memory_limit: int | None = None  # bytes of resident memory above which to retire

# Progress reports are sent at most this often; the latest one in between is
# kept, and sent before the call's reply, so the game always ends up with it.
_PROGRESS_INTERVAL = 0.01


class _ProgressReporter:
    """Sends the running call's progress to the game, throttled."""

    __slots__ = ("_channel", "_pending", "_sent_at", "_task_id")

    def __init__(self, channel: Connection, task_id: int) -> None:
        self._channel = channel
        self._task_id = task_id
        self._sent_at = -math.inf
        self._pending: tuple[float, str | None] | None = None

    def report(self, fraction: float, message: str | None) -> None:
        now = time.monotonic()
        if now - self._sent_at >= _PROGRESS_INTERVAL:
            self._sent_at = now
            self._pending = None
            self._send(fraction, message)
        else:
            self._pending = (fraction, message)

    def flush(self) -> None:
        if self._pending is not None:
            self._send(*self._pending)
            self._pending = None

    def _send(self, fraction: float, message: str | None) -> None:
        if _replies is not None:
            _replies.flush()  # the game must see earlier calls' replies first
        self._channel.send_bytes(
            _protocol.encode((_protocol.PROGRESS, self._task_id, fraction, message))
        )


_reporter: _ProgressReporter | None = None

# Replies to short calls queued back to back are held for at most this long
# and sent together: one message, one wake-up of the game, instead of many.
_REPLY_HOLD = 0.001


class _Replies:
    """Replies not yet sent, held while more calls are queued here."""

    __slots__ = ("_channel", "_held", "_since")

    def __init__(self, channel: Connection) -> None:
        self._channel = channel
        self._held: list[tuple[Any, ...]] = []
        self._since = 0.0

    def add(self, reply: tuple[Any, ...], more_calls_queued: bool) -> None:
        if not self._held:
            self._since = time.monotonic()
        self._held.append(reply)
        if not more_calls_queued or time.monotonic() - self._since >= _REPLY_HOLD:
            self.flush()

    def flush(self) -> None:
        if self._held:
            held, self._held = self._held, []
            self._channel.send_bytes(_protocol.encode(held[0] if len(held) == 1 else held))


_replies: _Replies | None = None


def report_progress(fraction: float, message: str | None = None) -> None:
    """Tell the game how far the running call is: ``fraction`` from 0 to 1.

    Call it from a function running on a worker; the game sees the latest
    value as ``task.progress`` (and ``task.progress_message``) and through
    ``task.on_progress(callback)``.  Cheap enough to call in an inner loop:
    reports are sent at most every 10 ms, and the last one always arrives
    before the call's result.  Outside a worker (the same function run
    directly in the game) it checks its arguments and does nothing else.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, int | float):
        raise TypeError(
            f"report_progress(fraction): fraction must be a number from 0 to 1, "
            f"got {type(fraction).__name__}"
        )
    if not 0.0 <= fraction <= 1.0:  # also refuses NaN
        raise ValueError(f"report_progress(fraction): fraction must be from 0 to 1, got {fraction}")
    if message is not None and not isinstance(message, str):
        raise TypeError(
            f"report_progress(fraction, message): message must be a str or None, "
            f"got {type(message).__name__}"
        )
    reporter = _reporter
    if reporter is not None:
        reporter.report(float(fraction), message)


def initialize(channel: Connection, setup: bytes | None, memory_limit: int | None) -> None:
    """Prepare a fresh worker process (the executor's initializer)."""
    global _channel, _setup, _memory_limit
    _channel, _setup, _memory_limit = channel, setup, memory_limit
    _die_with_parent()
    # A function that imports pygame must not print its banner in every worker.
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    # Ctrl+C in a terminal signals the whole process group; the game decides
    # what it means, and its pool stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _die_with_parent() -> None:
    """Make sure this worker never outlives the game, however the game ends."""
    if sys.platform.startswith("linux"):
        # The kernel kills us when the parent *thread* that started us exits,
        # even while we hold the GIL in a long C call; the pool starts every
        # worker from its I/O thread, which lives as long as the pool.
        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    if os.getppid() != parent.pid:
        os._exit(1)  # the game died before we could watch it
    # Elsewhere, and as a second line on Linux: a thread that wakes when the
    # game's end of the sentinel pipe closes, i.e. when the game is gone.
    threading.Thread(
        target=_exit_when_closed, args=(parent.sentinel,), name="pygame_async-orphan", daemon=True
    ).start()


def _exit_when_closed(sentinel: int) -> None:
    connection.wait([sentinel])
    os._exit(1)


def serve() -> None:
    """Run calls sent over the worker's pipe until told to stop."""
    channel = _channel
    if channel is None:
        raise RuntimeError("pygame_async worker started without its channel")
    try:
        _serve(channel)
    finally:
        # Whatever ends the loop, the game must see this worker's pipe close:
        # that is how it learns the worker will not answer any more.
        channel.close()


def _serve(channel: Connection) -> None:
    registry: dict[int, tuple[str, Callable[..., Any] | RemoteFailure]] = {}
    if _setup is not None:
        try:
            initializer, initargs = _serialization.loads(_setup)
            initializer(*initargs)
        except BaseException as exc:
            channel.send_bytes(
                _protocol.encode((_protocol.START_FAILED, _failure(_protocol.RAISED, exc)))
            )
            return
    channel.send_bytes(_protocol.encode((_protocol.HELLO, os.getpid())))
    # The pool may hand us several short calls at once; a SKIP for one of them
    # can arrive while an earlier one runs, so newer batches are read between
    # calls and SKIPs applied at once.
    global _replies
    _replies = replies = _Replies(channel)
    pending: deque[tuple[Any, ...]] = deque()
    readable = _protocol.Readable(channel)
    while True:
        try:
            if not pending or readable():
                _take(_protocol.decode(channel.recv_bytes()), pending, channel)
                continue
        except EOFError:
            return  # the game is gone: nobody is left to serve
        operation = pending.popleft()
        kind = operation[0]
        if kind == _protocol.CALL:
            _, task_id, definition_id, arguments = operation
            reply, buffers = _run(channel, task_id, registry[definition_id], arguments)
            if _memory_limit is not None:
                resident = _resident_memory()
                if resident is not None and resident > _memory_limit:
                    # Before the reply, so the pool never gives us another call.
                    replies.flush()
                    channel.send_bytes(_protocol.encode((_protocol.OVER_MEMORY, resident)))
            if buffers:
                replies.flush()
                channel.send_bytes(_protocol.encode(reply))
                for buffer in buffers:
                    _protocol.send_raw(channel, buffer)
                    buffer.release()  # a Surface stays locked while its buffer is exported
            else:
                replies.add(reply, bool(pending) and pending[0][0] == _protocol.CALL)
        elif kind == _protocol.DEFINE:
            _, definition_id, name, blob = operation
            registry[definition_id] = (name, _load_definition(blob))
        elif kind == _protocol.FORGET:
            registry.pop(operation[1], None)
        elif kind == _protocol.STOP:
            return


def _take(
    operations: list[tuple[Any, ...]], pending: deque[tuple[Any, ...]], channel: Connection
) -> None:
    """Queue a batch of operations, reading big definitions that follow it, applying SKIPs."""
    for operation in operations:
        if operation[0] == _protocol.DEFINE and isinstance(operation[3], int):
            blob = _protocol.receive_raw(channel, operation[3], writable=False)
            pending.append((*operation[:3], blob))
            continue
        if operation[0] != _protocol.SKIP:
            pending.append(operation)
            continue
        task_id = operation[1]
        for queued in pending:
            if queued[0] == _protocol.CALL and queued[1] == task_id:
                pending.remove(queued)
                if _replies is not None:
                    _replies.flush()
                channel.send_bytes(_protocol.encode((_protocol.SKIPPED, task_id)))
                break


def _resident_memory() -> int | None:
    """Return this process's resident memory in bytes, where the platform tells."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # the peak, where no current


def _load_definition(blob: bytes) -> Callable[..., Any] | RemoteFailure:
    try:
        function: Callable[..., Any] = _serialization.loads(blob)
    except BaseException as exc:
        return _failure(_protocol.NOT_LOADED, exc)
    return function


def _run(
    channel: Connection,
    task_id: int,
    definition: tuple[str, Callable[..., Any] | RemoteFailure],
    arguments: bytes,
) -> tuple[tuple[Any, ...], list[pickle.PickleBuffer]]:
    """Run one call; return the reply and the raw buffers to send after it."""
    global _reporter
    started = time.perf_counter()
    _name, function = definition
    if isinstance(function, RemoteFailure):
        return (_protocol.FAILED, task_id, function, 0.0), []
    _reporter = reporter = _ProgressReporter(channel, task_id)
    try:
        args, kwargs = _serialization.loads(arguments)
        value = function(*args, **kwargs)
    except BaseException as exc:
        failure = _failure(_protocol.RAISED, exc)
        return (_protocol.FAILED, task_id, failure, _since(started)), []
    finally:
        _reporter = None
        reporter.flush()
    try:
        blob, buffers = _serialization.dumps_out_of_band(value)
    except BaseException as exc:
        failure = _failure(_protocol.NOT_SENT, exc)
        return (_protocol.FAILED, task_id, failure, _since(started)), []
    layout = []
    for buffer in buffers:
        with buffer.raw() as view:
            layout.append((view.nbytes, not view.readonly))
    return (_protocol.RESULT, task_id, blob, _since(started), layout), buffers


def _since(started: float) -> float:
    return time.perf_counter() - started


def _failure(kind: str, exc: BaseException) -> RemoteFailure:
    """Describe an exception in a form that always pickles."""
    try:
        exception_blob: bytes | None = _serialization.dumps(exc)
    except BaseException:
        exception_blob = None
    return RemoteFailure(
        kind=kind,
        type_name=_serialization.describe(exc),
        message=_text_of(exc),
        traceback="".join(traceback.format_exception(exc)),
        exception_blob=exception_blob,
    )


def _text_of(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:
        return f"<{type(exc).__name__} whose str() failed>"
