"""The swarm game: a cave world made by the pool, and 300 units finding their way through it.

Everything slow runs on pygame_async's workers, and comes back two ways:

- to callbacks, run by ``pygame_async.update()``: the chunks of a world (one
  group of calls, each drawn as it arrives, see :mod:`demos.swarm.making`),
  and every unit's path;
- as a pygame event: the survey of a finished world (``WORLD_READY``: its
  largest cave, for placing units and goals), asked for with the chunks,
  ``after=`` them.

Each unit's path request has ``key=unit.id``: a unit that asks again (a new
goal, a new world) supersedes its stale request, with no cancelling by hand.
Priorities put the newest order first, and in it the units the player is
looking at (those in the box around the goal).  The grid reaches the workers
once per world, inside the definition of ``find_path``, not with each of the
hundreds of calls that use it.

The slow functions are defined in their sliced form (generator functions, see
:mod:`demos.swarm.slicing`), so the same game runs on every lane of
pygame_async: on worker processes (the default), on threads, or inline, in
slices inside each frame's ``update(budget=...)``, as in a web build.  The
game itself is :func:`play`, a generator that yields after every frame:
:func:`run` steps through it, and ``main.py`` (pygbag's entry point) awaits
``asyncio.sleep(0)`` between its frames.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import logging
import os
import sys
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import NamedTuple

import pygame

import pygame_async
from demos.swarm.loading import Art, ProgressBar, load_art
from demos.swarm.making import WORLD_READY, WorldMaking, define_world_calls
from demos.swarm.overlay import FrameStats, Overlay
from demos.swarm.pathfinding import find_path, plan_path
from demos.swarm.units import Swarm, Tile, Unit
from demos.swarm.view import SCREEN_SIZE, TILE_PX, WorldView, tile_at
from demos.swarm.window import Window, check_display
from demos.swarm.world import WORLD_H, WORLD_W, Survey

UNITS = 300
FPS = 60
SPEED = 12 / FPS  # tiles per frame: 12 tiles a second
# Path requests made (async), or paths planned (sync), per frame at most: a
# new goal spreads its 300 requests over a couple dozen frames, so that no
# frame (on the inline lane, its update() makes the calls too) pays for all.
PATHS_PER_FRAME = 12
# The part of the world the player watches: the box, this many tiles wide and
# high, around the goal they clicked.  The whole world fits the window, so
# "on screen" means where the player's eyes are; units in it plan first.
FOCUS = (WORLD_W // 3, WORLD_H // 3)
FOCUS_COLOUR = (150, 140, 90)  # its outline: faint, for a player who wonders who moves first
UPDATE_BUDGET = 0.004
"""Seconds each frame's ``update()`` may take: on the inline lane, the slices of
A* and of the caves run in it; on the others it only bounds the callbacks.
Most of a 60 fps frame stays the game's own."""
WEB = sys.platform in ("emscripten", "wasi")  # a web build: pygame_async's lane is inline there

logger = logging.getLogger(__name__)


@dataclass
class Options:
    """How to play: the first world's seed, the workers, and where paths are planned."""

    seed: int = 1
    workers: int = max(1, (os.cpu_count() or 2) - 1)  # leave a core to the game itself
    lane: str | None = None  # pygame_async's lane; None: its default (inline on the web)
    dask: str | None = None  # run on a dask cluster: "local", or a scheduler's address
    budget: float = UPDATE_BUDGET  # for each frame's update()
    sync: bool = False  # plan paths on the main thread, as a game without pygame_async would
    paths: bool = True  # False: plan no path at all (the baseline for frame-time measurements)
    record: bool = False  # keep every path delivered, the worlds and how they were made, to check
    # Worker processes below the game ("low", pygame_async's default) or beside it ("normal").
    worker_priority: str | None = None


