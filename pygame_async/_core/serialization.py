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

Two things pickle otherwise than with cloudpickle alone, through the
pickler's dispatch table (so they cost nothing where they are absent):

* Open files and sockets are refused (:class:`UnsendableError`):
  cloudpickle would send an open text file as a ``StringIO`` copy of its
  contents, but both stand for something outside the process.
* Code objects of functions pickled by value keep their file name and
  carry their source lines into the receiver's :mod:`linecache`
  (:func:`_reduce_code`): a traceback in a worker shows the game's file,
  line and source text, as it would in the game.

A call's arguments with their big raw buffers apart, for the process lane,
are pickled by :mod:`pygame_async._core.arguments_apart`, with this module's
pickler.
"""

from __future__ import annotations

import copyreg
import io
import linecache
import marshal
import os
import pickle
import socket
import sys
import tempfile
import types
from collections import ChainMap
from collections.abc import Callable, Sequence
from typing import Any, Literal

import cloudpickle

Reducer = Callable[[Any], "str | tuple[Any, ...]"]
ReducerSource = Callable[[], "dict[type, Reducer] | None"]
"""Returns the reducers to add, or None while it cannot tell yet."""

_extra_reducers: dict[type, Reducer] = {}
_reducer_sources: list[ReducerSource] = []
_CLOUDPICKLE_REDUCERS: ChainMap[type, Reducer] | dict[type, Reducer] = getattr(
    cloudpickle.Pickler, "dispatch_table", copyreg.dispatch_table
)


# -- open files and sockets ------------------------------------------------------


class UnsendableError(pickle.PicklingError):
    """An open file or a socket was about to be pickled: it cannot cross to another process.

    Raised while pickling, by the reducer of the object itself; ``what``
    names it (``an open file 'levels/1.txt'``).  Callers build their message
    with :meth:`found_in` and :meth:`advice`.
    """

    def __init__(self, what: str, kind: Literal["file", "socket"], object_id: int = 0) -> None:
        super().__init__(what, kind, object_id)
        self.what = what
        self.kind = kind
        self.object_id = object_id  # id() of the refused object, to tell it from its holder

    def __str__(self) -> str:
        return f"{self.what} cannot be sent to another process"

    def is_object(self, value: object) -> bool:
        """Tell whether ``value`` is the refused object itself (not something holding it)."""
        return id(value) == self.object_id

    def found_in(self, value: object) -> str:
        """Say what ``value`` is: the refused object, or a holder of it."""
        if self.is_object(value):
            return self.what
        return f"{describe(value)}, holding {self.what}"

    def advice(self, where: Literal["call", "define", "result"]) -> str:
        """Say what to send instead, for an argument, a definition or a result."""
        return _ADVICE[self.kind][where]


_ADVICE = {
    "file": {
        "call": "pass the path instead",
        "define": "use the path instead and open the file in the function",
        "result": "return its contents or its path instead",
    },
    "socket": {
        "call": "pass its address instead and connect in the worker",
        "define": "use its address instead and connect in the function",
        "result": "return what it received instead",
    },
}

# A worker's standard streams are its own: a function that defaults to
# printing on sys.stderr keeps doing so there, as cloudpickle always made it.
_STANDARD_STREAMS = ("stdout", "stderr", "__stdout__", "__stderr__")
# In-memory files are values (their contents and position), pickled as such.
_IN_MEMORY = (io.BytesIO, io.StringIO)


def _refuse_file(obj: Any) -> str | tuple[Any, ...]:
    """Reducer of every open-file type: refuse it, unless it is a standard stream."""
    for stream in _STANDARD_STREAMS:
        if obj is getattr(sys, stream, None):
            return getattr, (sys, stream)
    temporary = isinstance(obj, tempfile._TemporaryFileWrapper | tempfile.SpooledTemporaryFile)
    try:
        closed = bool(obj.closed)
    except Exception:  # a detached wrapper, say: still a file
        closed = False
    what = f"{'a closed' if closed else 'an open'} {'temporary file' if temporary else 'file'}"
    name = _file_name(obj)
    if isinstance(name, str):
        what += f" {name!r}"
    elif isinstance(name, int) and not temporary:
        what += f" (descriptor {name})"
    raise UnsendableError(what, "file", id(obj))


def _file_name(obj: Any) -> object:
    try:
        name = obj.name
    except Exception:
        return None
    if isinstance(name, bytes | os.PathLike):
        return os.fsdecode(name)
    return name


def _refuse_socket(obj: socket.socket) -> str | tuple[Any, ...]:
    """Reducer of every socket type: refuse it, saying what it is connected or bound to."""
    what = "a socket"
    if obj.fileno() == -1:
        what = "a closed socket"
    else:
        for relation, address in (("connected to", obj.getpeername), ("bound to", obj.getsockname)):
            try:
                where = address()
            except OSError:
                continue
            # An unnamed Unix socket has the address '', an unbound IP one port 0.
            if where and not (isinstance(where, tuple) and where[1] == 0):
                what += f" {relation} {where!r}"
                break
    raise UnsendableError(what, "socket", id(obj))


# -- code objects: their file and source lines -----------------------------------


def _reduce_code(code: types.CodeType) -> str | tuple[Any, ...]:
    """Pickle a code object whole, with its file name, and with the source lines it spans.

    cloudpickle 3.1 names the file of every code object it pickles by value
    ``<dynamic-code>`` (its payloads become deterministic), so a function of
    the game's ``__main__``, a lambda or a closure failing in a worker shows
    ``File "<dynamic-code>"`` and no source line.  ``marshal`` keeps
    everything a ``.pyc`` keeps, ``co_filename`` and the nested code objects
    included (the worker is the same interpreter build as the game).  The
    source lines travel too and are put into the receiver's
    :mod:`linecache`, since it may not see the game's file.
    """
    try:
        blob = marshal.dumps(code)
    except ValueError:  # a code object built by hand, with constants marshal refuses
        return _CLOUDPICKLE_REDUCERS[types.CodeType](code)
    first, last = _line_span(code)
    lines = linecache.getlines(code.co_filename)[first - 1 : last]
    return _load_code, (blob, first, tuple(lines))


def _line_span(code: types.CodeType) -> tuple[int, int]:
    """Return the first and last source lines of a code object and the code nested in it."""
    first = last = code.co_firstlineno  # a decorated function's starts at its first decorator
    stack = [code]
    while stack:
        inner = stack.pop()
        for _start, _end, line in inner.co_lines():
            if line is not None and line > last:
                last = line
        stack.extend(const for const in inner.co_consts if isinstance(const, types.CodeType))
    return first, last


def _load_code(blob: bytes, first: int, lines: tuple[str, ...]) -> types.CodeType:
    """Rebuild a code object pickled by :func:`_reduce_code`; remember its source lines."""
    code: types.CodeType = marshal.loads(blob)
    if lines:
        _remember_lines(code.co_filename, first, lines)
    return code


def _remember_lines(filename: str, first: int, lines: tuple[str, ...]) -> None:
    """Put source lines into :mod:`linecache` where tracebacks read them.

    Lines the cache has for that file already are kept where these do not
    replace them; the entry has no modification time, so ``checkcache``
    leaves it alone whether or not the file exists here.
    """
    entry = linecache.cache.get(filename)
    known = list(entry[2]) if entry is not None and len(entry) == 4 else []
    end = first - 1 + len(lines)
    if len(known) < end:
        known.extend([""] * (end - len(known)))
    known[first - 1 : end] = lines
    linecache.cache[filename] = (sum(map(len, known)), None, known, filename)


# -- the pickler -------------------------------------------------------------------

_own_reducers: dict[type, Reducer] = {
    types.CodeType: _reduce_code,
    io.TextIOWrapper: _refuse_file,  # cloudpickle's own reducer copies it into a StringIO
    tempfile._TemporaryFileWrapper: _refuse_file,  # not an io.IOBase: it wraps one
    tempfile.SpooledTemporaryFile: _refuse_file,
}


class _DispatchTable(ChainMap[type, Reducer]):
    """The pickler's reducers by exact type; files and sockets of any type are refused.

    Plain arguments and results never reach this pickler (see :func:`dumps`);
    the pickler asks the table only for objects that are not built-in
    values, and ``__missing__`` only for types no reducer is registered for:
    files and sockets are found without any scan of their own.
    """

    def __getitem__(self, kind: type) -> Reducer:
        # ChainMap's own raises and catches a KeyError per map that lacks the type.
        for reducers in self.maps:
            reducer = reducers.get(kind)
            if reducer is not None:
                return reducer
        return self.__missing__(kind)

    def __missing__(self, kind: type) -> Reducer:
        if issubclass(kind, io.IOBase):
            if not issubclass(kind, _IN_MEMORY) and not _pickles_itself(kind):
                return _refuse_file
        elif issubclass(kind, socket.socket) and not _pickles_itself(kind):
            return _refuse_socket
        raise KeyError(kind)


def _pickles_itself(kind: type) -> bool:
    """Tell whether a class of the game's says how to pickle it (say, by reopening its path)."""
    return any(
        cls.__module__ not in _IO_MODULES and _PICKLE_METHODS & cls.__dict__.keys()
        for cls in kind.__mro__
    )


