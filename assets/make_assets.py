"""Generate every asset of the swarm demo into this folder: tiles, units, goal marker, sounds.

All art is drawn pixel by pixel from fixed seeds, so running the script again
gives byte-identical files.  It needs no display::

    python assets/make_assets.py
"""

from __future__ import annotations

import math
import os
import random
import struct
import wave
from collections.abc import Callable
from pathlib import Path

# Must be set before pygame is imported: it makes pygame work without a screen.
os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

OUT = Path(__file__).resolve().parent
TILE = 16  # tile side in pixels, as demos.swarm.world.TILE_SIZE
UNIT = 12  # unit sprite side in pixels: a little smaller than a tile
RATE = 22050  # sound sample rate in Hz

Color = tuple[int, int, int, int]

# Per-unit palette: (body, shade, highlight).
UNIT_COLOURS: dict[str, tuple[tuple[int, int, int], ...]] = {
    "red": ((232, 76, 61), (150, 40, 42), (255, 160, 140)),
    "blue": ((66, 135, 245), (36, 72, 160), (160, 205, 255)),
    "green": ((88, 200, 90), (40, 120, 60), (180, 245, 160)),
    "yellow": ((245, 200, 60), (170, 120, 30), (255, 240, 170)),
}


def clamp(value: float) -> int:
    """Round ``value`` to a colour channel in 0-255."""
    return max(0, min(255, round(value)))


def shade(rgb: tuple[int, int, int], amount: float, alpha: int = 255) -> Color:
    """Return ``rgb`` brightened (``amount`` > 0) or darkened (< 0) by that many levels."""
    r, g, b = rgb
    return (clamp(r + amount), clamp(g + amount), clamp(b + amount), alpha)


def floor_tile(variant: int) -> pygame.Surface:
    """Draw a dusty cave floor: speckled earth with a few pebbles, plus moss or cracks."""
    rng = random.Random(100 + variant)
    base = (92, 80, 66)
    tile = pygame.Surface((TILE, TILE))
    for y in range(TILE):
        for x in range(TILE):
            tile.set_at((x, y), shade(base, rng.randint(-7, 7)))
    # Pebbles: a light top pixel over a dark shadow pixel reads as a bump.
    for _ in range(3 + variant):
        x, y = rng.randrange(1, TILE - 2), rng.randrange(1, TILE - 2)
        tile.set_at((x, y), shade(base, 34))
        tile.set_at((x + 1, y), shade(base, 22))
        tile.set_at((x, y + 1), shade(base, -26))
        tile.set_at((x + 1, y + 1), shade(base, -30))
    if variant == 1:  # a faint crack, wandering down the tile
        x, y = rng.randrange(4, 10), 4
        while y < TILE - 4 and 0 < x < TILE - 1:
            tile.set_at((x, y), shade(base, -20))
            x += rng.choice((-1, 0, 1))
            y += 1
    if variant == 2:  # a tuft of moss
        for _ in range(14):
            x, y = 9 + round(rng.gauss(0, 1.6)), 9 + round(rng.gauss(0, 1.3))
            if 0 <= x < TILE and 0 <= y < TILE:
                tile.set_at(
                    (x, y), (84 + rng.randint(-10, 10), 118 + rng.randint(-10, 14), 62, 255)
                )
    return tile


def wall_tile(variant: int) -> pygame.Surface:
    """Draw cave rock: lumpy stones lit from the top-left, with dark crevices between them.

    The stones are a Voronoi pattern whose distances wrap around the tile's
    edges, so walls tile seamlessly and a mass of them reads as one rock face.
    """
    rng = random.Random(200 + variant)
    base = (70, 74, 98)
    seeds = [(rng.uniform(0, TILE), rng.uniform(0, TILE), rng.randint(-10, 10)) for _ in range(5)]
    tile = pygame.Surface((TILE, TILE))
    for y in range(TILE):
        for x in range(TILE):
            near: list[tuple[float, float, float, int]] = []
            for sx, sy, tone in seeds:
                # Offset to the nearest copy of the seed in the tiled plane.
                dx = (x + 0.5 - sx + TILE / 2) % TILE - TILE / 2
                dy = (y + 0.5 - sy + TILE / 2) % TILE - TILE / 2
                near.append((math.hypot(dx, dy), dx, dy, tone))
            near.sort()
            (d1, dx, dy, tone), (d2, *_) = near[0], near[1]
            gap = d2 - d1  # small where two stones meet
            if gap < 0.9:
                amount = -40.0  # crevice
            else:
                # Pixels up and left of a stone's centre face the light.
                amount = tone - 14 * (dx + dy) / max(d1, 1.0) + rng.randint(-4, 4)
                if gap < 1.9:
                    amount -= 10  # darken the stone's rim a little
            tile.set_at((x, y), shade(base, amount))
    return tile


