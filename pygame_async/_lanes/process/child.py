"""What runs inside a worker process: :func:`main`, then the serve loop.

A worker is a process started by the pool (see :mod:`.spawning`) with one
end of each of its two sockets.  It reads batches of operations from main
and writes one frame per reply (see :mod:`.wire`), each as soon as its call
ends and before the next one starts, so a crash never loses a finished call;
big bodies and raw buffers go on bulk.

The worker keeps a registry of definitions: a function crosses the process
boundary, with everything it closes over, once per worker and version, and
calls name it by id.  Nothing a user function does (raise, return something
unpicklable, call ``sys.exit()``, leave threads running, need a module the
worker lacks) can break this loop: only killing the process can.  When the
loop ends the process leaves with ``os._exit``, whatever threads it has.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import math
import multiprocessing
import os
import pickle
import select
import signal
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from multiprocessing import connection
from typing import Any

from pygame_async._core import progress, running, serialization
from pygame_async._lanes.failures import (
    FailureKind,
    RemoteFailure,
    describe_failure,
    why_not_sent,
)
from pygame_async._lanes.process import wire
from pygame_async._lanes.process.staging import fresh_memory

_LOW_PRIORITY_NICENESS = 10  # added to the game's: the scheduler's weight for it is ~1/10
_BELOW_NORMAL_PRIORITY_CLASS = 0x4000  # Windows: one step below the game's normal class
# Progress reports are sent at most this often; the latest one in between is
# kept, and sent before the call's reply, so the game always ends up with it.
_PROGRESS_INTERVAL = 0.01
# While calls are queued here, the socket is checked for news (a SKIP, most
# likely) at most this often: a system call per tiny call would cost more
# than the call.
_INPUT_CHECK_INTERVAL = 0.0005

# This worker's ends of its sockets (tests write to them to play a broken worker).
_channel: socket.socket | None = None
_bulk: socket.socket | None = None


def main(
    channel: socket.socket,
    bulk: socket.socket,
    setup: bytes | None,
    memory_limit: int | None,
    worker_setups: tuple[Callable[[], object], ...] = (),
    low_priority: bool = False,
) -> None:
    """Run the worker process: prepare, serve until told to stop, leave."""
    global _channel, _bulk
    _channel, _bulk = channel, bulk
    code = 0
    try:
        _prepare(worker_setups, low_priority)
        _Server(channel, bulk, memory_limit).serve(setup)
    except BaseException:  # a broken pipe (the game is gone), or worse: nothing to tell
        code = 1
    finally:
        # os._exit, not a return: a thread a call left running must not keep
        # this process alive (and the interpreter's exit would wait for it).
        os._exit(code)


def _prepare(
    worker_setups: tuple[Callable[[], object], ...] = (), low_priority: bool = False
) -> None:
    """Make this process a well-behaved worker before it runs anything of the game's."""
    if low_priority:
        _lower_priority()  # first: on Linux a thread's priority is its own, inherited
    _die_with_parent()
    # A function that imports pygame must not print its banner in every worker.
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    # Ctrl+C in a terminal signals the whole process group; the game decides
    # what it means, and its pool stops the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # What the package front plugged in (Surface pickling): this worker never
    # runs the front unless a call uses it (see .bootstrap).
    for worker_setup in worker_setups:
        worker_setup()


def _lower_priority() -> None:
    """Run below the game, so that when every core is busy its frames are scheduled first.

    Work in the background should wait for a free core rather than take one
    from the game's thread mid-frame (see benchmarks "frames").  Lowering a
    priority needs no privilege, so this fails only where the system forbids
    it; the worker then runs at the game's priority.
    """
    if sys.platform == "win32":  # pragma: no cover - Windows
        kernel32 = ctypes.WinDLL("kernel32")
        kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), _BELOW_NORMAL_PRIORITY_CLASS)
        return
    with contextlib.suppress(OSError):
        os.nice(_LOW_PRIORITY_NICENESS)


def _die_with_parent() -> None:
    """Make sure this worker never outlives the game, however the game ends."""
    if sys.platform.startswith("linux"):
        # The kernel kills us when the parent *thread* that started us exits,
        # even while we hold the GIL in a long C call; the pool starts every
        # worker from its starter thread, which lives as long as the pool.
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


