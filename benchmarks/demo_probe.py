"""Run the swarm demo as ``python -m demos.swarm`` would, with a watchdog for hangs.

A demo that hangs is stopped here, after ``BENCH_DEMO_TIMEOUT`` seconds, with
every thread's Python stack written to stderr, so the suite can say where it
hung (``faulthandler``; SIGTERM would not do: SDL turns it into a QUIT event).
Everything else is the demo's own run: same arguments, same code, run with
``runpy``; its ``--json`` summary already carries every frame's time.
"""

from __future__ import annotations

import faulthandler
import os
import runpy

if __name__ == "__main__":
    if timeout := float(os.environ.get("BENCH_DEMO_TIMEOUT", 0)):
        faulthandler.dump_traceback_later(timeout, exit=True)
    runpy.run_module("demos.swarm", run_name="__main__", alter_sys=True)
