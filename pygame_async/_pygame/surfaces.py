"""Pickle support for pygame Surfaces, and :func:`pygame_reducers` for Surfaces and Masks.

pygame refuses to pickle ``Surface`` and ``Mask`` (``TypeError: cannot pickle
'pygame.surface.Surface' object``), and its maintainers closed the requests to
change that (pygame/pygame#3054, pygame-ce#1549).  This module supplies
copyreg-style reducers for both types, meant for a pickler's ``dispatch_table``
in the game process and in the workers alike::

    class _Pickler(cloudpickle.Pickler):
        dispatch_table = ChainMap(pygame_reducers(), cloudpickle.Pickler.dispatch_table)

Two traps sit in that one line, both measured with cloudpickle 3.1.3:

- The C pickler reads ``dispatch_table`` once, in ``__init__``.  Setting it on a
  cloudpickle pickler *instance* afterwards is silently ignored (on a plain
  ``pickle.Pickler`` instance it works), so set it on the class or before
  ``super().__init__()``.
- cloudpickle keeps its own reducers (code objects, modules, ``classmethod``,
  ``dict_keys``...) in its class-level ``dispatch_table``.  A table rebuilt from
  ``copyreg.dispatch_table`` alone drops them, and every lambda then fails with
  ``cannot pickle code objects``.  Chain onto cloudpickle's table instead.

Surface wire format
    The raw pixel buffer plus its pixel format: size, bit depth, the four
    channel masks, the pitch (bytes per row), surface alpha, colorkey, RLE
    acceleration and, for 8-bit palettized surfaces, the palette: every entry
    SDL holds, as RGB tuples.  That is often fewer than 256 entries (SDL's
    ``ncolors``): decoders give an image its file's palette, 249 colours for
    pygame's ``alien1.png`` and 2 for ``brick.png``, and the count matters
    because ``map_rgb``, ``fill`` and ``set_colorkey`` pick the nearest entry
    and ``image.save`` writes them all.  A palettized surface's colorkey is
    its palette index; any other surface's is the RGBA colour
    ``get_colorkey()`` reports.

    Raw bytes are used instead of ``pygame.image.tobytes(surface, "RGBA")``
    because converting to RGBA loses information: a surface with both a
    colorkey and a surface alpha does not survive that route, and 16-bit or
    palettized surfaces would come back in a different format.

    For an ordinary surface the pixel buffer is handed to the pickler as a
    :class:`pickle.PickleBuffer` over the surface's own memory, so nothing is
    copied until the pickler writes it; with protocol 5 and a
    ``buffer_callback`` it can go out-of-band (for example through shared
    memory).  While that ``PickleBuffer`` is alive the source surface stays
    *locked* (pygame ties the lock to the exported buffer) and cannot be
    blitted, and the buffer reflects later writes to the surface.
    ``pickle.dumps`` and a fresh pickler per message drop it as soon as they
    return; an out-of-band consumer must release the buffer once it has copied
    the bytes.

    A subsurface shares memory with its parent, so its rows are copied out
    instead, and it arrives *detached*: an independent surface with the same
    pixels and attributes, no longer sharing pixels with anything (it lacks the
    ``PREALLOC`` flag that the original had).

    Rebuilding adopts the bytes as the surface's own memory, copying nothing,
    when they arrive as a fresh ``bytearray`` or ``mmap`` (the process lane's
    raw buffers, an unpickler's in-band ``bytearray``) with the pitch SDL
    gives a new surface of that size: through ``pygame.image.frombuffer`` in
    the two 32-bit layouts it has for them (pygame's BGRA, and the RGBA that
    ``image.load`` gives a PNG with alpha) on a little-endian machine, and
    through :func:`~pygame_async._pygame.adoption.adopt` in any other format
    (the 32 bits without alpha of ``pygame.Surface((w, h))`` and
    ``surfarray.make_surface``, 24 bits with padded rows or not, 8 and 16
    bits).  Otherwise (a subsurface's packed rows, ``bytes``, another pitch,
    an interpreter where :mod:`~pygame_async._pygame.adoption` cannot work)
    it allocates a surface of the same format with ``pygame.Surface`` and
    copies the bytes in.  That constructor always makes 256 palette entries
    and ``set_palette`` cannot remove any, so a shorter palette is rebuilt by
    decoding a blank colour-mapped TGA that declares exactly its entries (an
    18-byte header, the colours, zero pixels) with ``pygame.image.load``
    (:mod:`~pygame_async._pygame.short_palettes`).  No step needs
    ``pygame.init()`` or a display, so workers that never open one can both
    send and receive surfaces.

Mask wire format
    The size and one bit per pixel: :mod:`~pygame_async._pygame.masks`.

Known limits
    - Exact types only: a dispatch table is looked up by ``type(obj)``, so
      subclasses of ``Surface`` or ``Mask`` are not covered, and a rebuilt object
      is always the base type.
    - The colorkey of a surface without a palette travels as the RGBA colour
      that ``get_colorkey()`` reports, because pygame exposes no raw key.  That
      is exact for 8, 15, 16, 24 and 32 bit formats with 8-bit or narrower
      channels.  Formats with channels wider than 8 bits (ARGB2101010) do not
      keep their colorkey: pygame 2.6.1 reports a wrong colour, and pygame-ce
      2.5.8 crashes (segmentation fault) inside ``get_colorkey()`` on such a
      surface.
    - ``Surface.set_palette`` only accepts opaque colours, so a palette entry's
      alpha arrives as 255.
    - A palette shorter than 256 entries needs SDL_image to decode the TGA
      (``pygame.image.get_extended()``; the pygame and pygame-ce wheels have
      it), and TGA sides of at most 65535 pixels.  Without either, the palette
      arrives padded to 256 entries with pygame's default colours after its own;
      pixels, colorkey and alpha are unaffected.
    - Surfaces with fewer than 8 bits per pixel are refused; pygame cannot
      create them anyway.
"""

