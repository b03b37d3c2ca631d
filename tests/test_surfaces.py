"""Surfaces and Masks survive pickling pixel-exact, with pickle and with cloudpickle."""

from __future__ import annotations

import os

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ["SDL_AUDIODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import copyreg
import hashlib
import importlib
import inspect
import io
import pickle
import random
import struct
import subprocess
import sys
import zlib
from collections import ChainMap
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import cloudpickle
import pygame
import pytest

from pygame_async._pygame import masks as _masks
from pygame_async._pygame import surfaces as _surfaces
from pygame_async._pygame.surfaces import pygame_reducers

# --------------------------------------------------------------------------------------
# Picklers, set up the way the core sets up its own.

PICKLE_TABLE = {**copyreg.dispatch_table, **pygame_reducers()}


def pickle_dumps(obj: object, buffer_callback: Callable[[Any], Any] | None = None) -> bytes:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=5, buffer_callback=buffer_callback)
    pickler.dispatch_table = PICKLE_TABLE
    pickler.dump(obj)
    return out.getvalue()


class SurfaceCloudPickler(cloudpickle.CloudPickler):  # type: ignore[misc]
    # On the class, not the instance: the C pickler reads dispatch_table in
    # __init__ (see test_cloudpickler_ignores_a_dispatch_table_set_after_init).
    # Chained, not copied, so cloudpickle keeps its own reducers.
    dispatch_table: ClassVar[ChainMap[type, Any]] = ChainMap(
        pygame_reducers(), cloudpickle.CloudPickler.dispatch_table
    )


def cloudpickle_dumps(obj: object) -> bytes:
    out = io.BytesIO()
    SurfaceCloudPickler(out, protocol=5).dump(obj)
    return out.getvalue()


def via_pickle(obj: Any) -> Any:
    return pickle.loads(pickle_dumps(obj))


def via_cloudpickle(obj: Any) -> Any:
    return pickle.loads(cloudpickle_dumps(obj))


@pytest.fixture(params=[via_pickle, via_cloudpickle], ids=["pickle", "cloudpickle"])
def roundtrip(request: pytest.FixtureRequest) -> Callable[[Any], Any]:
    return request.param  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------
# What "the same surface" means.  surface_state is also sent to the subprocess test
# as source, so it must only use hashlib and pygame.


def surface_state(surface: pygame.Surface) -> dict[str, object]:
    width, height = surface.get_size()
    row_bytes = width * surface.get_bytesize()
    pitch = surface.get_pitch()
    rows = hashlib.sha256()
    if row_bytes and height:
        with memoryview(surface.get_buffer()) as view:  # type: ignore[arg-type]
            for y in range(height):
                rows.update(view[y * pitch : y * pitch + row_bytes])
    palettized = not any(surface.get_masks())
    colorkey = surface.get_colorkey()
    return {
        "size": surface.get_size(),
        "bitsize": surface.get_bitsize(),
        "bytesize": surface.get_bytesize(),
        "masks": tuple(surface.get_masks()),
        "shifts": tuple(surface.get_shifts()),
        "losses": tuple(surface.get_losses()),
        # PREALLOC only says the pixels belong to someone else (a subsurface's parent).
        "flags": surface.get_flags() & ~pygame.PREALLOC,
        "srcalpha": bool(surface.get_flags() & pygame.SRCALPHA),
        "alpha": surface.get_alpha(),
        "colorkey": None if colorkey is None else tuple(colorkey),
        "blendmode": surface.get_blendmode(),
        # Every entry SDL holds (its ncolors, often fewer than 256), alpha included:
        # a palette Color has length 3, so tuple(color) would drop the alpha.
        "palette": [(c.r, c.g, c.b, c.a) for c in surface.get_palette()] if palettized else None,
        "rows_sha256": rows.hexdigest(),
    }


def mask_bits(mask: pygame.mask.Mask) -> list[int]:
    width, height = mask.get_size()
    return [mask.get_at((x, y)) for y in range(height) for x in range(width)]


def assert_same_surface(copy: object, original: pygame.Surface) -> None:
    assert type(copy) is pygame.Surface
    assert surface_state(copy) == surface_state(original)
    assert not copy.get_locked()


