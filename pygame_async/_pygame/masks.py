"""Pickle support for pygame Masks: the reducer that ``surfaces.pygame_reducers()`` hands out.

Mask wire format
    The size and one bit per pixel: the pixels in row-major order read as one
    big-endian binary number, so the first pixel is the most significant bit
    and any padding is leading zero bits in the first byte.
    There is no raw-bits API on ``Mask`` and ``Mask.get_at`` per pixel is far too
    slow, so the bits travel through an 8-bit surface: ``Mask.to_surface`` paints
    0 and 1 pixel values, ``bytes.translate`` turns them into the digits "0" and
    "1", and ``int(..., 2)`` packs those into bits (CPython converts
    power-of-two bases in linear time).  Rebuilding unpacks with
    ``format(..., "b")``, paints the 8-bit surface and calls
    ``pygame.mask.from_surface`` with colorkey 0.  A 4096x4096 mask travels as
    2 MiB.

A pickled Mask names :func:`_rebuild_mask` by this module's path, so it must
stay here.  Like the Surface reducer, nothing here needs ``pygame.init()`` or
a display.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, Final, TypeAlias

# pygame prints a banner on import unless told not to, and a worker that
# unpickles a Mask before any Surface imports pygame through this module.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from pygame_async._pygame.pixels import import_pixels, pixel_view

_Size: TypeAlias = tuple[int, int]

# Mask bits are painted as pixel values 0 and 1 on an 8-bit surface; these
# tables turn those bytes into the ASCII digits that int(..., 2) parses, and back.
_PIXEL_TO_DIGIT: Final = bytes.maketrans(b"\x00\x01", b"01")
_DIGIT_TO_PIXEL: Final = bytes.maketrans(b"01", b"\x00\x01")


def reduce_mask(mask: pygame.mask.Mask) -> tuple[Callable[..., pygame.mask.Mask], tuple[Any, ...]]:
    """Reduce a Mask to its size and its bits packed eight to a byte.

    Args:
        mask: The mask to pickle.

    Returns:
        ``(_rebuild_mask, (size, bits))`` in the form ``copyreg`` reducers use.
    """
    size = mask.get_size()
    return _rebuild_mask, (size, _pack_mask_bits(mask, size))


def _pack_mask_bits(mask: pygame.mask.Mask, size: _Size) -> bytes:
    """Return the mask's bits packed eight to a byte, first pixel most significant.

    Args:
        mask: The mask to read.
        size: Its width and height.

    Returns:
        ``ceil(width * height / 8)`` bytes; when the pixel count is not a
        multiple of 8, the first byte starts with zero padding bits.
    """
    width, height = size
    count = width * height
    if count == 0:
        return b""
    canvas = pygame.Surface(size, 0, 8)
    mask.to_surface(canvas, setcolor=1, unsetcolor=0)
    pitch = canvas.get_pitch()
    with pixel_view(canvas) as view:
        if pitch == width:
            pixels = view[:count].tobytes()
        else:
            pixels = b"".join(view[y * pitch : y * pitch + width] for y in range(height))
    return int(pixels.translate(_PIXEL_TO_DIGIT), 2).to_bytes((count + 7) // 8, "big")


def _rebuild_mask(size: _Size, bits: bytes) -> pygame.mask.Mask:
    """Rebuild a Mask from the values :func:`reduce_mask` produced.

    Args:
        size: Width and height of the mask.
        bits: The packed bits from :func:`_pack_mask_bits`.

    Returns:
        A new mask with the same size and bits.

    Raises:
        ValueError: If ``bits`` holds more bits than the mask has pixels.
    """
    width, height = size
    count = width * height
    if count == 0:
        return pygame.mask.Mask(size)
    digits = format(int.from_bytes(bits, "big"), f"0{count}b")
    if len(digits) != count:
        raise ValueError(f"mask data holds more than the {count} bits of a {width}x{height} mask")
    canvas = pygame.Surface(size, 0, 8)
    import_pixels(canvas, width, digits.encode("ascii").translate(_DIGIT_TO_PIXEL))
    # With a colorkey, from_surface sets exactly the pixels whose raw value
    # differs from the key, ignoring palette and threshold.
    canvas.set_colorkey(0)
    return pygame.mask.from_surface(canvas)
