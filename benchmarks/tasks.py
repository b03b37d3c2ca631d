"""The functions the benchmarks run in worker processes.

They live in their own module, apart from ``run.py``, so that every pool can
import them by name in its workers (forkserver and spawn children re-import
modules, they never inherit them).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import pygame

SURFACE_ALPHA = 200  # every benchmark Surface pixel's alpha; its colour depends on the call


def add_one(x: int) -> int:
    """The tiniest call: measures the pool's own cost per call."""
    return x + 1


def warm_up(x: int) -> int:
    """Import pygame and linger a little, so that every worker of the pool gets one.

    Games import pygame in their workers as soon as a function needs it; doing
    it here keeps that one-off import out of the Surface timings.
    """
    import pygame  # noqa: F401 - the import is the point

    time.sleep(0.05)
    return x + 1


def cpu_work(n: int) -> int:
    """Pure-Python arithmetic taking time proportional to ``n``; holds the GIL throughout."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def spin(seconds: float) -> int:
    """Keep a worker's CPU busy for ``seconds``, then return a tiny result."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass
    return 0


def make_bytes(size: int, fill: int) -> bytes:
    """A ``size``-byte result, every byte ``fill``, so the receiver can check it."""
    return bytes([fill]) * size


# The Surface formats the "surface" sections measure: how a worker makes one, and
# the image.tobytes / image.frombuffer layout a pool that cannot pickle Surfaces
# ships it in instead (as many bytes per pixel, so both move the same data).
SURFACE_FORMATS: dict[str, Literal["RGBA", "RGBX", "RGB"]] = {
    # pygame's per-pixel-alpha format: 32 bits, masks (0xFF0000, 0xFF00, 0xFF, 0xFF000000).
    "srcalpha": "RGBA",
    # What pygame.Surface((w, h)) and surfarray.make_surface give without a display:
    # 32 bits, masks (0xFF0000, 0xFF00, 0xFF, 0), no alpha.
    "no_alpha": "RGBX",
    # pygame.Surface((w, h), 0, 24): masks (0xFF0000, 0xFF00, 0xFF, 0).
    "24bit": "RGB",
}


def surface_colour(fill: int, kind: str = "srcalpha") -> tuple[int, int, int, int]:
    """The RGBA colour of every pixel of ``make_surface(side, fill, kind)``."""
    alpha = SURFACE_ALPHA if kind == "srcalpha" else 255
    return (fill % 256, 255 - fill % 256, 7, alpha)


def make_surface(side: int, fill: int, kind: str = "srcalpha") -> pygame.Surface:
    """A ``side`` x ``side`` Surface of ``kind`` in one colour, as a worker would draw it."""
    import pygame

    if kind == "srcalpha":
        surface = pygame.Surface((side, side), pygame.SRCALPHA, 32)
    elif kind == "no_alpha":
        surface = pygame.Surface((side, side), 0, 32)
    else:
        surface = pygame.Surface((side, side), 0, 24)
    surface.fill(surface_colour(fill, kind))
    return surface


def make_surface_bytes(
    side: int, fill: int, kind: str = "srcalpha"
) -> tuple[tuple[int, int], bytes]:
    """What a user of a pool that cannot pickle Surfaces returns: size and pixel bytes."""
    import pygame

    surface = make_surface(side, fill, kind)
    return surface.get_size(), pygame.image.tobytes(surface, SURFACE_FORMATS[kind])


def measure_table(table: bytes, i: int) -> int:
    """What a user of a pool that cannot send closures writes: the map as an argument."""
    return len(table) + table[i] + i


def make_lookup(table: bytes) -> Callable[[int], int]:
    """A closure over ``table``: the function a game would define once and call often."""

    def lookup(i: int) -> int:
        return len(table) + table[i] + i

    return lookup


def hold(gate: str, started: str) -> int:
    """Keep a worker busy until the game releases it: one byte through the FIFO ``gate``.

    It first writes one byte to the FIFO ``started``, so the game knows this
    worker is held (see ``benchmarks.growth.Gate``); nothing here sleeps.
    """
    with open(started, "wb", buffering=0) as signal:
        signal.write(b"s")
    fd = os.open(gate, os.O_RDONLY)
    try:
        return len(os.read(fd, 1))
    finally:
        os.close(fd)
