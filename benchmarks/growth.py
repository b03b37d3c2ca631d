"""Growth: what a call costs the game's thread as calls pile up, and as workers are added.

    python -m benchmarks.run --only growth [--quick]

Every pool is measured the same way, in the same run: pygame_async (process
lane), ProcessPoolExecutor, multiprocessing.Pool and loky.

* ``growth_call``: main-thread cost of one ``call()`` (``submit``,
  ``apply_async``) with 10^2 ... 10^5 calls pending.  *Pending*: made and
  not yet delivered, queued because every worker is held by a call that
  waits on a FIFO the game releases (:class:`Gate`); nothing sleeps.  At
  each level, ``BATCH`` more calls are timed together; the median of
  ``growth_reps`` runs counts.
* ``growth_update``: pygame_async's ``update()`` with nothing to deliver and
  as many calls pending (the other pools have no such call).
* ``growth_memory``: bytes the game process allocates per pending call
  (``tracemalloc``: every thread of the game process, the pickled arguments
  and the handle kept by the caller included; the workers' memory is not,
  since they hold none of the pending calls), with tiny arguments.
* ``growth_workers``: tiny calls/s with 1, 2, 4 and 8 workers (the fastest
  of ``growth_reps`` batches).
* ``growth_budget``: one ``update(budget)`` with ``growth_budget_ready``
  completions ready (less the one an ``update(budget=0)`` just before, the
  game's previous frame, delivered), each callback busy for ``CALLBACK_SECONDS``: its wall
  time against the budget plus the longest single delivery (from one
  callback's start to the next one's: the callback and the pool's own work
  for it).
"""

from __future__ import annotations

import abc
import contextlib
import gc
import multiprocessing
import os
import select
import shutil
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pygame_async
from benchmarks import tasks
from benchmarks.common import Config, Metrics, expect, percentile
from benchmarks.report import Row
from benchmarks.runners import TIMEOUT

try:
    import loky  # type: ignore[import-untyped]
except ImportError:  # a benchmark-only dependency: its rows are then left out
    loky = None

BATCH = 200  # calls (or updates) timed together at each level
UPDATES = 2_000  # empty update() calls timed at each level
CALLBACK_SECONDS = 50e-6  # how long each callback of the budget test keeps the game busy
BUDGET_SECONDS = 0.002

PYGAME_ASYNC = "pygame_async"


def level_name(level: int) -> str:
    """``100``, ``1k``, ``10k``, ``100k``: a level as the tables name it."""
    return f"{level // 1000}k" if level >= 1000 else str(level)


class Gate:
    """Holds workers inside a call until the game releases them, through two FIFOs.

    A held call (:func:`benchmarks.tasks.hold`) writes a byte to ``started``
    then reads one from ``gate``.  The game keeps both open read-write, so
    no open ever blocks; :meth:`release` writes one byte per held call.  One
    gate serves one round of holding: bytes left over would let later
    holders through.
    """

    def __init__(self) -> None:
        self._folder = tempfile.mkdtemp(prefix="bench-gate-")
        self.gate = os.path.join(self._folder, "gate")
        self.started = os.path.join(self._folder, "started")
        os.mkfifo(self.gate)
        os.mkfifo(self.started)
        self._gate_fd = os.open(self.gate, os.O_RDWR)
        self._started_fd = os.open(self.started, os.O_RDWR)
        self._released = False
        self.holders = 0

    def wait_held(self, count: int) -> None:
        """Block until ``count`` held calls have started (each wrote its byte)."""
        deadline = time.monotonic() + TIMEOUT
        seen = 0
        while seen < count:
            remaining = deadline - time.monotonic()
            expect(remaining > 0, f"growth: only {seen} of {count} workers held")
            ready, _, _ = select.select([self._started_fd], [], [], remaining)
            if ready:
                seen += len(os.read(self._started_fd, count - seen))
        self.holders = count

    def release(self) -> None:
        """Let every held call return (once)."""
        if not self._released:
            self._released = True
            os.write(self._gate_fd, b"x" * max(self.holders, 64))

    def close(self) -> None:
        """Release what is held, then remove the FIFOs."""
        self.release()
        os.close(self._gate_fd)
        os.close(self._started_fd)
        shutil.rmtree(self._folder, ignore_errors=True)