def assert_same_mask(copy: object, original: pygame.mask.Mask) -> None:
    assert type(copy) is pygame.mask.Mask
    assert copy.get_size() == original.get_size()
    # |A & B| == |A| == |B| means A == B, without walking 16M pixels in Python.
    assert copy.count() == original.count() == copy.overlap_area(original, (0, 0))


def random_surface(
    size: tuple[int, int], flags: int, depth: int, masks: tuple[int, ...] | None, seed: int = 0
) -> pygame.Surface:
    """A surface whose every byte, row padding included, is random."""
    rng = random.Random(seed)
    if masks is None:
        surface = pygame.Surface(size, flags, depth)
    else:
        surface = pygame.Surface(size, flags, depth, masks)
    with memoryview(surface.get_buffer()) as view:  # type: ignore[arg-type]
        view[:] = rng.randbytes(view.nbytes)
    if not any(surface.get_masks()):
        surface.set_palette([tuple(rng.randbytes(3)) for _ in range(256)])
    return surface


def png_bytes(
    size: tuple[int, int],
    colours: list[tuple[int, int, int]],
    pixels: bytes,
    transparent: int | None = None,
) -> bytes:
    """An 8-bit palette PNG; `transparent` is the one palette index its tRNS chunk hides."""
    width, height = size

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
    rows = b"".join(b"\x00" + pixels[y * width : (y + 1) * width] for y in range(height))
    alphas = b"" if transparent is None else bytes([255] * transparent + [0])
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"PLTE", bytes(channel for colour in colours for channel in colour)),
            chunk(b"tRNS", alphas) if alphas else b"",
            chunk(b"IDAT", zlib.compress(rows)),
            chunk(b"IEND", b""),
        ]
    )


def short_palette_surface(
    size: tuple[int, int],
    colours: list[tuple[int, int, int]],
    transparent: int | None = None,
    seed: int = 0,
) -> pygame.Surface:
    """An 8-bit surface whose palette holds exactly `colours`, as image.load gives one.

    pygame.Surface always makes 256 entries and set_palette cannot shorten them;
    decoding a PNG is how a game gets a shorter palette.  With `transparent`, the
    decoder keys that index (a raw index, even if its colour repeats earlier).
    """
    rng = random.Random(seed)
    pixels = bytes(rng.randrange(len(colours)) for _ in range(size[0] * size[1]))
    data = png_bytes(size, colours, pixels, transparent)
    surface = pygame.image.load(io.BytesIO(data), "short-palette.png")
    assert len(surface.get_palette()) == len(colours)
    return surface


def random_mask(size: tuple[int, int], seed: int = 0) -> pygame.mask.Mask:
    rng = random.Random(seed)
    mask = pygame.mask.Mask(size)
    for x in range(size[0]):
        for y in range(size[1]):
            if rng.random() < 0.5:
                mask.set_at((x, y))
    return mask


# (flags, depth, masks); widths in the tests are odd so rows carry pitch padding.
FORMATS = {
    "8bit-palette": (0, 8, None),
    "8bit-rgb332": (0, 8, (0xE0, 0x1C, 0x03, 0)),
    "15bit-rgb555": (0, 15, None),
    "16bit-rgb565": (0, 16, None),
    "16bit-argb1555": (0, 16, (0x7C00, 0x03E0, 0x001F, 0x8000)),
    "16bit-argb4444-srcalpha": (pygame.SRCALPHA, 16, None),
    "24bit": (0, 24, None),
    "24bit-bgr": (0, 24, (0x0000FF, 0x00FF00, 0xFF0000, 0)),
    "32bit-no-alpha": (0, 32, None),
    "32bit-srcalpha": (pygame.SRCALPHA, 32, None),
    "32bit-abgr-masks-blending-off": (0, 32, (0xFF, 0xFF00, 0xFF0000, 0xFF000000)),
    "32bit-rgba-srcalpha": (pygame.SRCALPHA, 32, (0xFF000000, 0xFF0000, 0xFF00, 0xFF)),
}


def colorkey_from_pixel(surface: pygame.Surface) -> pygame.Color:
    return surface.unmap_rgb(surface.get_at_mapped((1, 1)))


