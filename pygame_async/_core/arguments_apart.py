"""A call's arguments pickled with their big raw buffers apart from the blob.

The process lane sends a call's big raw buffers (a ``bytes`` or
``bytearray`` argument, a numpy array's data, a Surface's pixels) beside
its pickle, on the worker's bulk socket, rather than copied into the pickle:
:func:`dumps_arguments_apart` pickles the rest with
:mod:`~pygame_async._core.serialization`'s pickler and hands the buffers
back in an :class:`Apart`.  What the caller may still change is copied at
once, with the lane's ``snapshot``; the worker opens the blob and its
buffers with :func:`~pygame_async._core.serialization.loads`.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from typing import Any, NamedTuple

from pygame_async._core.serialization import (
    OUT_OF_BAND_BYTES,
    PLAIN_LENGTH,
    PLAIN_TYPES,
    BigBytes,
    Pickler,
    add_ready_reducers,
    is_plain,
)

Snapshot = Callable[[memoryview], Any]
"""Copies a flat view of a mutable buffer into memory of its own; returns that copy."""


class Apart(NamedTuple):
    """A call's pickled arguments, and the big raw buffers that travel after the blob."""

    blob: bytes
    buffers: list[tuple[Any, bool]]  # each buffer, and whether the receiver gets it writable
    layout: tuple[tuple[int, bool], ...]
    """Each buffer's size and whether it is writable, as the receiver reads them."""


def dumps_arguments_apart(
    args: tuple[Any, ...], kwargs: dict[str, Any], snapshot: Snapshot
) -> bytes | Apart:
    """Pickle a call's ``(args, kwargs)`` with its big raw buffers left out of the blob.

    Returns the blob alone when there is no big buffer; else an :class:`Apart`
    with the buffers, in order, each with whether it was writable (pass them
    to :func:`~pygame_async._core.serialization.loads`).  A big ``bytes`` (an argument
    itself, or behind a :class:`pickle.PickleBuffer` a reducer exposes) is
    immutable and sent as it is, and so is a read-only numpy array that
    nothing else can write to (:func:`_cannot_change`); any other big buffer
    (a numpy array's data, a Surface's pixels, a ``bytearray`` argument) is
    copied at once with ``snapshot``, so a change the caller makes afterwards
    never reaches the worker, and the source (a Surface, which stays locked while its buffer
    is exported) is let go at once.  ``bytes`` and ``bytearray`` travel apart
    only as arguments themselves, not inside a container.
    """
    if not kwargs and len(args) <= PLAIN_LENGTH:
        for arg in args:
            kind = type(arg)
            if kind is bytes or kind is bytearray:
                if len(arg) >= OUT_OF_BAND_BYTES:
                    break
            elif kind not in PLAIN_TYPES and not is_plain(arg, 2):
                break
        else:
            return pickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    args = tuple(map(_apart_if_big, args))
    kwargs = {key: _apart_if_big(value) for key, value in kwargs.items()}
    add_ready_reducers()
    buffers: list[tuple[Any, bool]] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        with buffer.raw() as raw:
            if raw.nbytes < OUT_OF_BAND_BYTES:
                return True  # in-band: not worth a message of its own
            if _cannot_change(raw.obj):
                buffers.append((buffer, False))
                return False
            buffers.append((snapshot(raw), not raw.readonly))
        buffer.release()
        return False

    stream = io.BytesIO()
    Pickler(stream, protocol=5, buffer_callback=out_of_band).dump((args, kwargs))
    if not buffers:
        return stream.getvalue()
    layout = tuple((memoryview(buffer).nbytes, writable) for buffer, writable in buffers)
    return Apart(stream.getvalue(), buffers, layout)


def _cannot_change(owner: object) -> bool:
    """Tell whether nothing may write to ``owner``'s memory: sent as it is, it needs no snapshot.

    A ``bytes`` never changes.  A numpy array made read-only (``flags.writeable``
    False) refuses writes, and so does the memory under it if every array it
    is a view of is read-only too, down to one that owns its data or to a
    ``bytes``; the caller keeps it read-only until the call is done (README:
    Big arguments).  Anything else (a ``bytearray`` or ``mmap`` under a
    view, a Surface) can be written to by someone: it is copied.
    """
    while type(owner) is not bytes:
        flags = getattr(owner, "flags", None)
        if flags is None or getattr(flags, "writeable", True) or not hasattr(owner, "base"):
            return False
        owner = owner.base
        if owner is None:
            return True  # a read-only array that owns its memory
    return True


def _apart_if_big(value: Any) -> Any:
    """Wrap a big ``bytes`` or ``bytearray`` so that its contents can travel out of band."""
    kind = type(value)
    if (kind is bytes or kind is bytearray) and len(value) >= OUT_OF_BAND_BYTES:
        return BigBytes(pickle.PickleBuffer(value), kind)
    return value
