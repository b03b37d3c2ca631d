"""The frame-time and growth plots, drawn with pygame itself: the suite needs no plotting library.

The frame-time plot is a percentile distribution, as HdrHistogram draws them: each run's frame
times sorted, plotted against the share of frames at or below them, on an x
axis that gives 90%, 99% and 99.9% equal room, so the stutters in the tail
are as visible as the typical frame.  Frame time is on a log scale.
"""

from __future__ import annotations

import math
from pathlib import Path

import pygame

from benchmarks.common import percentile

SIZE = (1100, 640)
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 90, 30, 70, 80
BACKGROUND = (255, 255, 255)
INK = (30, 30, 30)
GRID = (225, 225, 225)
COLOURS = (  # colour-blind safe (Okabe and Ito)
    (0, 114, 178),
    (213, 94, 0),
    (0, 158, 115),
    (204, 121, 167),
    (230, 159, 0),
    (86, 180, 233),
    (0, 0, 0),  # the seventh line: the frames plot has seven
)
Y_TICKS_MS = (0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)
FRAME_60_FPS_MS = 1000 / 60


def _tail(fraction: float) -> float:
    """The x position of a percentile: 0 at 0%, 1 at 90%, 2 at 99%, 3 at 99.9%."""
    return -math.log10(1 - fraction)


