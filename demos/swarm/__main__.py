"""Run the swarm demo: ``python -m demos.swarm`` (``--help`` lists the options).

Left click: send the swarm there.  R: a new world.  S: plan paths on the main
thread instead (feel the stutter).  +/-: more or fewer workers.  Esc: quit.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from demos.swarm import game, headless
from demos.swarm.window import NoDisplayError

parser = argparse.ArgumentParser(
    prog="python -m demos.swarm",
    description="pygame_async's swarm demo: 300 units plan their paths on worker processes.",
    epilog="Left click: goal.  R: new world.  S: toggle sync.  +/-: workers.  Esc: quit.",
)
parser.add_argument("--headless", action="store_true", help="no window; a scripted player")
parser.add_argument("--frames", type=int, metavar="N", help="stop after N frames (headless: 600)")
parser.add_argument("--sync", action="store_true", help="start with paths planned on this thread")
parser.add_argument("--no-paths", action="store_true", help="plan no paths (a baseline)")
parser.add_argument(
    "--workers",
    type=int,
    default=game.Options.workers,
    metavar="N",
    help="worker processes (default: %(default)s, leaving a core to the game)",
)
parser.add_argument("--seed", type=int, default=1, metavar="N", help="the first world's seed")
parser.add_argument("--json", type=Path, metavar="FILE", help="headless: write the summary")
parser.add_argument("--screenshot", type=Path, metavar="FILE", help="headless: last frame, PNG")
parser.add_argument("--dump-paths", type=Path, metavar="FILE", help="headless: every path, JSON")
args = parser.parse_args()

options = game.Options(args.seed, args.workers, sync=args.sync, paths=not args.no_paths)
if args.headless:
    headless.main(options, args.frames or 600, args.json, args.screenshot, args.dump_paths)
elif args.json or args.screenshot or args.dump_paths:
    parser.error("--json, --screenshot and --dump-paths need --headless")
else:
    try:
        game.run(options, args.frames, windowed=True)
    except NoDisplayError as error:
        print(f"python -m demos.swarm: {error}", file=sys.stderr)
        sys.exit(2)
