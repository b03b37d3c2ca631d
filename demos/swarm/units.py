"""The swarm's units: where each one is, the path it follows, and how they are all drawn."""

from __future__ import annotations

import math
from collections import deque

import pygame

import pygame_async
from demos.swarm.view import TILE_PX

Tile = tuple[int, int]


class Unit:
    """One unit: a position in tiles (a tile's centre is at whole numbers) and a path to walk."""

    __slots__ = (
        "id",
        "look",
        "moving",
        "offset",
        "path",
        "plan",
        "step",
        "task",
        "waiting",
        "x",
        "y",
    )

    def __init__(self, unit_id: int, tile: Tile, look: int, offset: tuple[float, float]) -> None:
        """Stand on ``tile``; draw with sprite number ``look``, ``offset`` pixels from the tile.

        ``unit_id`` is the unit's for its whole life: its path requests' key.
        """
        self.id = unit_id
        self.x, self.y = float(tile[0]), float(tile[1])
        self.look = look
        self.offset = offset
        self.path = [tile]
        self.step = 0  # path[step] is the tile the unit is walking to, or standing on
        self.plan = 0  # counts path requests: a path for an earlier one is stale
        self.waiting = False  # a path was asked for and has not arrived yet
        # Whether it has somewhere left to go: the last tile of its path not
        # reached yet.  Most units stand still most of the time; the swarm
        # steps only the others.
        self.moving = False
        # The unit's latest path request: its next one (same key, the unit's
        # id) supersedes it, if it is not delivered by then.
        self.task: pygame_async.Task | None = None

    @property
    def tile(self) -> Tile:
        """The tile the unit stands on or is stepping onto: where its next path starts."""
        return self.path[self.step]

    def halt(self) -> None:
        """Stop at the end of the current step and wait for a new path."""
        self.path = [self.tile]
        self.step = 0
        self.plan += 1
        self.waiting = True
        self.moving = True  # to the end of the current step

    def follow(self, path: list[Tile]) -> None:
        """Walk ``path``, which starts at :attr:`tile` (so the current step is finished first)."""
        self.path = path
        self.step = 0
        self.waiting = False
        self.moving = True

    def place(self, tile: Tile) -> None:
        """Put the unit on ``tile`` at once, e.g. out of rock that a new world put on it."""
        self.x, self.y = float(tile[0]), float(tile[1])
        self.path = [tile]
        self.step = 0
        self.moving = False

    def walk(self, distance: float) -> None:
        """Move ``distance`` tiles along the path, turning at its tiles' centres."""
        # Locals, written back once: every unit walks every frame it moves.
        path, step, x, y = self.path, self.step, self.x, self.y
        last = len(path) - 1
        while True:
            tx, ty = path[step]
            dx, dy = tx - x, ty - y
            gap = math.hypot(dx, dy)
            if gap > distance:
                self.x, self.y = x + dx * distance / gap, y + dy * distance / gap
                self.step = step
                return
            x, y = tx, ty
            distance -= gap
            if step == last:
                self.x, self.y, self.step = x, y, step
                self.moving = False
                return
            step += 1


class Swarm:
    """All the units, and the queue of those waiting for their turn to ask for a path."""

    def __init__(self, looks: list[pygame.Surface], waiting_looks: list[pygame.Surface]) -> None:
        """Draw units with ``looks``; while a path is pending, with ``waiting_looks`` instead."""
        self.looks = looks
        self.waiting_looks = waiting_looks
        self.units: list[Unit] = []
        self.queue: deque[Unit] = deque()
        # From a tile's top-left corner to that of a sprite centred on it.
        self._centre = (TILE_PX - looks[0].get_width()) / 2

    def spawn(self, tiles: list[Tile]) -> None:
        """Add one unit on each tile, in turn of every look; a unit's id is its index."""
        for i, tile in enumerate(tiles, start=len(self.units)):
            # Units that share a tile (all of them, at the goal) are drawn a
            # little apart, so a crowd looks like a crowd and not like one unit.
            angle = i * 2.39996  # the golden angle spreads the offsets evenly
            offset = (self._centre + 2.5 * math.cos(angle), self._centre + 2.5 * math.sin(angle))
            self.units.append(Unit(i, tile, i % len(self.looks), offset))

    def walk(self, distance: float) -> None:
        """Move every walking unit ``distance`` tiles along its path."""
        for unit in self.units:
            if unit.moving:
                unit.walk(distance)

    def draw(self, surface: pygame.Surface) -> None:
        """Draw every unit, with one ``blits`` call: far cheaper than one ``blit`` each."""
        blits = []
        for unit in self.units:
            looks = self.waiting_looks if unit.waiting else self.looks
            dx, dy = unit.offset
            blits.append((looks[unit.look], (unit.x * TILE_PX + dx, unit.y * TILE_PX + dy)))
        surface.blits(blits, doreturn=False)
