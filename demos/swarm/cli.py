"""The demo's command line, shared by ``python -m demos.swarm`` and ``main.py`` (pygbag's entry).

:func:`session` turns the parsed options into the game, a generator that
yields after every frame: ``__main__`` steps through it, ``main.py`` awaits
``asyncio.sleep(0)`` between its frames.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Generator
from pathlib import Path

from demos.swarm import game, headless
from demos.swarm.window import NoDisplayError

LANES = ("process", "thread", "inline")


def parser(prog: str) -> argparse.ArgumentParser:
    """Return the option parser, for ``prog``."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description="pygame_async's swarm demo: 300 units plan their paths in the background.",
        epilog="Left click: goal.  R: new world.  S: toggle sync.  +/-: workers.  Esc: quit.",
    )
    parser.add_argument("--headless", action="store_true", help="no window; a scripted player")
    parser.add_argument(
        "--frames", type=int, metavar="N", help="stop after N frames (headless: 600)"
    )
    parser.add_argument(
        "--lane",
        choices=LANES,
        help="where pygame_async runs the calls: worker processes (the default), threads, or "
        "inline, in slices inside each frame's update() (the default, and the only lane, "
        "in a web build)",
    )
    parser.add_argument(
        "--dask",
        metavar="TARGET",
        help="run the calls on a dask.distributed cluster instead (the [dask] extra): "
        "'local' starts a LocalCluster of --workers processes, or a scheduler address, "
        "tcp://HOST:PORT",
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=game.UPDATE_BUDGET,
        metavar="SECONDS",
        help="each frame's update(budget=...) (default: %(default)s): the inline lane's share",
    )
    parser.add_argument(
        "--sync", action="store_true", help="start with paths planned on this thread"
    )
    parser.add_argument("--no-paths", action="store_true", help="plan no paths (a baseline)")
    parser.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="calls at once: worker processes, threads or inline slots "
        f"(default: {game.Options.workers}, leaving a core to the game; "
        "2 with --dask local: a two-process cluster)",
    )
    parser.add_argument(
        "--worker-priority",
        choices=("low", "normal"),
        help="worker processes below the game (low, the default) or at its priority",
    )
    parser.add_argument("--seed", type=int, default=1, metavar="N", help="the first world's seed")
    parser.add_argument("--json", type=Path, metavar="FILE", help="headless: write the summary")
    parser.add_argument("--screenshot", type=Path, metavar="FILE", help="headless: last frame, PNG")
    parser.add_argument(
        "--dump-paths", type=Path, metavar="FILE", help="headless: every path, JSON"
    )
    return parser


def parse(
    argv: list[str] | None = None, prog: str = "python -m demos.swarm", *, lenient: bool = False
) -> argparse.Namespace:
    """Parse ``argv`` (default: ``sys.argv[1:]``); ``lenient`` ignores options it does not know."""
    options = parser(prog)
    args = options.parse_known_args(argv)[0] if lenient else options.parse_args(argv)
    if not args.headless and (args.json or args.screenshot or args.dump_paths):
        options.error("--json, --screenshot and --dump-paths need --headless")
    if args.dask is not None and args.lane is not None:
        options.error("--dask and --lane each pick where the calls run: give one")
    if args.worker_priority is not None and (
        args.dask is not None or args.lane not in (None, "process")
    ):
        options.error("--worker-priority is for worker processes (the process lane)")
    args.prog = prog
    return args


def session(args: argparse.Namespace) -> Generator[None, None, None]:
    """Play the game ``args`` ask for, yielding after each frame.

    For a player without a display, it says why on stderr and exits with status 2.
    """
    workers = args.workers
    if workers is None:
        workers = 2 if args.dask == "local" else game.Options.workers
    options = game.Options(
        args.seed,
        workers,
        lane=args.lane,
        dask=args.dask,
        budget=args.budget,
        sync=args.sync,
        paths=not args.no_paths,
        worker_priority=args.worker_priority,
    )
    if args.headless:
        frames = args.frames or 600
        yield from headless.play_headless(
            options, frames, args.json, args.screenshot, args.dump_paths
        )
        return
    try:
        yield from game.play(options, args.frames, windowed=True)
    except NoDisplayError as error:
        print(f"{args.prog}: {error}", file=sys.stderr)
        sys.exit(2)
