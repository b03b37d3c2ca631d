"""The game's end of a worker's sockets: writes and reads that never block the game.

* :class:`Outbox` queues what the game has to send a worker and writes as
  much as the main socket takes *without blocking*; the lane's I/O thread
  writes the rest when there is room.  A worker that stops reading
  (stopped, stuck, or busy writing a big reply) costs nothing but its own
  outbox.
* :class:`FrameReader` reads the main socket without blocking, many frames
  per system call, keeping a frame that arrived in part for the next read;
  any thread may read, one at a time.
* What a frame sends on the bulk socket (raw buffers, a long body) is read
  by :func:`receive_bulk`, on a thread of its own, which blocks on that one
  socket with the GIL released, holding no lock of the pool's: megabytes
  then cost the game's thread nothing.
"""

from __future__ import annotations

import itertools
import mmap
import select
import socket
import struct
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from pygame_async._lanes.process import wire
from pygame_async._lanes.process.staging import fresh_memory
from pygame_async._lanes.process.wire import FromWorker, Reply, Result, WireError

_FRAMES_PER_READ = 256  # a reader returns after this many, so a flood cannot hold it
_LONGEST_FRAME = wire.FRAME.size + wire.INLINE_BODY
_CAPACITY = 2 * _LONGEST_FRAME  # the reader's buffer: room for a whole frame, and more
_BUFFERS_PER_WRITE = 64  # chunks handed to one sendmsg()
_BULK_PATIENCE = 0.1  # seconds a bulk read waits before checking its worker is alive

# Where sockets have no per-call non-blocking flag (Windows), the game's end
# is made non-blocking instead, and bulk reads wait with select().
_DONTWAIT: int = getattr(socket, "MSG_DONTWAIT", 0)
_NOWAIT = _DONTWAIT | getattr(socket, "MSG_NOSIGNAL", 0)


def prepare(channel: socket.socket, bulk: socket.socket) -> None:
    """Set up the game's ends of a worker's sockets for the reads and writes below."""
    if not _DONTWAIT:  # pragma: no cover - Windows
        channel.setblocking(False)
        bulk.setblocking(False)
        return
    # A bulk read blocks in recv() with the GIL released; waking every so
    # often lets it notice that its worker died mid-message.
    seconds = int(_BULK_PATIENCE)
    micros = int((_BULK_PATIENCE - seconds) * 1_000_000)
    bulk.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", seconds, micros))


class Outbox:
    """What the game has yet to write to one worker, in order, written without blocking.

    Each chunk may carry calls: once the chunk is wholly written those calls
    have left (``unsent`` loses them), and the worker may have started them.
    """

    __slots__ = ("_channel", "_chunks", "unsent")

    def __init__(self, channel: socket.socket) -> None:
        self._channel = channel
        self._chunks: deque[tuple[memoryview, list[Any]]] = deque()
        self.unsent: set[Any] = set()  # calls in a chunk not yet wholly written

    def __bool__(self) -> bool:
        return bool(self._chunks)

    def add(self, data: bytes | memoryview, calls: Iterable[Any] = ()) -> None:
        """Queue ``data`` after what is queued; ``calls`` leave when it is wholly written."""
        carried = list(calls)
        self.unsent.update(carried)
        self._chunks.append((memoryview(data).cast("B"), carried))

    def send_nowait(self) -> bool:
        """Write what the socket takes now; True once nothing is left.

        Raises ``ConnectionError`` if the worker's end is closed.
        """
        chunks = self._chunks
        while chunks:
            try:
                if len(chunks) > 1 and hasattr(self._channel, "sendmsg"):
                    views = [chunk for chunk, _ in itertools.islice(chunks, _BUFFERS_PER_WRITE)]
                    sent = self._channel.sendmsg(views, (), _NOWAIT)
                else:
                    sent = self._channel.send(chunks[0][0], _NOWAIT)
            except BlockingIOError:
                return False
            except InterruptedError:
                continue
            while sent and chunks:
                chunk, calls = chunks[0]
                if sent < len(chunk):
                    chunks[0] = (chunk[sent:], calls)
                    break
                sent -= len(chunk)
                chunks.popleft()
                self.unsent.difference_update(calls)
        return True

    def clear(self) -> None:
        """Forget everything not yet written (the worker is gone)."""
        self._chunks.clear()


