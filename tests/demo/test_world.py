import os
import random
import subprocess
import sys
from collections.abc import Iterator

import pytest

from demos.swarm.world import (
    CHUNK,
    CHUNKS_X,
    CHUNKS_Y,
    FLOOR,
    WALL,
    WORLD_H,
    WORLD_W,
    Grid,
    generate_chunk,
    generate_chunk_steps,
    generate_world,
    largest_region,
    random_floor_tiles,
    survey,
    survey_chunks,
    survey_steps,
)


def chunked_world(seed: int) -> Grid:
    grid = Grid()
    for cy in range(CHUNKS_Y):
        for cx in range(CHUNKS_X):
            grid.set_chunk(cx, cy, generate_chunk(seed, cx, cy))
    return grid


@pytest.fixture(scope="module")
def world() -> Grid:
    return Grid(cells=generate_world(7))


def test_sizes_fit_together() -> None:
    assert WORLD_W % CHUNK == 0 and WORLD_H % CHUNK == 0
    assert (CHUNKS_X, CHUNKS_Y) == (6, 4)
    assert WORLD_W >= 200 and WORLD_H >= 150


def test_chunk_is_floor_and_wall_bytes() -> None:
    data = generate_chunk(3, 2, 1)
    assert isinstance(data, bytes)
    assert len(data) == CHUNK * CHUNK
    assert set(data) == {FLOOR, WALL}


def test_chunk_is_deterministic_and_depends_on_seed() -> None:
    assert generate_chunk(5, 1, 2) == generate_chunk(5, 1, 2)
    assert generate_chunk(5, 1, 2) != generate_chunk(6, 1, 2)
    assert generate_chunk(5, 1, 2) != generate_chunk(5, 2, 1)


def test_chunk_is_the_same_in_another_process() -> None:
    # A worker process has another str hash seed; the noise must not depend on it.
    code = "from demos.swarm.world import generate_chunk; print(generate_chunk(11, 3, 2).hex())"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": "."},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert bytes.fromhex(out.strip()) == generate_chunk(11, 3, 2)


@pytest.mark.parametrize("seed", [0, 7, 123456789])
def test_chunks_meet_without_seams(seed: int) -> None:
    grid = chunked_world(seed)
    assert grid.complete
    assert grid.to_bytes() == generate_world(seed)


def test_chunks_arrive_in_any_order() -> None:
    order = [(cx, cy) for cy in range(CHUNKS_Y) for cx in range(CHUNKS_X)]
    random.Random(1).shuffle(order)
    grid = Grid()
    for cx, cy in order:
        grid.set_chunk(cx, cy, generate_chunk(2, cx, cy))
    assert grid.to_bytes() == chunked_world(2).to_bytes()


def test_world_border_is_wall(world: Grid) -> None:
    for x in range(WORLD_W):
        assert not world.is_walkable(x, 0)
        assert not world.is_walkable(x, WORLD_H - 1)
    for y in range(WORLD_H):
        assert not world.is_walkable(0, y)
        assert not world.is_walkable(WORLD_W - 1, y)


def test_unloaded_grid_is_wall_until_chunks_arrive() -> None:
    grid = Grid()
    assert not grid.complete
    assert set(grid.to_bytes()) == {WALL}
    data = generate_chunk(4, 1, 1)
    grid.set_chunk(1, 1, data)
    assert grid.loaded == {(1, 1)}
    for row in range(CHUNK):
        for col in range(CHUNK):
            walkable = data[row * CHUNK + col] == FLOOR
            assert grid.is_walkable(CHUNK + col, CHUNK + row) == walkable


def test_set_chunk_rejects_bad_input() -> None:
    grid = Grid()
    with pytest.raises(ValueError):
        grid.set_chunk(0, 0, b"\x00" * 10)
    with pytest.raises(ValueError):
        grid.set_chunk(CHUNKS_X, 0, bytes(CHUNK * CHUNK))
    with pytest.raises(ValueError):
        grid.set_chunk(0, -1, bytes(CHUNK * CHUNK))
    with pytest.raises(ValueError):
        generate_chunk(0, CHUNKS_X, 0)
    with pytest.raises(ValueError):
        Grid(4, 4, bytes(15))


def test_is_walkable_outside_is_false(world: Grid) -> None:
    for x, y in [(-1, 5), (5, -1), (WORLD_W, 5), (5, WORLD_H)]:
        assert not world.is_walkable(x, y)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 7])
def test_largest_region_is_large(seed: int) -> None:
    mask = largest_region(Grid(cells=generate_world(seed)))
    assert mask.count(1) > 0.3 * WORLD_W * WORLD_H


def test_largest_region_ignores_diagonal_only_contact() -> None:
    rows = [
        "..####",
        "..####",
        "##..##",
        "##...#",
    ]
    cells = bytes(WALL if c == "#" else FLOOR for row in rows for c in row)
    mask = largest_region(Grid(6, 4, cells))
    picked = {(i % 6, i // 6) for i, inside in enumerate(mask) if inside}
    # The two blocks touch only at a corner, which units cannot squeeze past,
    # so they are two regions and the 5-tile one wins.
    assert picked == {(2, 2), (3, 2), (2, 3), (3, 3), (4, 3)}


def test_spawn_tiles_are_distinct_walkable_and_connected(world: Grid) -> None:
    mask = largest_region(world)
    tiles = random_floor_tiles(world, 300, random.Random(0), mask)
    assert len(set(tiles)) == 300
    for x, y in tiles:
        assert world.is_walkable(x, y)
        assert mask[y * WORLD_W + x]
    assert random_floor_tiles(world, 300, random.Random(0)) == tiles  # same rng, same picks


def test_spawn_tiles_refuse_too_many() -> None:
    grid = Grid(3, 3, bytes([1, 1, 1, 1, 0, 1, 1, 1, 1]))
    assert random_floor_tiles(grid, 1, random.Random(0)) == [(1, 1)]
    with pytest.raises(ValueError):
        random_floor_tiles(grid, 2, random.Random(0))


def steps_and_result(steps: Iterator[None]) -> tuple[int, object]:
    """How many times a sliced call yielded, and what it returned."""
    count = 0
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return count, stop.value
        count += 1


def test_sliced_chunks_and_surveys_are_the_whole_ones_in_steps() -> None:
    chunk_steps, chunk = steps_and_result(generate_chunk_steps(5, 2, 1))
    assert chunk == generate_chunk(5, 2, 1)
    assert chunk_steps > 5  # the noise in a few steps, then one per smoothing step
    cells = generate_world(5)
    survey_count, surveyed = steps_and_result(survey_steps(cells, 40, seed=3))
    assert surveyed == survey(cells, 40, seed=3)
    assert survey_count > 50  # a flood over the whole world, a few hundred tiles at a time


def test_a_sliced_chunk_checks_its_place_when_it_starts() -> None:
    steps = generate_chunk_steps(1, CHUNKS_X, 0)
    with pytest.raises(ValueError, match="outside"):
        next(steps)


def test_a_survey_of_the_chunks_is_the_survey_of_the_world() -> None:
    chunks = [generate_chunk(6, cx, cy) for cy in range(CHUNKS_Y) for cx in range(CHUNKS_X)]
    count, surveyed = steps_and_result(survey_chunks(40, 3, *chunks))
    assert surveyed == survey(generate_world(6), 40, seed=3)
    assert count > 50
    with pytest.raises(ValueError, match="24 chunks, got 23"):
        next(survey_chunks(40, 3, *chunks[1:]))
