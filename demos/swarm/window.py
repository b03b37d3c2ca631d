"""The demo's window: the game draws on a fixed canvas, shown fitted to the player's screen.

The world is 240x160 tiles of 5 pixels, a 1200x800 canvas.  Headless, the
canvas is the display surface itself: screenshots and frame times are those
of the game alone.  In a window, the canvas is scaled into a resizable window
that keeps its aspect (black bars fill the rest), first sized to fit the
desktop: 1200x800 would not fit a 1366x768 or 1024x768 screen.
"""

from __future__ import annotations

import os

import pygame

# SDL's video drivers that show nothing: SDL falls back to "offscreen" when it
# finds no display, and "dummy" is what --headless and the tests ask for.
INVISIBLE_DRIVERS = frozenset({"offscreen", "dummy"})
# Of the desktop, the share a new window may take: the rest is left to the
# window's title bar and to the desktop's panels.
ROOM = (0.95, 0.88)
DISPLAY_VARIABLES = ("DISPLAY", "WAYLAND_DISPLAY")  # where SDL looks for a desktop, on Linux
BARS = (0, 0, 0)


class NoDisplayError(RuntimeError):
    """SDL found no display to open a window on: the game would run unseen."""


def check_display() -> None:
    """Raise NoDisplayError, saying what to do, if SDL's video driver shows nothing.

    Call it after ``pygame.init()``: ``pygame.display.get_driver()`` is the
    driver SDL actually got.
    """
    driver = pygame.display.get_driver()
    if driver not in INVISIBLE_DRIVERS:
        return
    asked = os.environ.get("SDL_VIDEODRIVER")
    if asked:
        why = f"SDL_VIDEODRIVER={asked} gives SDL its {driver!r} video driver, which shows nothing"
    else:
        displays = [
            f"{name}={os.environ[name]}" for name in DISPLAY_VARIABLES if os.environ.get(name)
        ]
        found = f"could not open {' or '.join(displays)}" if displays else "found no display"
        if not displays:
            found += f" ({' and '.join(DISPLAY_VARIABLES)} are not set)"
        why = f"SDL {found} and fell back to its {driver!r} video driver, which shows nothing"
    raise NoDisplayError(
        f"no window can be shown: {why}, so the game would run unseen. Run it on a desktop, "
        f"or without a window: python -m demos.swarm --headless"
    )


def fit(size: tuple[int, int], room: tuple[int, int], *, grow: bool = False) -> tuple[int, int]:
    """Return the largest size of ``size``'s aspect within ``room``.

    It is never larger than ``size`` itself, unless ``grow``.
    """
    scale = min(room[0] / size[0], room[1] / size[1])
    if not grow:
        scale = min(scale, 1.0)
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


class Window:
    """The display and the canvas the game draws on; ``present()`` shows the canvas.

    ``desktop`` None (headless): the window is the canvas's size and the
    canvas is the display surface.  Else the window is fitted to
    ``desktop`` (its width and height in pixels) and resizable, and the canvas
    is scaled into it, keeping its aspect.
    """

    def __init__(self, size: tuple[int, int], desktop: tuple[int, int] | None = None) -> None:
        """Open the window: set the display mode."""
        self.size = size
        if desktop is None:
            self.canvas = pygame.display.set_mode(size)
            self.scaled = False
        else:
            room = (int(desktop[0] * ROOM[0]), int(desktop[1] * ROOM[1]))
            pygame.display.set_mode(fit(size, room), pygame.RESIZABLE)
            self.canvas = pygame.Surface(size).convert()
            self.scaled = True
        self._shown = pygame.Rect((0, 0), size)  # where the canvas appears in the window
        self._layout(pygame.display.get_surface())

    def _layout(self, display: pygame.Surface) -> None:
        """Place the canvas, as large as it fits, in the middle of the window."""
        self._window_size = display.get_size()
        if self.scaled:
            self._shown.size = fit(self.size, self._window_size, grow=True)
            self._shown.center = display.get_rect().center
            display.fill(BARS)

    def present(self) -> None:
        """Show the canvas: scale it into the window if need be, then flip."""
        if self.scaled:
            display = pygame.display.get_surface()
            if display.get_size() != self._window_size:  # the player resized the window
                self._layout(display)
            if self._shown.size == self.size:
                display.blit(self.canvas, self._shown)
            else:
                shown = display.subsurface(self._shown)
                pygame.transform.smoothscale(self.canvas, self._shown.size, shown)
        pygame.display.flip()

    def to_canvas(self, pos: tuple[int, int]) -> tuple[int, int]:
        """Return the canvas position under window position ``pos`` (a mouse event's)."""
        if not self.scaled:
            return pos
        x = (pos[0] - self._shown.x) * self.size[0] // self._shown.width
        y = (pos[1] - self._shown.y) * self.size[1] // self._shown.height
        return x, y
