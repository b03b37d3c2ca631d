import heapq
import math
import random
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from demos.swarm.pathfinding import EXPANSIONS_PER_STEP, find_path, is_valid_path, plan_path
from demos.swarm.slicing import run_whole
from demos.swarm.world import (
    WORLD_H,
    WORLD_W,
    Grid,
    generate_world,
    largest_region,
    random_floor_tiles,
)

Tile = tuple[int, int]


def parse(*rows: str) -> tuple[bytes, int, int]:
    """Turn rows of '.' (floor) and '#' (wall) into (grid bytes, width, height)."""
    return bytes(1 if c == "#" else 0 for row in rows for c in row), len(rows[0]), len(rows)


def path_cost(path: list[Tile]) -> float:
    return sum(math.dist(a, b) for a, b in pairwise(path))


def reference_cost(grid: bytes, w: int, h: int, start: Tile, goal: Tile) -> float | None:
    """Plain Dijkstra with the same moves as find_path: the cost of a shortest path."""

    def floor(x: int, y: int) -> bool:
        return 0 <= x < w and 0 <= y < h and grid[y * w + x] == 0

    if not (floor(*start) and floor(*goal)):
        return None
    best = {start: 0.0}
    heap = [(0.0, start)]
    while heap:
        cost, (x, y) = heapq.heappop(heap)
        if (x, y) == goal:
            return cost
        if cost > best[(x, y)]:
            continue
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                nx, ny = x + dx, y + dy
                if (dx, dy) == (0, 0) or not floor(nx, ny):
                    continue
                if dx and dy and not (floor(x + dx, y) and floor(x, y + dy)):
                    continue
                new = cost + math.hypot(dx, dy)
                if new < best.get((nx, ny), math.inf):
                    best[(nx, ny)] = new
                    heapq.heappush(heap, (new, (nx, ny)))
    return None


def check_shortest(grid: bytes, w: int, h: int, start: Tile, goal: Tile) -> list[Tile] | None:
    path = find_path(grid, w, h, start, goal)
    expected = reference_cost(grid, w, h, start, goal)
    if expected is None:
        assert path is None
    else:
        assert path is not None
        assert is_valid_path(grid, w, h, path, start, goal)
        assert path_cost(path) == pytest.approx(expected)
    return path


def test_open_grid_goes_diagonal_then_straight() -> None:
    grid, w, h = parse("......", "......", "......", "......")
    path = check_shortest(grid, w, h, (0, 0), (5, 3))
    assert path is not None and len(path) == 6  # 3 diagonal + 2 straight steps


def test_path_around_a_wall() -> None:
    grid, w, h = parse(
        "..........",
        ".########.",
        ".#......#.",
        ".#.####.#.",
        "...#..#...",
        "####..####",
    )
    check_shortest(grid, w, h, (0, 0), (4, 4))
    check_shortest(grid, w, h, (2, 2), (9, 4))
    check_shortest(grid, w, h, (4, 4), (5, 5))


def test_start_equals_goal() -> None:
    grid, w, h = parse("...", "...")
    assert find_path(grid, w, h, (1, 1), (1, 1)) == [(1, 1)]


def test_unreachable_goal() -> None:
    grid, w, h = parse("..#..", "..#..", "..#..")
    assert find_path(grid, w, h, (0, 0), (4, 2)) is None


def test_wall_or_outside_endpoints() -> None:
    grid, w, h = parse("..#", "...")
    assert find_path(grid, w, h, (2, 0), (0, 0)) is None
    assert find_path(grid, w, h, (0, 0), (2, 0)) is None
    assert find_path(grid, w, h, (-1, 0), (0, 0)) is None
    assert find_path(grid, w, h, (0, 0), (3, 1)) is None
    assert find_path(grid, w, h, (0, 0), (0, 2)) is None


def test_wrong_grid_size_is_an_error() -> None:
    with pytest.raises(ValueError):
        find_path(bytes(5), 2, 3, (0, 0), (1, 1))


def test_no_squeezing_between_diagonal_walls() -> None:
    grid, w, h = parse(".#", "#.")
    assert find_path(grid, w, h, (0, 0), (1, 1)) is None


def test_no_cutting_a_single_corner() -> None:
    grid, w, h = parse("..", "#.")
    assert find_path(grid, w, h, (0, 0), (1, 1)) == [(0, 0), (1, 0), (1, 1)]
    grid, w, h = parse(
        ".....",
        ".###.",
        ".....",
    )
    path = find_path(grid, w, h, (0, 0), (4, 2))
    assert path is not None and is_valid_path(grid, w, h, path, (0, 0), (4, 2))
    assert (1, 1) not in path and path_cost(path) == pytest.approx(6.0)


