"""Headless runs, for CI and measurement: a scripted player, then a summary of how it went."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import statistics
import sys
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pygame

import pygame_async
from demos.swarm.game import Game, Options, lane_of, play
from demos.swarm.overlay import percentile
from demos.swarm.pathfinding import is_valid_path
from demos.swarm.slicing import run_whole
from demos.swarm.view import SCREEN_SIZE
from demos.swarm.world import WORLD_H, WORLD_W

DRAIN_TIMEOUT = 60.0  # seconds to deliver the calls still pending after the last frame


class ScriptedPlayer:
    """Plays the same game every run: it clicks a goal every 5 s and regenerates every 10 s.

    It posts the events a player's mouse and keyboard would, so the game
    cannot tell it from a person.
    """

    def __init__(self, seed: int) -> None:
        """Pick where to click with a generator seeded with ``seed``."""
        self.rng = random.Random(seed)

    def __call__(self, frame: int) -> None:
        """Act at the start of frame ``frame``."""
        if frame % 300 == 30:
            pos = (self.rng.randrange(SCREEN_SIZE[0]), self.rng.randrange(SCREEN_SIZE[1]))
            pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))
        if frame % 600 == 210:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_r, mod=0))


def main(
    options: Options,
    frames: int,
    json_file: Path | None = None,
    screenshot: Path | None = None,
    dump_paths: Path | None = None,
) -> dict[str, Any]:
    """Play ``frames`` frames headless with the scripted player; print and return the summary."""
    return run_whole(play_headless(options, frames, json_file, screenshot, dump_paths))


def play_headless(
    options: Options,
    frames: int,
    json_file: Path | None = None,
    screenshot: Path | None = None,
    dump_paths: Path | None = None,
) -> Generator[None, None, dict[str, Any]]:
    """:func:`main`, one frame per step (see :func:`demos.swarm.game.play`)."""
    # SDL's dummy drivers need neither a screen nor a sound card.
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    os.environ["SDL_AUDIODRIVER"] = "dummy"
    options.record = True
    summary: dict[str, Any] = {}

    def finish(game: Game) -> None:
        if screenshot is not None:
            pygame.image.save(game.screen, str(screenshot))
        stats = game.stats
        summary["calls_per_second"] = stats.calls_done / (stats.ended - stats.began)
        summary["worker_pids"] = worker_pids()
        # Deliver the calls still pending, so that every path asked for is accounted for.
        summary["drained"] = pygame_async.wait(DRAIN_TIMEOUT)
        summary.update(summarize(game))
        if dump_paths is not None:
            records = [record._asdict() for record in game.records]
            dump_paths.write_text(json.dumps({"paths": records}))

    yield from play(options, frames, ScriptedPlayer(options.seed), finish)
    summary["workers_left"] = len(worker_pids())  # after shutdown(): 0
    print(describe(summary))
    if json_file is not None:
        json_file.write_text(json.dumps(summary, indent=2))
    return summary


def worker_pids() -> list[int]:
    """Return the worker processes alive: none unless ``multiprocessing`` was imported.

    A web build has no ``multiprocessing`` to import, and the thread and
    inline lanes need none.
    """
    multiprocessing = sys.modules.get("multiprocessing")
    if multiprocessing is None:
        return []
    return [child.pid for child in multiprocessing.active_children()]


def summarize(game: Game) -> dict[str, Any]:
    """Return the figures of a finished run, checking every path against its world."""
    times = game.stats.times
    valid = sum(
        r.path is not None
        and is_valid_path(game.worlds[r.world], WORLD_W, WORLD_H, r.path, r.start, r.goal)
        for r in game.records
    )
    return {
        "mode": "no-paths" if not game.options.paths else "sync" if game.sync else "async",
        "lane": lane_of(game.options),
        "budget": game.options.budget,
        "workers": game.options.workers,
        "frames": len(times),
        "frame_ms": {
            "median": statistics.median(times) * 1000,
            "p99": percentile(times, 0.99) * 1000,
            "max": max(times) * 1000,
        },
        "frame_times_ms": [seconds * 1000 for seconds in times],  # every frame's, in order
        # Of which in pygame_async.update(), each frame's: its callbacks (chunks
        # drawn, paths taken) and, on the inline lane, slices of the calls.
        "update_times_ms": [seconds * 1000 for seconds in game.stats.update_times],
        "paths": {**dataclasses.asdict(game.paths), "valid": valid},
        "worlds": sorted(game.worlds),
        # Each world taken into use: the fractions its loading bar showed, and
        # the chunks and surveys asked for again after a worker died.
        "worlds_made": game.made,
    }


def describe(summary: dict[str, Any]) -> str:
    """Format the summary for people."""
    ms, paths = summary["frame_ms"], summary["paths"]
    return (
        f"{summary['frames']} frames, {summary['mode']}, {summary['lane']} lane, "
        f"{summary['workers']} workers: "
        f"frame time median {ms['median']:.2f} ms, p99 {ms['p99']:.2f} ms, "
        f"max {ms['max']:.2f} ms\n"
        f"paths: {paths['delivered']} delivered ({paths['valid']} valid) of "
        f"{paths['requested']} requested, {paths['cancelled']} cancelled, "
        f"{paths['failed']} failed; {summary['calls_per_second']:.0f} calls/s; "
        f"workers left: {summary['workers_left']}"
    )