# Each takes a fresh random surface and leaves it in one attribute state.
STATES: dict[str, Callable[[pygame.Surface], object]] = {
    "plain": lambda s: None,
    "colorkey": lambda s: s.set_colorkey(colorkey_from_pixel(s)),
    "alpha": lambda s: s.set_alpha(128),
    "colorkey+alpha": lambda s: (s.set_colorkey(colorkey_from_pixel(s)), s.set_alpha(77)),
    "alpha-none": lambda s: s.set_alpha(None),
    "colorkey-rle": lambda s: s.set_colorkey(colorkey_from_pixel(s), pygame.RLEACCEL),
    "alpha-rle": lambda s: s.set_alpha(200, pygame.RLEACCEL),
}


# --------------------------------------------------------------------------------------
# The reducer table.


def test_reducers_cover_exactly_surface_and_mask() -> None:
    reducers = pygame_reducers()
    assert set(reducers) == {pygame.Surface, pygame.mask.Mask}
    reducers.clear()
    assert pygame_reducers(), "each call must return a new dict"


def test_reconstructors_are_importable_by_name() -> None:
    # The unpickling process finds them by module and qualified name.
    surface_reduce = pygame_reducers()[pygame.Surface](pygame.Surface((1, 1)))
    mask_reduce = pygame_reducers()[pygame.mask.Mask](pygame.mask.Mask((1, 1)))
    expected = {
        surface_reduce[0]: "pygame_async._pygame.surfaces",
        mask_reduce[0]: "pygame_async._pygame.masks",
    }
    for rebuild, module in expected.items():
        assert rebuild.__module__ == module
        assert getattr(importlib.import_module(module), rebuild.__qualname__) is rebuild


def test_cloudpickler_ignores_a_dispatch_table_set_after_init() -> None:
    # Why SurfaceCloudPickler sets its table on the class: on a cloudpickle
    # pickler instance, a later assignment never reaches the C pickler.
    pickler = cloudpickle.CloudPickler(io.BytesIO(), protocol=5)
    pickler.dispatch_table = PICKLE_TABLE
    with pytest.raises(TypeError, match=r"cannot pickle 'pygame\.surface\.Surface' object"):
        pickler.dump(pygame.Surface((1, 1)))


def test_cloudpickle_keeps_its_own_reducers() -> None:
    payload: dict[str, Any] = {
        "fn": lambda x: x + 1,
        "keys": {1: 2}.keys(),
        "surface": pygame.Surface((2, 2)),
    }
    back = via_cloudpickle(payload)
    assert back["fn"](1) == 2
    assert list(back["keys"]) == [1]
    assert_same_surface(back["surface"], payload["surface"])


# --------------------------------------------------------------------------------------
# Types pygame already pickles.


NATIVE = {
    "Rect": pygame.Rect(1, -2, 30, 40),
    "Color": pygame.Color(10, 20, 30, 40),
    "Vector2": pygame.Vector2(1.5, -2.25),
    "Vector3": pygame.Vector3(1.5, -2.25, 1e9),
}
if hasattr(pygame, "FRect"):
    NATIVE["FRect"] = pygame.FRect(1.5, -2.25, 3.125, 4.0)


@pytest.mark.parametrize("obj", NATIVE.values(), ids=NATIVE.keys())
def test_native_pygame_values_round_trip(obj: object, roundtrip: Callable[[Any], Any]) -> None:
    for back in (roundtrip(obj), pickle.loads(pickle.dumps(obj, protocol=5))):
        assert type(back) is type(obj)
        assert back == obj


# --------------------------------------------------------------------------------------
# Surfaces.


@pytest.mark.parametrize("state", STATES.values(), ids=STATES.keys())
@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
def test_surface_round_trips_exactly(
    fmt: tuple[int, int, tuple[int, ...] | None],
    state: Callable[[pygame.Surface], object],
    roundtrip: Callable[[Any], Any],
) -> None:
    original = random_surface((13, 7), *fmt)
    state(original)
    before = surface_state(original)

    copy = roundtrip(original)
    assert_same_surface(copy, original)
    assert surface_state(original) == before, "pickling must not alter the source"
    assert not original.get_locked(), "pickling must not leave the source locked"
    # And back again, the way a worker returns a surface it was given.
    assert_same_surface(roundtrip(copy), original)


