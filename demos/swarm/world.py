"""The swarm demo's tile world: cave generation in chunks, and the grid that collects them.

Caves come from a cellular automaton run over hashed noise.  Every tile's noise
is a pure function of ``(seed, x, y)`` in world coordinates, so any worker
process can build any chunk, in any order, and the chunks still meet without
seams: :func:`generate_chunk` and :func:`generate_world` give the same tiles.
Once a world is complete, :func:`survey` finds its largest cave, where units
and goals belong.

The game defines the sliced versions, :func:`generate_chunk_steps` and
:func:`survey_chunks` (:func:`survey_steps` of a world given as its chunks):
generator functions that yield every small amount of work, so that on the
inline lane (a web build) no frame waits for a whole chunk or survey (see
:mod:`demos.swarm.slicing`).
"""

from __future__ import annotations

import random
from array import array
from collections.abc import Sequence
from itertools import compress
from typing import NamedTuple

from demos.swarm.slicing import Steps, run_whole

TILE_SIZE = 16  # pixels per tile side
WORLD_W = 240  # world width in tiles
WORLD_H = 160  # world height in tiles
CHUNK = 40  # chunk side in tiles: the unit of work handed to one worker
CHUNKS_X = WORLD_W // CHUNK
CHUNKS_Y = WORLD_H // CHUNK

FLOOR = 0
WALL = 1

# 47% walls in the starting noise, smoothed 5 times with the "4-5 rule", gives
# winding caves whose largest connected region holds about 58% of the world
# (never under 45% over seeds 0-99).  Much more wall and the caves break apart.
_WALL_CHANCE = 0.47
_SMOOTH_STEPS = 5
# Each smoothing step lets a tile see one tile further, so a chunk is computed
# with this many extra tiles of context on every side.
_MARGIN = _SMOOTH_STEPS

_MASK32 = 0xFFFFFFFF
_WALL_BELOW = int(_WALL_CHANCE * (1 << 32))

# Work between two yields of the sliced functions, each a small part of a
# frame's budget on the inline lane: rows of noise, and tiles of a flood fill.
_NOISE_ROWS_PER_STEP = 10
_TILES_PER_STEP = 500


def _noise(seed: int, x: int, y: int) -> int:
    """Return a 32-bit hash of a tile: the same value in every process, unlike ``hash()``."""
    h = (seed * 0x9E3779B1 + x * 0x85EBCA77 + y * 0xC2B2AE3D) & _MASK32
    h = ((h ^ (h >> 15)) * 0x2C1B3C6D) & _MASK32
    h = ((h ^ (h >> 12)) * 0x297A2D39) & _MASK32
    return h ^ (h >> 15)


def _smooth(rows: list[list[int]]) -> list[list[int]]:
    """Apply one step of the 4-5 rule: a tile is wall when 5 of the 9 tiles around it are.

    Tiles beyond the edge of ``rows`` count as wall.  That is only true at the
    world's edge; inside the world it makes the outermost ring of ``rows``
    wrong, one more ring per step, which is why chunks carry a margin.
    """
    width = len(rows[0])
    # Sum each row over 3 columns first, then add 3 of those sums up: 6
    # additions a tile instead of 8.
    sums = []
    for row in rows:
        padded = [WALL, *row, WALL]
        sums.append([a + b + c for a, b, c in zip(padded, padded[1:], padded[2:], strict=False)])
    edge = [3 * WALL] * width
    sums = [edge, *sums, edge]
    return [
        [WALL if a + b + c >= 5 else FLOOR for a, b, c in zip(up, mid, down, strict=True)]
        for up, mid, down in zip(sums, sums[1:], sums[2:], strict=False)
    ]


def _generate_area(seed: int, x0: int, y0: int, w: int, h: int) -> Steps[bytearray]:
    """Generate the ``w`` x ``h`` tiles whose top-left tile is ``(x0, y0)``, row-major.

    Yields after every few rows of noise and after each smoothing step.
    """
    left, top = x0 - _MARGIN, y0 - _MARGIN
    rows = []
    for y in range(top, y0 + h + _MARGIN):
        # Tiles outside the world start as wall and stay wall: each has at least 6
        # walls among its 9, so the world is framed by solid rock in every window.
        rows.append(
            [
                WALL
                if not (0 <= x < WORLD_W and 0 <= y < WORLD_H) or _noise(seed, x, y) < _WALL_BELOW
                else FLOOR
                for x in range(left, x0 + w + _MARGIN)
            ]
        )
        if len(rows) % _NOISE_ROWS_PER_STEP == 0:
            yield
    for _ in range(_SMOOTH_STEPS):
        rows = _smooth(rows)
        yield

    out = bytearray()
    for y in range(y0, y0 + h):
        row = rows[y - top][_MARGIN : _MARGIN + w]
        if y in (0, WORLD_H - 1):
            row = [WALL] * w  # keep the world's top and bottom rows solid
        for x in (0, WORLD_W - 1):
            if x0 <= x < x0 + w:
                row[x - x0] = WALL  # and its left and right columns
        out += bytes(row)
    return out


