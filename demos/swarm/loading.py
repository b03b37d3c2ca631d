"""The loading screen: the demo's art and sounds arrive through ``pygame_async.assets``.

Its :class:`ProgressBar` also shows how far the chunks of a new world are.
"""

from __future__ import annotations

import logging
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pygame

import pygame_async
from demos.swarm.view import TILE_PX
from demos.swarm.window import Window
from pygame_async import assets

ASSETS = Path(__file__).resolve().parents[2] / "assets"  # made by assets/make_assets.py
LOOKS = ("red", "blue", "green", "yellow")
UNIT_PX = 9  # on-screen unit side: a bit bigger than a tile, so units stand out from the rock
GOAL_PX = 32  # the goal marker: big enough to find at a glance
IMAGES = {
    **{f"floor_{v}": ASSETS / f"floor_{v}.png" for v in range(4)},
    **{f"wall_{v}": ASSETS / f"wall_{v}.png" for v in range(4)},
    **{f"unit_{look}": ASSETS / f"unit_{look}.png" for look in LOOKS},
    "goal": ASSETS / "goal.png",
}
SOUNDS = {"goal_set": ASSETS / "goal_set.wav", "regenerated": ASSETS / "regenerated.wav"}

BACKGROUND = (12, 12, 18)  # behind the loading screen's bar
TEXT = (235, 235, 240)

logger = logging.getLogger(__name__)


@dataclass
class Art:
    """Everything the game draws and plays, scaled to the screen."""

    floors: list[pygame.Surface]
    walls: list[pygame.Surface]
    units: list[pygame.Surface]
    waiting_units: list[pygame.Surface]  # how a unit looks while its path is pending
    goal: pygame.Surface
    sounds: dict[str, pygame.mixer.Sound]  # empty without an audio device: the game stays silent


def load_art(window: Window, clock: pygame.time.Clock) -> Generator[None, None, Art | None]:
    """Load every asset behind a progress bar, yielding after each frame of it.

    Returns the Art, or None if the player quits meanwhile.
    """
    sounds = SOUNDS if _audio_ready() else {}
    batch = assets.load(IMAGES | sounds, on_error=_log_failure, convert=True)
    screen = window.canvas
    bar = ProgressBar(pygame.font.Font(None, 28), screen.get_width() // 2)
    while not batch.done:
        for event in pygame.event.get():
            if event.type == pygame.QUIT or (
                event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE
            ):
                return None
        pygame_async.update()  # each asset's callback runs here, which moves the bar
        screen.fill(BACKGROUND)
        text = f"loading assets {batch.fraction:.0%}"
        bar.draw(screen, screen.get_rect().center, batch.fraction, text)
        window.present()
        clock.tick(60)
        yield
    return _prepare(batch.assets)


class ProgressBar:
    """A bar that fills with a fraction, its label above it: for the assets, and for each world."""

    def __init__(self, font: pygame.font.Font, width: int) -> None:
        """Write with ``font``; the bar is ``width`` pixels wide."""
        self.font = font
        self.rect = pygame.Rect(0, 0, width, 24)
        self._text = ""
        self._label = font.render("", True, TEXT)

    def draw(
        self, screen: pygame.Surface, centre: tuple[int, int], fraction: float, text: str
    ) -> None:
        """Draw the bar centred on ``centre``, filled to ``fraction`` (0 to 1), labelled ``text``.

        The label is rendered again only when it changes: it is drawn every frame.
        """
        if text != self._text:
            self._text, self._label = text, self.font.render(text, True, TEXT)
        bar = self.rect
        bar.center = centre
        pygame.draw.rect(screen, (70, 74, 98), bar, border_radius=6)
        done = bar.copy()
        done.width = round(bar.width * fraction)
        pygame.draw.rect(screen, (245, 200, 60), done, border_radius=6)
        screen.blit(self._label, self._label.get_rect(midbottom=(bar.centerx, bar.top - 10)))


def _audio_ready() -> bool:
    """Return True if sounds can play; else say once why not: the game then runs silent."""
    if pygame.mixer.get_init():
        return True
    # pygame.init() initializes the mixer only if it can open an audio device,
    # and keeps no trace of why it could not: asking again gives SDL's reason.
    try:
        pygame.mixer.init()
    except pygame.error as error:
        logger.warning("no audio device could be opened (%s): sounds are skipped", error)
        return False
    return True


def _log_failure(name: str, error: pygame_async.AsyncError) -> None:
    # A missing image is fatal, and _prepare says so.
    logger.warning("could not load %s: %s", name, error)


def _prepare(loaded: dict[str, Any]) -> Art:
    """Scale the images to screen size and make the waiting looks."""
    missing = [name for name in IMAGES if name not in loaded]
    if missing:
        raise FileNotFoundError(f"missing assets {missing}: run python assets/make_assets.py")

    def scaled(name: str, side: int) -> pygame.Surface:
        return pygame.transform.smoothscale(loaded[name], (side, side))

    units = [scaled(f"unit_{look}", UNIT_PX) for look in LOOKS]
    waiting = []
    for unit in units:
        # Grey and see-through: a unit that is still waiting for its path.
        ghost = pygame.transform.grayscale(unit)
        ghost.fill((255, 255, 255, 140), special_flags=pygame.BLEND_RGBA_MULT)
        waiting.append(ghost)
    sounds = {name: loaded[name] for name in SOUNDS if name in loaded}
    return Art(
        floors=[scaled(f"floor_{v}", TILE_PX) for v in range(4)],
        walls=[scaled(f"wall_{v}", TILE_PX) for v in range(4)],
        units=units,
        waiting_units=waiting,
        goal=scaled("goal", GOAL_PX),
        sounds=sounds,
    )