from __future__ import annotations

import mmap
import os
import pickle
import sys
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, TypeAlias

# pygame prints a banner on import unless told not to, and every worker that
# unpickles a Surface imports pygame through this module.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from pygame_async._pygame import adoption, short_palettes
from pygame_async._pygame.masks import reduce_mask
from pygame_async._pygame.pixels import Pixels, import_pixels, pixel_view

__all__ = ["pygame_reducers"]

_Size: TypeAlias = tuple[int, int]
_RGBA: TypeAlias = tuple[int, int, int, int]
_RGB: TypeAlias = tuple[int, int, int]

# pygame's Surface constructor and pixel-view code only handle whole-byte pixels.
_SUPPORTED_BYTESIZES: Final = frozenset({1, 2, 3, 4})

# What pygame.Surface gives every 8-bit surface, whatever palette it is meant to have.
_FULL_PALETTE: Final = 256


def pygame_reducers() -> dict[type, Callable[[Any], tuple[Any, ...]]]:
    """Return the reducers that make pygame Surfaces and Masks picklable.

    The result maps a type to a copyreg-style reducer, ready to be chained into a
    pickler's ``dispatch_table``.  ``Rect``, ``FRect``, ``Color``, ``Vector2``
    and ``Vector3`` need no entry: they pickle natively in pygame and pygame-ce
    (``Rect`` and ``Color`` through ``copyreg.dispatch_table``, so keep that
    table in the chain).

    The Surface reducer hands over its pixels as a :class:`pickle.PickleBuffer`,
    so the pickler must use protocol 5; older protocols raise
    ``PicklingError: PickleBuffer can only pickled with protocol >= 5``.

    Returns:
        A new dict; callers may merge or mutate it freely.
    """
    return {
        pygame.Surface: _reduce_surface,
        pygame.mask.Mask: reduce_mask,
    }


def _reduce_surface(
    surface: pygame.Surface,
) -> tuple[Callable[..., pygame.Surface], tuple[Any, ...]]:
    """Reduce a Surface to its pixel format, attributes and raw pixel bytes.

    Args:
        surface: The surface to pickle; a subsurface is copied out and will be
            rebuilt as an independent surface.

    Returns:
        ``(_rebuild_surface, args)`` in the form ``copyreg`` reducers use.

    Raises:
        pickle.PicklingError: If the surface has fewer than 8 bits per pixel.
    """
    bytesize = surface.get_bytesize()
    if bytesize not in _SUPPORTED_BYTESIZES:
        raise pickle.PicklingError(
            f"cannot pickle a Surface with {surface.get_bitsize()} bits per pixel"
        )
    masks = surface.get_masks()
    palettized = not any(masks)
    key_colour = surface.get_colorkey()
    colorkey: int | tuple[int, ...] | None = None
    if key_colour is not None:
        colorkey = _colorkey_index(surface) if palettized else tuple(key_colour)
    pitch, pixels = _export_pixels(surface)
    args = (
        surface.get_size(),
        surface.get_bitsize(),
        tuple(masks),
        pitch,
        pixels,
        surface.get_alpha(),
        colorkey,
        _palette_of(surface) if palettized else None,
        bool(surface.get_flags() & pygame.RLEACCELOK),
    )
    return _rebuild_surface, args


