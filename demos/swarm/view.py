"""The world as the player sees it: one cached Surface, redrawn only where a chunk arrives."""

from __future__ import annotations

import pygame

from demos.swarm.world import CHUNK, FLOOR, WALL, WORLD_H, WORLD_W

TILE_PX = 5  # on-screen tile side: the whole 240x160 world fits a 1200x800 window
SCREEN_SIZE = (WORLD_W * TILE_PX, WORLD_H * TILE_PX)
_CUT = (255, 0, 255)  # a colour no floor tile has: marks where the floor is cut away


class WorldView:
    """The tile world drawn once into a Surface, so a frame costs one blit however big it is."""

    def __init__(self, floors: list[pygame.Surface], walls: list[pygame.Surface]) -> None:
        """Lay out the tile images (``TILE_PX`` square) into textures; start from dark rock."""
        self.floor = _texture(floors)
        self.rock = _texture(walls)
        self.surface = pygame.Surface(SCREEN_SIZE).convert()
        self.surface.fill((12, 12, 18))
        self._shade = pygame.Surface(SCREEN_SIZE).convert()
        self._shade.set_alpha(170)

    def draw_chunk(self, cx: int, cy: int, tiles: bytes) -> None:
        """Draw chunk ``(cx, cy)`` from its tiles: ``CHUNK * CHUNK`` bytes, 0 floor, 1 wall.

        A few blits and a scale, instead of one blit per tile (1600 of them):
        the frame that draws a chunk costs a fraction of a millisecond more.
        """
        # The tiles are an 8-bit image already, one pixel a tile.  Scaled up, its
        # walls darken a copy of the floor texture (a shadow, offset), then cut
        # holes into it, through which the rock texture shows.
        tile_image = pygame.image.frombuffer(tiles, (CHUNK, CHUNK), "P")
        tile_image.set_colorkey(FLOOR)
        walls = pygame.transform.scale(tile_image, self.floor.get_size())
        floor = self.floor.copy()
        walls.set_palette_at(WALL, (0, 0, 0))
        walls.set_alpha(110)
        floor.blit(walls, (TILE_PX // 2, TILE_PX // 2))  # rock casts a shadow to the lower right
        walls.set_palette_at(WALL, _CUT)
        walls.set_alpha(None)
        floor.blit(walls, (0, 0))
        floor.set_colorkey(_CUT)
        corner = (cx * CHUNK * TILE_PX, cy * CHUNK * TILE_PX)
        self.surface.blit(self.rock, corner)
        self.surface.blit(floor, corner)

    def dim(self) -> None:
        """Darken the whole world: the old world fades while the new one is being made."""
        self.surface.blit(self._shade, (0, 0))


def _texture(tiles: list[pygame.Surface]) -> pygame.Surface:
    """Tile one chunk's area with ``tiles``, mixing the variants; every chunk reuses it."""
    side = tiles[0].get_width()
    texture = pygame.Surface((CHUNK * side, CHUNK * side)).convert()
    for y in range(CHUNK):
        for x in range(CHUNK):
            # A fixed scramble of the position picks the variant: no visible pattern.
            texture.blit(tiles[(x * 7 + y * 13 + x * y) % len(tiles)], (x * side, y * side))
    return texture


def tile_at(pos: tuple[int, int]) -> tuple[int, int]:
    """Return the tile under screen position ``pos``, clamped into the world."""
    x, y = pos
    return min(max(x // TILE_PX, 0), WORLD_W - 1), min(max(y // TILE_PX, 0), WORLD_H - 1)
