"""Run the benchmark suite: ``python -m benchmarks.run [--quick] [--json FILE] ...``.

Each pool in turn is started with two workers, warmed up, put through every
workload and shut down (pygame_async's thread and inline lanes through the
tiny-call and round-trip ones only); start-up is then measured in fresh
processes and the swarm demo is run on each lane of pygame_async, with
``--sync`` and without pathfinding.  One table per workload compares the pools,
with a ratio against ProcessPoolExecutor and a PASS/MISS column for
pygame_async's targets (``targets.py``).  Exits non-zero if anything returned
a wrong result or failed, so ``--quick`` doubles as a check of the suite;
missing a target never fails the run.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import NamedTuple

from benchmarks import frames, growth, scheduling, startup, tasks
from benchmarks.common import MIB, Config
from benchmarks.plot import draw_frame_times, draw_growth
from benchmarks.report import Row, judge, markdown_report, text_report
from benchmarks.runners import RUNNERS, WORKERS, Runner
from benchmarks.targets import SECTIONS
from benchmarks.workloads import WORKLOADS, Workload, warm_up

CPU_CALL_SECONDS = 0.1
DEFAULT_PLOT = Path(__file__).resolve().parent.parent / "docs" / "frame_times.png"
GROWTH_PLOT = DEFAULT_PLOT.with_name("growth.png")
GROWTH = "growth"  # --only growth: every growth table
_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """Say on stderr what the suite is doing, and how far into the run it is."""
    print(f"[{time.perf_counter() - _STARTED:5.1f} s] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the suite")
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE")
    parser.add_argument("--markdown", metavar="FILE", help="also write the tables as Markdown")
    parser.add_argument(
        "--plot",
        metavar="FILE",
        help="save the frame-time plot (PNG) here; default: docs/frame_times.png for a "
        "full run, a temporary file (drawn, then dropped) with --quick",
    )
    parser.add_argument(
        "--only",
        metavar="KEY",
        action="append",
        choices=[section.key for section in SECTIONS] + [GROWTH],
        help="run only this workload (repeatable): "
        + ", ".join(s.key for s in SECTIONS)
        + f"; {GROWTH}: every {GROWTH}_* table",
    )
    return parser.parse_args(argv)


def calibrate_cpu_n() -> int:
    """The ``cpu_work`` argument that takes about CPU_CALL_SECONDS here."""
    n = 100_000
    start = time.perf_counter()
    tasks.cpu_work(n)
    return max(1, round(n * CPU_CALL_SECONDS / (time.perf_counter() - start)))


def make_config(quick: bool) -> Config:
    """Sizes for a full or ``--quick`` run, with the serial CPU baseline measured."""
    cpu_calls = 4 if quick else 8
    cpu_repeats = 1 if quick else 3
    cpu_n = calibrate_cpu_n()
    serial_seconds = float("inf")
    for _ in range(cpu_repeats):  # the best run, as for the pools: see workloads.cpu_bound
        start = time.perf_counter()
        results = [tasks.cpu_work(cpu_n) for _ in range(cpu_calls)]
        serial_seconds = min(serial_seconds, time.perf_counter() - start)
    return Config(
        quick=quick,
        tiny_calls=2_000 if quick else 20_000,
        round_trips=100 if quick else 1_000,
        update_calls=10_000 if quick else 100_000,
        budget_completions=1_000,
        budget_seconds=0.002,
        budget_reps=2 if quick else 5,
        cpu_calls=cpu_calls,
        cpu_repeats=cpu_repeats,
        cpu_n=cpu_n,
        cpu_serial_seconds=serial_seconds,
        cpu_expected=results[0],
        big_result_reps=2 if quick else 20,
        big_result_bytes=(4 if quick else 16) * MIB,
        surface_side=1024 if quick else 2048,
        surface_reps=2 if quick else 5,
        big_definition_calls=20 if quick else 200,
        big_definition_bytes=8 * MIB,
        startup_reps=1 if quick else 5,
        demo_frames=60 if quick else 1_200,
        group_items=2_000 if quick else 10_000,
        group_repeats=2 if quick else 5,
        inversion_low_calls=1_000,
        inversion_trials=3 if quick else 7,
        dask_tiny_calls=500 if quick else 5_000,
        dask_round_trips=20 if quick else 200,
        growth_max_pending=1_000 if quick else 100_000,
        growth_reps=2 if quick else 3,
        growth_memory_calls=1_000 if quick else 10_000,
        growth_tiny_calls=2_000 if quick else 10_000,
        growth_budget_ready=1_000 if quick else 100_000,
    )


def pygame_version() -> str:
    """The installed pygame (or pygame-ce) version, without importing pygame."""
    for distribution in ("pygame", "pygame-ce"):
        try:
            return f"{distribution} {importlib.metadata.version(distribution)}"
        except importlib.metadata.PackageNotFoundError:
            pass
    return "pygame not installed"


def make_header() -> dict[str, str]:
    """When, where and how this run was made."""
    now = datetime.datetime.now(datetime.UTC)
    return {
        "date": now.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "machine": (
            f"{platform.platform()}, {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, {pygame_version()}"
        ),
        "command": shlex.join(sys.orig_argv),
        "pools": f"{WORKERS} workers each, warm (start-up and a warm-up call not timed)",
    }


def run_workload(runner: Runner, workload: Workload, config: Config) -> list[Row]:
    """Rows of one workload on one pool: one per waiting mode if the workload asks."""
    if not workload.applies_to(type(runner)):
        return []
    rows = []
    for mode in runner.modes if workload.every_mode else runner.modes[:1]:
        runner.mode = mode
        label = f"{runner.label} ({mode})" if workload.every_mode and mode else runner.label
        try:
            rows.append(Row(workload.key, label, workload.run(runner, config)))
        except Exception as exc:
            rows.append(Row(workload.key, label, None, f"FAILED: {type(exc).__name__}: {exc}"))
    runner.mode = runner.modes[0]
    return rows


def run_pool(runner_type: type[Runner], workloads: list[Workload], config: Config) -> list[Row]:
    """The workloads on one pool, which is shut down afterwards whatever happens."""
    label = runner_type.label
    mine = [w for w in workloads if w.applies_to(runner_type)]
    if runner_type.unavailable:
        return [Row(w.key, label, None, runner_type.unavailable) for w in mine]
    progress(f"running {label} ...")
    rows: list[Row] = []
    try:
        with runner_type() as runner:
            warm_up(runner)
            for workload in mine:
                progress(f"  {label}: {workload.key}")
                rows.extend(run_workload(runner, workload, config))
    except Exception as exc:
        done = {row.section for row in rows}
        note = f"FAILED: {type(exc).__name__}: {exc}"
        rows.extend(Row(w.key, label, None, note) for w in mine if w.key not in done)
    return rows


class Part(NamedTuple):
    """Tables measured together, outside the per-pool workloads; run if any is wanted."""

    sections: tuple[str, ...]
    progress_line: str
    rows: Callable[[Config], list[Row]]


SCHEDULING_PARTS = (
    Part(("groups",), "groups: f.map() against separate calls ...", scheduling.group_rows),
    Part(("priority",), "priority inversion ...", scheduling.priority_rows),
)
GROWTH_PARTS = (
    Part(
        ("growth_call", "growth_update", "growth_memory"),
        "growth: calls pending, memory ...",
        growth.pending_rows,
    ),
    Part(("growth_workers",), "growth: tiny calls by worker count ...", growth.worker_rows),
    Part(
        ("growth_budget",), "growth: update(budget) with completions ready ...", growth.budget_rows
    ),
)


def run_parts(parts: Iterable[Part], config: Config, wanted: set[str]) -> list[Row]:
    """The rows of every part with a table that is wanted, each part announced as it starts."""
    rows: list[Row] = []
    for part in parts:
        if not wanted.isdisjoint(part.sections):
            progress(part.progress_line)
            rows += part.rows(config)
    return rows


def run_growth(config: Config, wanted: set[str]) -> list[Row]:
    """The growth tables that are wanted (see ``growth.py``), and their plot in docs/."""
    rows = run_parts(GROWTH_PARTS, config, wanted)
    series = {
        f"{row.pool}{' update()' if row.section == 'growth_update' else ''}": row.metrics
        for row in rows
        if row.section in ("growth_call", "growth_update") and row.metrics
    }
    if series and not config.quick:
        draw_growth(series, GROWTH_PLOT)
    return [row for row in rows if row.section in wanted]


def run_startup(config: Config) -> list[Row]:
    """Start-up rows, each pool measured in fresh processes."""
    progress("measuring start-up in fresh processes ...")
    available = {r.label for r in RUNNERS if not r.unavailable}
    measured = startup.measure_startup(config, available)
    rows = []
    for label, result in measured.items():
        if isinstance(result, str):  # why there is no figure
            rows.append(Row("startup", label, None, result))
        else:
            rows.append(Row("startup", label, result))
    return rows


def run_frames(config: Config, plot: Path | None) -> tuple[list[Row], str]:
    """Frame-time rows of the demo, each way of frames.MODES, and what became of the plot."""
    progress(f"running the swarm demo {len(frames.MODES)} ways ...")
    runs = frames.run_demo(config)
    rows = [Row("frames", run.label, run.metrics, run.note) for run in runs]
    series = {run.label: run.frame_times_ms for run in runs if run.frame_times_ms}
    if len(series) < len(runs):
        return rows, "plot: not drawn, a run of the demo gave no per-frame times"
    title = f"swarm demo, headless: frame times over {config.demo_frames:,} frames each way"
    if plot is not None:
        draw_frame_times(series, title, plot)
        return rows, f"plot: {plot}"
    with tempfile.TemporaryDirectory(prefix="bench-plot-") as scratch:
        draw_frame_times(series, title, Path(scratch) / "frame_times.png")  # checks it draws
    return rows, "plot: drawn, not kept (--quick; --plot FILE keeps it)"


def main(argv: list[str] | None = None) -> int:
    """Run every workload, print the tables and targets; 1 if anything failed."""
    args = parse_args(argv)
    started = time.perf_counter()
    header = make_header()
    print("\n".join(f"{key}: {value}" for key, value in header.items()), flush=True)
    config = make_config(args.quick)
    wanted = set(args.only or [section.key for section in SECTIONS])
    if GROWTH in wanted:
        wanted |= {section.key for section in SECTIONS if section.key.startswith(GROWTH + "_")}
    workloads = [w for w in WORKLOADS if w.key in wanted]
    rows = []
    if workloads:
        rows = [
            row
            for runner_type in RUNNERS
            if any(workload.applies_to(runner_type) for workload in workloads)
            for row in run_pool(runner_type, workloads, config)
        ]
    rows += run_parts(SCHEDULING_PARTS, config, wanted)
    rows += run_growth(config, wanted)
    if "startup" in wanted:
        rows += run_startup(config)
    plot_note = ""
    if "frames" in wanted:
        plot = Path(args.plot) if args.plot else (None if args.quick else DEFAULT_PLOT)
        frame_rows, plot_note = run_frames(config, plot)
        rows += frame_rows
    verdicts = judge(rows)
    fields = asdict(config)
    print(text_report(fields, rows, verdicts))
    failed = [row for row in rows if row.note.startswith("FAILED")]
    wall = time.perf_counter() - started
    if plot_note:
        print(f"\n{plot_note}")
    print(f"wall time: {wall:.1f} s; {'FAILED' if failed else 'all results correct'}")
    if args.markdown:
        Path(args.markdown).write_text(markdown_report(fields, rows, verdicts), encoding="utf-8")
    if args.json:
        report = {
            "header": header,
            "config": fields,
            "results": [asdict(row) for row in rows],
            "targets": [verdict.as_dict() for verdict in verdicts],
            "wall_seconds": wall,
            "ok": not failed,
        }
        Path(args.json).write_text(json.dumps(report, indent=2), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