_IO_MODULES = frozenset({"_io", "io", "socket", "builtins"})
_PICKLE_METHODS = frozenset({"__reduce__", "__reduce_ex__", "__getstate__"})


class Pickler(cloudpickle.Pickler):  # type: ignore[misc]
    """cloudpickle's pickler, with pygame_async's own and extra reducers consulted first."""

    dispatch_table: _DispatchTable = _DispatchTable(  # pickle reads it here
        _own_reducers,
        _extra_reducers,
        # Its maps themselves (cloudpickle's, copyreg's): one lookup each.
        *(
            _CLOUDPICKLE_REDUCERS.maps
            if isinstance(_CLOUDPICKLE_REDUCERS, ChainMap)
            else [_CLOUDPICKLE_REDUCERS]
        ),
    )


def add_reducer_source(source: ReducerSource) -> None:
    """Let pickling use the reducers ``source()`` returns, as soon as it returns them."""
    _reducer_sources.append(source)


def add_ready_reducers() -> None:
    """Ask the sources that have not answered yet for their reducers."""
    for source in list(_reducer_sources):
        reducers = source()
        if reducers is not None:
            _extra_reducers.update(reducers)
            _reducer_sources.remove(source)


OUT_OF_BAND_BYTES = 1 << 20
"""Raw buffers this large travel beside the pickle, not inside it."""