class GrowthPool(abc.ABC):
    """One pool under test with ``workers`` workers: submit tiny calls, hold workers, drain."""

    label: str

    def __init__(self, workers: int) -> None:
        self.workers = workers

    @abc.abstractmethod
    def submitter(self) -> Callable[[int], Any]:
        """Return ``submit(i)``, a call of ``add_one(i)``, returning what the caller keeps."""

    @abc.abstractmethod
    def hold(self, gate: Gate) -> list[Any]:
        """Start one held call per worker; return their handles."""

    @abc.abstractmethod
    def results(self, handles: list[Any]) -> list[Any]:
        """Wait for every call of ``handles``; return their results (any order)."""

    @abc.abstractmethod
    def close(self) -> None:
        """Shut the pool down; no worker remains."""

    def warm_up(self) -> None:
        """Give every worker a call, so start-up stays outside the timings."""
        submit = self.submitter()
        handles = [submit(i) for i in range(2 * self.workers)]
        expect(
            sorted(self.results(handles)) == list(range(1, 2 * self.workers + 1)),
            f"growth: {self.label} warm-up returned wrong results",
        )


class PygameAsyncPool(GrowthPool):
    """pygame_async, process lane: ``f(callback, i)``; the callbacks run in ``wait()``."""

    label = PYGAME_ASYNC

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.pool = pygame_async.Pool(workers)
        self._add_one = self.pool.define("add_one", tasks.add_one)
        self._hold = self.pool.define("hold", tasks.hold)
        self.received: list[int] = []

    def submitter(self) -> Callable[[int], Any]:
        add_one, deliver = self._add_one, self.received.append
        return lambda i: add_one(deliver, i)

    def hold(self, gate: Gate) -> list[Any]:
        return [self._hold(None, gate.gate, gate.started) for _ in range(self.workers)]

    def results(self, handles: list[Any]) -> list[Any]:
        expect(self.pool.wait(TIMEOUT), "growth: pygame_async calls still pending")
        got, self.received[:] = list(self.received), []
        expect(len(got) == sum(t.name == "add_one" for t in handles), "growth: results missing")
        return got

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_pending=True)


class ExecutorPool(GrowthPool):
    """A ``concurrent.futures`` executor: ``submit(add_one, i)``, then ``result()``."""

    executor: Any

    def submitter(self) -> Callable[[int], Any]:
        submit = self.executor.submit
        return lambda i: submit(tasks.add_one, i)

    def hold(self, gate: Gate) -> list[Any]:
        return [
            self.executor.submit(tasks.hold, gate.gate, gate.started) for _ in range(self.workers)
        ]

    def results(self, handles: list[Any]) -> list[Any]:
        return [handle.result(TIMEOUT) for handle in handles]


class ProcessPoolExecutorPool(ExecutorPool):
    """``ProcessPoolExecutor`` on the forkserver context, as in the other tables."""

    label = "ProcessPoolExecutor"

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        context = multiprocessing.get_context("forkserver")
        self.executor = ProcessPoolExecutor(workers, mp_context=context)

    def close(self) -> None:
        self.executor.shutdown(wait=True, cancel_futures=True)


class LokyPool(ExecutorPool):
    """``loky.get_reusable_executor(max_workers=workers)``."""

    label = "loky"

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.executor = loky.get_reusable_executor(max_workers=workers)

    def close(self) -> None:
        self.executor.shutdown(wait=True, kill_workers=True)


class MultiprocessingPool(GrowthPool):
    """``multiprocessing.Pool`` on the forkserver context: ``apply_async``, then ``get()``."""

    label = "multiprocessing.Pool"

    def __init__(self, workers: int) -> None:
        super().__init__(workers)
        self.pool = multiprocessing.get_context("forkserver").Pool(workers)

    def submitter(self) -> Callable[[int], Any]:
        apply_async = self.pool.apply_async
        return lambda i: apply_async(tasks.add_one, (i,))

    def hold(self, gate: Gate) -> list[Any]:
        return [
            self.pool.apply_async(tasks.hold, (gate.gate, gate.started))
            for _ in range(self.workers)
        ]

    def results(self, handles: list[Any]) -> list[Any]:
        return [handle.get(TIMEOUT) for handle in handles]

    def close(self) -> None:
        self.pool.terminate()  # every result is in by now: nothing is lost
        self.pool.join()


