"""The five workloads: each runs on a warm pool and checks every result it gets.

Each workload is ``workload(runner, config) -> metrics`` with its metrics in
display order, the first one being what the ratio column compares.  A wrong
result raises :class:`BenchmarkError`, so a broken pool fails the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from benchmarks import tasks
from benchmarks.runners import Runner

Metrics = dict[str, float]
MIB = 2**20


class BenchmarkError(Exception):
    """A pool returned a wrong result."""


@dataclass(frozen=True)
class Config:
    """Sizes of one run; ``cpu_n`` is calibrated so one ``cpu_work`` call takes ~0.1 s."""

    tiny_calls: int
    round_trips: int
    cpu_calls: int
    cpu_n: int
    cpu_serial_seconds: float  # all cpu_calls run one after another in the main process
    cpu_expected: int  # cpu_work(cpu_n)
    big_result_reps: int
    big_result_bytes: int
    big_definition_calls: int
    big_definition_bytes: int


@dataclass(frozen=True)
class Workload:
    """A workload and how to show it."""

    title: str
    run: Callable[[Runner, Config], Metrics]
    every_mode: bool = False  # run once per waiting mode of the pool (see Runner.modes)


def expect(condition: bool, message: str) -> None:
    """Raise BenchmarkError with ``message`` unless ``condition``."""
    if not condition:
        raise BenchmarkError(message)


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile of ``samples``: ``fraction`` 0.5 is the median."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def warm_up(runner: Runner) -> None:
    """Give each worker a call, so process start-up is outside every timing."""
    submit = runner.bind("warm_up", tasks.add_one)
    results = runner.gather([submit(i) for i in range(4)])
    expect(results == [1, 2, 3, 4], f"warm-up returned {results}")


def tiny_calls(runner: Runner, config: Config) -> Metrics:
    """Many ``x + 1`` calls at once: throughput, and the submitting loop's cost per call."""
    submit = runner.bind("add_one", tasks.add_one)
    runner.result(submit(0))
    n = config.tiny_calls
    start = time.perf_counter()
    handles = [submit(i) for i in range(n)]
    submitted = time.perf_counter()
    results = runner.gather(handles)
    end = time.perf_counter()
    expect(sum(results) == n * (n + 1) // 2, f"tiny calls: wrong sum {sum(results)}")
    return {"calls/s": n / (end - start), "us/submit": (submitted - start) / n * 1e6}


def round_trip(runner: Runner, config: Config) -> Metrics:
    """One call at a time, each waited for: latency of an idle pool, in microseconds."""
    submit = runner.bind("add_one", tasks.add_one)
    runner.result(submit(0))
    samples = []
    for i in range(config.round_trips):
        start = time.perf_counter()
        result = runner.result(submit(i))
        samples.append((time.perf_counter() - start) * 1e6)
        expect(result == i + 1, f"round trip: {i} + 1 gave {result}")
    return {"p50 us": percentile(samples, 0.5), "p99 us": percentile(samples, 0.99)}


def cpu_bound(runner: Runner, config: Config) -> Metrics:
    """~0.1 s pure-Python calls all at once: speedup over running them serially here."""
    submit = runner.bind("cpu_work", tasks.cpu_work)
    start = time.perf_counter()
    results = runner.gather([submit(config.cpu_n) for _ in range(config.cpu_calls)])
    elapsed = time.perf_counter() - start
    expect(results == [config.cpu_expected] * config.cpu_calls, "cpu-bound: wrong result")
    return {"speedup": config.cpu_serial_seconds / elapsed, "seconds": elapsed}


def big_results(runner: Runner, config: Config) -> Metrics:
    """A large ``bytes`` result, one call at a time: MB/s back to the main process."""
    submit = runner.bind("make_bytes", tasks.make_bytes)
    size = config.big_result_bytes
    start = time.perf_counter()
    for rep in range(config.big_result_reps):
        data = runner.result(submit(size, rep))
        expect(len(data) == size and data[0] == data[-1] == rep, "big result: wrong bytes")
    elapsed = time.perf_counter() - start
    return {"MB/s": config.big_result_reps * size / MIB / elapsed, "seconds": elapsed}


def big_definitions(runner: Runner, config: Config) -> Metrics:
    """Calls of a function closing over a large map; the timing includes ``define``.

    pygame_async sends the closure to each worker once; loky pickles it with
    every call; ProcessPoolExecutor and multiprocessing.Pool cannot pickle a
    closure, so they get the map as an argument of a module-level function.
    """
    table = bytes(config.big_definition_bytes)
    n = config.big_definition_calls
    start = time.perf_counter()
    if runner.sends_closures:
        submit = runner.bind("lookup", tasks.make_lookup(table))
        handles = [submit(i) for i in range(n)]
    else:
        submit = runner.bind("lookup", tasks.measure_table)
        handles = [submit(table, i) for i in range(n)]
    results = runner.gather(handles)
    elapsed = time.perf_counter() - start
    expect(sum(results) == n * len(table) + n * (n - 1) // 2, "big definitions: wrong sum")
    return {"calls/s": n / elapsed, "seconds": elapsed}


WORKLOADS = (
    Workload("tiny calls: x + 1, all submitted at once", tiny_calls),
    Workload("idle round trip: one x + 1 at a time (lower is better)", round_trip, True),
    Workload("CPU-bound: ~0.1 s pure-Python calls, speedup over serial", cpu_bound),
    Workload("big results: 16 MiB bytes per call, one at a time", big_results),
    Workload("big definitions: closure over an 8 MiB map, define timed", big_definitions),
)
