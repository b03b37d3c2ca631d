"""A dead, hung or leaky worker costs one call, never the game; workers never outlive it.

These tests use real processes and real signals.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
import whitebox
from helpers import BOUND, block_until, identity, pid_alive, wait_until

import pygame_async
from pygame_async import TaskTimeoutError, WorkerCrashedError, WorkerStartError

REPO = Path(__file__).resolve().parent.parent


def segfault() -> None:
    ctypes.string_at(0)


def exit_now(code: int) -> None:
    os._exit(code)


def nap(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def spin_forever() -> None:
    while True:
        pass


def leak(megabytes: int) -> int:
    global _leaked
    _leaked = bytearray(megabytes * 2**20)
    for offset in range(0, len(_leaked), 4096):
        _leaked[offset] = 1  # touch every page, so it is resident
    return os.getpid()


def fail_to_initialise() -> None:
    raise ImportError("no module named 'game_assets'")


class KillsWhoeverUnpicklesIt:
    """Data whose unpickling ends the process: a definition no worker survives loading."""

    def __reduce__(self) -> tuple[object, tuple[int]]:
        return (os._exit, (9,))


@pytest.fixture
def crashy() -> pygame_async.Pool:
    with pygame_async.Pool(2) as pool:
        for name, function in {
            "segfault": segfault,
            "exit_now": exit_now,
            "identity": identity,
            "getpid": os.getpid,
            "block_until": block_until,
            "nap": nap,
        }.items():
            pool.define(name, function)
        yield pool


def pids_of(pool: pygame_async.Pool) -> set[int | None]:
    return whitebox.accepting_pids(pool)


def ready_workers(pool: pygame_async.Pool) -> int:
    return whitebox.idle_count(pool)


# -- worker death ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "args", "how"),
    [
        ("segfault", (), "killed by SIGSEGV"),
        ("exit_now", (5,), "exit code 5"),
        ("block_until", ("/nonexistent/never",), "killed by SIGKILL"),
    ],
    ids=["segfault", "os._exit", "SIGKILL"],
)
def test_a_dead_worker_fails_only_its_call_and_is_replaced(
    crashy: pygame_async.Pool, tmp_path: Path, name: str, args: tuple[object, ...], how: str
) -> None:
    gate = tmp_path / "gate"
    neighbour = crashy.call(None, "block_until", str(gate))  # running on the other worker
    wait_until(lambda: neighbour.state.value == "assigned")
    victim = crashy.call(None, name, *args)
    queued = [crashy.call(None, "identity", i) for i in range(20)]
    wait_until(lambda: victim.state.value == "assigned")
    victim_pid = whitebox.pid_running(crashy, victim)
    assert victim_pid is not None
    started = time.monotonic()
    if how == "killed by SIGKILL":
        os.kill(victim_pid, signal.SIGKILL)

    error = victim.exception(timeout=BOUND)
    detected = time.monotonic() - started
    assert isinstance(error, WorkerCrashedError)
    assert (error.pid, how in str(error), repr(name) in str(error)) == (victim_pid, True, True)
    assert detected < 1.0, f"the crash took {detected:.3f} s to be noticed"
    assert crashy.get_worker_count() == 2, "the replacement counts at once"

    gate.touch()
    assert neighbour.result(timeout=BOUND) == str(gate)
    assert [task.result(timeout=BOUND) for task in queued] == list(range(20))
    wait_until(lambda: ready_workers(crashy) == 2)
    assert victim_pid not in pids_of(crashy) and not pid_alive(victim_pid)
    # Definitions reached the replacement: every worker runs every function.
    answered = {crashy.call(None, "getpid").result(timeout=BOUND) for _ in range(40)}
    assert answered <= pids_of(crashy)
    crashy.update()


def test_replacement_is_ready_within_a_second(crashy: pygame_async.Pool) -> None:
    wait_until(lambda: ready_workers(crashy) == 2)
    crashed = crashy.call(None, "exit_now", 1)
    assert isinstance(crashed.exception(timeout=BOUND), WorkerCrashedError)
    started = time.monotonic()
    wait_until(lambda: ready_workers(crashy) == 2)
    assert time.monotonic() - started < 1.0
    crashy.update()


# -- timeouts ----------------------------------------------------------------------------


def test_a_call_past_its_timeout_is_killed_and_fails_alone(crashy: pygame_async.Pool) -> None:
    slow = crashy.define("slow", nap, timeout=0.3)
    errors: list[BaseException] = []
    hung = slow({"error": errors.append}, 60)
    others = [crashy.call(None, "identity", i) for i in range(10)]
    wait_until(lambda: hung.state.value == "assigned")
    pid = whitebox.pid_running(crashy, hung)
    started = time.monotonic()

    error = hung.exception(timeout=BOUND)
    assert isinstance(error, TaskTimeoutError) and isinstance(error, TimeoutError)
    assert (error.timeout, error.pid) == (0.3, pid)
    assert "'slow' ran longer than its timeout of 0.3 s" in str(error)
    assert time.monotonic() - started < 0.3 + 1.0
    assert [task.result(timeout=BOUND) for task in others] == list(range(10))
    assert crashy.wait(timeout=BOUND) and errors == [error]
    wait_until(lambda: not pid_alive(pid) and ready_workers(crashy) == 2)


def test_timeout_counts_from_the_start_on_a_worker_not_from_the_call(tmp_path: Path) -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("block_until", block_until)
        quick = pool.define("quick", identity, timeout=0.2)
        gate = tmp_path / "gate"
        blocker = pool.call(None, "block_until", str(gate))
        waiting = quick(None, "done")
        made = time.monotonic()
        wait_until(lambda: time.monotonic() - made > 0.5)  # it waits longer than its timeout
        gate.touch()
        assert blocker.result(timeout=BOUND) == str(gate)
        assert waiting.result(timeout=BOUND) == "done"
        pool.update()


def test_options_override_the_definition_timeout(crashy: pygame_async.Pool) -> None:
    untimed = crashy.define("untimed", nap)
    assert isinstance(
        untimed.options(timeout=0.2)(None, 60).exception(timeout=BOUND), TaskTimeoutError
    )
    timed = crashy.define("timed", nap, timeout=0.05)
    assert timed.options(timeout=None)(None, 0.3).result(timeout=BOUND) == 0.3
    assert isinstance(timed(None, 60).exception(timeout=BOUND), TaskTimeoutError)
    assert crashy.wait(timeout=BOUND)


# -- cancelling a running call -----------------------------------------------------------


def test_cancel_kill_stops_a_running_call_and_skips_its_callbacks(
    crashy: pygame_async.Pool, tmp_path: Path
) -> None:
    called: list[object] = []
    running = crashy.call(
        {"success": called.append, "error": called.append}, "block_until", str(tmp_path / "x")
    )
    wait_until(lambda: running.state.value == "assigned")
    pid = whitebox.pid_running(crashy, running)
    assert not running.cancel(), "without kill a running call goes on"
    assert running.cancel(kill=True) and running.cancelled()
    assert crashy.get_pending_count() == 0 and crashy.get_worker_count() == 2
    wait_until(lambda: not pid_alive(pid) and ready_workers(crashy) == 2)
    after = [crashy.call(None, "identity", i) for i in range(4)]
    assert [task.result(timeout=BOUND) for task in after] == [0, 1, 2, 3]
    assert crashy.wait(timeout=BOUND)
    assert called == []


# -- the game dies or exits ----------------------------------------------------------------

GAME_THAT_DIES = """
import os, sys, threading
import pygame_async
import whitebox

