"""The wire between the game and a worker: frames, message kinds, and how failures travel.

Each worker has two stream sockets, *main* and *bulk*.  Everything on main
is a *frame*: a fixed header, ``FRAME`` (kind, flags, body length), then the
body.  Big things travel on bulk, in the order of the frames that announce
them, so main only ever carries small frames and the game can read many of
them at once without ever reading into a megabyte it did not expect:

* a frame whose header has ``RAW_FOLLOWS`` announces raw buffers (a
  Surface's pixels, a big ``bytes``), sent on bulk after it, without being
  copied into a pickle; its body lists their sizes;
* a frame whose header has ``BODY_ON_BULK`` has its body (longer than
  ``INLINE_BODY``) on bulk instead of after the header.

The game sends a big definition's blob on bulk too: the batch that defines it
gives its size, and the worker reads it from bulk when it meets it.

Game to worker: one frame kind, ``BATCH``, whose body is a pickled list of
operations (the worker trusts the game: it runs the game's code)::

    (SYS_PATH, entries)                    append the game's sys.path entries the
                                worker lacks, in order (before a DEFINE made with them)
    (DEFINE, definition_id, name, blob)    load a function into the registry
                                (blob is an int size when the blob is on bulk)
    (FORGET, definition_id)                drop a superseded definition
    (CALL, task_id, definition_id, arguments)   run a call
    (CALL, task_id, definition_id, arguments, layout)   run a call whose big
                                raw buffers follow on bulk: layout gives each
                                one's (size, writable)
    (SKIP, task_id)                        drop that call if it has not started
    (STOP,)                                leave after the calls before it

Worker to game: one frame per message, in a fixed binary layout read with
:mod:`struct`, never with pickle, so whatever a worker writes can at worst
be refused (:class:`WireError`); it cannot run code in the game::

    HELLO        pid                         ready to take calls
    START_FAILED failure                     the pool's initializer raised
    OVER_MEMORY  resident bytes              above the memory limit (before the reply)
    PROGRESS     task_id, fraction, message  the running call reported progress
    RESULT       task_id, seconds, layout, blob   the call returned; blob is the
                                             pickled value, layout the (size,
                                             writable) of each raw buffer after it
    FAILED       task_id, seconds, failure   the call raised; see RemoteFailure
    SKIPPED      task_id                     dropped before it started (SKIP)

A worker writes each reply as soon as its call ends, before it starts the
next: a crash can never take the outcome of a finished call with it.
``seconds`` is how long the worker spent on the call: the pool's estimate of
the next one.  Result blobs and the exception inside a failure are pickles,
opened with the full unpickler when the game asks for the outcome: results
are trusted like the game's own code, which made them (see README, "Trust").
"""

from __future__ import annotations

import enum
import math
import pickle
import struct
from typing import Any, NamedTuple

# How a failure is described and rebuilt is shared with the dask lane.
from pygame_async._lanes.failures import FailureKind, RemoteFailure


class ToWorker(enum.IntEnum):
    """The operations of a batch sent to a worker."""

    DEFINE = 0
    FORGET = 1
    CALL = 2
    STOP = 3
    SKIP = 4
    SYS_PATH = 5


# The operations as plain ints, as they travel: a member of an IntEnum would
# pickle as a reference to its class, costing the worker a lookup per operation.
DEFINE, FORGET, CALL, STOP, SKIP, SYS_PATH = map(
    int,
    (
        ToWorker.DEFINE,
        ToWorker.FORGET,
        ToWorker.CALL,
        ToWorker.STOP,
        ToWorker.SKIP,
        ToWorker.SYS_PATH,
    ),
)


class FromWorker(enum.IntEnum):
    """The kinds of frame a worker sends to the game."""

    BATCH = 0  # the one kind the game sends; listed so the two sides never clash
    HELLO = 5
    RESULT = 6
    FAILED = 7
    PROGRESS = 8
    START_FAILED = 9
    OVER_MEMORY = 10
    SKIPPED = 11


FRAME = struct.Struct("!BBQ")
"""Frame header: kind, flags, body length in bytes."""
RAW_FOLLOWS = 1
"""Header flag (from a worker): raw buffers follow, on its bulk socket."""
BODY_ON_BULK = 2
"""Header flag (from a worker): the body is on the bulk socket, not after the header."""
INLINE_BODY = 1 << 16
"""Bodies longer than this travel on the bulk socket."""
MAX_BODY = 1 << 40
"""Longest body a header may announce: anything longer is not ours."""

_U64 = struct.Struct("!Q")
_PROGRESS = struct.Struct("!QdB")  # task id, fraction, has message
_RESULT = struct.Struct("!QdI")  # task id, seconds, raw buffer count
_RAW_BUFFER = struct.Struct("!QB")  # size, writable
_FAILED = struct.Struct("!Qd")  # task id, seconds
_FAILURE = struct.Struct("!BIIIQB")  # kind, 3 text lengths, blob length, has blob


class WireError(Exception):
    """A worker sent something that is not a valid message; says what arrived."""