def generate_chunk(seed: int, cx: int, cy: int) -> bytes:
    """Generate chunk ``(cx, cy)`` of the world for ``seed``.

    A pure function of its arguments, so it can run in any worker process.
    Returns ``CHUNK * CHUNK`` bytes, row-major, each ``FLOOR`` or ``WALL``.
    """
    return run_whole(generate_chunk_steps(seed, cx, cy))


def generate_chunk_steps(seed: int, cx: int, cy: int) -> Steps[bytes]:
    """:func:`generate_chunk`, sliced: it yields between steps and returns the chunk."""
    if not (0 <= cx < CHUNKS_X and 0 <= cy < CHUNKS_Y):
        raise ValueError(f"chunk ({cx}, {cy}) is outside the {CHUNKS_X}x{CHUNKS_Y} world")
    return bytes((yield from _generate_area(seed, cx * CHUNK, cy * CHUNK, CHUNK, CHUNK)))


def generate_world(seed: int) -> bytes:
    """Generate the whole world for ``seed`` in one go: ``WORLD_W * WORLD_H`` bytes, row-major.

    Gives exactly the tiles that the chunks of :func:`generate_chunk` give.
    """
    return bytes(run_whole(_generate_area(seed, 0, 0, WORLD_W, WORLD_H)))