class _ProgressReporter:
    """Sends the running call's progress to the game, throttled; one per worker."""

    __slots__ = ("_pending", "_sent_at", "_server", "_task_id")

    def __init__(self, server: _Server) -> None:
        self._server = server
        self._task_id = 0
        self._sent_at = -math.inf
        self._pending: tuple[float, str | None] | None = None

    def start(self, task_id: int) -> None:
        """Report for this call from now on."""
        self._task_id = task_id
        self._sent_at = -math.inf

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
        self._server.send(wire.encode_progress(self._task_id, fraction, message))


class _Server:
    """The serve loop: operations in, one reply out per call, in order."""

    def __init__(
        self, channel: socket.socket, bulk: socket.socket, memory_limit: int | None
    ) -> None:
        self._channel = channel
        self._bulk = bulk
        self._memory_limit = memory_limit
        self._registry: dict[int, Callable[..., Any] | RemoteFailure] = {}
        # The pool may hand us several short calls at once; a SKIP for one of
        # them can arrive while an earlier one runs, so batches that arrived
        # meanwhile are read between calls and SKIPs applied at once.
        self._pending: deque[tuple[Any, ...]] = deque()
        self._header = bytearray(wire.FRAME.size)
        self._poller = select.poll() if hasattr(select, "poll") else None
        if self._poller is not None:
            self._poller.register(channel.fileno(), select.POLLIN)
        self._checked_input_at = -math.inf
        self._reporter = _ProgressReporter(self)
        progress.set_reporter(self._reporter)

    def serve(self, setup: bytes | None) -> None:
        if setup is not None:
            try:
                initializer, initargs = serialization.loads(setup)
                initializer(*initargs)
            except BaseException as exc:
                self.send(wire.encode_start_failed(describe_failure(FailureKind.RAISED, exc)))
                return
        self.send(wire.encode_hello(os.getpid()))
        while True:
            if not self._pending or self._has_input():
                if not self._read_batch():
                    return  # the game is gone: nobody is left to serve
                self._checked_input_at = -math.inf  # more may have come: look again at once
                continue
            operation = self._pending.popleft()
            kind = operation[0]
            if kind == wire.CALL:
                self._call(*operation[1:])
            elif kind == wire.DEFINE:
                _, definition_id, _name, blob = operation
                self._registry[definition_id] = _load_definition(blob)
            elif kind == wire.FORGET:
                self._registry.pop(operation[1], None)
            elif kind == wire.SYS_PATH:
                _follow_sys_path(operation[1])
            elif kind == wire.STOP:
                return

    def send(self, message: wire.Message, buffers: list[pickle.PickleBuffer] | None = None) -> None:
        """Send one message, its body on bulk if it is long, then its raw buffers on bulk."""
        kind, body = message
        flags = wire.RAW_FOLLOWS if buffers else 0
        if len(body) > wire.INLINE_BODY:
            self._channel.sendall(wire.FRAME.pack(kind, flags | wire.BODY_ON_BULK, len(body)))
            self._bulk.sendall(body)
        else:
            self._channel.sendall(wire.FRAME.pack(kind, flags, len(body)) + body)
        for buffer in buffers or ():
            with buffer.raw() as view:
                self._bulk.sendall(view)
            buffer.release()  # a Surface stays locked while its buffer is exported

    def _has_input(self) -> bool:
        """Tell, without blocking, whether the game has sent more (it is asked between calls)."""
        now = time.monotonic()
        if now - self._checked_input_at < _INPUT_CHECK_INTERVAL:
            return False
        self._checked_input_at = now
        if self._poller is None:
            return bool(connection.wait([self._channel], 0))
        return bool(self._poller.poll(0))

    def _read_batch(self) -> bool:
        """Read one batch and queue its operations; False once the game has gone."""
        if not _receive_into(self._channel, memoryview(self._header)):
            return False
        _kind, _flags, length = wire.FRAME.unpack(self._header)
        body = bytearray(length)
        if not _receive_into(self._channel, memoryview(body)):
            return False
        for operation in pickle.loads(body):
            kind = operation[0]
            if kind == wire.DEFINE and isinstance(operation[3], int):
                blob = _receive_bytes(self._bulk, operation[3])  # a big definition, on bulk
                if blob is None:
                    return False
                self._pending.append((*operation[:3], blob))
            elif kind == wire.CALL and len(operation) == 5:  # big arguments follow, on bulk
                buffers = []
                for size, writable in operation[4]:
                    buffer = _receive_buffer(self._bulk, size, writable)
                    if buffer is None:
                        return False
                    buffers.append(buffer)
                self._pending.append((*operation[:4], buffers))
            elif kind == wire.SKIP:
                self._skip(operation[1])
            else:
                self._pending.append(operation)
        return True

    def _skip(self, task_id: int) -> None:
        for queued in self._pending:
            if queued[0] == wire.CALL and queued[1] == task_id:
                self._pending.remove(queued)
                self.send(wire.encode_skipped(task_id))
                return

    def _call(
        self, task_id: int, definition_id: int, arguments: bytes, buffers: Sequence[Any] = ()
    ) -> None:
        started = time.perf_counter()
        function = self._registry[definition_id]
        if isinstance(function, RemoteFailure):
            self._reply(wire.encode_failed(task_id, 0.0, function))
            return
        reporter = self._reporter
        reporter.start(task_id)
        try:
            args, kwargs = serialization.loads(arguments, buffers)
            value = running.run_to_completion(function, args, kwargs)
        except BaseException as exc:
            kind = FailureKind.RAISED if isinstance(exc, Exception) else FailureKind.EXITED
            reporter.flush()
            self._reply(wire.encode_failed(task_id, _since(started), describe_failure(kind, exc)))
            return
        reporter.flush()
        try:
            blob, buffers = serialization.dumps_out_of_band(value)
        except BaseException as exc:
            failure = describe_failure(FailureKind.NOT_SENT, exc, why_not_sent(value, exc))
            self._reply(wire.encode_failed(task_id, _since(started), failure))
            return
        layout = []
        for buffer in buffers:
            with buffer.raw() as view:
                layout.append((view.nbytes, not view.readonly))
        self._reply(wire.encode_result(task_id, _since(started), layout, blob), buffers)

    def _reply(self, reply: wire.Message, buffers: list[pickle.PickleBuffer] | None = None) -> None:
        """Send a call's reply, and the raw buffers it announces, before anything else runs."""
        if self._memory_limit is not None:
            resident = _resident_memory()
            if resident is not None and resident > self._memory_limit:
                # Before the reply, so the pool never gives us another call.
                self.send(wire.encode_over_memory(resident))
        self.send(reply, buffers)


