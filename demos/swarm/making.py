"""Making a world on the pool: its chunks as one group, and its survey after them.

``generate_chunk.starmap`` makes one call per chunk and returns their
:class:`pygame_async.Group`: each chunk is drawn as it arrives (``on_each``),
a chunk whose worker died is asked for again (``on_error``), and the loading
bar shows the group's ``fraction``.  The survey is asked for at the same
moment, ``after=`` the group, with the chunk Tasks as its arguments: the pool
starts it once every chunk is made, giving it the chunks' bytes in place of
their Tasks, so no frame of the game has to notice the world is complete and
send it back out.  Its result comes back as a pygame event, ``WORLD_READY``.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

import pygame

import pygame_async
from demos.swarm.view import WorldView
from demos.swarm.world import CHUNKS_X, CHUNKS_Y, Grid, Survey, generate_chunk_steps, survey_chunks

WORLD_READY = pygame.event.custom_type()  # pygame_async posts it when a world's survey is done
CHUNK_AT = [(cx, cy) for cy in range(CHUNKS_Y) for cx in range(CHUNKS_X)]
"""Each chunk's place, by its index in the group: row-major, the order survey_chunks takes."""

logger = logging.getLogger(__name__)


class WorldCalls(NamedTuple):
    """The pool's functions that make a world."""

    generate_chunk: pygame_async.AsyncFunction
    survey: pygame_async.AsyncFunction


def define_world_calls() -> WorldCalls:
    """Define the functions that make a world, on the default pool; return their callers.

    Sliced (generator functions): on the inline lane a chunk or a survey
    never holds a frame; other lanes run each call whole.
    """
    return WorldCalls(
        pygame_async.define("generate_chunk", generate_chunk_steps),
        pygame_async.define("survey", survey_chunks),
    )


class WorldMaking:
    """World ``seed`` being made: its chunk calls (a group, and any retries), and its survey.

    It is :attr:`ready` once every chunk is in :attr:`grid` (drawn on the
    view as it came) and the survey has come back.  Either may come first:
    the survey's event is posted as soon as it is done, the chunks reach
    their callbacks in ``update()``.
    """

    def __init__(
        self, seed: int, calls: WorldCalls, view: WorldView, spawn: int, priority: int
    ) -> None:
        """Ask for every chunk of world ``seed``, and for its survey (``spawn``: tiles to pick).

        Every call has ``priority``: above the path requests the game made
        for the world before, which are stale now.
        """
        self.seed = seed
        self.calls = calls
        self.view = view
        self.spawn = spawn
        self.priority = priority
        self.grid = Grid()
        self.survey: Survey | None = None
        self.cancelled = False
        self.retries = 0
        self.surveys_asked = 0
        # The group's fraction after each update() that changed it: what the
        # loading bar shows, up to 1.0 in the update() that made the world ready.
        self.fractions: list[float] = []
        self.chunks = calls.generate_chunk.starmap(
            [(seed, cx, cy) for cx, cy in CHUNK_AT],
            on_each=self._arrived,
            on_error=self._failed,
            priority=priority,
        )
        # The latest call of each chunk, by index: a retry takes the place of
        # the crashed call, which stays in the group as one of its failures.
        self.tasks: list[pygame_async.Task] = list(self.chunks.tasks)
        self.survey_task = self._ask_for_survey(self.chunks)

    @property
    def ready(self) -> bool:
        """Whether the world is complete here and surveyed: the game can take it into use."""
        return self.survey is not None and self.grid.complete

    def label(self) -> str:
        """Return the loading bar's text: the group's fraction, and what else is being done."""
        text = f"making world {self.seed}: {self.chunks.fraction:.0%} of its chunks"
        if self.retries:
            text += f", {self.retries} asked again"  # the group counts it done: it failed
        if self.grid.complete:
            text += "; surveying its caves"
        return text

    def updated(self) -> None:
        """Note the group's fraction after an ``update()`` (only there does it change)."""
        fraction = self.chunks.fraction
        if not self.fractions or self.fractions[-1] != fraction:
            self.fractions.append(fraction)

    def summary(self) -> dict[str, Any]:
        """Return what making the world took: the bar's fractions, and what was asked again."""
        return {
            "seed": self.seed,
            "fractions": self.fractions,
            "chunks_failed": self.chunks.failed,
            "chunks_asked_again": self.retries,
            "surveys_asked": self.surveys_asked,
        }

    def cancel(self) -> None:
        """Give up on this world (the player asked for another): cancel what has not started."""
        self.cancelled = True
        # The survey first: cancelling the chunks it waits for would fail it,
        # and its event would be posted for nothing.
        self.survey_task.cancel()
        self.chunks.cancel()  # a chunk already started still comes: _arrived drops it
        for task in self.tasks:
            if task not in self.chunks.tasks:
                task.cancel()  # a retry, which is no member of the group

    def on_survey(self, event: pygame.event.Event) -> None:
        """Take the survey a ``WORLD_READY`` event brings, if it is this world's latest."""
        if event.task is not self.survey_task:
            return  # a survey asked for again since, or one of a world given up
        if event.ok:
            self.survey = event.result
        elif isinstance(event.error, pygame_async.DependencyError):
            # A chunk it waits for failed.  _failed, run by update() for that
            # chunk (before or after this event), asks for it and the survey again.
            pass
        elif isinstance(event.error, pygame_async.WorkerCrashedError):
            logger.warning("a worker died surveying world %s; asking again", self.seed)
            self.survey_task = self._ask_for_survey(self.tasks)
        else:
            raise event.error  # a bug: say so

    def _ask_for_survey(
        self, after: pygame_async.Group | Sequence[pygame_async.Task]
    ) -> pygame_async.Task:
        self.surveys_asked += 1
        # The chunk Tasks as arguments already make the survey wait for them;
        # after= says so where the call is made.
        survey = self.calls.survey.options(after=after, priority=self.priority)
        return survey(WORLD_READY, self.spawn, self.seed, *self.tasks)

    def _arrived(self, index: int, data: bytes) -> None:
        if self.cancelled:
            return  # a chunk already started when the player asked for another world
        cx, cy = CHUNK_AT[index]
        self.grid.set_chunk(cx, cy, data)
        self.view.draw_chunk(cx, cy, data)

    def _failed(self, index: int, error: BaseException) -> None:
        if self.cancelled:
            return
        if not isinstance(error, pygame_async.WorkerCrashedError):
            raise error  # a bug: say so
        logger.warning("a worker died making chunk %s; asking again", CHUNK_AT[index])
        self.retries += 1
        # The retry answers to the same callbacks as the group's members,
        # which the group's fraction does not count: the bar's label does.
        callbacks = {
            "success": functools.partial(self._arrived, index),
            "error": functools.partial(self._failed, index),
        }
        generate = self.calls.generate_chunk.options(priority=self.priority)
        self.tasks[index] = generate(callbacks, self.seed, *CHUNK_AT[index])
        # The survey asked for with the group failed with DependencyError the
        # moment this chunk did: ask again, with the retry among its chunks.
        self.survey_task = self._ask_for_survey(self.tasks)
