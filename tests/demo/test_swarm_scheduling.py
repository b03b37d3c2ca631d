"""The swarm demo's scheduling, as the game sees it: the world's group, and its survey after it.

Each test plays the game in this process (``game.run``, headless), so that it
can look at the units, the path records and the world's making afterwards.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pygame
import pytest
from played import check_loading_bar

import pygame_async
from demos.swarm import game, headless, making
from demos.swarm.slicing import Steps
from demos.swarm.world import Grid, generate_chunk_steps, generate_world, largest_region

LANES = ["process", "thread", "inline"]


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
