"""The swarm demo as a web build: pygbag's ``main.py``, run in a simulated browser's Python.

pygbag itself needs its runtime from the network, which the test machine
cannot reach; ``tests/websim.py`` stands in for it (``sys.platform`` is
``"emscripten"``, no ``multiprocessing``, no threads), running the folder
``demos.swarm.web_stage`` makes for pygbag, as pygbag runs it: its
``main.py`` as a script, from that folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from played import HEADLESS_ENV, REPO, check_dumped_paths, check_summary

from demos.swarm import web_stage

# Each test plays the game through in a fresh interpreter: slow cases (CI runs them).
pytestmark = pytest.mark.slow

WEBSIM = REPO / "tests" / "websim.py"
PROBE = Path(__file__).resolve().parent / "asyncio_probe.py"
WEB_FRAMES = 420  # the player clicks at frame 30 and regenerates the world at frame 210
BUDGET = 0.004


def run_script(runner: Path, report: Path, script: Path, *args: str, cwd: Path) -> dict[str, Any]:
    """Run ``runner REPORT SCRIPT ARGS`` in a fresh interpreter; return its report."""
    result = subprocess.run(
        [sys.executable, str(runner), str(report), str(script), *args],
        cwd=cwd,
        env={**os.environ, **HEADLESS_ENV},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert "frame time median" in result.stdout
    found: dict[str, Any] = json.loads(report.read_text())
    return found


def test_the_demo_plays_in_a_simulated_web_build_on_the_inline_lane(tmp_path: Path) -> None:
    main = web_stage.stage(tmp_path / "web")
    summary_file, dump = tmp_path / "summary.json", tmp_path / "paths.json"
    args = ["--headless", "--frames", str(WEB_FRAMES), "--budget", str(BUDGET)]
    args += ["--json", str(summary_file), "--dump-paths", str(dump)]
    web = run_script(WEBSIM, tmp_path / "web.json", main, *args, cwd=main.parent)

    # The simulation held, and nothing tried to get round it.
    assert web["platform"] == "emscripten" and web["exit_status"] == 0
    assert web["refused_imports"] == []
    assert web["refused_threads"] == []
    assert web["threads_alive"] == ["MainThread"]
    assert web["green_threads"], "threading was pygbag's green threads, as in a browser"
    # What ran is the staged folder's, as pygbag would pack it.
    for module in ("pygame_async", "demos", "cloudpickle"):
        assert Path(web["modules"][module]).is_relative_to(main.parent)
    # The lanes a web build has not are refused, saying what to use instead.
    for lane, missing in (("process", "worker processes"), ("thread", "threads")):
        said = web["refusals"][lane]
        assert f"Pool(lane={lane!r}): a web build (emscripten) has no {missing}" in said
        assert "use lane='inline' (the default there)" in said

    summary = json.loads(summary_file.read_text())
    check_summary(summary, WEB_FRAMES, processes=False)
    assert (summary["lane"], summary["budget"]) == ("inline", BUDGET)  # no --lane: the default
    assert summary["worlds"] == [1, 2]
    assert summary["paths"]["delivered"] > 100
    goals = check_dumped_paths(dump, summary)
    assert {world for world, _ in goals} == {1, 2}
    # Each frame's update(budget=0.004) runs A* and the caves in slices; how
    # long the inline lane's frames take is the benchmarks' to say (the
    # frames workload's target for the inline lane), not a timed unit test's.


def test_main_py_gives_the_event_loop_a_turn_every_frame(tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.json"
    main = REPO / "demos" / "swarm" / "main.py"
    args = ["--headless", "--frames", "40", "--lane", "inline", "--json", str(summary_file)]
    probe = run_script(PROBE, tmp_path / "probe.json", main, *args, cwd=tmp_path)

    summary = json.loads(summary_file.read_text())
    check_summary(summary, 40, processes=False)
    assert summary["lane"] == "inline"
    assert probe["delays"] == [0]  # asyncio.sleep(0), as pygbag asks
    # Another task got a turn after each of the 40 frames (and of the loading screen's).
    assert probe["turns"] >= 40


def test_main_py_plays_on_the_desktop_lanes_too(tmp_path: Path) -> None:
    summary_file = tmp_path / "summary.json"
    main = REPO / "demos" / "swarm" / "main.py"
    args = ["--headless", "--frames", "60", "--json", str(summary_file)]
    probe = run_script(PROBE, tmp_path / "probe.json", main, *args, cwd=tmp_path)

    summary = json.loads(summary_file.read_text())
    check_summary(summary, 60, processes=True)  # the desktop's default: worker processes
    assert summary["paths"]["delivered"] > 0
    assert probe["turns"] >= 60
