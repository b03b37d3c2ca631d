"""The workloads run on a warm pool; each checks every result it gets.

Each workload is ``workload(runner, config) -> metrics`` with its metrics in
display order, the first one being what the ratio column compares.  A wrong
result raises :class:`BenchmarkError`, so a broken pool fails the run.  Start-up
and the demo's frame times need fresh processes: see ``startup.py`` and
``frames.py``.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

import pygame_async
from benchmarks import big_arguments, big_results, tasks
from benchmarks.common import Config, Metrics, expect, percentile
from benchmarks.runners import (
    TIMEOUT,
    DaskLaneRunner,
    DaskSubmitRunner,
    PygameAsyncRunner,
    Runner,
)

EMPTY_BATCHES = 10


@dataclass(frozen=True)
class Workload:
    """A workload, the table it fills and the pools it applies to."""

    key: str  # names its table and its targets
    run: Callable[[Runner, Config], Metrics]
    every_mode: bool = False  # run once per waiting mode of the pool (see Runner.modes)
    only: type[Runner] | None = None  # measures that pool's own API; others skip it
    runners: tuple[type[Runner], ...] | None = None  # only these pools (extra ones too)

    def applies_to(self, runner: type[Runner]) -> bool:
        """Tell whether this workload runs on that pool."""
        if self.runners is not None:
            return runner in self.runners
        if runner.workloads is not None and self.key not in runner.workloads:
            return False  # a lane measured on some workloads only (thread, inline)
        return not runner.extra and (self.only is None or issubclass(runner, self.only))


def warm_up(runner: Runner) -> None:
    """Give each worker a call, so process start-up is outside every timing."""
    submit = runner.bind("warm_up", tasks.warm_up)
    results = runner.gather([submit(i) for i in range(4)])
    expect(results == [1, 2, 3, 4], f"warm-up returned {results}")


def tiny_calls(runner: Runner, config: Config, count: int | None = None) -> Metrics:
    """Many ``x + 1`` calls at once: throughput, the main thread's cost per call, and the game's.

    "game CPU us/call" is the CPU time of the game's whole process (every
    thread of it, the workers not counted) per call: its threads share one
    GIL, so ``1 / game CPU`` bounds the calls/s any pool reaches here.
    """
    submit = runner.bind("add_one", tasks.add_one)
    runner.result(submit(0))
    n = config.tiny_calls if count is None else count
    # Every pool starts from the same garbage collector: none left to pay for
    # what the run did before it (a full pass of this process, which imports
    # every pool, costs tens of milliseconds); what its own calls make, it pays.
    gc.collect()
    cpu_start = time.process_time()
    start = time.perf_counter()
    handles = [submit(i) for i in range(n)]
    submitted = time.perf_counter()
    results = runner.gather(handles)
    end = time.perf_counter()
    cpu = time.process_time() - cpu_start
    expect(sum(results) == n * (n + 1) // 2, f"tiny calls: wrong sum {sum(results)}")
    return {
        "calls/s": n / (end - start),
        "main us/call": (submitted - start) / n * 1e6,
        "game CPU us/call": cpu / n * 1e6,
    }


def round_trip(runner: Runner, config: Config, count: int | None = None) -> Metrics:
    """One call at a time, each waited for: latency of an idle pool, in microseconds."""
    submit = runner.bind("add_one", tasks.add_one)
    runner.result(submit(0))
    samples = []
    for i in range(config.round_trips if count is None else count):
        start = time.perf_counter()
        result = runner.result(submit(i))
        samples.append((time.perf_counter() - start) * 1e6)
        expect(result == i + 1, f"round trip: {i} + 1 gave {result}")
    return {"p50 us": percentile(samples, 0.5), "p99 us": percentile(samples, 0.99)}


def update_cost(runner: Runner, config: Config) -> Metrics:
    """pygame_async's per-frame price: ``update()`` with nothing ready, and with a backlog.

    The backlog is ``budget_completions`` finished calls, all done in the
    workers and none delivered, when one ``update(budget=...)`` is timed: a
    game whose frame just got a burst of results.
    """
    assert isinstance(runner, PygameAsyncRunner)
    pool = runner.pool
    expect(pool.update() == 0 and pool.get_pending_count() == 0, "update: pool not idle")
    update = pool.update
    batches = []  # the median batch resists a neighbour's burst of CPU use better than one mean
    for _ in range(EMPTY_BATCHES):
        start = time.perf_counter()
        for _ in range(config.update_calls // EMPTY_BATCHES):
            update()
        batches.append((time.perf_counter() - start) / (config.update_calls // EMPTY_BATCHES))
    empty_us = percentile(batches, 0.5) * 1e6

    pool.define("add_one", tasks.add_one)
    n = config.budget_completions
    durations, counts = [], []
    for _ in range(config.budget_reps):
        received: list[int] = []
        calls = [pool.call(received.append, "add_one", i) for i in range(n)]
        _wait_until_all_done(calls)
        start = time.perf_counter()
        delivered = pool.update(budget=config.budget_seconds)
        durations.append(time.perf_counter() - start)
        counts.append(delivered)
        expect(pool.wait(TIMEOUT), "update: calls still pending")
        expect(sorted(received) == list(range(1, n + 1)), "update: wrong results delivered")
    return {
        "empty us": empty_us,
        "budget ms max": max(durations) * 1e3,
        "budget ms p50": percentile(durations, 0.5) * 1e3,
        "delivered": percentile(counts, 0.5),
    }


def _wait_until_all_done(calls: list[pygame_async.Task]) -> None:
    """Sleep until every task is done in its worker; ``done()`` delivers nothing."""
    deadline = time.perf_counter() + TIMEOUT
    while not all(call.done() for call in calls):
        expect(time.perf_counter() < deadline, f"update: calls not done after {TIMEOUT} s")
        time.sleep(0.002)


def cpu_bound(runner: Runner, config: Config) -> Metrics:
    """~0.1 s pure-Python calls all at once: speedup over running them serially here.

    The fastest of ``cpu_repeats`` batches counts, for the serial baseline
    too: on a shared machine a neighbour's burst of CPU use only ever slows a
    batch down, so the best one is the closest to what the pool itself costs.
    """
    submit = runner.bind("cpu_work", tasks.cpu_work)
    elapsed = float("inf")
    for _ in range(config.cpu_repeats):
        start = time.perf_counter()
        results = runner.gather([submit(config.cpu_n) for _ in range(config.cpu_calls)])
        elapsed = min(elapsed, time.perf_counter() - start)
        expect(results == [config.cpu_expected] * config.cpu_calls, "cpu-bound: wrong result")
    return {"speedup": config.cpu_serial_seconds / elapsed, "seconds": elapsed}


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


def dask_tiny_calls(runner: Runner, config: Config) -> Metrics:
    """:func:`tiny_calls`, at the size of the dask lane's target (issue 16: 5,000 calls)."""
    return tiny_calls(runner, config, config.dask_tiny_calls)