def _export_pixels(surface: pygame.Surface) -> tuple[int, Pixels]:
    """Return the surface's pixel rows and the pitch they are laid out with.

    Args:
        surface: A surface with whole-byte pixels.

    Returns:
        ``(pitch, pixels)``.  For an ordinary surface ``pixels`` is a zero-copy
        :class:`pickle.PickleBuffer` over its whole buffer, row padding included.
        For a subsurface it is a ``bytes`` copy of just its rows, packed.
    """
    width, height = surface.get_size()
    row_bytes = width * surface.get_bytesize()
    if row_bytes == 0 or height == 0:
        return row_bytes, b""
    pitch = surface.get_pitch()
    if surface.get_parent() is None:
        return pitch, pickle.PickleBuffer(pixel_view(surface))
    # A subsurface's buffer starts at its first pixel but strides over the
    # parent's rows: shipping it whole would leak the parent's pixels, and its
    # nominal length (pitch * height) runs past the parent's last row.
    with pixel_view(surface) as view:
        rows = b"".join(view[y * pitch : y * pitch + row_bytes] for y in range(height))
    return row_bytes, rows


def _colorkey_index(surface: pygame.Surface) -> int:
    """Return the palette index that is a palettized surface's colorkey.

    pygame reads a colorkey back only as a colour, and one colour can sit at
    several palette indices while a blit skips exactly one of them: setting the
    colour again would key the first.  A copy keeps the index itself
    (``SDL_ConvertSurface`` sets the same raw key when the palette is the same),
    so a copy's palette is overwritten with colours whose red channel is their
    own index, and the key's colour then names it.  Copying an empty subsurface
    touches no pixel and leaves the surface's own palette alone.

    Args:
        surface: An 8-bit palettized surface that has a colorkey.

    Returns:
        The key's palette index, below the palette's length.

    Raises:
        pickle.PicklingError: If the copy lost the key, which SDL never does.
    """
    probe = surface.subsurface((0, 0, 0, 0)).copy()
    probe.set_palette([(index, 0, 0) for index in range(len(probe.get_palette()))])
    key = probe.get_colorkey()
    if key is None:
        raise pickle.PicklingError("a copy of the surface lost its colorkey")
    return key[0]


def _palette_of(surface: pygame.Surface) -> tuple[_RGB, ...]:
    """Return a palettized surface's palette as plain RGB tuples.

    Args:
        surface: An 8-bit surface with a palette (all channel masks zero).

    Returns:
        One ``(r, g, b)`` tuple per palette entry.  Alpha is dropped because
        ``set_palette`` rejects any value but 255.
    """
    return tuple((color[0], color[1], color[2]) for color in surface.get_palette())