class BulkFrame(NamedTuple):
    """A frame that sent something on the bulk socket, read by :func:`receive_bulk`."""

    kind: FromWorker
    flags: int
    length: int
    reply: Reply | None  # decoded already, if its body was on main


class FrameReader:
    """Reads whole frames from a worker's main socket without ever blocking.

    Only one thread reads at a time (the worker's ``reading`` lock); what
    arrived of a frame stays in the buffer until the rest does.  Reading
    stops at a frame that sent something on bulk, until that is read.
    """

    __slots__ = ("_buffer", "_channel", "_end", "_start", "_view", "eof", "truncated")

    def __init__(self, channel: socket.socket) -> None:
        self._channel = channel
        self._buffer = bytearray(_CAPACITY)
        self._view = memoryview(self._buffer)
        self._start = 0  # the first byte not parsed yet
        self._end = 0  # one past the last byte received
        self.eof = False  # the worker's end is closed: nothing more will come
        self.truncated = False  # it closed in the middle of a frame

    def read_nowait(self) -> tuple[list[Reply], BulkFrame | None]:
        """Return the replies that have arrived whole, and a frame with bulk data, if any.

        Raises :class:`WireError` when the worker sent something that is not
        a frame; nothing that follows can be trusted then.
        """
        replies: list[Reply] = []
        while True:
            bulk = self._parse(replies)
            if bulk is not None or len(replies) >= _FRAMES_PER_READ or not self._receive():
                return replies, bulk

    def has_frame(self) -> bool:
        """Tell whether a whole frame is in the buffer already, so its socket may be empty.

        A read returns after ``_FRAMES_PER_READ`` frames, leaving the rest
        here: whoever waits for this worker's replies must read again rather
        than wait for the socket.  A hint, read without ``reading``: wrong
        only while another thread is reading, which then reads the frame.
        """
        start, end = self._start, self._end
        if end - start < wire.FRAME.size:
            return False
        _kind, flags, length = wire.FRAME.unpack_from(self._buffer, start)
        inline = 0 if flags & wire.BODY_ON_BULK else length
        return end - start - wire.FRAME.size >= inline

    def _parse(self, replies: list[Reply]) -> BulkFrame | None:
        """Decode the whole frames in the buffer, up to one with bulk data."""
        header = wire.FRAME
        buffer, view = self._buffer, self._view
        start, end = self._start, self._end
        try:
            while end - start >= header.size and len(replies) < _FRAMES_PER_READ:
                kind, flags, length = header.unpack_from(buffer, start)
                known = wire.check_header(kind, flags, length)
                inline = 0 if flags & wire.BODY_ON_BULK else length
                body = start + header.size
                if end - body < inline:
                    break  # the rest of this frame has not arrived yet
                start = body + inline
                if flags & wire.BODY_ON_BULK:
                    return BulkFrame(known, flags, length, None)
                reply = wire.decode_at(known, view, body, start)
                if flags & wire.RAW_FOLLOWS:
                    return BulkFrame(known, flags, length, reply)
                replies.append(reply)
            return None
        finally:
            self._start = start

    def _receive(self) -> bool:
        """Read what has arrived on main, without blocking; True if anything did."""
        if self._start == self._end:
            self._start = self._end = 0
        elif _CAPACITY - self._end < _LONGEST_FRAME:
            kept = self._end - self._start
            self._buffer[:kept] = self._buffer[self._start : self._end]
            self._start, self._end = 0, kept
        try:
            count = self._channel.recv_into(self._view[self._end :], _CAPACITY - self._end, _NOWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            count = 0
        if count == 0:
            self.eof = True
            self.truncated = self._start != self._end
            return False
        self._end += count
        return True


def receive_bulk(bulk: socket.socket, frame: BulkFrame, worker_gone: Callable[[], bool]) -> Reply:
    """Read what a frame sent on the bulk socket: its body, its raw buffers; blocks there.

    ``worker_gone()`` tells whether the worker has exited: then what is not
    on the socket already never will be, and the read ends in ``EOFError``.
    Raises ``MemoryError`` if the game cannot hold what was announced, and
    :class:`WireError` for a malformed frame.
    """
    reply = frame.reply
    if reply is None:
        body = bytearray(frame.length)
        _receive_exactly(bulk, memoryview(body), worker_gone)
        reply = wire.decode(frame.kind, body)
    if frame.flags & wire.RAW_FOLLOWS:
        if not isinstance(reply, Result) or not reply.layout:
            raise WireError(f"a {frame.kind.name} frame announcing raw buffers it does not list")
        buffers = tuple(
            _receive_raw(bulk, size, writable, worker_gone) for size, writable in reply.layout
        )
        reply = reply._replace(buffers=buffers)
    return reply


def _receive_raw(
    channel: socket.socket, size: int, writable: bool, worker_gone: Callable[[], bool]
) -> mmap.mmap | bytes:
    """Read a raw buffer into fresh memory, with the GIL released while it reads.

    A writable buffer (a Surface's pixels) arrives as writable memory its new
    owner can adopt; a read-only one (``bytes``) arrives as ``bytes``, so
    rebuilding the value copies nothing.
    """
    if not writable:
        return _receive_bytes(channel, size, worker_gone)
    # An anonymous mapping costs nothing until the read fills its pages, and
    # the kernel fills them inside the read, without the GIL (huge pages: see
    # benchmarks "surface").
    target = fresh_memory(size)
    with memoryview(target) as view:
        _receive_exactly(channel, view, worker_gone)
    return target


def _receive_bytes(channel: socket.socket, size: int, worker_gone: Callable[[], bool]) -> bytes:
    """Read ``size`` bytes as one ``bytes`` object: MSG_WAITALL makes it one system call."""
    data = _recv_waiting(channel, size, worker_gone)
    if len(data) == size:
        return data
    parts = [data]  # the worker paused mid-buffer: rare, a copy is fine
    received = len(data)
    while received < size:
        part = _recv_waiting(channel, size - received, worker_gone)
        parts.append(part)
        received += len(part)
    return b"".join(parts)


def _recv_waiting(channel: socket.socket, size: int, worker_gone: Callable[[], bool]) -> bytes:
    while True:
        try:
            # Once the worker is dead only what is on the socket can come: no waiting.
            data = channel.recv(size, _NOWAIT if worker_gone() else socket.MSG_WAITALL)
        except (BlockingIOError, InterruptedError):
            _patience(channel)
            if worker_gone() and _drained(channel):
                raise EOFError("the worker died in the middle of a message") from None
            continue
        if not data:
            raise EOFError("the worker's socket closed in the middle of a message")
        return data


def _receive_exactly(
    channel: socket.socket, view: memoryview, worker_gone: Callable[[], bool]
) -> None:
    received = 0
    while received < len(view):
        flags = _NOWAIT if worker_gone() else socket.MSG_WAITALL
        try:
            count = channel.recv_into(view[received:], len(view) - received, flags)
        except (BlockingIOError, InterruptedError):
            _patience(channel)
            if worker_gone() and _drained(channel):
                raise EOFError("the worker died in the middle of a message") from None
            continue
        if count == 0:
            raise EOFError("the worker's socket closed in the middle of a message")
        received += count


def _patience(channel: socket.socket) -> None:
    """After a read that timed out: where sockets have no receive timeout, wait here."""
    if not _DONTWAIT:  # pragma: no cover - Windows
        select.select([channel], [], [], _BULK_PATIENCE)


def _drained(channel: socket.socket) -> bool:
    """Tell whether nothing is left to read (its worker being dead, nothing more will come)."""
    try:
        return not channel.recv(1, _NOWAIT | socket.MSG_PEEK)
    except (BlockingIOError, InterruptedError):
        return True
    except OSError:
        return True