POOLS: tuple[type[GrowthPool], ...] = (
    PygameAsyncPool,
    ProcessPoolExecutorPool,
    MultiprocessingPool,
    *((LokyPool,) if loky is not None else ()),
)


def levels(config: Config) -> list[int]:
    """The pending counts measured: 10^2 up to ``growth_max_pending``."""
    found, level = [], 100
    while level <= config.growth_max_pending:
        found.append(level)
        level *= 10
    return found


@contextlib.contextmanager
def _workers_held(pool: GrowthPool) -> Iterator[tuple[Callable[[int], Any], list[Any]]]:
    """Hold every worker of ``pool`` for the ``with`` block, then drain what it made.

    Yields ``(submit, handles)``: the block calls ``submit(0)``,
    ``submit(1)``... in turn, each call's handle appended to ``handles``,
    and every call stays pending until the block ends.  Then the workers are
    let go and the results are checked (their sum), the held calls' too.
    """
    submit = pool.submitter()
    gate = Gate()
    try:
        holders = pool.hold(gate)
        gate.wait_held(pool.workers)
        handles: list[Any] = []
        yield submit, handles
        gate.release()
        made = len(handles)
        results = pool.results(handles)
        expect(sum(results) == made * (made + 1) // 2, f"growth: {pool.label} wrong sum")
        pool.results(holders)
    finally:
        gate.close()


def _held_round(
    pool: GrowthPool,
    config: Config,
    call_costs: dict[int, list[float]],
    update_costs: dict[int, list[float]],
) -> None:
    """One run: hold every worker, grow the pending calls level by level, timing each; drain."""
    with _workers_held(pool) as (submit, handles):
        made = 0
        for level in levels(config):
            while made < level:
                handles.append(submit(made))
                made += 1
            start = time.perf_counter()
            for _ in range(BATCH):
                handles.append(submit(made))
                made += 1
            call_costs[level].append((time.perf_counter() - start) / BATCH)
            if isinstance(pool, PygameAsyncPool):
                update = pool.pool.update
                expect(update() == 0, "growth: update() delivered while the workers were held")
                start = time.perf_counter()
                for _ in range(UPDATES):
                    update()
                update_costs[level].append((time.perf_counter() - start) / UPDATES)
                expect(pool.pool.get_pending_count() >= made, "growth: calls delivered early")


def _memory(pool: GrowthPool, calls: int) -> float:
    """Bytes allocated in the game process per pending call (see the module docstring)."""
    with _workers_held(pool) as (submit, handles):
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            handles.extend(submit(i) for i in range(calls))
            gc.collect()
            after = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
    return (after - before) / calls


def pending_rows(config: Config) -> list[Row]:
    """The growth_call, growth_update and growth_memory rows, every pool with 2 workers."""
    rows = []
    for kind in POOLS:
        call_costs: dict[int, list[float]] = {level: [] for level in levels(config)}
        update_costs: dict[int, list[float]] = {level: [] for level in levels(config)}
        try:
            pool = kind(2)
        except Exception as exc:
            rows += _pending_failed(kind.label, exc)
            continue
        try:
            pool.warm_up()
            for _ in range(config.growth_reps):
                _held_round(pool, config, call_costs, update_costs)
            bytes_per_call = _memory(pool, config.growth_memory_calls)
        except Exception as exc:
            rows += _pending_failed(kind.label, exc)
            continue
        finally:
            pool.close()
        rows.append(Row("growth_call", kind.label, _by_level(call_costs)))
        if isinstance(pool, PygameAsyncPool):
            rows.append(Row("growth_update", kind.label, _by_level(update_costs)))
        rows.append(Row("growth_memory", kind.label, {"bytes/call": bytes_per_call}))
    return rows


def _pending_failed(label: str, exc: Exception) -> list[Row]:
    """The rows of a pool whose pending tables could not be measured: why, in each."""
    note = f"FAILED: {type(exc).__name__}: {exc}"
    return [Row(key, label, None, note) for key in ("growth_call", "growth_memory")]


def _by_level(costs: dict[int, list[float]]) -> Metrics:
    """``us @100`` ... per level (medians, in us), then ``flat x``: the last over the first."""
    metrics = {f"us @{level_name(level)}": percentile(s, 0.5) * 1e6 for level, s in costs.items()}
    figures = list(metrics.values())
    metrics["flat x"] = figures[-1] / figures[0]
    return metrics


WORKER_COUNTS = (1, 2, 4, 8)


def worker_rows(config: Config) -> list[Row]:
    """Tiny calls/s with 1, 2, 4 and 8 workers, per pool: the growth_workers rows."""
    rows = []
    n = config.growth_tiny_calls
    for kind in POOLS:
        metrics: Metrics = {}
        try:
            for workers in WORKER_COUNTS:
                pool = kind(workers)
                try:
                    pool.warm_up()
                    submit = pool.submitter()
                    best = float("inf")
                    for _ in range(config.growth_reps):
                        start = time.perf_counter()
                        results = pool.results([submit(i) for i in range(n)])
                        best = min(best, time.perf_counter() - start)
                        expect(sum(results) == n * (n + 1) // 2, "growth: wrong tiny sum")
                finally:
                    pool.close()
                metrics[f"calls/s {workers}w"] = n / best
        except Exception as exc:
            rows.append(
                Row("growth_workers", kind.label, None, f"FAILED: {type(exc).__name__}: {exc}")
            )
            continue
        metrics["8w vs 2w"] = metrics["calls/s 8w"] / metrics["calls/s 2w"]
        rows.append(Row("growth_workers", kind.label, metrics))
    return rows


def budget_rows(config: Config) -> list[Row]:
    """One ``update(budget)`` with many completions ready: the growth_budget row."""
    ready = config.growth_budget_ready
    walls, bounds, counts = [], [], []
    pool = PygameAsyncPool(2)
    try:
        pool.warm_up()
        starts: list[float] = []
        timing = [False]
        clock = time.perf_counter

        def callback(value: int) -> None:
            if timing[0]:
                starts.append(clock())
                end = starts[-1] + CALLBACK_SECONDS
                while clock() < end:
                    pass
            pool.received.append(value)

        add_one = pool.pool.define("add_one", tasks.add_one)
        for _ in range(config.growth_reps):
            calls = [add_one(callback, i) for i in range(ready)]
            deadline = time.monotonic() + TIMEOUT
            for call in calls:  # done() delivers nothing
                while not call.done():
                    expect(time.monotonic() < deadline, "growth: calls not done")
                    time.sleep(0.001)
            # The previous frame's update(): the game's code is warm, as in a game
            # loop, not cold from the sleeps above.
            expect(pool.pool.update(budget=0) == 1, "growth: update(budget=0) delivered not one")
            starts.clear()
            timing[0] = True
            start = clock()
            delivered = pool.pool.update(budget=BUDGET_SECONDS)
            end = clock()
            timing[0] = False
            expect(delivered == len(starts) > 0, "growth: update(budget) delivered nothing")
            gaps = [b - a for a, b in zip(starts, [*starts[1:], end], strict=True)]
            walls.append(end - start)
            bounds.append(BUDGET_SECONDS + max(gaps))
            counts.append(delivered)
            results = pool.results(calls)
            expect(sum(results) == ready * (ready + 1) // 2, "growth: wrong results delivered")
            expect(len(results) == ready, "growth: a result delivered twice or never")
    finally:
        pool.close()
    worst = max(range(len(walls)), key=lambda i: walls[i] / bounds[i])
    return [
        Row(
            "growth_budget",
            PYGAME_ASYNC,
            {
                "wall ms": walls[worst] * 1e3,
                "bound ms": bounds[worst] * 1e3,
                "wall/bound": walls[worst] / bounds[worst],
                "wall ms p50": percentile(walls, 0.5) * 1e3,
                "delivered": percentile(counts, 0.5),
            },
        )
    ]


def growth_rows(config: Config) -> list[Row]:
    """Every growth table's rows."""
    return pending_rows(config) + worker_rows(config) + budget_rows(config)
