"""Run the benchmark suite: ``python -m benchmarks.run [--quick] [--json FILE]``.

Each pool in turn is started with two workers, warmed up, put through every
workload and shut down; then one table per workload compares the pools, with
a ratio against ProcessPoolExecutor.  Exits non-zero if any pool returned a
wrong result or failed, so ``--quick`` doubles as a check of the suite.
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
import time
from dataclasses import asdict, dataclass

from benchmarks import tasks
from benchmarks.runners import BASELINE, RUNNERS, WORKERS, Runner
from benchmarks.workloads import MIB, WORKLOADS, Config, Metrics, Workload, warm_up

CPU_CALL_SECONDS = 0.1


@dataclass
class Row:
    """One line of a table: a pool's metrics, or why it has none."""

    workload: str
    pool: str
    metrics: Metrics | None
    note: str = ""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: checks the suite")
    parser.add_argument("--json", metavar="FILE", help="also write the results to FILE")
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
    cpu_n = calibrate_cpu_n()
    start = time.perf_counter()
    results = [tasks.cpu_work(cpu_n) for _ in range(cpu_calls)]
    serial_seconds = time.perf_counter() - start
    return Config(
        tiny_calls=2_000 if quick else 20_000,
        round_trips=100 if quick else 1_000,
        cpu_calls=cpu_calls,
        cpu_n=cpu_n,
        cpu_serial_seconds=serial_seconds,
        cpu_expected=results[0],
        big_result_reps=2 if quick else 5,
        big_result_bytes=16 * MIB,
        big_definition_calls=20 if quick else 200,
        big_definition_bytes=8 * MIB,
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
    rows = []
    for mode in runner.modes if workload.every_mode else runner.modes[:1]:
        runner.mode = mode
        label = f"{runner.label} ({mode})" if workload.every_mode and mode else runner.label
        try:
            rows.append(Row(workload.title, label, workload.run(runner, config)))
        except Exception as exc:
            rows.append(Row(workload.title, label, None, f"FAILED: {type(exc).__name__}: {exc}"))
    return rows


def run_pool(runner_type: type[Runner], config: Config) -> list[Row]:
    """All workloads on one pool, which is shut down afterwards whatever happens."""
    label = runner_type.label
    if runner_type.unavailable:
        return [Row(w.title, label, None, runner_type.unavailable) for w in WORKLOADS]
    print(f"running {label} ...", file=sys.stderr, flush=True)
    rows: list[Row] = []
    try:
        with runner_type() as runner:
            warm_up(runner)
            for workload in WORKLOADS:
                rows.extend(run_workload(runner, workload, config))
    except Exception as exc:
        done = {row.workload for row in rows}
        note = f"FAILED: {type(exc).__name__}: {exc}"
        rows.extend(Row(w.title, label, None, note) for w in WORKLOADS if w.title not in done)
    return rows


def format_number(value: float) -> str:
    """Three significant-ish digits, with thousands separators for big numbers."""
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if value >= 10 else f"{value:.2f}"


def format_table(title: str, rows: list[Row]) -> str:
    """One workload's table, with the first metric's ratio to the baseline pool."""
    columns = next((list(row.metrics) for row in rows if row.metrics), [])
    baseline = next((row.metrics for row in rows if row.pool == BASELINE and row.metrics), None)
    lines = [f"== {title}", "pool".ljust(30) + "".join(c.rjust(12) for c in columns)]
    lines[-1] += "vs PPE".rjust(9)
    for row in rows:
        if row.metrics is None:
            lines.append(row.pool.ljust(30) + row.note)
            continue
        cells = "".join(format_number(row.metrics[c]).rjust(12) for c in columns)
        ratio = f"{row.metrics[columns[0]] / baseline[columns[0]]:.2f}x" if baseline else "-"
        lines.append(row.pool.ljust(30) + cells + ratio.rjust(9))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run every pool through every workload, print the tables; 1 if anything failed."""
    args = parse_args(argv)
    started = time.perf_counter()
    header = make_header()
    print("\n".join(f"{key}: {value}" for key, value in header.items()), flush=True)
    config = make_config(args.quick)
    rows = [row for runner_type in RUNNERS for row in run_pool(runner_type, config)]
    for workload in WORKLOADS:
        print()
        print(format_table(workload.title, [row for row in rows if row.workload == workload.title]))
    failed = [row for row in rows if row.note.startswith("FAILED")]
    wall = time.perf_counter() - started
    print(f"\nwall time: {wall:.1f} s; {'FAILED' if failed else 'all results correct'}")
    if args.json:
        report = {
            "header": header,
            "config": asdict(config),
            "results": [asdict(row) for row in rows],
            "wall_seconds": wall,
            "ok": not failed,
        }
        with open(args.json, "w", encoding="utf-8") as file:
            json.dump(report, file, indent=2)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
