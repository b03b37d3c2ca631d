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

A big copy is shared with a second thread (:class:`_CopyHelper`): both take
chunks in turn and copy them with the GIL released, so the game's thread
waits for about half of it.  Where that thread cannot get a core, the game's
thread copies every chunk itself, no slower than alone.
"""

from __future__ import annotations

import ctypes
import mmap
import threading
from typing import Final

from pygame_async._core.serialization import Apart

_GRAIN: Final = 1 << 20  # sizes are rounded up to a multiple of this, so near sizes share
KEEP_BYTES: Final = 64 << 20
"""At most this much staging memory is kept for reuse, per lane."""
_CHUNK: Final = 2 << 20  # what each thread copies between two looks at what is left
_SHARED_FROM: Final = 2 * _CHUNK  # smaller copies are not worth waking a second thread
_HUGE_PAGES: int | None = getattr(mmap, "MADV_HUGEPAGE", None)  # Linux only
_PRIVATE: int | None = getattr(mmap, "MAP_PRIVATE", None)  # absent on Windows


class Staging:
    """A lane's staging memory: snapshots of mutable buffers, kept for reuse."""

    def __init__(self) -> None:
        self._free: dict[int, list[mmap.mmap]] = {}
        self._kept = 0  # bytes in _free
        self._lock = threading.Lock()  # taken by the game's thread and the receiver, briefly
        self._helper = _CopyHelper()
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
        if size < _SHARED_FROM or raw.readonly or not self._helper.copy(view, raw):
            view[:] = raw
        return view

    def close(self) -> None:
        """Free the memory kept, end the copy helper's thread (the lane has closed)."""
        with self._lock:
            self._free.clear()
            self._kept = 0
            self._closed = True
        self._helper.close()

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


class _Copy:
    """One copy shared by two threads: the chunks not yet taken, and those not yet done."""

    __slots__ = ("chunks", "done", "left", "lock", "next", "size", "source", "target")

    def __init__(self, target: int, source: int, size: int) -> None:
        self.target, self.source, self.size = target, source, size
        self.chunks = -(-size // _CHUNK)
        self.next = 0  # the first chunk nobody has taken
        self.left = self.chunks  # chunks not yet copied
        self.lock = threading.Lock()
        self.done = threading.Event()

    def take_chunks(self) -> None:
        """Copy chunks until none is left to take; the thread that ends the copy says so."""
        while True:
            with self.lock:
                index = self.next
                if index >= self.chunks:
                    return
                self.next = index + 1
            start = index * _CHUNK
            ctypes.memmove(
                self.target + start, self.source + start, min(_CHUNK, self.size - start)
            )  # a foreign call: the GIL is released while it copies
            with self.lock:
                self.left -= 1
                if not self.left:
                    self.done.set()


class _CopyHelper:
    """A thread that takes a share of each big copy; started at the first one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._wanted = threading.Condition(self._lock)
        self._copy: _Copy | None = None  # the copy it is asked to help with
        self._thread: threading.Thread | None = None
        self._closed = False

    def copy(self, target: memoryview, source: memoryview) -> bool:
        """Copy ``source`` into ``target`` with the helper's help; False if it is busy or closed."""
        target_array = (ctypes.c_char * target.nbytes).from_buffer(target)
        source_array = (ctypes.c_char * source.nbytes).from_buffer(source)
        copy = _Copy(ctypes.addressof(target_array), ctypes.addressof(source_array), source.nbytes)
        try:
            with self._lock:
                if self._closed or self._copy is not None:
                    return False  # helping another thread's copy: copy alone
                self._copy = copy
                start = self._thread is None
                if start:
                    self._thread = threading.Thread(
                        target=self._serve, name="pygame_async-copier", daemon=True
                    )
                else:
                    self._wanted.notify()
            if start:
                assert self._thread is not None
                self._thread.start()
            copy.take_chunks()
            copy.done.wait()  # for the chunk the helper may be copying now, at most
            with self._lock:
                self._copy = None
                self._wanted.notify_all()  # the helper waits for the next copy
            return True
        finally:
            del target_array, source_array  # the views may be released again

    def _serve(self) -> None:
        while True:
            with self._lock:
                while self._copy is None and not self._closed:
                    self._wanted.wait()
                copy = self._copy
                if self._closed or copy is None:
                    return
            copy.take_chunks()  # then it waits for the next copy: this one is left to its caller
            with self._lock:
                while self._copy is copy and not self._closed:
                    self._wanted.wait()

    def close(self) -> None:
        """End the thread, once it has finished the copy it is helping with."""
        with self._lock:
            self._closed = True
            self._wanted.notify_all()
