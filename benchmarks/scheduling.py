"""Scheduling: a group against separate calls, and a high-priority call behind 1,000 low ones.

    python -m benchmarks.scheduling [--quick] [--json FILE]

(``python -m benchmarks.run`` runs both too, in its "groups" and "priority" tables.)

1. Groups: 10,000 ``x + 1`` items through ``f.map()`` against 10,000
   separate ``f(callback, x)`` calls on the same two-worker pool, each run
   to completion with ``wait()``; the best of a few runs each.  Target: the
   group at no less than 0.8x the separate calls' calls/s.
2. Priority inversion: one worker is held by a call that ends at a known
   moment; meanwhile 1,000 low-priority calls of about 1 ms are queued, and
   then one high-priority call, which records when it starts in the worker
   (``time.monotonic()`` is the same clock in every process here).  Target:
   it starts within one low call's time of the worker becoming free (the
   median of several trials; the worst is shown too).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pygame_async
from benchmarks.common import Config, Metrics, expect
from benchmarks.report import Row

LOW_CALL_SECONDS = 0.001
TIMEOUT = 120.0


def add_one(x: int) -> int:
    """The group's item: the tiniest call."""
    return x + 1


def spin(seconds: float) -> float:
    """A low-priority call: keep the worker busy for ``seconds``."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        pass
    return seconds


def hold_until(moment: float) -> float:
    """Keep the worker busy until ``moment`` (``time.monotonic()``), then return it."""
    while time.monotonic() < moment:
        pass
    return moment


def started_at() -> float:
    """Return when this call started running, by ``time.monotonic()``."""
    return time.monotonic()


def groups(items: int, repeats: int) -> Metrics:
    """Calls/s of a group of ``items`` against as many separate calls, best of ``repeats``."""
    separate_best = group_best = float("inf")
    with pygame_async.Pool(2) as pool:
        add = pool.define("add_one", add_one)
        expect(add.map(range(100)).wait(TIMEOUT), "groups: warm-up did not finish")
        for _ in range(repeats):
            results: list[int] = []
            start = time.perf_counter()
            for item in range(items):
                add(results.append, item)
            expect(pool.wait(TIMEOUT), "groups: separate calls still pending")
            separate_best = min(separate_best, time.perf_counter() - start)
            expect(sorted(results) == list(range(1, items + 1)), "groups: wrong separate results")
            start = time.perf_counter()
            group = add.map(range(items))
            expect(group.wait(TIMEOUT), "groups: the group did not finish")
            group_best = min(group_best, time.perf_counter() - start)
            expect(group.results == list(range(1, items + 1)), "groups: wrong group results")
    return {
        "separate_calls_per_s": items / separate_best,
        "group_calls_per_s": items / group_best,
        "group_ratio": separate_best / group_best,
    }


def priority_inversion(low_calls: int, trials: int) -> Metrics:
    """How long after its worker became free a high-priority call queued behind low ones starts.

    Median and worst of ``trials``, each with ``low_calls`` low calls queued first.
    """
    delays: list[float] = []
    with pygame_async.Pool(1) as pool:
        low = pool.define("spin", spin)
        hold = pool.define("hold_until", hold_until)
        mark = pool.define("started_at", started_at).options(priority=10)
        for _ in range(20):  # the pool learns how long a low call takes: it may prefetch them
            low(None, LOW_CALL_SECONDS)
        expect(pool.wait(TIMEOUT), "inversion: warm-up did not finish")
        for _ in range(trials):
            free_at = time.monotonic() + 0.3
            holder = hold(None, free_at)
            pool.update()
            lows = [low(None, LOW_CALL_SECONDS) for _ in range(low_calls)]
            pool.update()  # the frame's calls leave: some low ones may be queued on the worker
            high = mark(None)
            started = high.result(TIMEOUT)
            expect(holder.result(TIMEOUT) == free_at, "inversion: the holder returned another")
            expect(pool.wait(TIMEOUT), "inversion: low calls still pending")
            expect(all(task.done() for task in lows), "inversion: a low call never ran")
            delays.append(started - free_at)
    delays.sort()
    median = delays[len(delays) // 2]
    return {
        "low_calls": float(low_calls),
        "low_call_ms": LOW_CALL_SECONDS * 1000,
        "high_started_after_ms": median * 1000,
        "worst_ms": delays[-1] * 1000,
        "in_low_calls": median / LOW_CALL_SECONDS,
    }


def group_rows(config: Config) -> list[Row]:
    """The groups table's rows, for ``benchmarks.run``."""
    figures = groups(config.group_items, config.group_repeats)
    return [
        Row(
            "groups", "pygame_async (separate calls)", {"calls/s": figures["separate_calls_per_s"]}
        ),
        Row("groups", "pygame_async (f.map)", {"calls/s": figures["group_calls_per_s"]}),
    ]


def priority_rows(config: Config) -> list[Row]:
    """The priority-inversion table's row, for ``benchmarks.run``."""
    figures = priority_inversion(config.inversion_low_calls, config.inversion_trials)
    metrics = {
        "start ms": figures["high_started_after_ms"],
        "worst ms": figures["worst_ms"],
        "in low calls": figures["in_low_calls"],
    }
    return [Row("priority", "pygame_async", metrics)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scheduling")
    parser.add_argument("--quick", action="store_true", help="smaller sizes (for CI)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the figures")
    args = parser.parse_args(argv)
    items = 2_000 if args.quick else 10_000
    figures = {
        "groups": groups(items, 2 if args.quick else 5),
        "priority_inversion": priority_inversion(1_000, 3 if args.quick else 7),
    }
    group, inversion = figures["groups"], figures["priority_inversion"]
    print(f"groups, {items} items of x + 1, two workers (best runs):")
    print(f"  separate calls  {group['separate_calls_per_s']:10,.0f} calls/s")
    print(
        f"  f.map()         {group['group_calls_per_s']:10,.0f} calls/s  "
        f"{group['group_ratio']:.2f}x the separate calls (target >= 0.8x)"
    )
    print("priority inversion, one worker, 1,000 low calls of 1 ms queued first:")
    print(
        f"  the high call started {inversion['high_started_after_ms']:.2f} ms (median; worst "
        f"{inversion['worst_ms']:.2f}) after the worker was free: "
        f"{inversion['in_low_calls']:.2f} low calls' time (target <= 1)"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
