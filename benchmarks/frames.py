"""Workload 6: the swarm demo's frame times on each lane of pygame_async, with ``--sync``, and none.

The demo runs headless in a fresh process each way, as::

    python -m demos.swarm --headless --frames N --json FILE [--lane L | --sync | --no-paths]

and reports every frame's time in FILE (run through ``demo_probe``, which
adds a watchdog for hangs).  The median and p99 are computed here from that
list, with the same percentile as every other table; without it the demo's
own figures are used and no plot is drawn.  A run whose paths are not
all valid, or that leaves calls pending or workers alive, fails the suite.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.common import Config, Metrics, expect, percentile
from benchmarks.targets import DEMO_NONE, TWO_WORKERS, TWO_WORKERS_NORMAL

REPO = Path(__file__).resolve().parent.parent
PROBE = "benchmarks.demo_probe"  # the demo itself, with a watchdog that says where it hung
MODES = (
    ("async (pygame_async)", ()),  # on worker processes, the default lane
    ("async, thread lane (--lane thread)", ("--lane", "thread")),
    ("async, inline lane (--lane inline)", ("--lane", "inline")),
    # As many workers as cores: the game's thread then competes with them for a core.
    (TWO_WORKERS, ("--workers", "2")),
    (TWO_WORKERS_NORMAL, ("--workers", "2", "--worker-priority", "normal")),
    ("sync (--sync)", ("--sync",)),
    (DEMO_NONE, ("--no-paths",)),
)
# A demo run slower than a minute plus this per frame has hung (--sync frames take ~0.05 s).
SECONDS_PER_FRAME_ALLOWED = 0.25


@dataclass
class DemoRun:
    """One way of running the demo: its figures, its per-frame times, or why there are none."""

    label: str
    metrics: Metrics | None = None
    frame_times_ms: list[float] | None = None
    note: str = ""


def demo_available() -> bool:
    """True once the demo can be run with ``python -m demos.swarm``."""
    return (REPO / "demos" / "swarm" / "__main__.py").is_file()


def run_demo(config: Config) -> list[DemoRun]:
    """The demo's frame times each way; a run that fails says so and fails the suite."""
    if not demo_available():
        return [DemoRun(label, note="demo not available") for label, _ in MODES]
    runs = []
    with tempfile.TemporaryDirectory(prefix="bench-frames-") as scratch:
        for index, (label, flags) in enumerate(MODES):
            report_path = Path(scratch) / f"frames-{index}.json"  # never a previous run's
            try:
                report = _run_once(config.demo_frames, flags, report_path)
                runs.append(_read(label, report, config.demo_frames))
            except Exception as exc:
                runs.append(DemoRun(label, note=f"FAILED: {type(exc).__name__}: {exc}"))
    return runs


def _run_once(frames: int, flags: tuple[str, ...], report_path: Path) -> Mapping[str, Any]:
    timeout = 60 + frames * SECONDS_PER_FRAME_ALLOWED
    command = [sys.executable, "-m", PROBE, "--headless", "--frames", str(frames)]
    command += ["--json", str(report_path), *flags]
    completed = subprocess.run(
        command,
        cwd=REPO,
        env={**os.environ, "BENCH_DEMO_TIMEOUT": str(timeout)},
        capture_output=True,
        text=True,
        timeout=timeout + 30,  # the probe stops itself first, saying where it hung
        check=False,
    )
    if completed.returncode != 0:
        print(
            f"--- {shlex.join(command[1:])}: exit code {completed.returncode}; stderr ends:",
            file=sys.stderr,
        )
        print("\n".join(completed.stderr.splitlines()[-40:]), file=sys.stderr)
        hung = "Timeout (" in completed.stderr  # faulthandler's heading
        why = (
            f"hung, stopped after {timeout:.0f} s" if hung else f"exit code {completed.returncode}"
        )
        raise RuntimeError(f"the demo failed ({why}); its stderr is printed above")
    report: Mapping[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    return report


def _where_slow_frames_go(times: list[float], updating: list[float] | None) -> Metrics:
    """How much of the median frame, and of the slowest 1%, is ``update()``; and the rest.

    The slowest 1% are the frames at or above the p99: what decides it.
    """
    if updating is None or len(updating) != len(times):
        return {}
    p99 = percentile(times, 0.99)
    slowest = [index for index, ms in enumerate(times) if ms >= p99]
    in_update = sum(updating[index] for index in slowest) / len(slowest)
    return {
        "update ms": percentile(updating, 0.5),
        "slowest 1%: update ms": in_update,
        "slowest 1%: rest ms": sum(times[index] for index in slowest) / len(slowest) - in_update,
    }


def _read(label: str, report: Mapping[str, Any], frames: int) -> DemoRun:
    """Figures from one demo report, after checking that the run went right."""
    paths = report.get("paths", {})
    expect(report.get("drained", True), f"frames: {label}: calls still pending at the end")
    expect(report.get("workers_left", 0) == 0, f"frames: {label}: worker processes left")
    expect(
        paths.get("valid", 0) == paths.get("delivered", 0),
        f"frames: {label}: {paths.get('delivered')} paths delivered, {paths.get('valid')} valid",
    )
    times: list[float] | None = report.get("frame_times_ms")
    if times is not None:
        expect(len(times) >= frames, f"frames: {label} ran {len(times)} of {frames} frames")
        expect(min(times) >= 0, f"frames: {label}: a negative frame time")
        metrics = {
            "median ms": percentile(times, 0.5),
            "p99 ms": percentile(times, 0.99),
            "max ms": max(times),
            **_where_slow_frames_go(times, report.get("update_times_ms")),
        }
        note = ""
    else:  # the demo's own figures; no plot then
        figures = report["frame_ms"]
        metrics = {
            "median ms": figures["median"],
            "p99 ms": figures["p99"],
            "max ms": figures["max"],
        }
        note = "no per-frame times in the demo's report"
    metrics["frames"] = float(report.get("frames", frames))
    metrics["workers"] = float(report.get("workers", 0))
    return DemoRun(label, metrics, times, note)
