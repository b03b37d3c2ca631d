"""The overlay: frame times (with a graph that makes stutter visible), calls, workers, keys."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable

import pygame

FRAME_BUDGET = 1 / 60  # seconds: a frame slower than this misses 60 fps
GRAPH_SIZE = (300, 50)
GRAPH_MS = 50  # the frame time at the top of the graph
REFRESH = 0.25  # seconds between text updates: numbers that change every frame can't be read
TEXT = (235, 235, 240)
GRAPH_BACKGROUND = (16, 16, 26)
KEYS = "click: goal   R: new world   S: sync   +/-: workers   Esc: quit"


def percentile(values: list[float], q: float) -> float:
    """Return the nearest-rank ``q`` quantile (0 to 1) of ``values``.

    The one frame-time figures usually mean: p99 of 100 frames is the slowest
    frame but one, and is always a frame that happened.
    """
    ranked = sorted(values)
    return ranked[max(0, math.ceil(q * len(ranked)) - 1)]


class FrameStats:
    """Every frame's time, and how many pool calls were delivered."""

    def __init__(self) -> None:
        """Start with no frames."""
        self.times: list[float] = []  # the main thread's work per frame, seconds
        self.update_times: list[float] = []  # of which in pygame_async.update(), callbacks included
        self.recent: deque[float] = deque(maxlen=120)  # the last two seconds, for the overlay
        self.calls_done = 0
        self.began = self.ended = 0.0  # perf_counter() at the first frame, and after the last

    def add(self, seconds: float, updating: float = 0.0) -> None:
        """Record one frame's time, ``updating`` of it in ``pygame_async.update()``."""
        self.times.append(seconds)
        self.update_times.append(updating)
        self.recent.append(seconds)


class Overlay:
    """A translucent panel in the top-left corner; its text is redrawn 4 times a second."""

    def __init__(self, font: pygame.font.Font) -> None:
        """Write with ``font``."""
        self.font = font
        self.panel = pygame.Surface((0, 0))
        self.graph = pygame.Surface(GRAPH_SIZE).convert()
        self.graph.fill(GRAPH_BACKGROUND)
        self.graph_at = (0, 0)  # where the graph goes, on the screen
        self._drawn_at = 0.0
        self._calls_then = 0

    def draw(
        self, surface: pygame.Surface, stats: FrameStats, status: Callable[[], list[str]]
    ) -> None:
        """Draw the panel: the figures of ``stats``, then the lines ``status()`` returns."""
        now = time.perf_counter()
        if now - self._drawn_at >= REFRESH:
            self._draw_panel(stats, status(), now)
        self._plot(stats.recent[-1] if stats.recent else 0.0)
        surface.blit(self.panel, (6, 6))
        surface.blit(self.graph, self.graph_at)

    def _draw_panel(self, stats: FrameStats, status: list[str], now: float) -> None:
        calls_per_second = (stats.calls_done - self._calls_then) / (now - self._drawn_at)
        self._drawn_at, self._calls_then = now, stats.calls_done
        recent = list(stats.recent) or [0.0]
        first = (
            f"frame {recent[-1] * 1000:4.1f} ms   p99 {percentile(recent, 0.99) * 1000:4.1f} ms"
            f"   {calls_per_second:4.0f} calls done/s"
        )
        lines = [self.font.render(line, True, TEXT) for line in [first, *status, KEYS]]
        line_height = lines[0].get_height()
        width = max(GRAPH_SIZE[0], *(line.get_width() for line in lines)) + 16
        height = len(lines) * line_height + GRAPH_SIZE[1] + 20
        self.panel = pygame.Surface((width, height), pygame.SRCALPHA)
        self.panel.fill((8, 8, 16, 200))
        self.panel.blit(lines[0], (8, 6))
        self.graph_at = (6 + 8, 6 + 6 + line_height + 4)  # under the frame times
        y = 6 + line_height + GRAPH_SIZE[1] + 12
        for line in lines[1:]:
            self.panel.blit(line, (8, y))
            y += line_height

    def _plot(self, seconds: float) -> None:
        """Scroll the graph one pixel left and draw the newest frame as a bar on the right."""
        width, height = GRAPH_SIZE
        scale = height / GRAPH_MS
        bar = min(height, round(seconds * 1000 * scale))
        colour = (90, 210, 110) if seconds <= FRAME_BUDGET else (240, 80, 70)
        self.graph.scroll(-1, 0)
        self.graph.fill(GRAPH_BACKGROUND, (width - 1, 0, 1, height - bar))
        self.graph.fill(colour, (width - 1, height - bar, 1, bar))
        # A line at the 60 fps budget: the frames whose bars cross it were dropped.
        self.graph.set_at((width - 1, height - round(FRAME_BUDGET * 1000 * scale)), TEXT)
