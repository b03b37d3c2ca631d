"""Byte access to a Surface's pixel buffer, for the Surface and Mask reducers.

:func:`pixel_view` exposes a surface's memory as bytes, and
:func:`import_pixels` copies rows laid out with any pitch into a surface.
:mod:`~pygame_async._pygame.surfaces` ships a surface's pixels with them;
:mod:`~pygame_async._pygame.masks` paints a mask's bits on an 8-bit surface.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, TypeAlias, cast

if TYPE_CHECKING:
    from typing_extensions import Buffer

import pygame

#: What a reduced Surface carries as pixels: a zero-copy view when pickling, and
#: whatever the unpickler produces when rebuilding (``bytes`` or ``bytearray``
#: in-band, any buffer the caller passed via ``buffers=`` out-of-band).
Pixels: TypeAlias = bytes | bytearray | memoryview | pickle.PickleBuffer


def pixel_view(surface: pygame.Surface) -> memoryview:
    """Return a writable byte view of the surface's whole pixel buffer.

    The surface stays locked, so it cannot be blitted, until the view is
    released (``with`` block) or garbage collected: pygame ties the lock to the
    ``BufferProxy`` the view holds.

    Args:
        surface: The surface to view; for a subsurface the view starts at its
            first pixel and uses the parent's pitch.

    Returns:
        A 1-D ``memoryview`` of format ``"B"``, ``pitch * height`` bytes long.
    """
    # BufferProxy implements the buffer protocol, but pygame's stubs do not say so.
    return memoryview(cast("Buffer", surface.get_buffer()))


def import_pixels(surface: pygame.Surface, pitch: int, pixels: Pixels) -> None:
    """Copy pixel rows laid out with ``pitch`` into ``surface``.

    Args:
        surface: The destination; its own pitch may differ from ``pitch``.
        pitch: Bytes between row starts in ``pixels``.
        pixels: The source rows.

    Raises:
        ValueError: If ``pixels`` is too short for the surface's size.
    """
    width, height = surface.get_size()
    row_bytes = width * surface.get_bytesize()
    if row_bytes == 0 or height == 0:
        return
    needed = (height - 1) * pitch + row_bytes
    with memoryview(pixels) as raw, raw.cast("B") as source, pixel_view(surface) as target:
        if source.nbytes < needed:
            raise ValueError(
                f"pixel data holds {source.nbytes} bytes, a {width}x{height} surface "
                f"with pitch {pitch} needs {needed}"
            )
        target_pitch = surface.get_pitch()
        if target_pitch == pitch:
            target[:needed] = source[:needed]
        else:
            for y in range(height):
                start = y * target_pitch
                target[start : start + row_bytes] = source[y * pitch : y * pitch + row_bytes]
