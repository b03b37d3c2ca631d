"""adoption.adopt: a row-less Surface is given memory as its pixels, or left as it was."""

from __future__ import annotations

import ctypes
import gc
import mmap
import pickle
from typing import Any

import pygame
import pytest
from test_surfaces import assert_same_surface, pickle_dumps, random_surface

from pygame_async._pygame import adoption
from pygame_async._pygame import surfaces as _surfaces

XRGB = (0xFF0000, 0xFF00, 0xFF, 0)


def address_of(memory: Any) -> int:
    return ctypes.addressof(ctypes.c_char.from_buffer(memory))


def shell(width: int, depth: int = 32, masks: tuple[int, ...] = XRGB) -> pygame.Surface:
    return pygame.Surface((width, 0), 0, depth, masks)


def test_the_memory_becomes_the_pixels_themselves() -> None:
    surface = shell(5)
    memory = bytearray(5 * 4 * 3)
    assert adoption.adopt(surface, 3, 20, memory)
    assert surface.get_size() == (5, 3)
    assert surface.get_pitch() == 20
    assert surface.get_masks() == XRGB
    assert surface.get_flags() & pygame.PREALLOC
    assert surface._pixels_address == address_of(memory)
    memory[4 * 6 : 4 * 7] = bytes([30, 20, 10, 0])  # the pixel at (1, 1), in BGRX order
    assert surface.get_at((1, 1)) == (10, 20, 30, 255)
    surface.fill((1, 2, 3), (4, 2, 1, 1))
    assert memory[-4:-1] == bytes([3, 2, 1])
    assert surface.get_clip() == pygame.Rect(0, 0, 5, 3)


def test_the_memory_is_held_for_as_long_as_the_surface_lives() -> None:
    memory = mmap.mmap(-1, 8 * 3 * 2)
    surface = shell(8, 24, (0xFF0000, 0xFF00, 0xFF, 0))
    assert adoption.adopt(surface, 2, 24, memory)
    with pytest.raises(BufferError):
        memory.close()  # exported to the surface
    subsurface = surface.subsurface((1, 1, 2, 1))
    del surface
    gc.collect()
    with pytest.raises(BufferError):
        memory.close()  # the subsurface keeps its parent, and so the memory
    subsurface.fill((7, 8, 9))
    assert memory[27:30] == bytes([9, 8, 7])
    del subsurface
    gc.collect()
    memory.close()


def test_a_bytearray_can_be_resized_again_once_its_surface_is_gone() -> None:
    memory = bytearray(16)
    surface = shell(4)
    assert adoption.adopt(surface, 1, 16, memory)
    with pytest.raises(BufferError):
        memory.append(0)
    del surface
    gc.collect()
    memory.append(0)


@pytest.mark.parametrize(
    ("make", "rows", "pitch", "length"),
    [
        (lambda: shell(5), 3, 20, 59),  # memory too short
        (lambda: shell(5), 3, 20, 61),  # or too long
        (lambda: shell(5, 24, (0xFF0000, 0xFF00, 0xFF, 0)), 3, 15, 45),  # not SDL's pitch (16)
        (lambda: shell(5), 0, 20, 0),  # no rows to give
        (lambda: pygame.Surface((5, 2), 0, 32, XRGB), 3, 20, 60),  # it has rows of its own
        (lambda: pygame.Surface((5, 2), 0, 32, XRGB).subsurface((0, 0, 5, 0)), 3, 20, 60),
        (lambda: pygame.Surface((0, 0), 0, 32, XRGB), 3, 0, 0),  # no width
    ],
    ids=["short", "long", "pitch", "no rows", "has rows", "subsurface", "no width"],
)
def test_a_surface_that_cannot_take_the_memory_is_left_as_it_was(
    make: Any, rows: int, pitch: int, length: int
) -> None:
    surface = make()
    before = (surface.get_size(), surface.get_pitch(), surface._pixels_address, surface.get_flags())
    memory = bytearray(length)
    assert not adoption.adopt(surface, rows, pitch, memory)
    after = (surface.get_size(), surface.get_pitch(), surface._pixels_address, surface.get_flags())
    assert after == before
    memory.append(0)  # not exported


def test_a_locked_shell_is_left_as_it_was() -> None:
    surface = shell(5)
    surface.lock()
    try:
        assert not adoption.adopt(surface, 3, 20, bytearray(60))
    finally:
        surface.unlock()
    assert surface.get_size() == (5, 0)


def test_an_out_of_band_buffer_becomes_the_rebuilt_surface_uncopied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through pickle: a 24-bit odd-width surface's padded rows are adopted as they came."""
    copies: list[object] = []
    monkeypatch.setattr(_surfaces, "import_pixels", lambda *args: copies.append(args))
    original = random_surface((37, 5), 0, 24, None, seed=2)
    original.set_colorkey((1, 2, 3))
    buffers: list[pickle.PickleBuffer] = []
    blob = pickle_dumps(original, buffer_callback=buffers.append)
    memory = bytearray(buffers[0].raw())
    rebuilt = pickle.loads(blob, buffers=[memory])
    assert_same_surface(rebuilt, original)
    assert rebuilt.get_pitch() == original.get_pitch() == 112
    assert rebuilt._pixels_address == address_of(memory)
    assert copies == []


def test_unusable_adoption_leaves_the_rebuild_to_a_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(adoption, "_USABLE", False)
    original = random_surface((37, 5), 0, 32, XRGB, seed=3)
    buffers: list[pickle.PickleBuffer] = []
    blob = pickle_dumps(original, buffer_callback=buffers.append)
    memory = bytearray(buffers[0].raw())
    rebuilt = pickle.loads(blob, buffers=[memory])
    assert_same_surface(rebuilt, original)
    assert not rebuilt.get_flags() & pygame.PREALLOC
    assert rebuilt._pixels_address != address_of(memory)