def _receive_into(channel: socket.socket, view: memoryview) -> bool:
    """Fill ``view`` from the socket; False if the game closed it first."""
    received = 0
    while received < len(view):
        count = channel.recv_into(view[received:], len(view) - received, socket.MSG_WAITALL)
        if count == 0:
            return False
        received += count
    return True


def _receive_bytes(channel: socket.socket, size: int) -> bytes | None:
    """Read ``size`` bytes as one ``bytes`` object (no copy when it comes whole); None at EOF."""
    data = channel.recv(size, socket.MSG_WAITALL)
    if len(data) == size:
        return data
    parts = [data]
    received = len(data)
    while received < size:
        part = channel.recv(size - received, socket.MSG_WAITALL)
        if not part:
            return None
        parts.append(part)
        received += len(part)
    return b"".join(parts)


def _receive_buffer(channel: socket.socket, size: int, writable: bool) -> Any:
    """Read an argument's raw buffer: writable memory for a mutable one, else ``bytes``."""
    if not writable:
        return _receive_bytes(channel, size)
    memory = fresh_memory(size)
    with memoryview(memory) as view:
        if not _receive_into(channel, view):
            return None
    return memory


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


def _follow_sys_path(entries: tuple[str, ...]) -> None:
    """Append the game's ``sys.path`` entries this worker lacks, in the game's order.

    Entries are only ever added: a function run here earlier may rely on the
    worker's own, and the worker started with the game's path of that time.
    """
    present = set(sys.path)
    added = [entry for entry in dict.fromkeys(entries) if entry not in present]
    if added:
        sys.path.extend(added)
        importlib.invalidate_caches()  # a finder may have cached those folders as missing


def _load_definition(blob: bytes) -> Callable[..., Any] | RemoteFailure:
    try:
        function: Callable[..., Any] = serialization.loads(blob)
    except BaseException as exc:
        return describe_failure(FailureKind.NOT_LOADED, exc)
    return function


def _since(started: float) -> float:
    return time.perf_counter() - started
