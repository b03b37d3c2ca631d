"""Run the swarm demo: ``python -m demos.swarm`` (``--help`` lists the options).

Left click: send the swarm there.  R: a new world.  S: plan paths on the main
thread instead (feel the stutter).  +/-: more or fewer workers.  Esc: quit.
``--lane process|thread|inline`` picks where pygame_async runs the work.
"""

from __future__ import annotations

import contextlib

from demos.swarm import cli

with contextlib.closing(cli.session(cli.parse())) as frames:
    for _ in frames:
        pass