def dask_round_trip(runner: Runner, config: Config) -> Metrics:
    """:func:`round_trip`, fewer of them: a dask round trip takes milliseconds."""
    return round_trip(runner, config, config.dask_round_trips)


# The dask lane beside the process lane and dask's own client.submit, in the same run.
DASK_ROWS = (PygameAsyncRunner, DaskLaneRunner, DaskSubmitRunner)

WORKLOADS = (
    Workload("tiny", tiny_calls),
    Workload("round_trip", round_trip, every_mode=True),
    Workload("update", update_cost, only=PygameAsyncRunner),
    Workload("cpu", cpu_bound),
    Workload("bytes", big_results.big_bytes),
    Workload("surface", big_results.big_surface),
    Workload("surface_no_alpha", big_results.big_surface_no_alpha),
    Workload("surface_24", big_results.big_surface_24),
    Workload("definitions", big_definitions),
    Workload("arg_bytes", big_arguments.bytes_argument),
    Workload("arg_array", big_arguments.array_argument),
    Workload("arg_array_read_only", big_arguments.read_only_array_argument),
    Workload("arg_surface", big_arguments.surface_argument),
    Workload("dask_tiny", dask_tiny_calls, runners=DASK_ROWS),
    Workload("dask_round_trip", dask_round_trip, every_mode=True, runners=DASK_ROWS),
    Workload("dask_cpu", cpu_bound, runners=DASK_ROWS),
)