@st.composite
def grids_with_ends(draw: st.DrawFn) -> tuple[bytes, int, int, Tile, Tile]:
    w = draw(st.integers(1, 9))
    h = draw(st.integers(1, 9))
    density = draw(st.sampled_from([0.0, 0.2, 0.35, 0.5]))
    rng = random.Random(draw(st.integers(0, 2**32)))
    grid = bytes(1 if rng.random() < density else 0 for _ in range(w * h))
    start = (draw(st.integers(0, w - 1)), draw(st.integers(0, h - 1)))
    goal = (draw(st.integers(0, w - 1)), draw(st.integers(0, h - 1)))
    return grid, w, h, start, goal


@settings(max_examples=300, deadline=None)
@given(grids_with_ends())
def test_matches_reference_on_random_grids(case: tuple[bytes, int, int, Tile, Tile]) -> None:
    check_shortest(*case)


def test_paths_in_the_generated_world() -> None:
    grid = Grid(cells=generate_world(3))
    mask = largest_region(grid)
    data = grid.to_bytes()
    rng = random.Random(5)
    for _ in range(10):
        start, goal = random_floor_tiles(grid, 2, rng, mask)
        path = find_path(data, WORLD_W, WORLD_H, start, goal)
        assert path is not None  # same region, so always reachable
        assert is_valid_path(data, WORLD_W, WORLD_H, path, start, goal)
    start, goal = random_floor_tiles(grid, 2, rng, mask)
    check_shortest(data, WORLD_W, WORLD_H, start, goal)


def test_plan_path_yields_every_few_expansions_and_returns_find_paths_path() -> None:
    # A corridor: A* closes each tile before the goal exactly once, so it
    # expands length - 1 tiles and yields after every EXPANSIONS_PER_STEP.
    length = 3 * EXPANSIONS_PER_STEP + EXPANSIONS_PER_STEP // 2
    grid, w, h = parse("." * length)
    steps = plan_path(grid, w, h, (0, 0), (length - 1, 0))
    yields = 0
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            path = stop.value
            break
        yields += 1
    assert yields == 3
    assert path == [(x, 0) for x in range(length)] == find_path(grid, w, h, (0, 0), (length - 1, 0))


def test_plan_path_steps_give_find_paths_paths_in_the_world() -> None:
    grid = Grid(cells=generate_world(3))
    data = grid.to_bytes()
    rng = random.Random(11)
    for _ in range(5):
        start, goal = random_floor_tiles(grid, 2, rng, largest_region(grid))
        steps = plan_path(data, WORLD_W, WORLD_H, start, goal)
        assert run_whole(steps) == find_path(data, WORLD_W, WORLD_H, start, goal)


def test_plan_path_checks_its_input_when_it_starts() -> None:
    grid, w, h = parse("...", "...")
    steps = plan_path(grid, w, h + 1, (0, 0), (1, 1))  # a generator: nothing runs yet
    with pytest.raises(ValueError, match="expected 9 tiles"):
        next(steps)
    assert list(plan_path(grid, w, h, (0, 0), (5, 5))) == []  # no step: None at once


@pytest.fixture
def room() -> tuple[bytes, int, int]:
    return parse(
        "....",
        ".#..",
        "....",
    )


def test_is_valid_path_accepts_good_paths(room: tuple[bytes, int, int]) -> None:
    grid, w, h = room
    assert is_valid_path(grid, w, h, [(0, 0), (1, 0), (2, 0), (3, 1), (3, 2)], (0, 0), (3, 2))
    assert is_valid_path(grid, w, h, [(2, 2)], (2, 2), (2, 2))


@pytest.mark.parametrize(
    ("path", "start", "goal"),
    [
        ([], (0, 0), (0, 0)),  # empty
        ([(0, 0), (2, 0), (3, 0)], (0, 0), (3, 0)),  # gap
        ([(0, 0), (0, 0), (1, 0)], (0, 0), (1, 0)),  # standing still
        ([(0, 0), (1, 1), (2, 1)], (0, 0), (2, 1)),  # through the wall tile
        ([(0, 0), (1, 0), (2, 0)], (1, 0), (2, 0)),  # wrong start
        ([(0, 0), (1, 0), (2, 0)], (0, 0), (3, 0)),  # wrong goal
        ([(0, 1), (1, 0), (2, 0)], (0, 1), (2, 0)),  # corner cut past the wall at (1, 1)
        ([(2, 2), (1, 2), (0, 1)], (2, 2), (0, 1)),  # corner cut past the wall at (1, 1)
        ([(3, 2), (4, 2)], (3, 2), (4, 2)),  # leaves the grid
        ([(0, 0), (-1, 0)], (0, 0), (-1, 0)),  # leaves the grid
    ],
)
def test_is_valid_path_rejects_broken_paths(
    room: tuple[bytes, int, int], path: list[Tile], start: Tile, goal: Tile
) -> None:
    grid, w, h = room
    assert not is_valid_path(grid, w, h, path, start, goal)