class Grid:
    """The tile world as one flat ``bytearray``, row-major, filled in chunk by chunk."""

    def __init__(self, width: int = WORLD_W, height: int = WORLD_H, cells: bytes | None = None):
        """Make a ``width`` x ``height`` grid of ``cells``, or of all walls when none are given.

        Tiles whose chunk has not arrived yet are walls, so nothing walks onto
        ground that does not exist yet.
        """
        if cells is not None and len(cells) != width * height:
            raise ValueError(f"expected {width * height} cells, got {len(cells)}")
        self.width = width
        self.height = height
        self.cells = bytearray(cells) if cells is not None else bytearray([WALL]) * (width * height)
        self.loaded: set[tuple[int, int]] = set()  # chunks set so far

    def set_chunk(self, cx: int, cy: int, data: bytes) -> None:
        """Copy one chunk from :func:`generate_chunk` into place."""
        if len(data) != CHUNK * CHUNK:
            raise ValueError(f"a chunk has {CHUNK * CHUNK} tiles, got {len(data)}")
        x0, y0 = cx * CHUNK, cy * CHUNK
        if not (0 <= x0 <= self.width - CHUNK and 0 <= y0 <= self.height - CHUNK):
            raise ValueError(f"chunk ({cx}, {cy}) is outside the grid")
        for row in range(CHUNK):
            start = (y0 + row) * self.width + x0
            self.cells[start : start + CHUNK] = data[row * CHUNK : (row + 1) * CHUNK]
        self.loaded.add((cx, cy))

    @property
    def complete(self) -> bool:
        """Whether every chunk of the grid has been set."""
        return len(self.loaded) == (self.width // CHUNK) * (self.height // CHUNK)

    def is_walkable(self, x: int, y: int) -> bool:
        """Whether tile ``(x, y)`` is in the grid and is floor."""
        return (
            0 <= x < self.width and 0 <= y < self.height and self.cells[y * self.width + x] == FLOOR
        )

    def to_bytes(self) -> bytes:
        """Return an immutable copy of the tiles, e.g. to send to the pathfinding workers."""
        return bytes(self.cells)


def largest_region(grid: Grid) -> bytearray:
    """Return a mask, one byte a tile, that is 1 on the largest connected area of floor.

    Regions are 4-connected: A* never cuts corners, so a diagonal step is only
    possible where the two orthogonal steps are, and 4-connected tiles are
    exactly the ones a unit can walk between.
    """
    return run_whole(_largest_region_steps(grid))


def _largest_region_steps(grid: Grid) -> Steps[bytearray]:
    """:func:`largest_region`, sliced: yields every ``_TILES_PER_STEP`` tiles looked at."""
    w, h, cells = grid.width, grid.height, grid.cells
    seen = bytearray(len(cells))
    best: list[int] = []
    tiles_left = _TILES_PER_STEP
    for first in range(len(cells)):
        tiles_left -= 1
        if not tiles_left:
            tiles_left = _TILES_PER_STEP
            yield
        if cells[first] != FLOOR or seen[first]:
            continue
        seen[first] = 1
        region = [first]
        for i in region:  # the list grows while we walk it: a breadth-first flood fill
            tiles_left -= 1
            if not tiles_left:
                tiles_left = _TILES_PER_STEP
                yield
            x = i % w
            for j, inside in (
                (i - 1, x > 0),
                (i + 1, x < w - 1),
                (i - w, i >= w),
                (i + w, i < w * (h - 1)),
            ):
                if inside and cells[j] == FLOOR and not seen[j]:
                    seen[j] = 1
                    region.append(j)
        if len(region) > len(best):
            best = region
    mask = bytearray(len(cells))
    for start in range(0, len(best), _TILES_PER_STEP):
        for i in best[start : start + _TILES_PER_STEP]:
            mask[i] = 1
        yield
    return mask


def random_floor_tiles(
    grid: Grid, n: int, rng: random.Random, region: Sequence[int] | None = None
) -> list[tuple[int, int]]:
    """Pick ``n`` distinct tiles of the largest region, as ``(x, y)``.

    Every tile picked can reach every other, so units spawned on them can walk
    to any goal picked the same way.  Pass ``region`` (from
    :func:`largest_region`) to skip recomputing it.
    """
    mask = largest_region(grid) if region is None else region
    return _pick(list(compress(range(len(mask)), mask)), n, rng, grid.width)


def _pick(tiles: list[int], n: int, rng: random.Random, width: int) -> list[tuple[int, int]]:
    """Pick ``n`` distinct tiles of ``tiles`` (flat indices, in order), as ``(x, y)``."""
    if n > len(tiles):
        raise ValueError(f"asked for {n} tiles, the largest region has only {len(tiles)}")
    return [(i % width, i // width) for i in rng.sample(tiles, n)]


class Survey(NamedTuple):
    """What the game needs to know about a finished world, worked out by :func:`survey`."""

    nearest: array[int]
    """For every tile (flat index), the flat index of the nearest tile of the largest
    region, counted in orthogonal steps: where a unit standing there, or a goal
    clicked there, moves to.  A tile of the region maps to itself."""
    spawn: list[tuple[int, int]]
    """Distinct tiles of the largest region, as ``(x, y)``, to place new units on."""


def survey(cells: bytes, spawn: int, seed: int, width: int = WORLD_W) -> Survey:
    """Survey a finished world: its largest region, and ``spawn`` tiles in it picked with ``seed``.

    ``cells`` are the world's tiles, row-major, ``width`` to a row.  Takes
    about 0.1 s of plain Python, which is why the game runs it in a worker.
    """
    return run_whole(survey_steps(cells, spawn, seed, width))


def survey_chunks(spawn: int, seed: int, *chunks: bytes) -> Steps[Survey]:
    """:func:`survey_steps` of the world made of ``chunks``, in row-major chunk order.

    The game calls it with the Tasks of the chunk calls as arguments, which
    pygame_async replaces by their results (the chunks' bytes) once every one
    has succeeded: the worker assembles the world itself, so the survey needs
    nothing from the game that the chunk calls did not already make.
    """
    if len(chunks) != CHUNKS_X * CHUNKS_Y:
        raise ValueError(f"a world has {CHUNKS_X * CHUNKS_Y} chunks, got {len(chunks)}")
    grid = Grid()
    for index, data in enumerate(chunks):
        grid.set_chunk(index % CHUNKS_X, index // CHUNKS_X, data)
    yield
    return (yield from survey_steps(grid.to_bytes(), spawn, seed))


def survey_steps(cells: bytes, spawn: int, seed: int, width: int = WORLD_W) -> Steps[Survey]:
    """:func:`survey`, sliced: yields every ``_TILES_PER_STEP`` tiles, returns the Survey."""
    grid = Grid(width, len(cells) // width, cells)
    region = yield from _largest_region_steps(grid)
    # A breadth-first flood from every region tile at once, through floor and
    # wall alike: each tile is reached first from its nearest region tile.
    nearest = array("i", [-1]) * len(cells)
    frontier: list[int] = []  # the region's tiles first, in order
    for start in range(0, len(cells), _TILES_PER_STEP):
        tiles = list(compress(range(start, start + _TILES_PER_STEP), region[start:]))
        for i in tiles:
            nearest[i] = i
        frontier += tiles
        yield
    spawn_tiles = _pick(frontier, spawn, random.Random(seed), width)
    tiles_left = _TILES_PER_STEP
    for i in frontier:  # the list grows while we walk it
        tiles_left -= 1
        if not tiles_left:
            tiles_left = _TILES_PER_STEP
            yield
        x = i % width
        for j, inside in (
            (i - 1, x > 0),
            (i + 1, x < width - 1),
            (i - width, i >= width),
            (i + width, i + width < len(cells)),
        ):
            if inside and nearest[j] < 0:
                nearest[j] = nearest[i]
                frontier.append(j)
    return Survey(nearest, spawn_tiles)
