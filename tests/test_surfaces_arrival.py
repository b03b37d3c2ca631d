"""A big Surface a worker returns arrives exact, in its own received memory, uncopied.

For every common format (32 bits with alpha in any channel order, 32 bits
without alpha, 24 bits, and decoded PNG and JPEG files), at a width whose
rows are packed and at one whose 24-bit rows are padded: the Surface the
game gets has the original's size, format, pixels and attributes, its pixel
memory is the very buffer the lane's bulk reader received, and the game's
thread copied nothing (``import_pixels`` never ran).
"""

from __future__ import annotations

import ctypes
import mmap
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pygame
import pytest
from helpers import BOUND, identity
from test_surfaces import STATES, assert_same_surface, random_surface

import pygame_async
from pygame_async._lanes.process import channel
from pygame_async._pygame import surfaces as _surfaces

Masks = tuple[int, int, int, int]

# (depth, masks, flags) of each format; None masks: the ones pygame chooses.
FORMATS: dict[str, tuple[int, Masks | None, int]] = {
    "32-bit SRCALPHA (BGRA)": (32, None, pygame.SRCALPHA),
    "32-bit alpha, RGBA order": (32, (0xFF, 0xFF00, 0xFF0000, 0xFF000000), 0),
    "32-bit alpha, ARGB order": (32, (0xFF00, 0xFF0000, 0xFF000000, 0xFF), 0),
    "32-bit alpha, ABGR order": (32, (0xFF000000, 0xFF0000, 0xFF00, 0xFF), 0),
    "Surface((w, h))": (0, None, 0),  # no depth: what pygame.Surface((w, h)) makes alone
    "Surface((w, h), 0, 32)": (32, None, 0),
    "32-bit no alpha, XBGR": (32, (0xFF, 0xFF00, 0xFF0000, 0), 0),
    "32-bit no alpha, RGBX": (32, (0xFF000000, 0xFF0000, 0xFF00, 0), 0),
    "32-bit no alpha, BGRX": (32, (0xFF00, 0xFF0000, 0xFF000000, 0), 0),
    "24-bit (BGR)": (24, None, 0),
    "24-bit RGB": (24, (0xFF, 0xFF00, 0xFF0000, 0), 0),
}
# Packed rows, and an odd width: 24-bit rows then end in padding.
SIZES = [(1024, 1024), (1023, 1021)]


def make(name: str, size: tuple[int, int], seed: int) -> pygame.Surface:
    """The surface of format ``name`` a worker returns: random bytes, padding included."""
    depth, masks, flags = FORMATS[name]
    if depth == 0:
        surface = pygame.Surface(size)
        rng = random.Random(seed)
        with memoryview(surface.get_buffer()) as view:  # type: ignore[arg-type]
            view[:] = rng.randbytes(view.nbytes)
        return surface
    return random_surface(size, flags, depth, masks, seed=seed)


def make_in_state(name: str, size: tuple[int, int], state: str) -> pygame.Surface:
    surface = make(name, size, 3)
    STATES[state](surface)
    return surface


def load(path: str) -> pygame.Surface:
    return pygame.image.load(path)


@pytest.fixture
def pool(module_pool: pygame_async.Pool) -> pygame_async.Pool:
    """The module's tests only define and call: they share one pool (conftest's module_pool)."""
    return module_pool


@pytest.fixture
def arrivals(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, list[int]]]:
    """In this process: where the bulk reader received each raw buffer, and each copy made."""
    seen: dict[str, list[int]] = {"received": [], "copies": []}
    receive_raw = channel._receive_raw
    import_pixels = _surfaces.import_pixels

    def receiving(*args: Any) -> Any:
        buffer = receive_raw(*args)
        if isinstance(buffer, mmap.mmap):
            seen["received"].append(ctypes.addressof(ctypes.c_char.from_buffer(buffer)))
        return buffer

    def copying(surface: pygame.Surface, *args: Any) -> None:
        seen["copies"].append(surface.get_width())
        import_pixels(surface, *args)

    monkeypatch.setattr(channel, "_receive_raw", receiving)
    monkeypatch.setattr(_surfaces, "import_pixels", copying)
    yield seen


