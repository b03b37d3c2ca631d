"""pygame_async's smallest game: a Mandelbrot set drawn row by row as workers finish.

What it shows:
- ``load()``, ``define()`` a function with a closure, calls with a callback
  per row, ``update()`` once per frame, ``shutdown()`` on the way out;
- the frame loop keeps running at full speed while the workers compute.

Controls: ``+``/``-`` add or stop a worker, click to redraw, ``Esc`` quits.
Run ``python -m demos.minimal`` (``--frames N`` stops after N frames).
"""

from __future__ import annotations

import argparse

import pygame

import pygame_async

WIDTH, HEIGHT = 480, 320
MAX_ITERATIONS = 200


def mandelbrot_row(y: int) -> bytes:
    """Return the escape-time shade (0-255) of every pixel of row ``y``."""
    shades = bytearray(WIDTH)
    for x in range(WIDTH):
        c = complex(3.0 * x / WIDTH - 2.2, 2.0 * y / HEIGHT - 1.0)
        z, n = 0j, 0
        while abs(z) <= 2 and n < MAX_ITERATIONS:
            z, n = z * z + c, n + 1
        # A fourth root spreads the many quick escapes over visible shades.
        shades[x] = int(255 * (n / MAX_ITERATIONS) ** 0.25)
    return bytes(shades)


def main(frames: int | None = None) -> None:
    """Open the window and run the game loop."""
    pygame.init()
    screen = pygame.display.set_mode((WIDTH, HEIGHT))
    pygame.display.set_caption("pygame_async: minimal")
    clock = pygame.Clock() if hasattr(pygame, "Clock") else pygame.time.Clock()
    font = pygame.font.Font(None, 22)
    pygame_async.load(2)
    row = pygame_async.define("mandelbrot_row", mandelbrot_row)

    def request_all_rows() -> None:
        screen.fill("black")
        for y in range(HEIGHT):
            # A closure per row: the callback knows where its result goes.
            row(lambda shades, y=y: draw_row(y, shades), y)

    def draw_row(y: int, shades: bytes) -> None:
        for x, shade in enumerate(shades):
            screen.set_at((x, y), (shade, shade // 2, 255 - shade))

    request_all_rows()
    frame, running = 0, True
    while running and (frames is None or frame < frames):
        for event in pygame.event.get():
            key = event.key if event.type == pygame.KEYDOWN else None
            if event.type == pygame.QUIT or key == pygame.K_ESCAPE:
                running = False
            elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
                pygame_async.add_worker()
            elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
                # Keep at least one worker, or the remaining rows would wait forever.
                pygame_async.ensure.at_most(max(1, pygame_async.get_worker_count() - 1))
            elif event.type == pygame.MOUSEBUTTONDOWN:
                request_all_rows()
        pygame_async.update()  # runs the callbacks of finished rows, here, on this thread
        status = (
            f"{clock.get_fps():.0f} fps, {pygame_async.get_worker_count()} workers, "
            f"{pygame_async.get_pending_count()} rows pending"
        )
        screen.fill("black", (0, 0, WIDTH, 20))
        screen.blit(font.render(status, True, "white"), (4, 2))
        pygame.display.flip()
        clock.tick(60)
        frame += 1
    pygame_async.shutdown(cancel_pending=True)
    pygame.quit()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, help="quit after this many frames")
    main(parser.parse_args().frames)
