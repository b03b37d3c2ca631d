"""A* pathfinding on the tile grid, in plain Python so it runs in any worker process.

The grid travels as plain ``bytes`` plus its size (``0`` is floor, anything
else is wall), so a worker needs neither pygame nor any global state to plan.
Units move in 8 directions but never cut a corner: a diagonal step is allowed
only when both orthogonal tiles beside it are floor, so a unit never clips a
wall's corner.

:func:`plan_path` is the A* the game defines with pygame_async: a generator
function that yields every :data:`EXPANSIONS_PER_STEP` tiles it expands, so
on the inline lane (a web build) a path is planned a slice at a time across
frames.  :func:`find_path` runs it whole.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from heapq import heappop, heappush
from itertools import pairwise

from demos.swarm.slicing import Steps, run_whole

Tile = tuple[int, int]

EXPANSIONS_PER_STEP = 100
"""Tiles :func:`plan_path` expands between two yields.

Small enough that one step (the first one also builds the search's arrays)
takes a small part of a frame's budget on the inline lane, large enough that
stepping costs little beside the search (README: Web builds, the demo).
"""

_DIAGONAL = math.sqrt(2)
_OCTILE = _DIAGONAL - 1  # extra cost of a diagonal step over an orthogonal one


def _padded(grid: bytes, width: int, height: int) -> bytearray:
    """Copy ``grid`` with one ring of wall around it, so no step ever needs a bounds check."""
    pw = width + 2
    padded = bytearray(b"\x01") * (pw * (height + 2))
    for y in range(height):
        start = (y + 1) * pw + 1
        padded[start : start + width] = grid[y * width : (y + 1) * width]
    return padded


def find_path(
    grid_bytes: bytes, width: int, height: int, start: Tile, goal: Tile
) -> list[Tile] | None:
    """Find a shortest 8-directional path from ``start`` to ``goal``, both ``(x, y)``.

    Orthogonal steps cost 1 and diagonal steps sqrt(2).  Returns every tile of
    the path, ``start`` and ``goal`` included, or ``None`` when either end is
    a wall or out of the grid, or when ``goal`` cannot be reached.
    """
    return run_whole(plan_path(grid_bytes, width, height, start, goal))


def plan_path(
    grid_bytes: bytes, width: int, height: int, start: Tile, goal: Tile
) -> Steps[list[Tile] | None]:
    """:func:`find_path`, sliced: yields every :data:`EXPANSIONS_PER_STEP` expansions.

    Its return value (a generator's: ``StopIteration.value``, or a
    pygame_async call's result) is :func:`find_path`'s.
    """
    if len(grid_bytes) != width * height:
        raise ValueError(f"expected {width * height} tiles, got {len(grid_bytes)}")
    (sx, sy), (gx, gy) = start, goal
    if not (0 <= sx < width and 0 <= sy < height and 0 <= gx < width and 0 <= gy < height):
        return None
    grid = _padded(grid_bytes, width, height)
    pw = width + 2  # all indices below are flat indices into the padded grid
    src, dst = (sy + 1) * pw + sx + 1, (gy + 1) * pw + gx + 1
    if grid[src] or grid[dst]:
        return None

    # (index offset, cost, the two orthogonal offsets that must be floor; 0 = none).
    steps = (
        (-1, 1.0, 0, 0),
        (1, 1.0, 0, 0),
        (-pw, 1.0, 0, 0),
        (pw, 1.0, 0, 0),
        (-pw - 1, _DIAGONAL, -pw, -1),
        (-pw + 1, _DIAGONAL, -pw, 1),
        (pw - 1, _DIAGONAL, pw, -1),
        (pw + 1, _DIAGONAL, pw, 1),
    )
    inf = math.inf
    cost = [inf] * len(grid)  # best known cost from start
    came_from = [-1] * len(grid)
    closed = bytearray(len(grid))
    cost[src] = 0.0
    # Heap entries are (cost + estimate, estimate, index): among equally good
    # tiles the one nearest the goal comes first, which saves a lot of work
    # in open caves where many paths tie.
    heap: list[tuple[float, float, int]] = [(0.0, 0.0, src)]
    push, pop = heappush, heappop  # local names are faster in the hot loop
    expansions_left = EXPANSIONS_PER_STEP

    while heap:
        _, _, here = pop(heap)
        if here == dst:
            break
        if closed[here]:
            continue  # a stale entry: this tile was already reached more cheaply
        closed[here] = 1
        expansions_left -= 1
        if not expansions_left:
            expansions_left = EXPANSIONS_PER_STEP
            yield  # the end of a step: on the inline lane, maybe of this frame's share
        here_cost = cost[here]
        for offset, step_cost, side_a, side_b in steps:
            there = here + offset
            if grid[there] or closed[there]:
                continue
            if side_a and (grid[here + side_a] or grid[here + side_b]):
                continue  # diagonal past a wall corner
            new_cost = here_cost + step_cost
            if new_cost < cost[there]:
                cost[there] = new_cost
                came_from[there] = here
                y, x = divmod(there, pw)
                dx, dy = abs(x - gx - 1), abs(y - gy - 1)
                # Octile distance: the exact cost on an empty grid, so never too high.
                estimate = dx + _OCTILE * dy if dx > dy else dy + _OCTILE * dx
                push(heap, (new_cost + estimate, estimate, there))
    else:
        return None  # the heap ran dry: goal unreachable

    path = []
    here = dst
    while here != -1:
        y, x = divmod(here, pw)
        path.append((x - 1, y - 1))
        here = came_from[here]
    path.reverse()
    return path


def is_valid_path(
    grid_bytes: bytes, width: int, height: int, path: Sequence[Tile], start: Tile, goal: Tile
) -> bool:
    """Check that ``path`` walks from ``start`` to ``goal`` by legal steps.

    Legal means: every tile is in the grid and is floor, and every step goes to
    one of the 8 neighbours without cutting a wall's corner.  Says nothing
    about whether the path is the shortest.
    """

    def floor(x: int, y: int) -> bool:
        return 0 <= x < width and 0 <= y < height and grid_bytes[y * width + x] == 0

    if not path or path[0] != start or path[-1] != goal:
        return False
    if not all(floor(x, y) for x, y in path):
        return False
    for (x0, y0), (x1, y1) in pairwise(path):
        dx, dy = x1 - x0, y1 - y0
        if max(abs(dx), abs(dy)) != 1:
            return False  # standing still, or jumping more than one tile
        if dx and dy and not (floor(x0 + dx, y0) and floor(x0, y0 + dy)):
            return False  # corner cut
    return True