def assert_arrived_uncopied(
    received: pygame.Surface, original: pygame.Surface, seen: dict[str, list[int]]
) -> None:
    assert_same_surface(received, original)
    assert received.get_pitch() == original.get_pitch()
    assert received._pixels_address in seen["received"]  # the buffer the lane read into
    assert seen["copies"] == []


@pytest.mark.parametrize("name", FORMATS)
def test_a_worker_made_surface_arrives_in_its_received_memory(
    pool: pygame_async.Pool, arrivals: dict[str, list[int]], name: str
) -> None:
    pool.define("make", make)
    pool.define("identity", identity)
    for seed, size in enumerate(SIZES):
        original = make(name, size, seed)
        received = pool.call(None, "make", name, size, seed).result(timeout=BOUND)
        assert_arrived_uncopied(received, original, arrivals)
        # It crosses again as any surface does, and arrives in memory of its own.
        back = pool.call(None, "identity", received).result(timeout=BOUND)
        assert_arrived_uncopied(back, original, arrivals)
        assert back._pixels_address != received._pixels_address
        received.fill((1, 2, 3))  # its own, writable memory
        assert received.get_at((size[0] - 1, size[1] - 1))[:3] == (1, 2, 3)


@pytest.mark.parametrize("state", ["colorkey", "alpha", "colorkey+alpha", "colorkey-rle"])
@pytest.mark.parametrize("name", ["Surface((w, h))", "24-bit (BGR)", "32-bit alpha, ABGR order"])
def test_attributes_arrive_with_the_received_memory(
    pool: pygame_async.Pool, arrivals: dict[str, list[int]], name: str, state: str
) -> None:
    size = SIZES[1]
    pool.define("make_in_state", make_in_state)
    received = pool.call(None, "make_in_state", name, size, state).result(timeout=BOUND)
    assert_arrived_uncopied(received, make_in_state(name, size, state), arrivals)


# The files a game loads: saved from random pixels with or without alpha.
IMAGES = {
    "PNG with alpha": ("png", pygame.SRCALPHA),
    "PNG without alpha": ("png", 0),
    "JPEG": ("jpg", 0),
    "BMP": ("bmp", 0),
    "TGA with alpha": ("tga", pygame.SRCALPHA),
}


@pytest.mark.parametrize("image", IMAGES)
def test_a_decoded_image_arrives_as_decoded_in_its_received_memory(
    pool: pygame_async.Pool, arrivals: dict[str, list[int]], tmp_path: Path, image: str
) -> None:
    suffix, flags = IMAGES[image]
    pool.define("load", load)
    for size in SIZES:
        path = str(tmp_path / f"{size[0]}.{suffix}")
        pygame.image.save(random_surface(size, flags, 32, None, seed=11), path)
        original = pygame.image.load(path)
        received = pool.call(None, "load", path).result(timeout=BOUND)
        assert_arrived_uncopied(received, original, arrivals)


def test_without_adoption_the_surface_is_copied_exact(
    pool: pygame_async.Pool, arrivals: dict[str, list[int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where SDL's surface cannot be given memory (another interpreter, SDL 3), a copy is made."""
    from pygame_async._pygame import adoption

    monkeypatch.setattr(adoption, "_USABLE", False)
    pool.define("make", make)
    size = SIZES[1]
    received = pool.call(None, "make", "24-bit (BGR)", size, 4).result(timeout=BOUND)
    assert_same_surface(received, make("24-bit (BGR)", size, 4))
    assert received._pixels_address not in arrivals["received"]
    assert arrivals["copies"] == [size[0]]


def make_from_array(size: tuple[int, int], seed: int) -> pygame.Surface:
    import numpy
    import pygame.surfarray

    rng = numpy.random.default_rng(seed)
    return pygame.surfarray.make_surface(rng.integers(0, 256, (*size, 3), dtype=numpy.uint8))


def test_a_surface_made_from_a_numpy_array_arrives_in_its_received_memory(
    pool: pygame_async.Pool, arrivals: dict[str, list[int]]
) -> None:
    """``surfarray.make_surface``'s format (32 bits, no alpha): the issue's own example."""
    pool.define("make_from_array", make_from_array)
    for seed, size in enumerate(SIZES):
        original = make_from_array(size, seed)
        assert original.get_bitsize() == 32 and original.get_masks()[3] == 0
        received = pool.call(None, "make_from_array", size, seed).result(timeout=BOUND)
        assert_arrived_uncopied(received, original, arrivals)
