"""A small game that depends on pygame_async as an installed package, the way README shows.

CI copies it out of the checkout into a fresh virtual environment that has
only the built wheel (and pygame), runs ``mypy --strict`` on it, then runs it
headless.  It must type-check against the installed package alone, and run.
"""

from __future__ import annotations

import importlib.metadata
import multiprocessing
import os
import sys
from pathlib import Path

import pygame

import pygame_async


def tiles(seed: int, size: int) -> bytes:
    """Make a tile row of ``size`` bytes: the game's heavy work, run in a worker."""
    return bytes((seed * 31 + i * 7) % 4 for i in range(size))


def main() -> int:
    """Make a pool, define, call, wait, shut down; 0 when everything came back right."""
    here = Path(pygame_async.__file__).resolve()
    assert Path(sys.prefix).resolve() in here.parents, f"pygame_async imported from {here}"
    assert pygame_async.__version__ == importlib.metadata.version("pygame_async")
    pygame.init()
    screen = pygame.display.set_mode((64, 64))
    rows: list[tuple[int, bytes]] = []
    done = pygame.event.custom_type()
    with pygame_async.Pool(2) as pool:
        make_row: pygame_async.AsyncFunction = pool.define("tiles", tiles)
        for seed in range(8):
            make_row(lambda row, seed=seed: rows.append((seed, row)), seed, 16)
        pool.call(done, "tiles", 99, 4)  # delivered as a pygame event
        if not pool.wait(timeout=60):
            print("wheel game: the calls did not finish in 60 s", file=sys.stderr)
            return 1
        events = [event for event in pygame.event.get() if event.type == done]
    assert sorted(rows) == [(seed, tiles(seed, 16)) for seed in range(8)], rows
    assert len(events) == 1 and events[0].ok and events[0].result == tiles(99, 4)
    assert multiprocessing.active_children() == []  # shut down: no worker left
    screen.fill((0, 0, 0))
    pygame.quit()
    print(
        f"wheel game: pygame_async {pygame_async.__version__} from {here.parent}, "
        f"{len(rows)} rows and 1 event delivered, {os.cpu_count()} cores, no worker left"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
