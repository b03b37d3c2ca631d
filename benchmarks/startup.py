"""Start-up: from creating a pool in a fresh game process to its first two results.

Each measurement runs in a fresh interpreter (``python -m benchmarks.startup
KIND``) that behaves like a game: it imports pygame at the top and opens a
(dummy) display before it makes its pool, so nothing is warm and spawned or
forkserver children that re-import ``__main__`` pay for pygame as a game's
would.  "ready" is when ``pygame_async.load(2)`` returns (its workers have
said hello); the other pools have no such moment, so for them "ready" is
their first two results.  The target compares pygame_async with
ProcessPoolExecutor on its own start method, spawn; forkserver is the start
method the other tables use.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pygame  # at the top, as in a game: spawned children that re-import __main__ pay for it

from benchmarks import tasks
from benchmarks.common import Config, Metrics, expect, percentile

REPO = Path(__file__).resolve().parent.parent
PROBE_TIMEOUT = 120.0  # seconds one fresh process may take


def _pygame_async() -> tuple[float, float]:
    import pygame_async

    start = time.perf_counter()
    pygame_async.load(2)
    ready = time.perf_counter()
    try:
        add_one = pygame_async.define("add_one", tasks.add_one)
        results: list[int] = []
        add_one(results.append, 0)
        add_one(results.append, 1)
        expect(pygame_async.wait(PROBE_TIMEOUT), "startup: pygame_async calls still pending")
        two = time.perf_counter()
    finally:
        pygame_async.shutdown()
    expect(sorted(results) == [1, 2], f"startup: pygame_async returned {results}")
    return ready - start, two - start


def _executor(method: str) -> Callable[[], tuple[float, float]]:
    def measure() -> tuple[float, float]:
        start = time.perf_counter()
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(2, mp_context=context) as executor:
            futures = [executor.submit(tasks.add_one, i) for i in range(2)]
            results = [future.result(PROBE_TIMEOUT) for future in futures]
            two = time.perf_counter()
        expect(results == [1, 2], f"startup: ProcessPoolExecutor returned {results}")
        return two - start, two - start

    return measure


def _multiprocessing() -> tuple[float, float]:
    start = time.perf_counter()
    pool = multiprocessing.get_context("forkserver").Pool(2)
    try:
        handles = [pool.apply_async(tasks.add_one, (i,)) for i in range(2)]
        results = [handle.get(PROBE_TIMEOUT) for handle in handles]
        two = time.perf_counter()
    finally:
        pool.terminate()
        pool.join()
    expect(results == [1, 2], f"startup: multiprocessing.Pool returned {results}")
    return two - start, two - start


def _loky() -> tuple[float, float]:
    import loky  # type: ignore[import-untyped]

    start = time.perf_counter()
    executor = loky.get_reusable_executor(max_workers=2)
    try:
        futures = [executor.submit(tasks.add_one, i) for i in range(2)]
        results = [future.result(PROBE_TIMEOUT) for future in futures]
        two = time.perf_counter()
    finally:
        executor.shutdown(wait=True, kill_workers=True)
    expect(results == [1, 2], f"startup: loky returned {results}")
    return two - start, two - start


PROBES: dict[str, Callable[[], tuple[float, float]]] = {
    "pygame_async": _pygame_async,
    "ProcessPoolExecutor (spawn)": _executor("spawn"),
    "ProcessPoolExecutor (forkserver)": _executor("forkserver"),
    "multiprocessing.Pool (forkserver)": _multiprocessing,
    "loky": _loky,
}


def probe_once(label: str) -> tuple[float, float]:
    """Run one probe in a fresh interpreter; (seconds to ready, seconds to two results)."""
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.startup", label],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=PROBE_TIMEOUT,
        check=False,
    )
    if completed.returncode != 0:
        tail = completed.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"probe exited with {completed.returncode}: {tail[0]}")
    ready, two = json.loads(completed.stdout.strip().splitlines()[-1])
    return float(ready), float(two)


def measure_startup(config: Config, available: set[str]) -> dict[str, Metrics | str]:
    """Median start-up of each pool over ``startup_reps`` fresh processes, or why none."""
    samples: dict[str, list[tuple[float, float]]] = {label: [] for label in PROBES}
    failures: dict[str, str] = {}
    for _ in range(config.startup_reps):  # rounds interleave the pools, spreading noise
        for label in PROBES:
            if label in failures or label.split(" (")[0] not in available:
                continue
            try:
                samples[label].append(probe_once(label))
            except Exception as exc:
                failures[label] = f"FAILED: {type(exc).__name__}: {exc}"
    results: dict[str, Metrics | str] = {}
    for label, measured in samples.items():
        if label in failures:
            results[label] = failures[label]
        elif measured:
            results[label] = {
                "ready ms": percentile([ready for ready, _ in measured], 0.5) * 1e3,
                "2 results ms": percentile([two for _, two in measured], 0.5) * 1e3,
            }
        else:
            results[label] = "not installed"
    return results


def main(label: str) -> None:
    """The probe: one pool made in this fresh, game-like process; prints its timings."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    pygame.display.init()
    pygame.display.set_mode((64, 64))
    ready, two = PROBES[label]()
    pygame.quit()
    print(json.dumps([ready, two]))


if __name__ == "__main__":
    main(sys.argv[1])