class _Figure:
    """A blank plot: its canvas, two fonts and plotting area; saved with its titles."""

    def __init__(self) -> None:
        pygame.font.init()
        self.font, self.small = pygame.font.Font(None, 26), pygame.font.Font(None, 21)
        self.canvas = pygame.Surface(SIZE)
        self.canvas.fill(BACKGROUND)
        # left, top, right, bottom: the edges of the area the data is drawn in
        self.area = (MARGIN_LEFT, MARGIN_TOP, SIZE[0] - MARGIN_RIGHT, SIZE[1] - MARGIN_BOTTOM)

    def text(self, words: str, where: tuple[int, int], anchor: str, face: pygame.font.Font) -> None:
        """Write ``words`` with ``face``, its ``anchor`` point (``midtop``...) at ``where``."""
        image = face.render(words, True, INK)
        self.canvas.blit(image, image.get_rect(**{anchor: where}))

    def border(self) -> None:
        """Outline the plotting area."""
        left, top, right, bottom = self.area
        pygame.draw.rect(self.canvas, INK, (left, top, right - left, bottom - top), 1)

    def legend(self, index: int, colour: tuple[int, int, int], summary: str) -> None:
        """Write the ``index``-th line's legend: a stroke of its colour, then ``summary``."""
        left, top, _, _ = self.area
        legend_y = top + 14 + 26 * index
        pygame.draw.line(self.canvas, colour, (left + 16, legend_y), (left + 46, legend_y), 4)
        self.text(summary, (left + 54, legend_y), "midleft", self.small)

    def save(self, title: str, x_title: str, y_title: str, path: Path) -> None:
        """Write the plot's title and its axes' titles, then save it to ``path`` (PNG)."""
        left, top, right, bottom = self.area
        self.text(title, (SIZE[0] // 2, 22), "midtop", self.font)
        self.text(x_title, ((left + right) // 2, SIZE[1] - 30), "midtop", self.small)
        y_image = pygame.transform.rotate(self.font.render(y_title, True, INK), 90)
        self.canvas.blit(y_image, y_image.get_rect(midleft=(14, (top + bottom) // 2)))
        path.parent.mkdir(parents=True, exist_ok=True)
        pygame.image.save(self.canvas, str(path))


def draw_frame_times(series: dict[str, list[float]], title: str, path: Path) -> None:
    """Save a plot of each run's frame-time distribution (milliseconds) to ``path`` (PNG)."""
    figure = _Figure()
    canvas, text, small = figure.canvas, figure.text, figure.small
    left, top, right, bottom = figure.area

    longest = max(len(times) for times in series.values())
    x_max = math.log10(longest)  # the slowest frame of the longest run sits at the right edge
    everything = [t for times in series.values() for t in times]
    y_low = math.log10(min(max(min(everything), 0.1) * 0.8, FRAME_60_FPS_MS))
    y_high = math.log10(max(max(everything) * 1.25, FRAME_60_FPS_MS * 2))

    def x_of(tail: float) -> int:
        return round(left + (right - left) * min(tail, x_max) / x_max)

    def y_of(ms: float) -> int:
        fraction = (math.log10(max(ms, 1e-3)) - y_low) / (y_high - y_low)
        return round(bottom - (bottom - top) * fraction)

    for ms in Y_TICKS_MS:
        if y_low <= math.log10(ms) <= y_high:
            y = y_of(ms)
            pygame.draw.line(canvas, GRID, (left, y), (right, y))
            text(f"{ms:g}", (left - 8, y), "midright", small)
    for label, fraction in (("0%", 0), ("50%", 0.5), ("90%", 0.9), ("99%", 0.99), ("99.9%", 0.999)):
        if _tail(fraction) <= x_max:
            x = x_of(_tail(fraction))
            pygame.draw.line(canvas, GRID, (x, top), (x, bottom))
            text(label, (x, bottom + 8), "midtop", small)
    budget_y = y_of(FRAME_60_FPS_MS)
    for x in range(left, right, 12):  # dashed: a reference, not data
        pygame.draw.line(canvas, (150, 150, 150), (x, budget_y), (min(x + 6, right), budget_y))
    text("60 fps (16.7 ms)", (right - 6, budget_y + 4), "topright", small)
    figure.border()

    for index, (label, times) in enumerate(series.items()):
        ordered = sorted(times)
        colour = COLOURS[index % len(COLOURS)]
        points = [(x_of(_tail(i / len(ordered))), y_of(ms)) for i, ms in enumerate(ordered)]
        if len(points) > 1:
            pygame.draw.lines(canvas, colour, False, points, 3)
        summary = (
            f"{label}: median {percentile(ordered, 0.5):.1f} ms, "
            f"p99 {percentile(ordered, 0.99):.1f} ms, max {ordered[-1]:.1f} ms"
        )
        figure.legend(index, colour, summary)

    x_title = "share of frames at or below this time (log scale towards the tail)"
    figure.save(title, x_title, "frame time, ms (log scale)", path)


def _level(label: str) -> float:
    """The pending count a growth metric names: ``us @10k`` -> 10,000."""
    count = label.split("@", 1)[1]
    return float(count[:-1]) * 1000 if count.endswith("k") else float(count)


def draw_growth(series: dict[str, dict[str, float]], path: Path) -> None:
    """Save a log-log plot of main-thread microseconds per call against calls pending (PNG).

    ``series`` maps a line's label to its growth metrics (``us @100``...).
    """
    figure = _Figure()
    canvas, text, small = figure.canvas, figure.text, figure.small
    left, top, right, bottom = figure.area
    lines = {
        label: sorted((_level(k), v) for k, v in metrics.items() if k.startswith("us @"))
        for label, metrics in series.items()
    }
    xs = [x for points in lines.values() for x, _ in points]
    ys = [y for points in lines.values() for _, y in points]
    x_low, x_high = math.log10(min(xs)), math.log10(max(xs))
    y_low, y_high = math.log10(min(ys) * 0.7), math.log10(max(ys) * 1.5)

    def x_of(count: float) -> int:
        return round(left + (right - left) * (math.log10(count) - x_low) / (x_high - x_low or 1))

    def y_of(us: float) -> int:
        return round(bottom - (bottom - top) * (math.log10(us) - y_low) / (y_high - y_low))

    for us in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500):
        if y_low <= math.log10(us) <= y_high:
            pygame.draw.line(canvas, GRID, (left, y_of(us)), (right, y_of(us)))
            text(f"{us:g}", (left - 8, y_of(us)), "midright", small)
    for count in sorted(set(xs)):
        pygame.draw.line(canvas, GRID, (x_of(count), top), (x_of(count), bottom))
        text(f"{count:,.0f}", (x_of(count), bottom + 8), "midtop", small)
    figure.border()
    for index, (label, points) in enumerate(lines.items()):
        colour = COLOURS[index % len(COLOURS)]
        drawn = [(x_of(x), y_of(y)) for x, y in points]
        if len(drawn) > 1:
            pygame.draw.lines(canvas, colour, False, drawn, 3)
        for point in drawn:
            pygame.draw.circle(canvas, colour, point, 5)
        summary = f"{label}: {points[0][1]:.2f} us at {points[0][0]:,.0f}, "
        summary += f"{points[-1][1]:.2f} us at {points[-1][0]:,.0f}"
        figure.legend(index, colour, summary)
    title = "growth: main-thread cost of one call() (or empty update()) by calls pending"
    figure.save(title, "calls pending (log scale)", "microseconds (log scale)", path)
