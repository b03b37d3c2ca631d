"""Surfaces and other pygame values cross a real pool, both ways, pixel-exact."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pygame
import pytest
from helpers import BOUND, identity
from test_surfaces import (
    assert_same_mask,
    assert_same_surface,
    colorkey_from_pixel,
    random_mask,
    random_surface,
    surface_state,
)

import pygame_async


def state_in_worker(surface: pygame.Surface) -> tuple[dict[str, object], bool]:
    """What the worker received, and whether it had to initialise a display for it."""
    return surface_state(surface), pygame.display.get_init()


def make_in_worker(size: tuple[int, int], flags: int, depth: int, seed: int) -> pygame.Surface:
    return random_surface(size, flags, depth, None, seed=seed)


def keyed_surface(depth: int) -> pygame.Surface:
    surface = random_surface((37, 21), 0, depth, None, seed=depth)
    surface.set_colorkey(colorkey_from_pixel(surface))
    surface.set_alpha(150)
    return surface


SURFACES = {
    "8bit-palette": lambda: random_surface((37, 21), 0, 8, None, seed=1),
    "24bit": lambda: random_surface((37, 21), 0, 24, None, seed=2),
    "32bit-alpha": lambda: random_surface((37, 21), pygame.SRCALPHA, 32, None, seed=3),
    "colorkeyed-8bit": lambda: keyed_surface(8),
    "colorkeyed-32bit": lambda: keyed_surface(32),
}


@pytest.fixture
def pool(module_pool: pygame_async.Pool) -> pygame_async.Pool:
    """The module's tests only define and call: they share one pool (conftest's module_pool)."""
    return module_pool


@pytest.fixture
def surface_pool(pool: pygame_async.Pool) -> Iterator[pygame_async.Pool]:
    pool.define("identity", identity)
    pool.define("state_in_worker", state_in_worker)
    pool.define("make_in_worker", make_in_worker)
    yield pool
    assert pool.wait(timeout=BOUND)


def round_trip(pool: pygame_async.Pool, value: Any) -> Any:
    return pool.call(None, "identity", value).result(timeout=BOUND)


@pytest.mark.parametrize("kind", SURFACES)
def test_surface_reaches_the_worker_and_comes_back_pixel_exact(
    surface_pool: pygame_async.Pool, kind: str
) -> None:
    original = SURFACES[kind]()
    state, display_initialised = surface_pool.call(None, "state_in_worker", original).result(BOUND)
    assert state == surface_state(original)
    assert not display_initialised
    assert_same_surface(round_trip(surface_pool, original), original)


@pytest.mark.parametrize(("flags", "depth"), [(0, 8), (0, 24), (pygame.SRCALPHA, 32)])
def test_surface_made_in_a_worker_arrives_exact(
    surface_pool: pygame_async.Pool, flags: int, depth: int
) -> None:
    made = surface_pool.call(None, "make_in_worker", (19, 7), flags, depth, 5).result(BOUND)
    assert_same_surface(made, random_surface((19, 7), flags, depth, None, seed=5))


def test_4096_square_surface_round_trips(surface_pool: pygame_async.Pool) -> None:
    original = random_surface((4096, 4096), pygame.SRCALPHA, 32, None, seed=9)
    assert_same_surface(round_trip(surface_pool, original), original)


def test_pygame_values_nested_in_containers_round_trip(surface_pool: pygame_async.Pool) -> None:
    surface = SURFACES["colorkeyed-32bit"]()
    mask = random_mask((33, 9))
    value = {
        "tiles": [surface, (surface, pygame.Rect(1, 2, 3, 4))],
        "mask": mask,
        "tint": pygame.Color(10, 20, 30, 40),
        "at": pygame.Vector2(1.5, -2),
    }
    back = round_trip(surface_pool, value)
    assert_same_surface(back["tiles"][0], surface)
    assert_same_surface(back["tiles"][1][0], surface)
    assert back["tiles"][1][1] == pygame.Rect(1, 2, 3, 4)
    assert_same_mask(back["mask"], mask)
    assert back["tint"] == pygame.Color(10, 20, 30, 40)
    assert back["at"] == pygame.Vector2(1.5, -2)


def test_returned_surfaces_blit_as_they_are_and_convert_on_request(
    surface_pool: pygame_async.Pool,
) -> None:
    original = SURFACES["32bit-alpha"]()
    back = round_trip(surface_pool, original)
    pygame.display.init()
    try:
        screen = pygame.display.set_mode((64, 64))
        screen.blit(back, (0, 0))  # ready to blit, no convert needed
        expected = pygame.Surface((64, 64))
        expected.blit(original, (0, 0))
        assert screen.get_at((5, 5)) == expected.get_at((5, 5))
        converted = back.convert_alpha()  # only on request, on the main thread
        assert converted.get_size() == original.get_size()
        assert converted.get_at((3, 4)) == original.get_at((3, 4))
    finally:
        pygame.display.quit()
