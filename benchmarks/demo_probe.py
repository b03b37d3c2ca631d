"""Run the swarm demo as ``python -m demos.swarm`` would, with every frame's time in its JSON.

The demo's ``--json`` summary gives the median, p99 and max frame time; the
plot needs each frame's.  The demo records them already (``game.stats.times``,
the main thread's work per frame, in seconds), so until its summary carries
them itself this wrapper adds them, as ``frame_times_ms``.  Everything else is
the demo's own run: same arguments, same code, run with ``runpy``.

A demo that hangs is stopped here, after ``BENCH_DEMO_TIMEOUT`` seconds, with
every thread's Python stack written to stderr, so the suite can say where it
hung (``faulthandler``; SIGTERM would not do: SDL turns it into a QUIT event).
"""

from __future__ import annotations

import faulthandler
import os
import runpy
from typing import Any

from demos.swarm import headless

_summarize = headless.summarize


def _summarize_with_frame_times(game: Any) -> dict[str, Any]:
    summary: dict[str, Any] = _summarize(game)
    times = getattr(getattr(game, "stats", None), "times", None)
    if "frame_times_ms" not in summary and times is not None:
        summary["frame_times_ms"] = [seconds * 1e3 for seconds in times]
    return summary


if __name__ == "__main__":
    if timeout := float(os.environ.get("BENCH_DEMO_TIMEOUT", 0)):
        faulthandler.dump_traceback_later(timeout, exit=True)
    headless.summarize = _summarize_with_frame_times
    runpy.run_module("demos.swarm", run_name="__main__", alter_sys=True)