PLAIN_TYPES = frozenset({int, float, complex, str, bytes, bool, type(None)})
"""Types the standard pickle sends exactly as cloudpickle would (see :func:`is_plain`)."""
_PLAIN_CONTAINERS = frozenset({tuple, list, dict})
_PLAIN_DEPTH = 3  # containers nested deeper than this go through cloudpickle
PLAIN_LENGTH = 32
"""Containers longer than this go through cloudpickle: checking them would cost more."""


def is_plain(obj: Any, depth: int = 0) -> bool:
    """Tell whether the standard pickle sends ``obj`` exactly as cloudpickle would, faster."""
    kind = type(obj)
    if kind in PLAIN_TYPES:
        return True
    if depth >= _PLAIN_DEPTH or kind not in _PLAIN_CONTAINERS or len(obj) > PLAIN_LENGTH:
        return False
    # Loops, not all() over generators: this runs for every call and result.
    if kind is dict:
        for key, value in obj.items():
            if type(key) not in PLAIN_TYPES or (
                type(value) not in PLAIN_TYPES and not is_plain(value, depth + 1)
            ):
                return False
        return True
    for item in obj:
        if type(item) not in PLAIN_TYPES and not is_plain(item, depth + 1):
            return False
    return True


def dumps(obj: object) -> bytes:
    """Pickle ``obj`` by value where needed (cloudpickle), with pygame types supported."""
    if is_plain(obj):
        # The common tiny call: the C pickler alone, far cheaper than a cloudpickle
        # one (see benchmarks "tiny").
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    add_ready_reducers()
    buffer = io.BytesIO()
    Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(obj)
    return buffer.getvalue()


def dumps_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bytes:
    """Pickle a call's ``(args, kwargs)``, quickest for the usual few plain arguments."""
    if not kwargs and len(args) <= PLAIN_LENGTH:
        for arg in args:
            if type(arg) not in PLAIN_TYPES and not is_plain(arg, 2):
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
        return pickle.dumps(BigBytes(buffer), protocol=5, buffer_callback=_out_of_band), [buffer]
    if is_plain(obj):
        return pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL), []
    add_ready_reducers()
    buffers: list[pickle.PickleBuffer] = []

    def out_of_band(buffer: pickle.PickleBuffer) -> bool:
        with buffer.raw() as raw:
            if raw.nbytes < OUT_OF_BAND_BYTES:
                return True  # in-band: not worth a message of its own
        buffers.append(buffer)
        return False

    stream = io.BytesIO()
    Pickler(stream, protocol=5, buffer_callback=out_of_band).dump(obj)
    return stream.getvalue(), buffers


class BigBytes:
    """Pickles as ``bytes(buffer)`` (or ``bytearray``), so the buffer can travel out of band."""

    __slots__ = ("buffer", "kind")

    def __init__(
        self, buffer: pickle.PickleBuffer, kind: type[bytes] | type[bytearray] = bytes
    ) -> None:
        self.buffer = buffer
        self.kind = kind

    def __reduce__(self) -> tuple[type[bytes] | type[bytearray], tuple[pickle.PickleBuffer]]:
        return self.kind, (self.buffer,)


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
