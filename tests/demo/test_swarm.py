"""The swarm demo, played headless as CI and the benchmarks play it.

Each run must exit cleanly, deliver every path it asked for, each one valid in
its own world, and leave no worker process behind.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pygame
import pytest
import whitebox
from played import check_dumped_paths, play

import pygame_async
from demos.swarm import game, headless
from demos.swarm.headless import ScriptedPlayer
from demos.swarm.overlay import percentile
from demos.swarm.units import Swarm, Unit
from demos.swarm.view import SCREEN_SIZE, TILE_PX, tile_at
from demos.swarm.world import (
    WORLD_H,
    WORLD_W,
    Grid,
    generate_world,
    largest_region,
    survey,
)


@pytest.mark.slow  # plays the game through
def test_async_run_delivers_valid_paths_and_shows_the_world(tmp_path: Path) -> None:
    shot, dump = tmp_path / "shot.png", tmp_path / "paths.json"
    summary = play(tmp_path, 300, "--screenshot", str(shot), "--dump-paths", str(dump))
    paths = summary["paths"]
    assert (summary["mode"], summary["lane"]) == ("async", "process")
    assert summary["worlds"] == [1, 2]  # the scripted player regenerates at frame 210
    assert paths["requested"] == paths["delivered"] + paths["cancelled"]
    assert paths["failed"] == 0

    # Check every path again here, against worlds generated anew from their seeds.
    goals = check_dumped_paths(dump, summary)
    assert len(goals) == 2  # clicked at frame 30, and moved into the new world of frame 210
    worlds = {seed: Grid(cells=generate_world(seed)) for seed in summary["worlds"]}

    # The last frame shows the last world: its floor tiles and its wall tiles
    # have clearly different colours (a blank or wrong screen fails this).
    image = pygame.image.load(str(shot))
    assert image.get_size() == SCREEN_SIZE
    grid = worlds[summary["worlds"][-1]]
    floor, wall = [], []
    for y in range(40, WORLD_H, 3):  # below the overlay
        for x in range(0, WORLD_W, 3):
            # The pixel at (3, 3) in a tile is out of the shadows walls cast.
            colour = image.get_at((x * TILE_PX + 3, y * TILE_PX + 3))[:3]
            (floor if grid.is_walkable(x, y) else wall).append(colour)
    floor_mean = [sum(channel) / len(floor) for channel in zip(*floor, strict=True)]
    wall_mean = [sum(channel) / len(wall) for channel in zip(*wall, strict=True)]
    assert sum(abs(f - w) for f, w in zip(floor_mean, wall_mean, strict=True)) > 60

    def nearer_floor(colour: tuple[int, int, int]) -> bool:
        to_floor = sum((c - f) ** 2 for c, f in zip(colour, floor_mean, strict=True))
        return to_floor < sum((c - w) ** 2 for c, w in zip(colour, wall_mean, strict=True))

    assert sum(map(nearer_floor, floor)) > 0.95 * len(floor)
    assert sum(not nearer_floor(colour) for colour in wall) > 0.95 * len(wall)


@pytest.mark.slow  # plays the game through
@pytest.mark.parametrize("lane", ["thread", "inline"])
def test_the_thread_and_inline_lanes_plan_valid_paths(tmp_path: Path, lane: str) -> None:
    dump = tmp_path / "paths.json"
    # The player clicks at frame 30; on the inline lane the world is ready a
    # few dozen frames later, then paths come a slice of every frame at a time.
    summary = play(tmp_path, 150, "--lane", lane, "--dump-paths", str(dump))
    assert (summary["mode"], summary["lane"], summary["budget"]) == ("async", lane, 0.004)
    assert summary["worlds"] == [1]
    assert summary["paths"]["delivered"] > 20
    goals = check_dumped_paths(dump, summary)
    assert len(goals) == 1 and next(iter(goals))[0] == 1  # one click, in the first world


@pytest.mark.slow  # plays the game through
def test_sync_run_plans_on_the_main_thread(tmp_path: Path) -> None:
    summary = play(tmp_path, 60, "--sync")  # the player clicks at frame 30
    paths = summary["paths"]
    assert summary["mode"] == "sync"
    assert paths["delivered"] == paths["requested"] == paths["valid"] > 0
    assert paths["cancelled"] == paths["pending"] == 0


@pytest.mark.slow  # plays the game through
def test_no_paths_run_plans_nothing(tmp_path: Path) -> None:
    summary = play(tmp_path, 60, "--no-paths")
    assert summary["mode"] == "no-paths"
    assert summary["paths"]["requested"] == 0
    assert summary["worlds"] == [1]


def test_escape_quits_and_stops_every_worker() -> None:
    def press_escape(frame: int) -> None:
        if frame == 5:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0))

    played: list[int] = []
    game.run(game.Options(workers=2), script=press_escape, finish=lambda g: played.append(1))
    assert played  # the game ran to its end
    assert whitebox.default_pool() is None  # shut down: conftest checks no worker is left


@pytest.mark.parametrize(("asked", "above_the_game"), [(None, 10), ("normal", 0)])
def test_the_demo_runs_its_workers_at_the_priority_asked_for(
    asked: str | None, above_the_game: int
) -> None:
    def press_escape(frame: int) -> None:
        if frame == 5:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0))

    def read_niceness(played: game.Game) -> None:
        pool = whitebox.default_pool()
        assert pool is not None
        for pid in whitebox.worker_pids(pool):
            seen.append(os.getpriority(os.PRIO_PROCESS, pid))

    seen: list[int] = []
    options = game.Options(workers=2, worker_priority=asked)
    game.run(options, script=press_escape, finish=read_niceness)
    assert seen == [min(os.nice(0) + above_the_game, 19)] * 2


def test_worker_priority_is_for_worker_processes() -> None:
    flags = ["--headless", "--lane", "thread", "--worker-priority", "low"]
    done = subprocess.run(
        [sys.executable, "-m", "demos.swarm", *flags],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2 and "--worker-priority is for worker processes" in done.stderr


@pytest.mark.slow  # plays the game through
def test_a_worker_killed_mid_game_costs_one_retry() -> None:
    player = ScriptedPlayer(seed=1)

    def script(frame: int) -> None:
        player(frame)  # clicks a goal at frame 30
        if frame == 45:  # paths are being planned: kill the worker planning one
            os.kill(multiprocessing.active_children()[0].pid, signal.SIGKILL)

    summary: dict[str, Any] = {}

    def finish(played: game.Game) -> None:
        assert pygame_async.wait(30)
        summary.update(headless.summarize(played))

    options = game.Options(workers=1, record=True)
    game.run(options, frames=90, script=script, finish=finish)
    paths = summary["paths"]
    assert paths["requested"] == paths["delivered"] + paths["cancelled"] + paths["failed"]
    assert paths["failed"] <= 1 and paths["pending"] == 0
    assert paths["valid"] == paths["delivered"] > 0  # the game went on


def test_unit_walks_its_path_turning_at_tile_centres() -> None:
    unit = Unit(0, (0, 0), look=0, offset=(0.0, 0.0))
    unit.follow([(0, 0), (1, 0), (2, 1)])
    unit.walk(0.5)
    assert (unit.x, unit.y) == (0.5, 0.0)
    unit.walk(0.5 + 2**0.5 / 2)  # to (1, 0), then halfway along the diagonal
    assert unit.x == pytest.approx(1.5) and unit.y == pytest.approx(0.5)
    assert unit.tile == (2, 1)
    unit.walk(10)
    assert (unit.x, unit.y) == (2, 1)
    unit.halt()
    assert unit.waiting and unit.path == [(2, 1)]


def test_the_swarm_steps_only_units_with_somewhere_to_go() -> None:
    looks = [pygame.Surface((3, 3))]
    swarm = Swarm(looks, looks)
    swarm.spawn([(0, 0), (5, 5), (9, 9)])
    walker, halted, placed = swarm.units
    assert not any(unit.moving for unit in swarm.units)  # spawned standing on their tiles
    walker.follow([(0, 0), (1, 0)])
    halted.follow([(5, 5), (6, 5)])
    swarm.walk(0.5)
    halted.halt()  # mid-step: it finishes the step, then stands
    placed.place((3, 3))
    assert (walker.moving, halted.moving, placed.moving) == (True, True, False)
    swarm.walk(0.25)
    assert (walker.x, walker.y) == (0.75, 0.0)
    assert (halted.x, halted.y) == (5.75, 5.0) and halted.path == [(6, 5)]
    assert (placed.x, placed.y) == (3.0, 3.0)
    swarm.walk(1.0)
    assert (walker.x, walker.y) == (1, 0) and not walker.moving
    assert (halted.x, halted.y) == (6, 5) and not halted.moving
    swarm.walk(1.0)  # nobody has anywhere left to go: nothing moves
    assert [(unit.x, unit.y) for unit in swarm.units] == [(1, 0), (6, 5), (3.0, 3.0)]


def test_survey_moves_every_tile_into_the_largest_cave() -> None:
    cells = generate_world(4)
    result = survey(cells, 50, seed=0)
    cave = largest_region(Grid(cells=cells))
    for i, nearest in enumerate(result.nearest):
        assert cave[nearest]
        assert (nearest == i) == bool(cave[i])
    assert len(set(result.spawn)) == 50
    assert all(cave[y * WORLD_W + x] for x, y in result.spawn)


def test_small_helpers() -> None:
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0
    assert percentile([float(i) for i in range(1, 101)], 0.99) == 99.0
    assert tile_at((7, 12)) == (1, 2)
    assert tile_at((-5, 10_000)) == (0, WORLD_H - 1)


@pytest.mark.slow  # plays the game through
def test_the_demo_plans_valid_paths_on_a_local_dask_cluster(tmp_path: Path) -> None:
    dump = tmp_path / "paths.json"
    summary = play(tmp_path, 150, "--dask", "local", "--dump-paths", str(dump))
    assert (summary["mode"], summary["lane"], summary["workers"]) == ("async", "dask", 2)
    assert summary["worlds"] == [1]
    assert summary["paths"]["delivered"] > 20 and summary["paths"]["failed"] == 0
    goals = check_dumped_paths(dump, summary)
    assert len(goals) == 1 and next(iter(goals))[0] == 1


def test_dask_and_lane_are_one_choice(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "demos.swarm", "--headless", "--lane", "thread", "--dask", "local"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 2 and "--dask and --lane" in done.stderr
