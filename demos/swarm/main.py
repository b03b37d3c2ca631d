"""The swarm demo in the shape pygbag wants for a web build: ``async def main()``, ``asyncio.run``.

pygbag runs a folder's ``main.py`` in the browser, where the game loop must
give control back once a frame (``await asyncio.sleep(0)``) and there are no
threads nor processes: pygame_async's default lane there is ``inline``, and
the demo's A* runs in slices inside each frame's ``update(budget=...)``.
``python -m demos.swarm.web_stage DIR`` makes the folder to give pygbag.

It runs on the desktop too, with the options of ``python -m demos.swarm``::

    python demos/swarm/main.py --headless --frames 120 --lane inline
"""

import asyncio
import contextlib
import sys
from pathlib import Path

if not __package__:
    # Run as a script, as pygbag does, from the folder web_stage made (the
    # package `demos` beside this file) or from demos/swarm in a checkout.
    _here = Path(__file__).resolve().parent
    sys.path.insert(0, str(_here if (_here / "demos").is_dir() else _here.parents[1]))

from demos.swarm import cli, game


async def main() -> None:
    """Play the demo, giving the event loop (the browser, on the web) a turn after every frame."""
    # In a browser sys.argv is what pygbag makes it: options the demo does not know are let be.
    args = cli.parse(prog="main.py", lenient=game.WEB)
    with contextlib.closing(cli.session(args)) as frames:
        for _ in frames:
            await asyncio.sleep(0)  # pygbag: keep it 0


asyncio.run(main())
