"""Make the folder pygbag builds the swarm demo from: ``python -m demos.swarm.web_stage DIR``.

pygbag packs one folder and runs its ``main.py`` as a script, from that
folder; what the game loads or imports must be inside it.  pygame_async is
not on PyPI, so it is copied in, with cloudpickle (which pygame_async
imports) from this environment; pygame comes with pygbag.  The folder keeps
the checkout's layout, so the game finds its assets as on the desktop::

    DIR/main.py          demos/swarm/main.py
    DIR/demos/           the game's package
    DIR/assets/          its images and sounds
    DIR/pygame_async/    DIR/cloudpickle/

Then ``pygbag DIR`` builds it and serves it on http://localhost:8000.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import cloudpickle

REPO = Path(__file__).resolve().parents[2]
COPIED = ("demos", "assets", "pygame_async")
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", "build")


def stage(target: Path) -> Path:
    """Copy the demo and what it needs into ``target`` (made if need be); return its main.py."""
    target.mkdir(parents=True, exist_ok=True)
    for name in COPIED:
        shutil.copytree(REPO / name, target / name, ignore=SKIPPED, dirs_exist_ok=True)
    library = Path(cloudpickle.__file__).parent
    shutil.copytree(library, target / library.name, ignore=SKIPPED, dirs_exist_ok=True)
    main = target / "main.py"
    shutil.copy2(REPO / "demos" / "swarm" / "main.py", main)
    return main


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m demos.swarm.web_stage", description=__doc__)
    parser.add_argument("target", type=Path, help="the folder to make, e.g. build/swarm-web")
    main = stage(parser.parse_args().target)
    print(f"staged {main.parent}: now `pygbag {main.parent}` (not tested here: it needs a network)")
