"""Staging: the memory a big mutable argument is snapshotted into at ``call()``.

A call's big raw buffers (a numpy array's data, a Surface's pixels) travel
to the worker on its bulk socket, written by a thread of their own after
``call()`` has returned.  What the game changes in its own array after
``call()`` must not reach the worker, so a mutable buffer is copied once, on
the game's thread, into staging memory; an immutable one (``bytes``) is sent
as it is.  The copy itself is one ``memcpy``; what makes fresh memory dear
is the kernel faulting its pages in on first touch.  Staging memory is
therefore kept and used again: a buffer comes back once the worker has
answered the call it carried (it read the buffer before it started the
call), and the next snapshot of about that size reuses it, pages already in.
A buffer whose call ended otherwise (its worker died, the call was cancelled
before it was sent) is simply freed.

The copy is not shared with a second thread: measured inside a game, that
was no faster (the second thread woke too late to take much of it).
"""

from __future__ import annotations

import mmap
import threading
from typing import Final

from pygame_async._core.arguments_apart import Apart

_GRAIN: Final = 1 << 20  # sizes are rounded up to a multiple of this, so near sizes share
KEEP_BYTES: Final = 64 << 20
"""At most this much staging memory is kept for reuse, per lane."""
_HUGE_PAGES: int | None = getattr(mmap, "MADV_HUGEPAGE", None)  # Linux only
_PRIVATE: int | None = getattr(mmap, "MAP_PRIVATE", None)  # absent on Windows


class Staging:
    """A lane's staging memory: snapshots of mutable buffers, kept for reuse."""

    def __init__(self) -> None:
        self._free: dict[int, list[mmap.mmap]] = {}
        self._kept = 0  # bytes in _free
        self._lock = threading.Lock()  # taken by the game's thread and the receiver, briefly
        self._closed = False

    def snapshot(self, raw: memoryview) -> memoryview:
        """Return a copy of ``raw`` (a flat view of bytes) in staging memory."""
        size = raw.nbytes
        capacity = -(-size // _GRAIN) * _GRAIN
        with self._lock:
            free = self._free.get(capacity)
            memory = free.pop() if free else None
            if memory is not None:
                self._kept -= capacity
        if memory is None:
            memory = fresh_memory(capacity)
        view = memoryview(memory)[:size]
        view[:] = raw
        return view

    def close(self) -> None:
        """Free the memory kept (the lane has closed)."""
        with self._lock:
            self._free.clear()
            self._kept = 0
            self._closed = True

    def give_back_all(self, arguments: Apart) -> None:
        """Keep the snapshots among a call's arguments for reuse: its worker has read them."""
        for buffer, _writable in arguments.buffers:
            if isinstance(buffer, memoryview):
                self.give_back(buffer)

    def give_back(self, view: memoryview) -> None:
        """Keep a snapshot's memory for reuse: nothing reads ``view`` any more."""
        memory = view.obj
        if not isinstance(memory, mmap.mmap):
            return  # not staging memory (an immutable buffer, sent as it was)
        capacity = len(memory)
        # Not view.release(): the bulk writer may not have let go of its view
        # yet, though every byte of it has left (the worker answered).
        with self._lock:
            if self._closed or self._kept + capacity > KEEP_BYTES:
                return  # freed with its last reference
            self._free.setdefault(capacity, []).append(memory)
            self._kept += capacity

    @property
    def kept(self) -> int:
        """Bytes of staging memory kept for reuse now."""
        return self._kept


def fresh_memory(capacity: int) -> mmap.mmap:
    """Map fresh anonymous memory; huge pages where allowed (far fewer pages to fault in).

    Private, because a shared anonymous mapping is shmem, which Linux backs
    with small pages only.
    """
    if _PRIVATE is None:  # pragma: no cover - Windows
        memory = mmap.mmap(-1, capacity)
    else:
        memory = mmap.mmap(-1, capacity, flags=_PRIVATE)
    if _HUGE_PAGES is not None:
        memory.madvise(_HUGE_PAGES)
    return memory