@dataclass
class PathCounts:
    """Paths asked for, and what became of them.

    ``requested`` is always ``delivered + cancelled + failed + pending``.
    """

    requested: int = 0
    delivered: int = 0
    # Superseded by their unit's next request before they were delivered
    # (task.cancelled()): dropped if not started, else their path thrown away.
    cancelled: int = 0
    failed: int = 0  # their worker died; the unit asked again
    pending: int = 0


class PathRecord(NamedTuple):
    """A delivered path, with the request it answers."""

    world: int  # the seed of the world it was planned in
    start: Tile
    goal: Tile
    path: tuple[Tile, ...] | None
    unit: int  # the id of the unit that asked
    in_view: bool  # whether the unit stood in the box around the goal (a higher priority)


class Game:
    """The game's state and its frame: input, path requests, ``update()``, drawing."""

    def __init__(
        self, window: Window, clock: pygame.time.Clock, art: Art, options: Options
    ) -> None:
        """Start generating the first world."""
        self.window = window
        self.screen = window.canvas  # what the game draws on, the window shows
        self.clock = clock
        self.art = art
        self.options = options
        self.sync = options.sync
        self.view = WorldView(art.floors, art.walls)
        self.swarm = Swarm(art.units, art.waiting_units)
        self.overlay = Overlay(pygame.font.Font(None, 20))
        self.stats = FrameStats()
        self.paths = PathCounts()
        self.records: list[PathRecord] = []  # with options.record
        self.worlds: dict[int, bytes] = {}  # finished worlds by seed, with options.record
        self.made: list[dict[str, object]] = []  # how each was made, with options.record
        self.clicked: Tile | None = None  # where the player last clicked
        self.goal: Tile | None = None  # that click, moved into the world's largest cave
        self.focus = pygame.Rect(0, 0, 0, 0)  # the tiles around the goal: their units plan first
        # Counts the player's orders (a goal, a world): see priority().
        self.order = 0
        self.survey: Survey | None = None  # of the world in use
        # find_path for the world in use: to run here, and on the pool.  use_world sets them.
        self.plan: Callable[[Tile, Tile], list[Tile] | None] | None = None
        self.find_path: pygame_async.AsyncFunction | None = None
        self.bar = ProgressBar(self.overlay.font, SCREEN_SIZE[0] // 3)
        self.world_calls = define_world_calls()
        self.making: WorldMaking | None = None  # the world being made, if one is
        self.regenerate(options.seed)

    # -- the world ------------------------------------------------------------------------

    def regenerate(self, seed: int) -> None:
        """Start making world ``seed``: its chunks as one group, its survey after them."""
        if self.making is not None:
            self.making.cancel()  # a world the player no longer wants: what has not started
        self.seed = seed
        self.survey = None
        self.order += 1
        self.halt_units()  # they wait for the new world, where they stand
        self.view.dim()
        # Its calls go before the path requests made for the world before,
        # stale now (each unit will replace its own once this world is in use).
        self.making = WorldMaking(seed, self.world_calls, self.view, UNITS, self.priority(True))

    def use_world(self, making: WorldMaking) -> None:
        """Take a finished world into use: a new pathfinder, units out of the rock, re-plan."""
        assert making.survey is not None
        self.making = None
        self.survey = making.survey
        cells = making.grid.to_bytes()
        if self.options.record:
            self.worlds[making.seed] = cells
            self.made.append(making.summary())
        # Redefining replaces the pathfinder, on every worker, for the calls made
        # from now on: the 38 KB grid crosses once per worker, not once per call.
        # The pool gets A* sliced; --sync (and S) run the same A* whole, here.
        self.plan = functools.partial(find_path, cells, WORLD_W, WORLD_H)
        self.find_path = pygame_async.define(
            "find_path", functools.partial(plan_path, cells, WORLD_W, WORLD_H)
        )
        if not self.swarm.units:
            self.swarm.spawn(self.survey.spawn)
        for unit in self.swarm.units:
            unit.place(self.open_tile(unit.tile))
        if self.clicked is not None:
            self.goal = self.open_tile(self.clicked)
        self.replan()
        self.play("regenerated")

    def open_tile(self, tile: Tile) -> Tile:
        """Return the tile of the largest cave nearest to ``tile`` (``tile`` itself if in it)."""
        assert self.survey is not None
        nearest = self.survey.nearest[tile[1] * WORLD_W + tile[0]]
        return nearest % WORLD_W, nearest // WORLD_W

    # -- paths ----------------------------------------------------------------------------

    def set_goal(self, tile: Tile) -> None:
        """Send every unit to ``tile``, or to the open tile nearest to it."""
        self.clicked = tile
        self.play("goal_set")
        if self.survey is not None:  # else use_world sets the goal when the world is finished
            self.goal = self.open_tile(tile)
            self.replan()

    def halt_units(self) -> None:
        """Stop every unit after its current step, to wait for a new path.

        Their requests not delivered yet are left alone: each unit's next
        request, made with its key, supersedes its last (see :meth:`request_paths`).
        """
        for unit in self.swarm.units:
            unit.halt()
        self.swarm.queue.clear()

    def replan(self) -> None:
        """Queue every unit to ask for a path to the goal: a new order."""
        self.halt_units()
        self.order += 1
        if self.goal is not None:
            self.focus = pygame.Rect((0, 0), FOCUS)
            self.focus.center = self.goal
            self.focus.clamp_ip(pygame.Rect(0, 0, WORLD_W, WORLD_H))
        if self.goal is None or not self.options.paths:
            for unit in self.swarm.units:
                unit.waiting = False  # nothing to wait for
        else:
            self.swarm.queue.extend(self.swarm.units)

    def priority(self, in_view: bool) -> int:
        """Return the priority of a call made now: the newest order first, then what is in view.

        Each order (a goal, a new world) counts :attr:`order` up, so its calls
        outrank every call made for an older one.  Those are stale: a unit's
        stale request stays queued until the unit asks again (a dozen units
        ask per frame), and meanwhile, unless it had started, it only runs on a
        worker with nothing newer to do.
        """
        return 2 * self.order + (1 if in_view else 0)

    def request_paths(self) -> None:
        """Ask for the paths of the next units in the queue: a few per frame, not 300 at once.

        Every request goes to the pool at once, which runs them by priority:
        with its unit's id as its key, a unit has at most one request there.
        """
        queue, goal, find_path = self.swarm.queue, self.goal, self.find_path
        if not queue:
            return
        # Units queue only once there is a goal in a world in use.
        assert goal is not None and self.plan is not None and find_path is not None
        for _ in range(min(PATHS_PER_FRAME, len(queue))):
            unit = queue.popleft()
            start = unit.tile
            in_view = self.focus.collidepoint(start)
            deliver = functools.partial(
                self.on_path, unit, unit.plan, self.seed, start, goal, in_view
            )
            self.paths.requested += 1
            self.paths.pending += 1
            if self.sync:
                deliver(self.plan(start, goal))  # the frame waits for A*: this is the stutter
                continue
            retry = functools.partial(self.on_path_failed, unit, unit.plan)
            callbacks = {"success": deliver, "error": retry}
            ask = find_path.options(key=unit.id, priority=self.priority(in_view))
            stale, unit.task = unit.task, ask(callbacks, start, goal)
            if stale is not None and stale.cancelled():
                # Superseded by the request just made: it had not been
                # delivered yet, and now its callback never runs.
                self.paths.pending -= 1
                self.paths.cancelled += 1

    def on_path(
        self,
        unit: Unit,
        plan: int,
        world: int,
        start: Tile,
        goal: Tile,
        in_view: bool,
        path: list[Tile] | None,
    ) -> None:
        """Give a unit the path it asked for, unless it has been told to stop since."""
        self.paths.pending -= 1
        self.paths.delivered += 1
        if self.options.record:
            # A tuple, not the list: the garbage collector stops tracking a tuple
            # of tuples of ints, so thousands of records don't slow its passes.
            kept = None if path is None else tuple(path)
            self.records.append(PathRecord(world, start, goal, kept, unit.id, in_view))
        # The key stops a path from coming once its unit has asked again, but
        # not between a new order and that request: the units ask a dozen per
        # frame, and not at all while a new world is made.  A path that comes
        # then leads to the old goal, or through the old world: the halted unit
        # must not walk it.  It stays halted, and its new request supersedes
        # nothing (this one was delivered).
        if plan == unit.plan:
            unit.follow(path or [start])  # no path: the goal is out of reach, so stay

    def on_path_failed(self, unit: Unit, plan: int, error: BaseException) -> None:
        """Let the unit ask again if its path's worker died; any other error is a bug."""
        if not isinstance(error, pygame_async.WorkerCrashedError):
            raise error
        logger.warning("a worker died planning a path; asking again")
        self.paths.pending -= 1
        self.paths.failed += 1
        if plan == unit.plan:
            self.swarm.queue.append(unit)

    # -- the frame ------------------------------------------------------------------------

    def play_frames(self, frames: int | None, script: Script | None) -> Generator[None, None, None]:
        """Play until the player quits, or for ``frames`` frames; yield after each frame."""
        frame = 0
        self.stats.began = time.perf_counter()
        while frames is None or frame < frames:
            started = time.perf_counter()
            if script is not None:
                script(frame)
            if not all(map(self.handle, pygame.event.get())):
                break  # the player quits
            self.request_paths()
            # Chunk and path callbacks run here; on the inline lane, the calls too.
            updating = time.perf_counter()
            self.stats.calls_done += pygame_async.update(self.options.budget)
            updating = time.perf_counter() - updating
            if self.making is not None:
                self.making.updated()
                if self.making.ready:
                    self.use_world(self.making)
            self.swarm.walk(SPEED)
            self.draw()
            self.window.present()
            self.stats.add(time.perf_counter() - started, updating)  # without the wait
            self.clock.tick(FPS)
            frame += 1
            yield
        self.stats.ended = time.perf_counter()

    def handle(self, event: pygame.event.Event) -> bool:
        """React to one event; False when the player quits."""
        key = event.key if event.type == pygame.KEYDOWN else None
        if event.type == pygame.QUIT or key == pygame.K_ESCAPE:
            return False
        if event.type == WORLD_READY:
            self.stats.calls_done += 1
            if self.making is not None:  # else no world waits for it: one given up
                self.making.on_survey(event)
        elif event.type == pygame.MOUSEBUTTONDOWN and event.button == 1:
            self.set_goal(tile_at(self.window.to_canvas(event.pos)))
        elif key == pygame.K_r:
            self.regenerate(self.seed + 1)
        elif key == pygame.K_s:
            self.sync = not self.sync
        elif key in (pygame.K_PLUS, pygame.K_EQUALS, pygame.K_KP_PLUS):
            pygame_async.ensure.at_least(pygame_async.get_worker_count() + 1)
        elif key in (pygame.K_MINUS, pygame.K_KP_MINUS):
            # Keep one worker: with none, calls would wait forever.
            pygame_async.ensure.at_most(max(1, pygame_async.get_worker_count() - 1))
        # pygame_async.UPDATE_EVENT needs nothing: this game calls update() every frame.
        return True

    def draw(self) -> None:
        """Draw the world, the goal, the units and the overlay."""
        self.screen.blit(self.view.surface, (0, 0))
        if self.goal is not None:
            x, y = self.goal
            centre = (x * TILE_PX + TILE_PX // 2, y * TILE_PX + TILE_PX // 2)
            self.screen.blit(self.art.goal, self.art.goal.get_rect(center=centre))
            focus = self.focus
            box = (focus.x * TILE_PX, focus.y * TILE_PX, focus.w * TILE_PX, focus.h * TILE_PX)
            pygame.draw.rect(self.screen, FOCUS_COLOUR, box, width=1)
        self.swarm.draw(self.screen)
        if self.making is not None:
            fraction = self.making.chunks.fraction
            width, height = SCREEN_SIZE
            self.bar.draw(self.screen, (width // 2, height - 60), fraction, self.making.label())
        self.overlay.draw(self.screen, self.stats, self.status)

    def status(self) -> list[str]:
        """Return the game's lines of the overlay."""
        if not self.options.paths:
            mode = "paths: off (--no-paths)"
        elif self.sync:
            mode = "paths: SYNC, A* on the main thread"
        else:
            mode = {
                "inline": "paths: inline, A* in slices inside update()",
                "thread": "paths: async, A* on threads",
                "dask": "paths: async, A* on a dask cluster",
            }.get(lane_of(self.options), "paths: async, A* on the workers")
        return [
            f"{self.clock.get_fps():3.0f} fps   calls pending: {pygame_async.get_pending_count()}"
            f"   workers: {pygame_async.get_worker_count()}",
            f"{mode}   {self.paths.delivered} planned",
        ]

    def play(self, sound: str) -> None:
        """Play a sound, if it loaded (it needs a sound device)."""
        if sound in self.art.sounds:
            self.art.sounds[sound].play()


Script = Callable[[int], object]
"""Called at the start of every frame with the frame's number: the headless player."""


def lane_of(options: Options) -> str:
    """Return the lane the game's pool runs on: the one asked for, else pygame_async's default."""
    if options.dask is not None:
        return "dask"
    return options.lane or ("inline" if WEB else "process")


def pool_lane(options: Options) -> str | pygame_async.DaskLane | None:
    """Return what ``load(lane=...)`` gets: a lane's name, a dask cluster's lane, or None."""
    if options.dask is None:
        return options.lane
    return pygame_async.DaskLane(None if options.dask == "local" else options.dask)


def play(
    options: Options,
    frames: int | None = None,
    script: Script | None = None,
    finish: Callable[[Game], object] | None = None,
    *,
    windowed: bool = False,
) -> Generator[None, None, None]:
    """Play the whole game, yielding after each frame: the window, loading, play, the end.

    ``finish(game)`` runs after the last frame, before anything closes.
    ``windowed``: for a player, a window fitted to the desktop (on the web, the
    canvas itself: the page scales it); NoDisplayError (before any worker
    starts) if SDL has no display to show it on.  Else a window of the
    canvas's size, as headless runs and tests want.  Closing the generator
    early (the player left) shuts everything down as its end would.
    """
    pygame.init()
    desktop = None
    if windowed:
        try:
            check_display()
        except BaseException:
            pygame.quit()
            raise
        desktop = None if WEB else pygame.display.get_desktop_sizes()[0]
    window = Window(SCREEN_SIZE, desktop)
    pygame.display.set_caption("pygame_async: swarm")
    clock = pygame.time.Clock()
    try:
        pygame_async.load(
            options.workers, lane=pool_lane(options), worker_priority=options.worker_priority
        )
        art = yield from load_art(window, clock)
        if art is None:
            return
        game = Game(window, clock, art, options)
        # What is loaded by now lives as long as the game.  Freezing it spares
        # the garbage collector's rare full passes from walking it all again,
        # which would otherwise make this game's slowest frame by far.
        gc.freeze()
        yield from game.play_frames(frames, script)
        if finish is not None:
            finish(game)
    finally:
        pygame_async.shutdown(cancel_pending=True)  # whatever happened: no worker outlives it
        pygame.quit()
        gc.unfreeze()  # for a caller that goes on, as the tests do


def run(
    options: Options,
    frames: int | None = None,
    script: Script | None = None,
    finish: Callable[[Game], object] | None = None,
    *,
    windowed: bool = False,
) -> None:
    """Play :func:`play` through, frame after frame, on this thread."""
    with contextlib.closing(play(options, frames, script, finish, windowed=windowed)) as steps:
        for _ in steps:
            pass
