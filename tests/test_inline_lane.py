"""The inline lane: what is true of it only (the core tests run on it too, through lanes.py).

Calls run on the thread that calls ``update()``, ``wait()`` or
``Task.result()``, ``workers`` at a time, in the order made; a generator
function runs one step per turn, so ``update(budget)`` can slice long work.
Budgets are checked against a fake clock that each step moves forward, so
the tests count steps instead of timing them.
"""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import threading
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest
from helpers import BOUND

import pygame_async
from pygame_async._lanes import inline

STEP = 2.0**-10  # seconds of the fake clock each step takes (exact in binary: no drift)


class FakeClock:
    """The inline lane's clock: it moves only when a step says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float = STEP) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(inline, "time", fake)
    return fake


@pytest.fixture
def pool() -> Iterator[pygame_async.Pool]:
    with pygame_async.Pool(1, lane="inline") as pool:
        yield pool


def ticking(clock: FakeClock, steps: int, log: list[str], tag: str) -> Generator[None, None, str]:
    """A generator call of ``steps`` steps, each taking STEP of the fake clock."""
    for step in range(steps):
        log.append(f"{tag}{step}")
        clock.advance()
        yield
    return tag


def test_calls_run_only_when_the_game_lets_them_and_on_its_thread(
    pool: pygame_async.Pool,
) -> None:
    ran_on: list[threading.Thread] = []
    pool.define("record", lambda: ran_on.append(threading.current_thread()) or "ran")
    task = pool.call(None, "record")
    assert ran_on == [] and not task.done(), "nothing runs without update(), wait() or result()"
    assert task.result(timeout=BOUND) == "ran"
    assert ran_on == [threading.main_thread()]
    helper_results: list[object] = []
    pool.call(helper_results.append, "record")
    assert pool.update() == 0 or helper_results == ["ran"]
    pool.wait(timeout=BOUND)
    assert ran_on == [threading.main_thread()] * 2 and helper_results == ["ran"]


def test_update_with_a_budget_runs_steps_for_that_long_plus_one(
    pool: pygame_async.Pool, clock: FakeClock
) -> None:
    log: list[str] = []
    pool.define("ticking", ticking)
    task = pool.call(None, "ticking", clock, 100, log, "a")
    pool.update(budget=0)
    assert log == ["a0"], "a budget of 0 still runs one step"
    pool.update(budget=4.5 * STEP)
    assert len(log) == 1 + 5, "4.5 steps' budget: five steps, the fifth crossing it"
    pool.update()
    slice_steps = math.ceil(inline.DEFAULT_SLICE / STEP)
    assert len(log) == 6 + slice_steps, "no budget: the default slice"
    assert not task.done()
    assert task.result(timeout=BOUND) == "a" and len(log) == 100


def test_calls_start_in_the_order_made_up_to_workers_at_a_time_taking_turns(
    clock: FakeClock,
) -> None:
    log: list[str] = []
    with pygame_async.Pool(2, lane="inline") as pool:
        pool.define("ticking", ticking)
        for tag in "abc":
            pool.call(None, "ticking", clock, 2, log, tag)
        assert pool.wait(timeout=BOUND)
    assert log == ["a0", "b0", "a1", "b1", "c0", "c1"], "two at a time, round robin"


def test_a_plain_function_runs_whole_when_its_turn_comes(
    pool: pygame_async.Pool, clock: FakeClock
) -> None:
    log: list[str] = []

    def slow_plain() -> str:
        for step in range(50):
            log.append(f"p{step}")
            clock.advance()
        return "whole"

    pool.define("slow_plain", slow_plain)
    task = pool.call(None, "slow_plain")
    pool.update(budget=2 * STEP)
    assert len(log) == 50 and task.done(), "one step is the whole call, whatever the budget"


def test_cancelling_a_started_generator_closes_it_and_runs_its_finally(
    pool: pygame_async.Pool,
) -> None:
    events: list[str] = []

    def endless() -> Generator[None, None, None]:
        try:
            while True:
                events.append("step")
                yield
        finally:
            events.append("finally")

    delivered: list[object] = []
    pool.define("endless", endless)
    task = pool.call(delivered.append, "endless")
    pool.update(budget=0)
    assert events == ["step"] and not task.done()
    assert task.cancel() is True and task.cancelled()
    assert events == ["step", "finally"], "closed between two steps, at once"
    assert pool.wait(timeout=BOUND) and delivered == [] and pool.get_pending_count() == 0


def test_a_generator_that_cancels_itself_is_closed_after_its_step(
    pool: pygame_async.Pool,
) -> None:
    events: list[str] = []
    tasks: list[pygame_async.Task] = []

    def cancel_myself() -> Generator[None, None, str]:
        try:
            events.append(f"cancel -> {tasks[0].cancel()}")
            yield
            events.append("never")
            return "never"
        finally:
            events.append("finally")

    pool.define("cancel_myself", cancel_myself)
    tasks.append(pool.call(None, "cancel_myself"))
    assert pool.wait(timeout=BOUND)
    assert events == ["cancel -> True", "finally"] and tasks[0].cancelled()


def test_a_generator_call_past_its_timeout_is_closed_and_fails(
    pool: pygame_async.Pool, clock: FakeClock
) -> None:
    log: list[str] = []
    pool.define("ticking", ticking, timeout=10.5 * STEP)
    errors: list[BaseException] = []
    task = pool.call({"error": errors.append}, "ticking", clock, 1000, log, "t")
    assert pool.wait(timeout=BOUND)
    assert isinstance(errors[0], pygame_async.TaskTimeoutError)
    assert "ran longer than its timeout of" in str(errors[0]) and errors[0].pid is None
    assert len(log) == 11, "stopped at the first turn past its timeout"
    assert task.exception(timeout=0) is errors[0]


def test_system_exit_in_an_inline_call_reaches_the_game_as_call_aborted(
    pool: pygame_async.Pool,
) -> None:
    pool.define("leave", lambda: sys.exit(3))
    errors: list[BaseException] = []
    pool.call({"error": errors.append}, "leave")
    assert pool.wait(timeout=BOUND), "the game goes on"
    assert (
        isinstance(errors[0], pygame_async.CallAbortedError) and errors[0].type_name == "SystemExit"
    )


def test_ctrl_c_in_an_inline_call_interrupts_the_game_and_ends_the_call(
    pool: pygame_async.Pool,
) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt  # as Ctrl+C would, in the game's own thread

    pool.define("interrupted", interrupted)
    task = pool.call(None, "interrupted")
    with pytest.raises(KeyboardInterrupt):
        pool.update()
    assert task.done()
    assert isinstance(task.exception(timeout=0), pygame_async.CallAbortedError)
    assert pool.wait(timeout=BOUND) and pool.get_pending_count() == 0


def test_stop_workers_returns_calls_not_started_and_add_worker_runs_them(
    clock: FakeClock,
) -> None:
    log: list[str] = []
    with pygame_async.Pool(2, lane="inline") as pool:
        pool.define("ticking", ticking)
        first = pool.call(None, "ticking", clock, 3, log, "a")
        second = pool.call(None, "ticking", clock, 3, log, "b")
        pool.update(budget=0)  # "a" started; "b" took a slot but never ran
        pool.stop_workers(1)
        assert pool.get_worker_count() == 1 and second.state is pygame_async.TaskState.QUEUED
        assert first.result(timeout=BOUND) == "a" and log == ["a0", "a1", "a2"]
        pool.stop_workers(1)
        assert pool.wait(timeout=0.01) is False and log == ["a0", "a1", "a2"], "no slot left"
        pool.add_worker()
        assert second.result(timeout=BOUND) == "b"


def test_shutdown_runs_what_is_left_on_the_thread_that_waits(pool: pygame_async.Pool) -> None:
    ran_on: list[threading.Thread] = []
    pool.define("record", lambda: ran_on.append(threading.current_thread()))
    tasks = [pool.call(None, "record") for _ in range(3)]
    pool.shutdown(wait=True)
    assert all(task.done() for task in tasks) and ran_on == [threading.main_thread()] * 3
    assert pool.get_worker_count() == 0


def test_shutdown_without_waiting_leaves_the_calls_to_later_results(
    pool: pygame_async.Pool,
) -> None:
    pool.define("double", lambda value: value * 2)
    tasks = [pool.call(None, "double", value) for value in range(3)]
    pool.shutdown(wait=False)
    assert not any(task.done() for task in tasks), "no thread of its own runs them"
    assert [task.result(timeout=BOUND) for task in tasks] == [0, 2, 4]
    pool.shutdown(wait=True)


def test_game_process_work_of_an_inline_pool_starts_no_thread(pool: pygame_async.Pool) -> None:
    before = set(threading.enumerate())
    ran_on: list[threading.Thread] = []
    task = pool._run_in_thread(None, "decode", lambda: ran_on.append(threading.current_thread()))
    assert pool.wait(timeout=BOUND) and task.done()
    assert ran_on == [threading.main_thread()] and set(threading.enumerate()) == before


# -- choosing a lane ---------------------------------------------------------------------


def test_a_lane_that_does_not_exist_is_refused_naming_the_lanes() -> None:
    with pytest.raises(ValueError, match=r"Pool\(lane\): unknown lane 'fiber'.*'inline'"):
        pygame_async.Pool(1, lane="fiber")
    with pytest.raises(TypeError, match=r"Pool\(lane\): lane must be one of"):
        pygame_async.Pool(1, lane=3)  # type: ignore[arg-type]


@pytest.mark.parametrize("lane", ["thread", "inline"])
def test_worker_process_options_are_refused_on_lanes_without_worker_processes(lane: str) -> None:
    with pytest.raises(ValueError, match=r"Pool\(max_calls_per_worker\): only worker processes"):
        pygame_async.Pool(1, lane=lane, max_calls_per_worker=5)
    with pytest.raises(ValueError, match=rf"Pool\(initializer\).*the {lane} lane"):
        pygame_async.Pool(1, lane=lane, initializer=print)


def test_load_takes_a_lane() -> None:
    pool = pygame_async.load(2, lane="inline")
    try:
        doubled = pygame_async.define("double", lambda value: value * 2)
        results: list[int] = []
        doubled(results.append, 21)
        assert pygame_async.wait(timeout=BOUND) and results == [42]
        assert pygame_async.get_worker_count() == 2
    finally:
        pygame_async.shutdown()
    assert pool.get_worker_count() == 0


def test_the_default_lane_is_inline_on_the_web_where_the_others_are_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for platform in ("emscripten", "wasi"):
        monkeypatch.setattr(sys, "platform", platform)
        with pygame_async.Pool(1) as pool:
            pool.define("double", lambda value: value * 2)
            assert pool.call(None, "double", 4).result(timeout=BOUND) == 8
            assert threading.active_count() == 1 or all(
                not thread.name.startswith("pygame_async") for thread in threading.enumerate()
            )
        for lane, what in (("process", "worker processes"), ("thread", "threads")):
            with pytest.raises(ValueError, match=rf"a web build \({platform}\) has no {what}"):
                pygame_async.Pool(1, lane=lane)


def test_an_inline_pool_imports_no_multiprocessing_and_starts_no_thread(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, threading
        import pygame_async
        with pygame_async.Pool(2, lane="inline") as pool:
            pool.define("square", lambda value: value * value)
            tasks = [pool.call(None, "square", value) for value in range(10)]
            assert pool.wait(timeout=10)
            assert [task.result() for task in tasks] == [value * value for value in range(10)]
            threads = threading.active_count()
        loaded = [name for name in ("multiprocessing", "_multiprocessing",
                                    "concurrent.futures.process") if name in sys.modules]
        print(threads, loaded)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[0] == "1 []"


def test_a_pool_says_which_lane_it_runs_on(monkeypatch: pytest.MonkeyPatch) -> None:
    for lane in ("thread", "inline"):
        with pygame_async.Pool(0, lane=lane) as pool:
            assert pool.lane == lane and f"lane={lane}" in repr(pool)
    monkeypatch.setattr(sys, "platform", "emscripten")
    with pygame_async.Pool(0) as pool:
        assert pool.lane == "inline", "the default lane of a web build"
