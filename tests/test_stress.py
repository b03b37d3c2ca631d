"""Load: every call gets exactly one outcome, in the right form, and nothing accumulates."""

from __future__ import annotations

import gc
import os
import threading
import time
from collections import Counter

import pytest
import whitebox
from helpers import BOUND, identity, wait_until

import pygame_async
from pygame_async import ResultNotSentError, TaskTimeoutError, WorkerCrashedError

# Tens of thousands of calls a test: slow cases (CI runs them).
pytestmark = pytest.mark.slow


def raise_value_error(i: int) -> None:
    raise ValueError(f"bad {i}")


def return_lock(i: int) -> threading.Lock:
    return threading.Lock()


def crash(i: int) -> None:
    os._exit(7)


def hang(i: int) -> None:
    time.sleep(60)


KINDS = {  # kind -> (function, expected outcome)
    "result": (identity, int),
    "raise": (raise_value_error, ValueError),
    "unpicklable": (return_lock, ResultNotSentError),
    "crash": (crash, WorkerCrashedError),
    "hang": (hang, TaskTimeoutError),
}


def kind_of(i: int) -> str:
    if i % 1000 == 999:
        return "crash"
    if i % 2500 == 1234:
        return "hang"
    return ("result", "result", "raise", "unpicklable")[i % 4]


def test_twenty_thousand_mixed_calls_each_get_exactly_one_outcome() -> None:
    calls = 20_000
    outcomes: Counter[int] = Counter()
    wrong: list[tuple[int, str, object]] = []

    def expect(i: int, kind: str) -> dict[str, object]:
        expected = KINDS[kind][1]

        def check(outcome: object) -> None:
            outcomes[i] += 1
            if expected is int:
                if outcome != i:
                    wrong.append((i, kind, outcome))
            elif not isinstance(outcome, expected):
                wrong.append((i, kind, outcome))

        return {"success": check, "error": check}

    with pygame_async.Pool(4) as pool:
        for kind, (function, _) in KINDS.items():
            pool.define(kind, function, timeout=0.5 if kind == "hang" else None)
        cancelled = set()
        tasks = []
        for i in range(calls):
            kind = kind_of(i)
            tasks.append(pool.call(expect(i, kind), kind, i))
            if i % 7 == 3 and kind == "result" and tasks[-1].cancel():
                cancelled.add(i)
            if i % 500 == 0:
                pool.update()  # a game delivers while it keeps calling
        assert pool.wait(timeout=120)

        assert wrong == []
        assert all(outcomes[i] == 0 for i in cancelled)
        assert all(outcomes[i] == 1 for i in range(calls) if i not in cancelled)
        assert len(cancelled) > 100, "the test should cancel calls that are still queued"
        assert sum(task.cancelled() for task in tasks) == len(cancelled)
        # Healthy at the end: the full count of ready workers, and it still works.
        wait_until(lambda: whitebox.idle_count(pool) == 4)
        assert pool.get_worker_count() == 4 and len(whitebox.workers(pool)) == 4
        assert pool.call(None, "result", 5).result(timeout=BOUND) == 5
        pool.update()


def test_memory_stays_flat_over_a_hundred_thousand_calls() -> None:
    with pygame_async.Pool(2) as pool:
        pool.define("identity", identity)
        results: list[int] = []

        def run(calls: int) -> None:
            for i in range(calls):
                pool.call(results.append, "identity", i)
                if i % 1000 == 999:
                    pool.update()
            assert pool.wait(timeout=120)
            results.clear()

        run(10_000)  # warm up: caches, interned strings, free lists
        gc.collect()
        objects_before = len(gc.get_objects())
        run(100_000)
        gc.collect()
        growth = len(gc.get_objects()) - objects_before

        assert growth < 1_000, f"{growth} more live objects after 100,000 calls"
        assert whitebox.is_at_rest(pool)