class Hello(NamedTuple):
    """HELLO: the worker is ready to take calls."""

    pid: int


class StartFailed(NamedTuple):
    """START_FAILED: the pool's initializer raised; the worker is leaving."""

    failure: RemoteFailure


class OverMemory(NamedTuple):
    """OVER_MEMORY: the worker's resident memory passed the pool's limit."""

    resident: int


class Progress(NamedTuple):
    """PROGRESS: the running call reported how far it is."""

    task_id: int
    fraction: float
    message: str | None


class Result(NamedTuple):
    """RESULT: the call returned; ``buffers`` are filled in once the raw data arrived."""

    task_id: int
    seconds: float
    layout: tuple[tuple[int, bool], ...]
    blob: bytes
    buffers: tuple[Any, ...] = ()


class Failed(NamedTuple):
    """FAILED: the call raised (or could not run, or its result could not be sent)."""

    task_id: int
    seconds: float
    failure: RemoteFailure


class Skipped(NamedTuple):
    """SKIPPED: the call was dropped on the worker before it started."""

    task_id: int


Reply = Hello | StartFailed | OverMemory | Progress | Result | Failed | Skipped


# -- game to worker -------------------------------------------------------------


def encode_batch(operations: list[tuple[Any, ...]]) -> bytes:
    """Frame a batch of operations for a worker (big definitions travel on bulk)."""
    body = pickle.dumps(operations, protocol=pickle.HIGHEST_PROTOCOL)
    return FRAME.pack(FromWorker.BATCH, 0, len(body)) + body


# -- worker to game: encoding (in the worker) --------------------------------------
# Each returns the frame's kind and body; the worker puts the header on and
# chooses the socket (see child._Server.send).

Message = tuple[FromWorker, bytes]


def encode_hello(pid: int) -> Message:
    """Encode HELLO."""
    return FromWorker.HELLO, _U64.pack(pid)


def encode_start_failed(failure: RemoteFailure) -> Message:
    """Encode START_FAILED."""
    return FromWorker.START_FAILED, _encode_failure(failure)


def encode_over_memory(resident: int) -> Message:
    """Encode OVER_MEMORY."""
    return FromWorker.OVER_MEMORY, _U64.pack(resident)


def encode_progress(task_id: int, fraction: float, message: str | None) -> Message:
    """Encode PROGRESS."""
    text = b"" if message is None else message.encode("utf-8", "surrogatepass")
    return FromWorker.PROGRESS, _PROGRESS.pack(task_id, fraction, message is not None) + text


def encode_result(
    task_id: int, seconds: float, layout: list[tuple[int, bool]], blob: bytes
) -> Message:
    """Encode RESULT; the raw buffers of ``layout`` must follow it, on bulk."""
    parts = [_RESULT.pack(task_id, seconds, len(layout))]
    parts += [_RAW_BUFFER.pack(size, writable) for size, writable in layout]
    parts.append(blob)
    return FromWorker.RESULT, b"".join(parts)


def encode_failed(task_id: int, seconds: float, failure: RemoteFailure) -> Message:
    """Encode FAILED."""
    return FromWorker.FAILED, _FAILED.pack(task_id, seconds) + _encode_failure(failure)


def encode_skipped(task_id: int) -> Message:
    """Encode SKIPPED."""
    return FromWorker.SKIPPED, _U64.pack(task_id)


def _encode_failure(failure: RemoteFailure) -> bytes:
    texts = [
        text.encode("utf-8", "surrogatepass")
        for text in (failure.type_name, failure.message, failure.traceback)
    ]
    blob = failure.exception_blob
    header = _FAILURE.pack(
        failure.kind,
        *(len(text) for text in texts),
        0 if blob is None else len(blob),
        blob is not None,
    )
    return b"".join([header, *texts, blob or b""])


# -- worker to game: decoding (in the game) -----------------------------------------


_FROM_WORKER = {int(kind): kind for kind in FromWorker if kind is not FromWorker.BATCH}
_FLAGS = RAW_FOLLOWS | BODY_ON_BULK


def check_header(kind: int, flags: int, length: int) -> FromWorker:
    """Return the kind of a frame header a worker sent, or raise WireError."""
    known = _FROM_WORKER.get(kind)
    # One test for the usual header (it runs for every reply), then the reasons.
    if (
        known is not None
        and not flags & ~_FLAGS
        and (length <= INLINE_BODY or flags & BODY_ON_BULK)
        and length <= MAX_BODY
        and (not flags & RAW_FOLLOWS or known is FromWorker.RESULT)
    ):
        return known
    if known is None:
        raise WireError(f"a frame of unknown kind {kind} ({length} bytes)")
    if length > MAX_BODY:
        raise WireError(f"a {known.name} frame announcing {length} bytes")
    if length > INLINE_BODY and not flags & BODY_ON_BULK:
        raise WireError(f"a {known.name} frame of {length} bytes on the main socket")
    raise WireError(f"a {known.name} frame with flags {flags:#x}")


