"""Playing the swarm demo in a subprocess, and checking what it did, for the demo's tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from helpers import pid_alive

from demos.swarm.pathfinding import is_valid_path
from demos.swarm.world import (
    CHUNKS_X,
    CHUNKS_Y,
    WORLD_H,
    WORLD_W,
    Grid,
    generate_world,
    largest_region,
)

REPO = Path(__file__).resolve().parents[2]
HEADLESS_ENV = {"SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}


def check_summary(summary: dict[str, Any], frames: int, processes: bool) -> None:
    """A run that played ``frames`` frames, delivered all it asked for, and left no worker."""
    assert summary["frames"] == frames
    # Each frame's time in update() is a part of that frame's time.
    times, updating = summary["frame_times_ms"], summary["update_times_ms"]
    assert len(times) == len(updating) == frames
    assert all(0 <= part <= whole for part, whole in zip(updating, times, strict=True))
    assert sum(updating) > 0
    assert summary["drained"]
    assert summary["workers_left"] == 0
    if processes:
        assert summary["worker_pids"]
        assert not any(pid_alive(pid) for pid in summary["worker_pids"])
    else:
        assert summary["worker_pids"] == []  # no worker process was ever there
    paths = summary["paths"]
    assert paths["requested"] == paths["delivered"] + paths["cancelled"] + paths["failed"]
    assert paths["pending"] == 0
    assert paths["valid"] == paths["delivered"]
    # Each world taken into use was made by one group and one survey, and the
    # group's fraction, which its loading bar shows, climbed to 1.0.
    assert [made["seed"] for made in summary["worlds_made"]] == summary["worlds"]
    for made in summary["worlds_made"]:
        check_loading_bar(made["fractions"])
        assert made["chunks_failed"] == made["chunks_asked_again"] == 0
        assert made["surveys_asked"] == 1


def check_loading_bar(fractions: list[float]) -> None:
    """A world's loading bar, its group's fraction after each update(): up in 24ths, to 1.0."""
    assert fractions == sorted(fractions)
    assert fractions[0] < 1.0 and fractions[-1] == 1.0
    chunks = CHUNKS_X * CHUNKS_Y
    assert all(abs(fraction * chunks - round(fraction * chunks)) < 1e-9 for fraction in fractions)


def play(tmp_path: Path, frames: int, *flags: str) -> dict[str, Any]:
    """Run ``python -m demos.swarm --headless`` in a subprocess; return its checked summary."""
    summary_file = tmp_path / "summary.json"
    command = [sys.executable, "-m", "demos.swarm", "--headless", "--frames", str(frames)]
    result = subprocess.run(
        [*command, "--json", str(summary_file), *flags],
        cwd=REPO,
        env={**os.environ, **HEADLESS_ENV},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "frame time median" in result.stdout
    summary: dict[str, Any] = json.loads(summary_file.read_text())
    lane = flags[flags.index("--lane") + 1] if "--lane" in flags else "process"
    check_summary(summary, frames, processes=lane == "process")
    return summary


def check_dumped_paths(dump: Path, summary: dict[str, Any]) -> set[tuple[int, tuple[int, int]]]:
    """Check every path of a ``--dump-paths`` file against its world, generated anew here.

    Each must be valid, and start and end in its world's largest cave (where
    units stand, and goals are moved).  Returns the (world, goal) pairs.
    """
    records = json.loads(dump.read_text())["paths"]
    assert len(records) == summary["paths"]["delivered"]
    worlds = {seed: Grid(cells=generate_world(seed)) for seed in summary["worlds"]}
    caves = {seed: largest_region(grid) for seed, grid in worlds.items()}
    goals = set()
    for record in records:
        start, goal = tuple(record["start"]), tuple(record["goal"])
        path = [tuple(tile) for tile in record["path"]]
        cells, cave = worlds[record["world"]].to_bytes(), caves[record["world"]]
        assert is_valid_path(cells, WORLD_W, WORLD_H, path, start, goal)
        assert cave[start[1] * WORLD_W + start[0]] and cave[goal[1] * WORLD_W + goal[0]]
        goals.add((record["world"], goal))
    return goals
