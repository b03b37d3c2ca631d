"""Big results travel beside the pickle, are read off the game's thread, and keep their type."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pygame
import pytest
from helpers import BOUND, wait_until

import pygame_async
from pygame_async._core import serialization as _serialization
from pygame_async._lanes.process import channel

BIG = 4 * _serialization.OUT_OF_BAND_BYTES  # well above the out-of-band threshold


def pattern(size: int, seed: int) -> bytes:
    """Bytes that differ along their length, so a shifted or truncated copy shows."""
    block = bytes((seed + i * 7) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


def make_bytes(size: int, seed: int) -> bytes:
    return pattern(size, seed)


def make_bytearray(size: int, seed: int) -> bytearray:
    return bytearray(pattern(size, seed))


def make_surface(side: int, seed: int) -> pygame.Surface:
    surface = pygame.Surface((side, side), pygame.SRCALPHA, 32)
    surface.fill((seed, 255 - seed, 7, 200))
    surface.set_at((side - 1, side - 1), (1, 2, 3, 4))
    return surface


def add_one(x: int) -> int:
    return x + 1


@pytest.fixture
def raw_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The name of the thread that read each raw buffer in this process."""
    readers: list[str] = []
    receive_raw = channel._receive_raw

    def recording(*args: Any) -> Any:
        readers.append(threading.current_thread().name)
        return receive_raw(*args)

    monkeypatch.setattr(channel, "_receive_raw", recording)
    yield readers


def spin_until(pool: pygame_async.Pool, condition: Any) -> None:
    """An uncapped game loop: update() with no sleep, until ``condition()`` holds."""
    wait_until(lambda: pool.update() >= 0 and condition(), BOUND)


@pytest.fixture
def pool(module_pool: pygame_async.Pool) -> pygame_async.Pool:
    """The module's tests only define and call: they share one pool (conftest's module_pool)."""
    return module_pool


def test_big_bytes_arrive_as_bytes(pool: pygame_async.Pool) -> None:
    pool.define("make_bytes", make_bytes)
    for seed in range(3):
        value = pool.call(None, "make_bytes", BIG, seed).result(timeout=BOUND)
        assert type(value) is bytes
        assert value == pattern(BIG, seed)


def test_big_bytearray_arrives_as_a_bytearray(pool: pygame_async.Pool) -> None:
    pool.define("make_bytearray", make_bytearray)
    value = pool.call(None, "make_bytearray", BIG, 5).result(timeout=BOUND)
    assert type(value) is bytearray
    assert value == pattern(BIG, 5)
    value[0] ^= 0xFF  # writable, like the original


def test_update_leaves_big_results_to_the_io_thread(
    pool: pygame_async.Pool, raw_reads: list[str]
) -> None:
    """A game loop that never sleeps must not wait while megabytes arrive."""
    pool.define("make_bytes", make_bytes)
    pool.define("make_surface", make_surface)
    received: list[Any] = []
    for seed in range(4):
        pool.call(received.append, "make_bytes", BIG, seed)
        pool.call(received.append, "make_surface", 1024, seed)
    spin_until(pool, lambda: len(received) == 8)
    assert raw_reads and set(raw_reads) == {"pygame_async-bulk"}
    assert sorted(value for value in received if type(value) is bytes) == sorted(
        pattern(BIG, seed) for seed in range(4)
    )
    surfaces = [value for value in received if isinstance(value, pygame.Surface)]
    assert sorted(surface.get_at((0, 0))[0] for surface in surfaces) == [0, 1, 2, 3]
    assert all(surface.get_at((1023, 1023)) == (1, 2, 3, 4) for surface in surfaces)


def test_replies_after_a_big_result_keep_their_order() -> None:
    """On one worker, short calls queued behind a big one complete after it, in order."""
    with pygame_async.Pool(1) as pool:
        make = pool.define("make_bytes", make_bytes)
        add = pool.define("add_one", add_one)
        for i in range(50):  # teach the pool add_one is short, so it is queued behind
            add(None, i).result(timeout=BOUND)
        order: list[Any] = []
        make(lambda value: order.append(len(value)), BIG, 1)
        for i in range(20):
            add(order.append, i)
        spin_until(pool, lambda: len(order) == 21)
        assert order == [BIG, *range(1, 21)]


def load_image(path: str) -> pygame.Surface:
    return pygame.image.load(path)


@pytest.mark.parametrize("masks", ["pygame's own (BGRA)", "a loaded PNG's (RGBA)"])
def test_big_32_bit_surfaces_are_adopted_not_copied(
    pool: pygame_async.Pool, tmp_path: Any, masks: str
) -> None:
    """The received pixels become the Surface's own memory, in either channel order."""
    original = make_surface(1024, 9)
    if "PNG" in masks:
        path = str(tmp_path / "big.png")
        pygame.image.save(original, path)
        original = pygame.image.load(path)
        assert original.get_masks() == (0xFF, 0xFF00, 0xFF0000, 0xFF000000)
        pool.define("load_image", load_image)
        received = pool.call(None, "load_image", path).result(timeout=BOUND)
    else:
        pool.define("make_surface", make_surface)
        received = pool.call(None, "make_surface", 1024, 9).result(timeout=BOUND)
    assert received.get_flags() & pygame.PREALLOC  # built over the received memory
    assert received.get_masks() == original.get_masks()
    assert received.get_size() == original.get_size()
    assert pygame.image.tobytes(received, "RGBA") == pygame.image.tobytes(original, "RGBA")
    received.fill((1, 2, 3, 4))  # its own, writable memory
    assert received.get_at((5, 5)) == (1, 2, 3, 4)
