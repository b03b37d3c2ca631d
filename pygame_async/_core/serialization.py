"""How definitions, arguments and results are turned into bytes and back.

Everything a user hands to pygame_async travels as a cloudpickle blob, so
lambdas, closures and functions or classes from the game's ``__main__``
work.  The blob is made and opened by pygame_async's own code, inside its
own error handling, never by the executor's machinery: a value that cannot
be pickled fails one call, not the pool.

This module is also the seam where pygame types become picklable: once
``pygame`` has been imported in a process (the game, or a worker whose
function imported it), the reducers of :mod:`pygame_async._surfaces` join the
pickler's dispatch table, in both directions.
"""

from __future__ import annotations

import copyreg
import io
import pickle
import sys
from collections import ChainMap
from collections.abc import Callable, Sequence
from typing import Any

import cloudpickle

Reducer = Callable[[Any], "str | tuple[Any, ...]"]

_extra_reducers: dict[type, Reducer] = {}
_pygame_reducers_added = False


class _Pickler(cloudpickle.Pickler):  # type: ignore[misc]
    """cloudpickle's pickler, with pygame_async's extra reducers consulted first."""

    dispatch_table: ChainMap[type, Reducer] = ChainMap(  # noqa: RUF012 - pickle reads it here
        _extra_reducers, getattr(cloudpickle.Pickler, "dispatch_table", copyreg.dispatch_table)
    )


def _add_pygame_reducers_once_pygame_is_loaded() -> None:
    """Register the Surface and Mask reducers as soon as this process has pygame."""
    global _pygame_reducers_added
    if _pygame_reducers_added or "pygame" not in sys.modules:
        return
    from pygame_async._pygame.surfaces import pygame_reducers

    _extra_reducers.update(pygame_reducers())
    _pygame_reducers_added = True


OUT_OF_BAND_BYTES = 1 << 20
"""Raw buffers this large travel beside the pickle, not inside it."""

_PLAIN_TYPES = frozenset({int, float, complex, str, bytes, bool, type(None)})
_PLAIN_CONTAINERS = frozenset({tuple, list, dict})
_PLAIN_DEPTH = 3  # containers nested deeper than this go through cloudpickle
_PLAIN_LENGTH = 32  # longer containers too: checking them would cost more than it saves


def _is_plain(obj: Any, depth: int = 0) -> bool:
    """Tell whether the standard pickle sends ``obj`` exactly as cloudpickle would, faster."""
    kind = type(obj)
    if kind in _PLAIN_TYPES:
        return True
    if depth >= _PLAIN_DEPTH or kind not in _PLAIN_CONTAINERS or len(obj) > _PLAIN_LENGTH:
        return False
    # Loops, not all() over generators: this runs for every call and result.
    if kind is dict:
        for key, value in obj.items():
            if type(key) not in _PLAIN_TYPES or (
                type(value) not in _PLAIN_TYPES and not _is_plain(value, depth + 1)
            ):
                return False
        return True
    for item in obj:
        if type(item) not in _PLAIN_TYPES and not _is_plain(item, depth + 1):
            return False
    return True


def dumps(obj: object) -> bytes:
    """Pickle ``obj`` by value where needed (cloudpickle), with pygame types supported."""
    if _is_plain(obj):
        # The common tiny call: the C pickler alone costs a tenth of a cloudpickle one.
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    _add_pygame_reducers_once_pygame_is_loaded()
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def dumps_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """Pickle a call's ``(args, kwargs)``, quickest for the usual few plain arguments."""
    if not kwargs and len(args) <= _PLAIN_LENGTH:
        for arg in args:
            if type(arg) not in _PLAIN_TYPES and not _is_plain(arg, 2):
                break
        else:
            return pickle.dumps((args, kwargs), protocol=pickle.HIGHEST_PROTOCOL)
    return dumps((args, kwargs))


def dumps_out_of_band(obj: object) -> tuple[bytes, list[pickle.PickleBuffer]]:
    """Pickle like :func:`dumps`, but hand back large raw buffers (pixels) separately.

    Buffers of ``OUT_OF_BAND_BYTES`` or more that a reducer exposes as
    :class:`pickle.PickleBuffer` (Surfaces, Masks' neighbours, numpy arrays)
    are left out of the blob, so they can travel without being copied into it
    and be received straight into their final memory.  Pass them, in order,
    to :func:`loads`.
    """
    if type(obj) is bytes and len(obj) >= OUT_OF_BAND_BYTES:
        # Big bytes are pickled in-band by the C pickler whatever we do; sent
        # as a raw buffer, they skip two copies and become bytes again on load.
        buffer = pickle.PickleBuffer(obj)
        return pickle.dumps(_BigBytes(buffer), protocol=5, buffer_callback=_out_of_band), [buffer]
    if _is_plain(obj):
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), []
    _add_pygame_reducers_once_pygame_is_loaded()
    buffers: list[pickle.PickleBuffer] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        with buffer.raw() as raw:
            if raw.nbytes < OUT_OF_BAND_BYTES:
                return True  # in-band: not worth a message of its own
        buffers.append(buffer)
        return False

    stream = io.BytesIO()
    _Pickler(stream, protocol=5, buffer_callback=out_of_band).dump(obj)
    return stream.getvalue(), buffers


class _BigBytes:
    """Pickles as ``bytes(buffer)``, so the buffer can travel out of band."""

    __slots__ = ("buffer",)

    def __init__(self, buffer: pickle.PickleBuffer) -> None:
        self.buffer = buffer

    def __reduce__(self) -> tuple[type[bytes], tuple[pickle.PickleBuffer]]:
        return bytes, (self.buffer,)


def _out_of_band(buffer: pickle.PickleBuffer) -> bool:
    return False


def loads(data: bytes, buffers: Sequence[Any] = ()) -> Any:
    """Unpickle a blob made by :func:`dumps` or :func:`dumps_out_of_band`."""
    return pickle.loads(data, buffers=buffers)


def describe(obj: object) -> str:
    """Name an object's type the way an error message should show it."""
    kind = type(obj)
    module = kind.__module__
    return kind.__qualname__ if module == "builtins" else f"{module}.{kind.__qualname__}"
