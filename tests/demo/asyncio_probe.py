"""Run a pygbag-shaped script and count the turns its asyncio loop gives another task.

    python asyncio_probe.py REPORT.json SCRIPT [ARGS...]

The script's ``asyncio.run(main())`` runs here with a second task beside
``main()``, which counts how often it gets a turn: a game loop that awaits
``asyncio.sleep(0)`` every frame lets it run once a frame (as a browser's
event loop must, under pygbag); one that never awaits starves it.  The report
says how many turns it got and which delays ``asyncio.sleep`` was given.
"""

from __future__ import annotations

import asyncio
import json
import runpy
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

report: dict[str, Any] = {"turns": 0, "delays": []}
_real_sleep = asyncio.sleep
_real_run = asyncio.run


async def _counted_sleep(delay: float, result: Any = None) -> Any:
    if delay not in report["delays"]:
        report["delays"].append(delay)
    return await _real_sleep(delay, result)


def _run_beside_a_counter(main: Coroutine[Any, Any, Any], **options: Any) -> Any:
    async def counter() -> None:
        while True:
            report["turns"] += 1
            await _real_sleep(0)

    async def both() -> Any:
        counting = asyncio.create_task(counter())
        try:
            return await main
        finally:
            counting.cancel()

    return _real_run(both(), **options)


if __name__ == "__main__":
    report_path, script = Path(sys.argv[1]), Path(sys.argv[2]).resolve()
    sys.argv = [str(script), *sys.argv[3:]]
    sys.path[0] = str(script.parent)  # as `python script` puts the script's folder first
    asyncio.sleep = _counted_sleep
    asyncio.run = _run_beside_a_counter
    runpy.run_path(str(script), run_name="__main__")
    report_path.write_text(json.dumps(report), encoding="utf-8")
