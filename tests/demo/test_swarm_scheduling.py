"""The swarm demo's scheduling, as the game sees it: keyed re-plans, priorities, the world's group.

Each test plays the game in this process (``game.run``, headless), so that it
can look at the units, the path records and the world's making afterwards.
"""

from __future__ import annotations

import collections
import logging
import os
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import pygame
import pytest
from played import check_loading_bar

import pygame_async
from demos.swarm import game, headless, making
from demos.swarm.slicing import Steps
from demos.swarm.world import Grid, generate_chunk_steps, generate_world, largest_region

# Each test plays the game for 90 or 160 frames at its 60 fps: slow cases (CI runs them).
pytestmark = pytest.mark.slow

LANES = ["process", "thread", "inline"]
QUICK = 6  # frames between two goals: too few for the first goal's 300 requests to be made
FRAMES = 160  # enough for the world, the two goals and every unit's request, on every lane
FIRST_CLICK, SECOND_CLICK = (900, 600), (200, 150)  # far apart, in canvas pixels


class Played(NamedTuple):
    game: game.Game
    summary: dict[str, Any]
    clicks: list[int]  # the frames the player clicked at


def click(pos: tuple[int, int]) -> None:
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=pos, button=1))


def play_in_process(
    lane: str, frames: int, script: Callable[[int], object], **options: Any
) -> tuple[game.Game, dict[str, Any]]:
    """Play ``frames`` frames with one worker, deliver what is pending; return game and summary."""
    played: list[game.Game] = []
    summary: dict[str, Any] = {}

    def finish(finished: game.Game) -> None:
        assert pygame_async.wait(60)
        summary.update(headless.summarize(finished))
        played.append(finished)

    run_options = game.Options(workers=1, lane=lane, record=True, **options)
    game.run(run_options, frames=frames, script=script, finish=finish)
    return played[0], summary


@pytest.fixture(scope="module", params=LANES)
def two_quick_goals(request: pytest.FixtureRequest) -> Played:
    """A goal as soon as the world is in use, then another QUICK frames later."""
    in_use: list[int] = []  # seeds of the worlds taken into use
    clicks: list[int] = []

    def script(frame: int) -> None:
        first = bool(in_use) and not clicks  # the first frame the world is in use
        if first or (len(clicks) == 1 and frame == clicks[0] + QUICK):
            click(SECOND_CLICK if clicks else FIRST_CLICK)
            clicks.append(frame)

    with pytest.MonkeyPatch.context() as patch:
        use_world = game.Game.use_world

        def noted(self: game.Game, made: making.WorldMaking) -> None:
            use_world(self, made)
            in_use.append(made.seed)

        patch.setattr(game.Game, "use_world", noted)
        played, summary = play_in_process(str(request.param), FRAMES, script)
    return Played(played, summary, clicks)


def test_a_new_goal_supersedes_each_units_stale_request(two_quick_goals: Played) -> None:
    played, summary, clicks = two_quick_goals
    asked_in_time = game.UNITS // game.PATHS_PER_FRAME + 5  # frames to make every request
    assert len(clicks) == 2 and clicks[1] + asked_in_time < FRAMES
    paths, records, goal = summary["paths"], played.records, played.goal
    first_goal = QUICK * game.PATHS_PER_FRAME  # requests made before the second click
    assert paths["requested"] == first_goal + game.UNITS
    assert paths["failed"] == paths["pending"] == 0
    assert paths["valid"] == paths["delivered"]
    # Each request for the first goal was delivered before its unit asked
    # again, or superseded by that request (and then never delivered).
    stale = [record for record in records if record.goal != goal]
    assert len(stale) + paths["cancelled"] == first_goal
    assert paths["cancelled"] > 0
    # No unit got two paths to one goal; every unit got one to the last goal,
    # and walks it: none follows a path to the first.
    per_goal = collections.Counter((record.unit, record.goal) for record in records)
    assert max(per_goal.values()) == 1
    assert sorted(record.unit for record in records if record.goal == goal) == list(
        range(game.UNITS)
    )
    for unit in played.swarm.units:
        assert not unit.waiting
        assert unit.path[-1] == goal
        assert unit.task is not None and not unit.task.cancelled()