def unit_sprite(
    body: tuple[int, int, int], dark: tuple[int, int, int], light: tuple[int, int, int]
) -> pygame.Surface:
    """Draw a round slime with big eyes, a dark outline and a soft shadow, on transparency."""
    sprite = pygame.Surface((UNIT, UNIT), pygame.SRCALPHA)
    cx, cy, rx, ry = 5.5, 6.0, 5.2, 4.6
    for y in range(UNIT):
        for x in range(UNIT):
            # Body: an ellipse, flatter at the bottom like a sitting slime.
            d = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2
            if y > 9:
                d = 2.0  # flat base
            if d <= 0.62:
                colour = shade(body, 0) if y < 7 else shade(body, -18)
            elif d <= 1.0:
                colour = (*dark, 255)
            elif y >= 10 and abs(x - cx) < 5:
                colour = (0, 0, 0, 70)  # shadow on the ground
            else:
                continue
            sprite.set_at((x, y), colour)
    for x, y in ((3, 3), (4, 3), (3, 4)):  # shine
        sprite.set_at((x, y), (*light, 255))
    for ex in (4, 7):  # eyes: white with a pupil looking slightly right
        sprite.set_at((ex, 5), (250, 250, 250, 255))
        sprite.set_at((ex, 6), (250, 250, 250, 255))
        sprite.set_at((ex + 1, 5), (250, 250, 250, 255))
        sprite.set_at((ex + 1, 6), (24, 22, 30, 255))
    return sprite


def goal_marker() -> pygame.Surface:
    """Draw a glowing target ring with a centre dot, anti-aliased by hand."""
    size = TILE
    marker = pygame.Surface((size, size), pygame.SRCALPHA)
    centre = (size - 1) / 2
    for y in range(size):
        for x in range(size):
            r = math.hypot(x - centre, y - centre)
            # Coverage of a ring of radius 6 and of a dot of radius 2, softened by 1 px.
            ring = max(0.0, 1.0 - abs(r - 6.0) / 1.2)
            dot = max(0.0, min(1.0, 2.6 - r))
            glow = max(0.0, 1.0 - abs(r - 6.0) / 2.6) * 0.35
            alpha = max(ring, dot, glow)
            if alpha <= 0:
                continue
            hot = max(ring, dot)  # the core is near white, the glow golden
            colour = (255, clamp(200 + 55 * hot), clamp(60 + 180 * hot))
            marker.set_at((x, y), (*colour, clamp(255 * alpha)))
    return marker


def write_wav(path: Path, samples: list[float], peak: float = 0.6) -> None:
    """Write ``samples`` as a 16-bit mono WAV file, scaled so the loudest is at ``peak``.

    Scaling here means the synthesis functions needn't care about loudness,
    and a ``peak`` under 1 leaves headroom for the game to mix many sounds.
    """
    gain = peak * 32767 / max(abs(s) for s in samples)
    frames = b"".join(struct.pack("<h", round(s * gain)) for s in samples)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(frames)


def blip() -> list[float]:
    """Synthesise the "goal set" sound: two quick rising chirps."""
    samples = []
    phase = 0.0
    for note, (start, end) in enumerate(((660.0, 990.0), (990.0, 1480.0))):
        length = int(RATE * 0.06)
        for i in range(length):
            t = i / length
            phase += 2 * math.pi * (start + (end - start) * t) / RATE
            # A sine with a little third harmonic sounds rounder than a bare sine.
            tone = math.sin(phase) + 0.25 * math.sin(3 * phase)
            envelope = min(1.0, i / 60) * (1 - t) ** 1.5
            samples.append(tone * envelope * (1.0 if note else 0.8))
    return samples


def whoosh() -> list[float]:
    """Synthesise the "world regenerated" sound: noise swept through a low-pass filter."""
    rng = random.Random(300)
    length = int(RATE * 0.7)
    samples = []
    low = 0.0
    for i in range(length):
        t = i / length
        # The filter opens then closes, which is what makes noise sound like air rushing past.
        cutoff = 0.02 + 0.25 * math.sin(math.pi * t) ** 2
        low += cutoff * (rng.uniform(-1.0, 1.0) - low)
        envelope = math.sin(math.pi * t**0.7) ** 2
        samples.append(low * envelope)
    return samples


def images() -> dict[str, pygame.Surface]:
    """Return every image asset by file name."""
    out = {f"floor_{v}.png": floor_tile(v) for v in range(4)}
    out |= {f"wall_{v}.png": wall_tile(v) for v in range(4)}
    out |= {f"unit_{name}.png": unit_sprite(*colours) for name, colours in UNIT_COLOURS.items()}
    out["goal.png"] = goal_marker()
    return out


SOUNDS: dict[str, Callable[[], list[float]]] = {"goal_set.wav": blip, "regenerated.wav": whoosh}


def main() -> None:
    """Write every asset into the folder holding this script."""
    pictures = images()
    for name, surface in pictures.items():
        pygame.image.save(surface, str(OUT / name))
    for name, make in SOUNDS.items():
        write_wav(OUT / name, make())
    total = sum((OUT / name).stat().st_size for name in [*pictures, *SOUNDS])
    print(f"wrote {len(pictures) + len(SOUNDS)} assets, {total / 1024:.1f} KiB, to {OUT}")


if __name__ == "__main__":
    main()