@pytest.mark.parametrize("fmt", FORMATS.values(), ids=FORMATS.keys())
@pytest.mark.parametrize("size", [(0, 0), (0, 5), (5, 0)], ids=str)
def test_empty_surface_round_trips(
    fmt: tuple[int, int, tuple[int, ...] | None],
    size: tuple[int, int],
    roundtrip: Callable[[Any], Any],
) -> None:
    original = random_surface(size, *fmt)
    assert_same_surface(roundtrip(original), original)


@pytest.mark.parametrize("state", ["colorkey", "colorkey+alpha", "alpha"])
@pytest.mark.parametrize("fmt", ["8bit-palette", "16bit-rgb565", "24bit", "32bit-no-alpha"])
def test_rebuilt_surface_blits_like_the_original(
    fmt: str, state: str, roundtrip: Callable[[Any], Any]
) -> None:
    # The end-to-end reason for shipping raw pixels: tobytes("RGBA") loses the
    # combination of colorkey and surface alpha.
    original = random_surface((13, 7), *FORMATS[fmt])
    STATES[state](original)
    copy = roundtrip(original)
    targets = [random_surface((20, 10), 0, 32, None, seed=9) for _ in range(2)]
    targets[0].blit(original, (3, 2))
    targets[1].blit(copy, (3, 2))
    assert surface_state(targets[0]) == surface_state(targets[1])


def test_large_rgba_surface_round_trips(roundtrip: Callable[[Any], Any]) -> None:
    original = random_surface((4096, 4096), pygame.SRCALPHA, 32, None)
    assert_same_surface(roundtrip(original), original)


def test_pixels_go_out_of_band_as_one_zero_copy_buffer() -> None:
    original = random_surface((256, 128), pygame.SRCALPHA, 32, None)
    buffers: list[pickle.PickleBuffer] = []
    data = pickle_dumps(original, buffer_callback=buffers.append)

    assert len(data) < 1024, "the pixels must not be in-band"
    assert len(buffers) == 1
    with buffers[0].raw() as raw:
        assert raw.nbytes == 256 * 128 * 4
    # The buffer is the surface's own memory, so the surface stays locked until
    # the consumer releases it.
    assert original.get_locked()

    for kind in (bytes, bytearray, memoryview):
        with buffers[0].raw() as raw:
            copy = pickle.loads(data, buffers=[kind(raw)])
        assert_same_surface(copy, original)

    buffers[0].release()
    assert not original.get_locked()


def test_protocol_5_is_required_for_surfaces() -> None:
    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=4)
    pickler.dispatch_table = PICKLE_TABLE
    with pytest.raises(pickle.PicklingError, match="protocol >= 5"):
        pickler.dump(pygame.Surface((2, 2)))


def test_pixels_written_with_a_different_pitch_are_repacked() -> None:
    original = random_surface((13, 7), 0, 24, None)
    rebuild, args = _surfaces._reduce_surface(original)
    size, depth, masks, pitch, pixels, *rest = args
    with memoryview(pixels) as view:
        wide_pitch = pitch + 9
        rows = b"".join(view[y * pitch : (y + 1) * pitch].tobytes() + b"\xee" * 9 for y in range(7))
    copy = rebuild(size, depth, masks, wide_pitch, rows, *rest)
    assert_same_surface(copy, original)


def test_truncated_pixels_are_refused() -> None:
    original = random_surface((13, 7), 0, 32, None)
    rebuild, args = _surfaces._reduce_surface(original)
    size, depth, masks, pitch, pixels, *rest = args
    with memoryview(pixels) as view, pytest.raises(ValueError, match="pixel data holds"):
        rebuild(size, depth, masks, pitch, view[:-1].tobytes(), *rest)


