"""Benchmarks of pygame_async against other process pools: ``python -m benchmarks.run``.

The suite is headless: pygame gets SDL's dummy drivers and keeps its banner
to itself, here and in every process started from here (they inherit the
environment), unless the caller chose otherwise.
"""

import os

for _name, _value in (
    ("SDL_VIDEODRIVER", "dummy"),
    ("SDL_AUDIODRIVER", "dummy"),
    ("PYGAME_HIDE_SUPPORT_PROMPT", "1"),
):
    os.environ.setdefault(_name, _value)
