"""Blank 8-bit surfaces whose palette is shorter than 256 entries, decoded from a TGA.

``pygame.Surface`` cannot make one, and rebuilding a pickled 8-bit Surface
needs one whenever the original's palette was short (most decoded images'
are): :func:`blank_surface` makes it, where :func:`supported` says it can.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from typing import Final, TypeAlias

import pygame

_Size: TypeAlias = tuple[int, int]
_RGB: TypeAlias = tuple[int, int, int]

# A TGA header stores width and height in 16 bits.
_TGA_MAX_SIDE: Final = 0xFFFF


def supported(size: _Size) -> bool:
    """Whether :func:`blank_surface` can make a surface of ``size`` with this pygame.

    It needs SDL_image to decode the TGA (``pygame.image.get_extended()``),
    and sides a TGA header can hold.
    """
    return max(size) <= _TGA_MAX_SIDE and pygame.image.get_extended()


def blank_surface(size: _Size, palette: Sequence[_RGB]) -> pygame.Surface:
    """Return a blank 8-bit surface whose palette has exactly the given entries.

    ``pygame.Surface`` gives an 8-bit surface 256 palette entries, and
    ``set_palette`` only rewrites entries: it never changes how many there are
    (SDL's ``ncolors``), in pygame 2.6.1 and pygame-ce alike.  Fewer entries
    are not cosmetic: ``map_rgb``, ``fill`` and ``set_colorkey`` pick the
    nearest of them, and ``image.save`` writes them all.  Only image decoders
    set the count (copies keep it), so the surface is decoded from a blank
    colour-mapped TGA that declares exactly these colours.  TGA because
    SDL_image reads it uncompressed, with any count from 0 to 255 and the
    colours exact, in both flavours; the BMP reader of SDL 2.28 (in the pygame
    2.6.1 wheel) pads to 256, and PNG needs zlib and has neither zero colours
    nor zero sides.

    pygame-ce refuses a TGA with a zero side, so an empty surface is cut from a
    blank one pixel wide or high; a copy keeps the palette's count
    (``SDL_ConvertSurface`` copies it).

    Args:
        size: Width and height, each at most 65535.
        palette: Up to 255 RGB colours.

    Returns:
        A surface with zero pixels, no colorkey, blending off and flags 0.
    """
    width, height = size
    decoded_size = (max(width, 1), max(height, 1))
    header = struct.pack(
        "<BBBHHBHHHHBB",
        0,  # no image ID
        1,  # has a colour map
        1,  # uncompressed, colour-mapped
        0,  # the colour map starts at index 0...
        len(palette),  # ...and holds this many entries
        24,  # of 24 bits, stored BGR
        0,  # x origin
        0,  # y origin
        *decoded_size,
        8,  # bits per pixel
        0,  # descriptor: no alpha bits
    )
    colours = bytes(channel for red, green, blue in palette for channel in (blue, green, red))
    blank = bytes(decoded_size[0] * decoded_size[1])
    surface = pygame.image.load(io.BytesIO(header + colours + blank), "blank.tga")
    if decoded_size != size:
        surface = surface.subsurface((0, 0, width, height)).copy()
    return surface