@pytest.mark.parametrize(
    "area",
    [(3, 2, 7, 5), (9, 4, 7, 5), (0, 0, 16, 9), (5, 5, 0, 3)],
    ids=["inner", "bottom-right-corner", "whole-parent", "empty"],
)
@pytest.mark.parametrize("fmt", ["8bit-palette", "24bit", "32bit-srcalpha"])
def test_subsurface_arrives_detached(
    fmt: str, area: tuple[int, int, int, int], roundtrip: Callable[[Any], Any]
) -> None:
    parent = random_surface((16, 9), *FORMATS[fmt])
    parent.set_colorkey(colorkey_from_pixel(parent))
    subsurface = parent.subsurface(area)

    copy = roundtrip(subsurface)
    assert_same_surface(copy, subsurface)
    assert copy.get_parent() is None
    assert not copy.get_flags() & pygame.PREALLOC
    assert not parent.get_locked()

    if area[2] and area[3]:
        parent_before = surface_state(parent)
        copy.fill(copy.get_at_mapped((0, 0)) ^ 1)
        assert surface_state(parent) == parent_before


def test_subsurface_ships_only_its_own_rows() -> None:
    # Its buffer spans the parent's full rows; sending that would leak parent
    # pixels and read past the parent's last row.
    parent = random_surface((256, 256), pygame.SRCALPHA, 32, None)
    subsurface = parent.subsurface((240, 248, 16, 8))
    assert len(pickle_dumps(subsurface)) < 16 * 8 * 4 + 300


def test_surfaces_nested_in_containers_round_trip(roundtrip: Callable[[Any], Any]) -> None:
    sprite = random_surface((5, 3), pygame.SRCALPHA, 32, None, seed=1)
    tile = random_surface((4, 4), 0, 8, None, seed=2)
    mask = random_mask((9, 2))
    payload = {
        "sprites": [sprite, (tile, sprite)],
        "meta": {"rect": pygame.Rect(1, 2, 3, 4), "color": pygame.Color("gold")},
        "mask": mask,
    }
    back = roundtrip(payload)
    assert_same_surface(back["sprites"][0], sprite)
    assert_same_surface(back["sprites"][1][0], tile)
    assert isinstance(back["sprites"][1], tuple)
    # The pickler memoizes reduced objects, so shared references stay shared.
    assert back["sprites"][1][1] is back["sprites"][0]
    assert back["meta"] == payload["meta"]
    assert_same_mask(back["mask"], mask)


def test_bit_depths_below_eight_are_refused() -> None:
    class OneBitSurface:
        def get_bytesize(self) -> int:
            return 0

        def get_bitsize(self) -> int:
            return 1

    with pytest.raises(pickle.PicklingError, match="1 bits per pixel"):
        _surfaces._reduce_surface(OneBitSurface())  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Masks.


@pytest.mark.parametrize(
    "size",
    [(37, 5), (1, 1), (7, 3), (8, 8), (9, 2), (31, 2), (33, 3), (63, 2), (64, 2), (65, 3)],
    ids=str,
)
def test_small_mask_round_trips_bit_exact(
    size: tuple[int, int], roundtrip: Callable[[Any], Any]
) -> None:
    original = random_mask(size, seed=size[0])
    copy = roundtrip(original)
    assert_same_mask(copy, original)
    assert mask_bits(copy) == mask_bits(original)


@pytest.mark.parametrize("fill", [False, True], ids=["clear", "full"])
@pytest.mark.parametrize("size", [(0, 0), (0, 3), (3, 0), (13, 5), (64, 1)], ids=str)
def test_uniform_and_empty_masks_round_trip(
    size: tuple[int, int], fill: bool, roundtrip: Callable[[Any], Any]
) -> None:
    original = pygame.mask.Mask(size, fill=fill)
    assert_same_mask(roundtrip(original), original)


def test_large_mask_round_trips(roundtrip: Callable[[Any], Any]) -> None:
    rng = random.Random(5)
    shapes = pygame.Surface((4096, 4096), pygame.SRCALPHA)
    for _ in range(300):
        center = (rng.randrange(4096), rng.randrange(4096))
        pygame.draw.circle(shapes, (255, 255, 255, 255), center, rng.randrange(2, 200))
    original = pygame.mask.from_surface(shapes)
    # Single pixels at the corners catch off-by-one errors in the bit packing.
    for corner in [(0, 0), (4095, 0), (0, 4095), (4095, 4095)]:
        original.set_at(corner)
    original.set_at((4094, 4095), 0)

    copy = roundtrip(original)
    assert_same_mask(copy, original)
    assert copy.get_at((4094, 4095)) == 0