def decode_at(kind: FromWorker, view: memoryview, start: int, end: int) -> Reply:
    """Decode the body at ``view[start:end]``; the usual small RESULT without a detour."""
    if kind is FromWorker.RESULT and end - start >= _RESULT.size:
        task_id, seconds, count = _RESULT.unpack_from(view, start)
        if not count:
            if not 0.0 <= seconds < math.inf:
                seconds = 0.0
            return Result(task_id, seconds, (), bytes(view[start + _RESULT.size : end]))
    return decode(kind, view[start:end])


def decode(kind: FromWorker, body: bytes | bytearray | memoryview) -> Reply:
    """Decode the body of a frame a worker sent, or raise WireError saying what it was."""
    view = memoryview(body)
    try:
        reply: Reply = _DECODERS[kind](view)
        return reply
    except WireError:
        raise
    except (struct.error, UnicodeDecodeError, ValueError, IndexError) as exc:
        raise WireError(
            f"a malformed {kind.name} frame of {len(view)} bytes "
            f"({bytes(view[:32])!r}{'...' if len(view) > 32 else ''}): {exc}"
        ) from None


def _decode_hello(view: memoryview) -> Hello:
    return Hello(_exact_u64(view, "HELLO"))


def _decode_start_failed(view: memoryview) -> StartFailed:
    failure, end = _decode_failure(view, 0)
    _expect_end(view, end, "START_FAILED")
    return StartFailed(failure)


def _decode_over_memory(view: memoryview) -> OverMemory:
    return OverMemory(_exact_u64(view, "OVER_MEMORY"))


def _decode_progress(view: memoryview) -> Progress:
    task_id, fraction, has_message = _PROGRESS.unpack_from(view)
    if not (math.isfinite(fraction) and 0.0 <= fraction <= 1.0):
        raise WireError(f"a PROGRESS frame with fraction {fraction!r}")
    text = bytes(view[_PROGRESS.size :])
    if has_message not in (0, 1) or (text and not has_message):
        raise WireError("a PROGRESS frame with a malformed message")
    return Progress(
        task_id, fraction, text.decode("utf-8", "surrogatepass") if has_message else None
    )


def _decode_result(view: memoryview) -> Result:
    task_id, seconds, count = _RESULT.unpack_from(view)
    offset = _RESULT.size
    if not count:  # the usual small result: nothing to check but the seconds
        return Result(
            task_id, seconds if 0.0 <= seconds < math.inf else 0.0, (), bytes(view[offset:])
        )
    if count * _RAW_BUFFER.size > len(view) - offset:
        raise WireError(f"a RESULT frame announcing {count} raw buffers in {len(view)} bytes")
    layout = []
    for _ in range(count):
        size, writable = _RAW_BUFFER.unpack_from(view, offset)
        if size > MAX_BODY or writable not in (0, 1):
            raise WireError(f"a RESULT frame announcing a raw buffer of {size} bytes")
        layout.append((size, bool(writable)))
        offset += _RAW_BUFFER.size
    return Result(task_id, _checked_seconds(seconds), tuple(layout), bytes(view[offset:]))


def _decode_failed(view: memoryview) -> Failed:
    task_id, seconds = _FAILED.unpack_from(view)
    failure, end = _decode_failure(view, _FAILED.size)
    _expect_end(view, end, "FAILED")
    return Failed(task_id, _checked_seconds(seconds), failure)


def _decode_skipped(view: memoryview) -> Skipped:
    return Skipped(_exact_u64(view, "SKIPPED"))


def _decode_failure(view: memoryview, offset: int) -> tuple[RemoteFailure, int]:
    kind, *lengths, blob_length, has_blob = _FAILURE.unpack_from(view, offset)
    offset += _FAILURE.size
    texts = []
    for length in lengths:
        if offset + length > len(view):
            raise WireError("a failure whose text runs past its frame")
        texts.append(bytes(view[offset : offset + length]).decode("utf-8", "surrogatepass"))
        offset += length
    if has_blob not in (0, 1) or offset + blob_length > len(view):
        raise WireError("a failure whose exception runs past its frame")
    blob = bytes(view[offset : offset + blob_length]) if has_blob else None
    failure = RemoteFailure(FailureKind(kind), texts[0], texts[1], texts[2], blob)
    return failure, offset + blob_length


def _exact_u64(view: memoryview, what: str) -> int:
    _expect_end(view, _U64.size, what)
    value: int = _U64.unpack_from(view)[0]
    return value


def _expect_end(view: memoryview, end: int, what: str) -> None:
    if len(view) != end:
        raise WireError(f"a {what} frame of {len(view)} bytes where {end} were expected")


def _checked_seconds(seconds: float) -> float:
    return seconds if math.isfinite(seconds) and seconds >= 0 else 0.0


_DECODERS: dict[FromWorker, Any] = {
    FromWorker.HELLO: _decode_hello,
    FromWorker.START_FAILED: _decode_start_failed,
    FromWorker.OVER_MEMORY: _decode_over_memory,
    FromWorker.PROGRESS: _decode_progress,
    FromWorker.RESULT: _decode_result,
    FromWorker.FAILED: _decode_failed,
    FromWorker.SKIPPED: _decode_skipped,
}
