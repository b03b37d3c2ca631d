"""How definitions, arguments and results are turned into bytes and back.

Everything a user hands to pygame_async travels as a cloudpickle blob, so
lambdas, closures and functions or classes from the game's ``__main__``
work.  The blob is made and opened by pygame_async's own code, inside its
own error handling, never by the executor's machinery: a value that cannot
be pickled fails one call, not the pool.

This module is also the seam where other types become picklable: an adapter
registers a *reducer source* (:func:`add_reducer_source`), asked for its
reducers whenever something that is not a plain value is pickled, until it
has them.  The pygame adapter's source answers once ``pygame`` has been
imported in the process (the game, or a worker whose function imported it),
so neither this module nor a worker that never needs pygame imports it.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from collections import ChainMap
from collections.abc import Callable, Sequence
from typing import Any

import cloudpickle

Reducer = Callable[[Any], "str | tuple[Any, ...]"]
ReducerSource = Callable[[], "dict[type, Reducer] | None"]
"""Returns the reducers to add, or None while it cannot tell yet."""

_extra_reducers: dict[type, Reducer] = {}
_reducer_sources: list[ReducerSource] = []


class _Pickler(cloudpickle.Pickler):  # type: ignore[misc]
    """cloudpickle's pickler, with pygame_async's extra reducers consulted first."""

    dispatch_table: ChainMap[type, Reducer] = ChainMap(  # noqa: RUF012 - pickle reads it here
        _extra_reducers, getattr(cloudpickle.Pickler, "dispatch_table", copyreg.dispatch_table)
    )


def add_reducer_source(source: ReducerSource) -> None:
    """Let pickling use the reducers ``source()`` returns, as soon as it returns them."""
    _reducer_sources.append(source)


def _add_ready_reducers() -> None:
    """Ask the sources that have not answered yet for their reducers."""
    for source in list(_reducer_sources):
        reducers = source()
        if reducers is not None:
            _extra_reducers.update(reducers)
            _reducer_sources.remove(source)


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
    _add_ready_reducers()
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
    _add_ready_reducers()
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