def test_units_in_view_plan_first(two_quick_goals: Played) -> None:
    played = two_quick_goals.game
    goal = played.goal
    assert goal is not None and played.focus.collidepoint(goal)
    last = [record for record in played.records if record.goal == goal]  # in delivery order
    for record in last:
        assert record.in_view == played.focus.collidepoint(record.start)
    in_view = [rank for rank, record in enumerate(last) if record.in_view]
    others = [rank for rank, record in enumerate(last) if not record.in_view]
    assert in_view and others
    # In the order made (the units' own), the two would come mixed, at the
    # same mean rank; their priority puts the units in view well ahead.
    assert statistics.mean(in_view) < 0.5 * statistics.mean(others)


@pytest.fixture(scope="module", params=LANES)
def first_world(request: pytest.FixtureRequest) -> tuple[game.Game, dict[str, Any]]:
    """The scripted player's first 90 frames: a world, and a goal at frame 30."""
    return play_in_process(str(request.param), 90, headless.ScriptedPlayer(seed=1))


def test_the_world_comes_from_one_group_and_a_survey_after_it(
    first_world: tuple[game.Game, dict[str, Any]],
) -> None:
    played, summary = first_world
    [made] = summary["worlds_made"]
    assert made["seed"] == 1 and made["surveys_asked"] == 1
    check_loading_bar(made["fractions"])
    cells = played.worlds[1]
    assert cells == generate_world(1)  # the world the game drew, chunk by chunk
    # The survey, made by a worker from the chunks' results, is the survey of
    # that same world: it moves every tile into its largest cave.
    cave = largest_region(Grid(cells=cells))
    assert played.survey is not None
    for tile, nearest in enumerate(played.survey.nearest):
        assert cave[nearest] and (nearest == tile) == bool(cave[tile])


def test_a_crashed_chunk_is_asked_again_and_so_is_the_survey(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    crashed = tmp_path / "crashed"

    def crash_once(seed: int, cx: int, cy: int) -> Steps[bytes]:
        if (cx, cy) == (2, 1) and not crashed.exists():
            crashed.touch()
            os._exit(1)  # the worker process dies making this chunk
        return (yield from generate_chunk_steps(seed, cx, cy))

    monkeypatch.setattr(making, "generate_chunk_steps", crash_once)
    with caplog.at_level(logging.WARNING, logger="demos.swarm.making"):
        played, summary = play_in_process("process", 90, headless.ScriptedPlayer(seed=1))

    assert crashed.exists()
    [made] = summary["worlds_made"]
    # The group counts the crash among its failures, so its fraction still
    # reaches 1.0; the chunk's retry and a second survey made the world.
    assert (made["chunks_failed"], made["chunks_asked_again"], made["surveys_asked"]) == (1, 1, 2)
    check_loading_bar(made["fractions"])
    assert "a worker died making chunk (2, 1); asking again" in caplog.messages
    assert played.worlds[1] == generate_world(1)
    assert len(played.swarm.units) == game.UNITS
    paths = summary["paths"]
    assert paths["valid"] == paths["delivered"] > 0  # the player's click at frame 30 was planned


@pytest.mark.parametrize("lane", LANES)
def test_a_new_world_asked_for_while_one_is_made_gives_that_one_up(lane: str) -> None:
    given_up: list[making.WorldMaking] = []
    cancel = making.WorldMaking.cancel

    def noted(self: making.WorldMaking) -> None:
        given_up.append(self)
        cancel(self)

    def press_r(frame: int) -> None:
        if frame == 0:  # world 1's chunks were asked for a moment ago
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_r, mod=0))

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(making.WorldMaking, "cancel", noted)
        played, summary = play_in_process(lane, 90, press_r)

    assert summary["worlds"] == [2] and [made["seed"] for made in summary["worlds_made"]] == [2]
    [old] = given_up
    assert old.seed == 1 and old.survey is None
    assert old.survey_task.cancelled()  # it never ran
    # group.cancel() dropped the chunks not started; those started ran on, unused.
    assert all(task.cancelled() or task.done() for task in old.chunks.tasks)
    assert any(task.cancelled() for task in old.chunks.tasks)
    assert played.survey is not None and len(played.swarm.units) == game.UNITS
