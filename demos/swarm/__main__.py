"""Run the swarm demo: ``python -m demos.swarm`` (``--help`` lists the options).

Left click: send the swarm there.  R: a new world.  S: plan paths on the main
thread instead (feel the stutter).  +/-: more or fewer workers.  Esc: quit.
``--lane process|thread|inline`` picks where pygame_async runs the work;
``--dask local`` (or ``--dask tcp://HOST:PORT``) runs it on a dask cluster.
"""

from __future__ import annotations

import contextlib

from demos.swarm import cli

# Under the guard: a dask LocalCluster's worker processes import this module too.
if __name__ == "__main__":
    with contextlib.closing(cli.session(cli.parse())) as frames:
        for _ in frames:
            pass