def test_mask_pickles_compactly() -> None:
    data = pickle_dumps(pygame.mask.Mask((1000, 1000), fill=True))
    assert len(data) < 1000 * 1000 // 8 + 200


def test_mask_with_too_many_bits_is_refused() -> None:
    with pytest.raises(ValueError, match="more than the 4 bits"):
        _masks._rebuild_mask((2, 2), b"\xff")


# --------------------------------------------------------------------------------------
# A worker that never initialises pygame.

CHILD = """
import hashlib, io, pickle, sys

import pygame
from pygame_async._pygame.surfaces import pygame_reducers

{helpers}

objects = pickle.loads(sys.stdin.buffer.read())
assert not pygame.get_init(), "pygame.init() ran in the child"
assert not pygame.display.get_init(), "pygame.display was initialised in the child"

surfaces = [o for o in objects if isinstance(o, pygame.Surface)]
masks = [o for o in objects if isinstance(o, pygame.mask.Mask)]
report = {{
    "surfaces": [surface_state(s) for s in surfaces],
    "masks": [(m.get_size(), mask_bits(m)) for m in masks],
    "others": [o for o in objects if not isinstance(o, (pygame.Surface, pygame.mask.Mask))],
}}

# Send the rebuilt objects back too, pickled here, still without init.
out = io.BytesIO()
pickler = pickle.Pickler(out, protocol=5)
pickler.dispatch_table = {{**__import__("copyreg").dispatch_table, **pygame_reducers()}}
pickler.dump((report, objects))
assert not pygame.get_init() and not pygame.display.get_init()
sys.stdout.buffer.write(out.getvalue())
"""


def test_uninitialised_subprocess_rebuilds_and_returns_everything() -> None:
    parent = random_surface((16, 9), pygame.SRCALPHA, 32, None, seed=3)
    keyed = random_surface((11, 3), 0, 8, None, seed=4)
    keyed.set_colorkey(colorkey_from_pixel(keyed))
    keyed.set_alpha(99)
    objects: list[Any] = [
        random_surface((13, 7), 0, 24, None, seed=5),
        random_surface((13, 7), 0, 16, None, seed=6),
        keyed,
        # Rebuilding a short palette decodes an image: that must not need init either.
        short_palette_surface((13, 7), [(9, 9, 9), (50, 50, 50), (9, 9, 9)], transparent=2),
        parent.subsurface((2, 3, 9, 4)),
        random_surface((0, 4), pygame.SRCALPHA, 32, None),
        random_mask((37, 5)),
        pygame.Rect(1, 2, 3, 4),
        pygame.Color(1, 2, 3, 4),
        pygame.Vector2(0.5, -1),
    ]
    surfaces = [o for o in objects if isinstance(o, pygame.Surface)]
    masks = [o for o in objects if isinstance(o, pygame.mask.Mask)]

    env = {k: v for k, v in os.environ.items() if k not in {"DISPLAY", "WAYLAND_DISPLAY"}}
    env.pop("SDL_VIDEODRIVER", None)
    env.pop("SDL_AUDIODRIVER", None)
    package_root = str(Path(_surfaces.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    helpers = "\n\n".join(inspect.getsource(f) for f in (surface_state, mask_bits))
    script = CHILD.format(helpers=helpers)
    child = subprocess.run(
        [sys.executable, "-c", script],
        input=cloudpickle_dumps(objects),
        capture_output=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert child.returncode == 0, child.stderr.decode(errors="replace")

    report, returned = pickle.loads(child.stdout)
    assert report["surfaces"] == [surface_state(s) for s in surfaces]
    assert report["masks"] == [(m.get_size(), mask_bits(m)) for m in masks]
    assert report["others"] == objects[-3:]
    for back, original in zip(returned, objects, strict=True):
        if isinstance(original, pygame.Surface):
            assert_same_surface(back, original)
        elif isinstance(original, pygame.mask.Mask):
            assert_same_mask(back, original)
        else:
            assert back == original
