"""Decoded images arrive exactly as loaded: palette length, colorkey index and all.

Every image pygame ships in examples/data that pygame.image.load opens, plus
8-bit images with short palettes built here (so the checks never depend on
what a flavour's wheel happens to ship), are compared after a reducer round
trip and after crossing a real pool, against a direct load.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygame
import pytest
from helpers import BOUND, identity
from test_surfaces import (
    assert_same_surface,
    short_palette_surface,
    surface_state,
    via_cloudpickle,
    via_pickle,
)

import pygame_async
from pygame_async._pygame import surfaces as _surfaces

EXAMPLES = Path(pygame.__file__).parent / "examples" / "data"

# The colour issue 13 reported: a 2-colour brick.png filled with it stays black
# when loaded directly, and turned green when a worker had decoded it.
GREEN = (10, 250, 10)


def _opens(path: Path) -> bool:
    try:
        pygame.image.load(path)
    except pygame.error:  # sounds, fonts, music: not images
        return False
    return True


EXAMPLE_NAMES = sorted(p.name for p in EXAMPLES.glob("*") if p.is_file() and _opens(p))


def _distinct(count: int) -> list[tuple[int, int, int]]:
    return [(i, (i * 7) % 256, 255 - i) for i in range(count)]


def _beyond_the_palette() -> pygame.Surface:
    # Raw pixel values past the palette's end are legal bytes; blits map them
    # by SDL's ncolors, so they show whether that count arrived.
    surface = short_palette_surface((16, 16), [(0, 0, 0), (255, 255, 255)], seed=4)
    with memoryview(surface.get_buffer()) as view:  # type: ignore[arg-type]
        for y in range(16):
            row = y * surface.get_pitch()
            view[row : row + 16] = bytes(range(y * 16, y * 16 + 16))
    return surface


# Short palettes like the ones the examples have (1, 2, 3 and 249 colours),
# with pitch padding (odd widths) and colorkeys; 256 colours as the control.
GENERATED: dict[str, Callable[[], pygame.Surface]] = {
    "1-colour": lambda: short_palette_surface((5, 3), [(200, 30, 90)]),
    "2-colours-keyed": lambda: short_palette_surface(
        (13, 7), [(0, 0, 0), (255, 255, 255)], transparent=0, seed=1
    ),
    "2-blacks-keyed-like-brick": lambda: short_palette_surface(
        (469, 9), [(0, 0, 0), (0, 0, 0)], transparent=0, seed=2
    ),
    "3-colours": lambda: short_palette_surface(
        (7, 5), [(255, 255, 255), (0, 0, 0), (255, 255, 0)], seed=3
    ),
    # The key is index 2, whose colour index 0 has too: blits must skip only 2.
    "key-colour-repeats": lambda: short_palette_surface(
        (13, 7), [(9, 9, 9), (50, 50, 50), (9, 9, 9)], transparent=2, seed=5
    ),
    "16-colours-keyed": lambda: short_palette_surface((17, 4), _distinct(16), transparent=5),
    "249-colours-keyed-like-alien": lambda: short_palette_surface(
        (80, 71), _distinct(249), transparent=248, seed=6
    ),
    "255-colours": lambda: short_palette_surface((31, 3), _distinct(255), seed=7),
    "256-colours-keyed": lambda: short_palette_surface((31, 3), _distinct(256), transparent=7),
    "pixels-beyond-the-palette": _beyond_the_palette,
}

IMAGES = [f"examples/{name}" for name in EXAMPLE_NAMES] + [f"generated/{n}" for n in GENERATED]


def decode(image: str) -> pygame.Surface:
    """Load one of IMAGES the way a game would; run in workers too."""
    kind, name = image.split("/", 1)
    if kind == "examples":
        return pygame.image.load(EXAMPLES / name)
    return GENERATED[name]()


def seen_state(surface: pygame.Surface) -> dict[str, object]:
    """surface_state, plus what a game sees of the palette: colour matching, blits, saving."""
    width, height = surface.get_size()
    filled = surface.copy()
    filled.fill(GREEN)
    backdrop = pygame.Surface((width, height), 0, 32)
    backdrop.fill((255, 0, 255))
    backdrop.blit(surface, (0, 0))
    saved = io.BytesIO()
    try:
        pygame.image.save(surface, saved, "seen.png")
    except pygame.error as error:
        # libpng refuses pixel values past the palette's end, so the refusal is
        # what a game sees of such a surface.
        saved.write(str(error).encode())
    return {
        **surface_state(surface),
        "map_rgb": surface.map_rgb(GREEN),
        "filled_rows": surface_state(filled)["rows_sha256"],
        "blit_rgba": hashlib.sha256(pygame.image.tobytes(backdrop, "RGBA")).hexdigest(),
        "png": hashlib.sha256(saved.getvalue()).hexdigest(),
    }


def differences(got: dict[str, object], expected: dict[str, object]) -> list[str]:
    """The names of the state entries that differ, so a failure lists what went wrong."""
    return [key for key in expected if got[key] != expected[key]]


@pytest.fixture(params=[via_pickle, via_cloudpickle], ids=["pickle", "cloudpickle"])
def transport(request: pytest.FixtureRequest) -> Callable[[Any], Any]:
    return request.param  # type: ignore[no-any-return]


# --------------------------------------------------------------------------------------
# The images and what they hold.


def test_the_short_palettes_of_issue_13_are_among_the_images() -> None:
    lengths = {
        image: len(surface.get_palette())
        for image in IMAGES
        if (surface := decode(image)).get_bitsize() == 8 and not any(surface.get_masks())
    }
    assert {1, 2, 3, 249, 256} <= set(lengths.values())
    # The issue's own example, wherever this flavour ships it.
    if "alien1.png" in EXAMPLE_NAMES:
        assert lengths["examples/alien1.png"] == 249


def test_a_direct_load_maps_green_to_black_on_a_two_colour_palette() -> None:
    # What the rebuilt surface must reproduce: colours match only the palette's own entries.
    surface = decode("generated/2-colours-keyed")
    assert surface.unmap_rgb(surface.map_rgb(GREEN)) == (0, 0, 0, 255)
    surface.fill(GREEN)
    assert surface.get_at((0, 0)) == (0, 0, 0, 255)


# --------------------------------------------------------------------------------------
# The reducers alone.


@pytest.mark.parametrize("image", IMAGES)
def test_reducers_rebuild_every_image_exactly(image: str, transport: Callable[[Any], Any]) -> None:
    original = decode(image)
    expected = seen_state(original)
    copy = transport(original)
    assert_same_surface(copy, original)
    assert differences(seen_state(copy), expected) == []
    # And back again, as a worker returns what it was given.
    assert differences(seen_state(transport(copy)), expected) == []
    assert seen_state(original) == expected, "pickling must not alter the source"


@pytest.mark.parametrize("size", [(0, 0), (0, 5), (5, 0)], ids=str)
def test_an_empty_surface_keeps_its_short_palette(
    size: tuple[int, int], transport: Callable[[Any], Any]
) -> None:
    original = decode("generated/3-colours").subsurface((0, 0, *size)).copy()
    assert len(original.get_palette()) == 3
    assert_same_surface(transport(original), original)


def test_a_subsurface_of_a_short_palette_arrives_detached_with_it(
    transport: Callable[[Any], Any],
) -> None:
    parent = decode("generated/249-colours-keyed-like-alien")
    subsurface = parent.subsurface((3, 4, 21, 9))
    copy = transport(subsurface)
    assert copy.get_parent() is None
    assert differences(seen_state(copy), seen_state(subsurface)) == []


def test_a_side_too_long_for_tga_keeps_pixels_and_pads_the_palette() -> None:
    # The documented limit: the blank TGA that carries a short palette has
    # 16-bit sides, so past 65535 pixels the palette is padded as before.
    original = short_palette_surface((65536, 1), [(0, 0, 0), (255, 255, 255)], transparent=1)
    copy = via_pickle(original)
    state, expected = surface_state(copy), surface_state(original)
    assert differences(state, expected) == ["palette"]
    palette = copy.get_palette()
    assert len(palette) == 256
    assert [tuple(c) for c in palette[:2]] == [(0, 0, 0), (255, 255, 255)]


def test_without_sdl_image_a_short_palette_arrives_padded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The other documented limit: only SDL_image decodes TGA, and a build
    # without it still gets its pixels and colours, at 256 entries.
    original = decode("generated/3-colours")
    monkeypatch.setattr(pygame.image, "get_extended", lambda: False)
    copy = via_pickle(original)
    assert differences(surface_state(copy), surface_state(original)) == ["palette"]
    assert [tuple(c) for c in copy.get_palette()[:3]] == [tuple(c) for c in original.get_palette()]
    assert len(copy.get_palette()) == 256


@pytest.mark.parametrize("rle", [0, pygame.RLEACCEL], ids=["plain", "rle"])
def test_a_colorkey_keeps_its_index_when_its_colour_repeats(
    rle: int, transport: Callable[[Any], Any]
) -> None:
    # A full 256-colour palette (the pygame.Surface route) in which index 200
    # repeats index 3's colour; the key is 200, so pixels of index 3 still show.
    original = pygame.Surface((16, 16), 0, 8)
    palette = _distinct(256)
    palette[200] = palette[3]
    original.set_palette(palette)
    with memoryview(original.get_buffer()) as view:  # type: ignore[arg-type]
        view[:] = bytes(range(256))
    original.set_colorkey(200, rle)
    copy = transport(original)
    assert differences(seen_state(copy), seen_state(original)) == []
    backdrop = pygame.Surface((16, 16), 0, 32)
    backdrop.fill((255, 0, 255))
    backdrop.blit(copy, (0, 0))
    assert backdrop.get_at((3, 0)) == (*palette[3], 255)
    assert backdrop.get_at((8, 12)) == (255, 0, 255, 255)  # index 200: keyed out


def test_the_blank_surface_holds_exactly_the_palette_given() -> None:
    colours = _distinct(249)
    blank = _surfaces._blank_surface((37, 5), 8, (0, 0, 0, 0), colours)
    assert [(c.r, c.g, c.b, c.a) for c in blank.get_palette()] == [(*c, 255) for c in colours]
    assert blank.get_size() == (37, 5)
    assert blank.get_colorkey() is None
    assert blank.get_alpha() is None
    assert blank.get_flags() == 0


# --------------------------------------------------------------------------------------
# Through a real pool.


@pytest.fixture
def pool(module_pool: pygame_async.Pool) -> pygame_async.Pool:
    """The module's tests only define and call: they share one pool (conftest's module_pool)."""
    return module_pool


def seen_in_worker(surface: pygame.Surface) -> tuple[dict[str, object], bool]:
    return seen_state(surface), pygame.display.get_init()


def test_every_image_decoded_in_a_worker_arrives_as_loaded(pool: pygame_async.Pool) -> None:
    pool.define("decode", decode)
    tasks = {image: pool.call(None, "decode", image) for image in IMAGES}
    found = {
        image: differences(seen_state(task.result(BOUND)), seen_state(decode(image)))
        for image, task in tasks.items()
    }
    assert {image: diff for image, diff in found.items() if diff} == {}
    assert pool.wait(timeout=BOUND)


def test_every_image_reaches_a_worker_and_comes_back_as_loaded(pool: pygame_async.Pool) -> None:
    pool.define("seen_in_worker", seen_in_worker)
    pool.define("identity", identity)
    wrong = {}
    # One call at a time: with many surface-carrying calls in flight both ways,
    # the pool's I/O thread can block sending to a worker that is blocked
    # sending its reply (a pool deadlock outside this module, reported apart).
    for image in IMAGES:
        original = decode(image)
        expected = seen_state(original)
        state, display_initialised = pool.call(None, "seen_in_worker", original).result(BOUND)
        assert not display_initialised
        back = pool.call(None, "identity", original).result(BOUND)
        wrong[f"{image} in the worker"] = differences(state, expected)
        wrong[f"{image} back"] = differences(seen_state(back), expected)
    assert {what: diff for what, diff in wrong.items() if diff} == {}
    assert pool.wait(timeout=BOUND)


def test_random_short_palettes_cross_the_pool(pool: pygame_async.Pool) -> None:
    pool.define("identity", identity)
    rng = random.Random(13)
    originals = [
        short_palette_surface(
            (rng.randrange(1, 40), rng.randrange(1, 20)),
            [tuple(rng.randbytes(3)) for _ in range(count)],  # type: ignore[misc]
            transparent=rng.choice([None, count - 1]),
            seed=count,
        )
        for count in rng.sample(range(1, 256), 12)
    ]
    back = [pool.call(None, "identity", s).result(BOUND) for s in originals]
    for copy, original in zip(back, originals, strict=True):
        assert differences(seen_state(copy), seen_state(original)) == []
    assert pool.wait(timeout=BOUND)