def spin():
    while True:
        pass

def hold_the_gil():
    return sum(range(10**13))  # one long C loop that never releases the GIL

def start_pool():
    global pool
    pool = pygame_async.Pool(3)  # made on a thread that ends at once

thread = threading.Thread(target=start_pool)
thread.start()
thread.join()
pool.define("spin", spin)
pool.define("gil", hold_the_gil)
pool.define("getpid", os.getpid)
tasks = [pool.call(None, "spin"), pool.call(None, "gil")]
third = pool.call(None, "getpid").result(timeout=20)
while not all(task.state.value == "assigned" for task in tasks):
    pass
print(*whitebox.worker_pids(pool), flush=True)
sys.stdin.read()  # wait to be killed
"""


def test_workers_exit_by_themselves_when_the_game_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "game.py"
    script.write_text(GAME_THAT_DIES)
    game = subprocess.Popen(
        [sys.executable, str(script)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])},
    )
    try:
        line = game.stdout.readline() if game.stdout else ""
        pids = [int(pid) for pid in line.split()]
        assert len(pids) == 3, line
        assert all(pid_alive(pid) for pid in pids), "workers outlived the thread that made the pool"
        game.kill()
        game.wait(timeout=BOUND)
        killed = time.monotonic()
        wait_until(lambda: not any(pid_alive(pid) for pid in pids), timeout=BOUND)
        assert time.monotonic() - killed < 2.0
    finally:
        game.kill()
        game.wait(timeout=BOUND)


def test_a_game_that_exits_mid_call_stops_its_workers_at_once(tmp_path: Path) -> None:
    script = tmp_path / "game.py"
    script.write_text(
        textwrap.dedent(
            """
            import time
            import pygame_async
            import whitebox

            def spin():
                while True:
                    pass

            pool = pygame_async.Pool(2)
            pool.define("spin", spin)
            tasks = [pool.call(None, "spin") for _ in range(3)]
            while sum(task.state.value == "assigned" for task in tasks) < 2:
                pass
            print(*whitebox.worker_pids(pool), time.time(), flush=True)
            """
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")])},
    )
    ended = time.time()
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", "no traceback, no warning"
    *pids, about_to_exit = result.stdout.split()
    assert ended - float(about_to_exit) < 1.5, "running calls were abandoned, not awaited"
    assert not any(pid_alive(int(pid)) for pid in pids)


def test_workers_started_from_a_short_lived_thread_keep_working() -> None:
    made: list[pygame_async.Pool] = []
    thread = threading.Thread(target=lambda: made.append(pygame_async.Pool(1)))
    thread.start()
    thread.join()
    with made[0] as pool:
        pool.add_worker()  # asked from this thread, started by the pool's own
        pool.define("getpid", os.getpid)
        wait_until(lambda: ready_workers(pool) == 2)
        pids = pids_of(pool)
        assert {pool.call(None, "getpid").result(timeout=BOUND) for _ in range(20)} <= pids
        assert all(pid_alive(pid) for pid in pids if pid is not None)
        pool.update()


# -- recycling ---------------------------------------------------------------------------------


def test_workers_are_replaced_after_max_calls() -> None:
    with pygame_async.Pool(1, max_calls_per_worker=3) as pool:
        pool.define("getpid", os.getpid)
        pids = [pool.call(None, "getpid").result(timeout=BOUND) for _ in range(9)]
        assert [len(set(pids[i : i + 3])) for i in (0, 3, 6)] == [1, 1, 1]
        assert len(set(pids)) == 3
        assert pool.get_worker_count() == 1
        pool.update()


def test_workers_are_replaced_above_the_memory_limit() -> None:
    with pygame_async.Pool(1, max_worker_memory=150 * 2**20) as pool:
        pool.define("leak", leak)
        pool.define("getpid", os.getpid)
        small = pool.call(None, "leak", 1).result(timeout=BOUND)
        assert pool.call(None, "getpid").result(timeout=BOUND) == small, "under the limit"
        big = pool.call(None, "leak", 200).result(timeout=BOUND)
        assert big == small
        assert pool.call(None, "getpid").result(timeout=BOUND) != big, "replaced after the call"
        assert pool.get_worker_count() == 1
        pool.update()


# -- workers that cannot start -------------------------------------------------------------


def test_a_failing_initializer_is_reported_with_its_reason() -> None:
    with pytest.raises(WorkerStartError, match="game_assets") as caught:
        pygame_async.Pool(2, initializer=fail_to_initialise)
    assert "ImportError" in str(caught.value)
    assert "fail_to_initialise" in str(caught.value.__cause__.__cause__)


def test_calls_fail_instead_of_waiting_when_no_worker_can_start(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pygame_async.Pool(0, initializer=fail_to_initialise) as pool:
        pool.define("identity", identity)
        queued = pool.call(None, "identity", 1)
        pool.add_worker()
        error = queued.exception(timeout=BOUND)
        assert isinstance(error, WorkerStartError) and "game_assets" in str(error)
        assert "fail_to_initialise" in str(error.__cause__)
        assert pool.get_worker_count() == 0, "not restarted in a loop"
        later = pool.call(None, "identity", 2)
        assert isinstance(later.exception(timeout=BOUND), WorkerStartError)
        pool.update()
    assert len([r for r in caplog.records if "initializer raised" in r.getMessage()]) == 1


def test_workers_that_die_loading_a_definition_are_not_restarted_forever(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="pygame_async")
    poison = KillsWhoeverUnpicklesIt()
    with pygame_async.Pool(1) as pool:
        pool.define("poisoned", lambda: poison)
        wait_until(lambda: pool.get_worker_count() == 0 and not whitebox.workers(pool))
        call = pool.call(None, "poisoned")
        assert isinstance(call.exception(timeout=BOUND), WorkerStartError)
        pool.update()
    deaths = [r for r in caplog.records if "exited with exit code 9" in r.getMessage()]
    assert len(deaths) == 3


# -- short calls queued on a busy worker ------------------------------------------------------


def record_or_block(path: str, mark: str) -> str:
    """Instant unless ``path`` names a gate: then wait for it.  Leaves ``mark`` behind."""
    if path:
        for _ in block_until(path):
            pass
    Path(mark).touch()
    return mark


def test_short_calls_queued_on_a_worker_can_still_be_cancelled(tmp_path: Path) -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("record_or_block", record_or_block)
        pool.call(None, "record_or_block", "", str(tmp_path / "warm")).result(BOUND)
        # The pool has now timed the function; pin its estimate so that this
        # test does not depend on how loaded the machine is.
        whitebox.current_definition(pool, "record_or_block").estimate = 1e-5
        gate = tmp_path / "gate"
        blocker = pool.call(None, "record_or_block", str(gate), str(tmp_path / "blocker"))
        try:
            wait_until(lambda: blocker.state.value == "assigned")
            behind = [
                pool.call(None, "record_or_block", "", str(tmp_path / f"b{i}")) for i in range(6)
            ]
            pool.update()  # the game's frame: short calls join the busy worker's queue
            assert all(task.state.value == "assigned" for task in behind), "queued on the worker"
            assert behind[2].cancel() and behind[4].cancel(kill=True)
        finally:
            gate.touch()
        assert pool.wait(timeout=BOUND)
        ran = {path.name for path in tmp_path.iterdir()}
        assert {"b0", "b1", "b3", "b5", "blocker"} <= ran
        assert not {"b2", "b4"} & ran, "a cancelled call never starts"
        assert pool.get_worker_count() == 1
