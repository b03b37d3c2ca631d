"""A Surface of any pixel format built over memory it is given, copying nothing.

``pygame.image.frombuffer`` builds a Surface over a buffer in seven layouts
only, and pygame 2.6 takes no pitch.  None of them is the format that
``pygame.Surface((w, h))`` and ``surfarray.make_surface`` give (32 bits,
masks ``(0xFF0000, 0xFF00, 0xFF, 0)``), nor a 24-bit one with padded rows on
pygame 2.6, nor a 16-bit one.  A Surface rebuilt from a received buffer in
such a format would have to be a new surface (which SDL zero-fills, holding
the GIL) with the buffer copied in, on the game's thread.

:func:`adopt` builds it over the buffer instead.  A Surface of the exact
format and width but no rows (``pygame.Surface((w, 0), ...)``) owns no pixel
memory; its SDL surface is then given the rows: its ``pixels``, ``h`` and
clip rectangle, and the ``SDL_PREALLOC`` flag with which SDL never frees
pixels it did not allocate, as for a ``frombuffer`` surface.  The buffer is
exported (it can neither be resized nor closed) and kept for as long as the
Surface lives.

That writes fields of SDL's ``SDL_Surface``, whose layout is SDL 2's public
one (``SDL_surface.h``), found through the pointer that pygame's Surface
object holds first (``pgSurfaceObject`` in the C API of pygame and of
pygame-ce).  Before writing, the fields read must describe the empty
surface pygame reports (its width and pitch, no rows, no pixels, one
reference, a clip rectangle of its size); after, pygame must report the new
height and pixel address.  Where a check fails, or the interpreter is not
CPython or SDL not version 2, nothing is written and :func:`adopt` returns
False: the caller copies instead.
"""

from __future__ import annotations

import ctypes
import mmap
import sys
import weakref
from typing import Final

import pygame

_SDL_PREALLOC: Final = 0x00000001  # SDL_surface.h: the pixels belong to someone else


class _SDLRect(ctypes.Structure):
    _fields_ = (
        ("x", ctypes.c_int),
        ("y", ctypes.c_int),
        ("w", ctypes.c_int),
        ("h", ctypes.c_int),
    )


class _SDLSurface(ctypes.Structure):
    """SDL 2's public ``SDL_Surface`` (``SDL_surface.h``), field for field."""

    _fields_ = (
        ("flags", ctypes.c_uint32),
        ("format", ctypes.c_void_p),
        ("w", ctypes.c_int),
        ("h", ctypes.c_int),
        ("pitch", ctypes.c_int),
        ("pixels", ctypes.c_void_p),
        ("userdata", ctypes.c_void_p),
        ("locked", ctypes.c_int),
        ("list_blitmap", ctypes.c_void_p),
        ("clip_rect", _SDLRect),
        ("map", ctypes.c_void_p),
        ("refcount", ctypes.c_int),
    )


# Where a Surface object keeps its SDL_Surface pointer: right after the object header.
_POINTER_OFFSET: Final = object.__basicsize__
_USABLE = (
    sys.implementation.name == "cpython"
    and pygame.get_sdl_version()[0] == 2
    and pygame.Surface.__basicsize__ >= _POINTER_OFFSET + ctypes.sizeof(ctypes.c_void_p)
)


def adopt(shell: pygame.Surface, rows: int, pitch: int, memory: mmap.mmap | bytearray) -> bool:
    """Give the row-less ``shell`` ``rows`` rows of ``pitch`` bytes: ``memory`` itself.

    Args:
        shell: A fresh surface of the wanted format and width and no rows,
            never locked or blitted.
        rows: The height it gets.
        pitch: Bytes from one row's start to the next in ``memory``; only the
            pitch SDL gives the shell's width is taken, so that the surface is
            laid out as a new one of its size would be.
        memory: Writable memory of exactly ``rows * pitch`` bytes that nothing
            else uses, nor will: from now on it is the surface's pixels.

    Returns:
        True once ``shell`` is that surface; False if it was left as it was.
    """
    size = rows * pitch
    width = shell.get_width()
    if (
        not _USABLE
        or rows <= 0
        or width <= 0
        or len(memory) != size
        or shell.get_height() != 0
        or shell.get_pitch() != pitch
        or shell.get_locked()
        or shell.get_parent() is not None
    ):
        return False
    address = ctypes.c_void_p.from_address(id(shell) + _POINTER_OFFSET).value
    if not address:
        return False
    sdl = _SDLSurface.from_address(address)
    if not _is_empty(sdl, width, pitch):
        return False
    # An export: while it lives, the memory can be neither resized nor closed.
    pixels = (ctypes.c_char * size).from_buffer(memory)
    sdl.flags |= _SDL_PREALLOC
    sdl.pixels = ctypes.addressof(pixels)
    sdl.h = sdl.clip_rect.h = rows
    if shell.get_size() != (width, rows) or shell._pixels_address != sdl.pixels:
        sdl.h = sdl.clip_rect.h = 0  # pygame does not see what was written: undo it all
        sdl.pixels = None
        sdl.flags &= ~_SDL_PREALLOC
        return False
    # Not at exit: a Surface may outlive the finalizers, and must keep its pixels.
    weakref.finalize(shell, _release, pixels, memory).atexit = False
    return True


def _is_empty(sdl: _SDLSurface, width: int, pitch: int) -> bool:
    """Tell whether ``sdl`` reads as a new SDL surface of ``width`` and ``pitch`` with no rows."""
    clip = sdl.clip_rect
    fields = (sdl.w, sdl.h, sdl.pitch, sdl.pixels, sdl.locked, sdl.refcount)
    return (
        fields == (width, 0, pitch, None, 0, 1)
        and not sdl.flags & _SDL_PREALLOC
        and (clip.x, clip.y, clip.w, clip.h) == (0, 0, width, 0)
    )


def _release(*_: object) -> None:
    """Finalize an adopted Surface: once this returns, its memory is dropped."""