def _rebuild_surface(
    size: _Size,
    depth: int,
    masks: _RGBA,
    pitch: int,
    pixels: Pixels,
    alpha: int | None,
    colorkey: int | _RGBA | None,
    palette: Sequence[_RGB] | None,
    rle: bool,
) -> pygame.Surface:
    """Rebuild a Surface from the values :func:`_reduce_surface` produced.

    Needs neither ``pygame.init()`` nor a display.

    Args:
        size: Width and height in pixels.
        depth: Bits per pixel, as ``Surface.get_bitsize`` reported it.
        masks: Red, green, blue and alpha channel masks.
        pitch: Bytes from the start of one row of ``pixels`` to the next.
        pixels: The pixel rows, laid out with ``pitch``.
        alpha: Surface alpha, or ``None`` when blending was off.
        colorkey: The colorkey's palette index on a palettized surface, else its
            RGBA colour; ``None`` without one.
        palette: The palette of an 8-bit palettized surface, else ``None``.
        rle: Whether RLE acceleration was requested on the original.

    Returns:
        A new, unlocked surface with the same format, pixels and attributes.
    """
    surface = _surface_over(size, depth, masks, pitch, pixels, palette)
    if surface is None:
        surface = _blank_surface(size, depth, masks, palette)
        import_pixels(surface, pitch, pixels)
    # set_colorkey and set_alpha each switch RLE on or off, so every call gets
    # the flag.  A fresh surface already has blending off, and calling
    # set_alpha(None) without the flag would switch RLE off again.
    rle_flag = pygame.RLEACCEL if rle else 0
    if colorkey is not None:
        surface.set_colorkey(colorkey, rle_flag)
    if alpha is not None:
        surface.set_alpha(alpha, rle_flag)
    elif rle and colorkey is None:
        # pygame accepts flags alongside None at runtime; its stubs do not.
        surface.set_alpha(None, rle_flag)  # type: ignore[call-overload]
    return surface


def _blank_surface(
    size: _Size, depth: int, masks: _RGBA, palette: Sequence[_RGB] | None
) -> pygame.Surface:
    """Return a new surface of the given format, with exactly ``palette`` if it has one.

    Blending is off, whatever the masks: ``SRCALPHA`` in ``get_flags()`` only
    says blending is on, which the caller restores with ``set_alpha()``;
    per-pixel alpha comes from the masks.  A format with an alpha mask is
    made with ``SRCALPHA`` all the same and blending switched off after:
    without the flag pygame fills every pixel with opaque black, writing all
    of the surface's memory, and its pixels are about to be overwritten.
    """
    if palette is not None and len(palette) < _FULL_PALETTE and short_palettes.supported(size):
        return short_palettes.blank_surface(size, palette)
    if masks[3]:
        surface = pygame.Surface(size, pygame.SRCALPHA, depth, masks)
        surface.set_alpha(None)
        return surface  # masks with alpha have no palette
    surface = pygame.Surface(size, 0, depth, masks)
    if palette is not None:
        surface.set_palette(palette)
    return surface


def _surface_over(
    size: _Size,
    depth: int,
    masks: _RGBA,
    pitch: int,
    pixels: Pixels,
    palette: Sequence[_RGB] | None,
) -> pygame.Surface | None:
    """Return a surface of the given format whose memory is ``pixels`` itself, if it can be.

    Only fresh memory nobody else holds can become a surface's: the
    transport's ``mmap``, or the ``bytearray`` an unpickler made.  In the
    layouts ``pygame.image.frombuffer`` has, it builds the surface; in any
    other, :func:`~pygame_async._pygame.adoption.adopt` does, with the rows
    as SDL would lay them out for that size.  The surface's blending is off,
    as on a new one.
    """
    if not isinstance(pixels, mmap.mmap | bytearray) or size[1] <= 0:
        return None
    layout = _frombuffer_layout(size, depth, masks, pitch, len(pixels))
    if layout is not None:
        surface = pygame.image.frombuffer(pixels, size, layout)
        surface.set_alpha(None)  # blending off, as on a fresh Surface: set again below
        return surface
    shell = _blank_surface((size[0], 0), depth, masks, palette)
    return shell if adoption.adopt(shell, size[1], pitch, pixels) else None


# 32-bit formats image.frombuffer can build over memory it is given, by their
# masks, on a little-endian machine: the frombuffer layout that matches.
_Layout: TypeAlias = Literal["BGRA", "RGBA"]
_FROMBUFFER_LAYOUTS: dict[tuple[int, ...], _Layout] = {
    (0xFF0000, 0xFF00, 0xFF, 0xFF000000): "BGRA",  # pygame's own SRCALPHA format
    (0xFF, 0xFF00, 0xFF0000, 0xFF000000): "RGBA",  # what image.load gives a PNG with alpha
}


def _frombuffer_layout(
    size: _Size, depth: int, masks: _RGBA, pitch: int, length: int
) -> _Layout | None:
    """Return the ``image.frombuffer`` layout that lets the pixels become the surface itself."""
    if sys.byteorder == "little" and depth == 32 and pitch == size[0] * 4:
        return _FROMBUFFER_LAYOUTS.get(tuple(masks)) if length == pitch * size[1] else None
    return None
