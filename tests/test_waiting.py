"""A thread blocked in wait() or Task.result() reads replies itself, and misses nothing.

While such a thread waits, the I/O thread leaves the busy workers' pipes to
it; every other change (a call made by another thread, a crash, a thread-lane
completion) must still wake it.  Each test keeps one call running until the
test says so, so a missed wake-up shows as a hang (bounded), not as a delay.
"""

from __future__ import annotations

import os
import select
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import whitebox
from helpers import BOUND, wait_until

import pygame_async
from pygame_async import WorkerCrashedError
from pygame_async._lanes.process import waiting


def run_until_file_exists(path: str) -> str:
    """Run until the test creates ``path``: a call the test ends when it wants."""
    deadline = time.monotonic() + BOUND
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.005)
    return path


def add_one(x: int) -> int:
    return x + 1


def crash() -> None:
    os._exit(3)


def block_in_wait(pool: pygame_async.Pool) -> bool:
    return pool.wait(timeout=BOUND)


WAYS_TO_BLOCK: dict[str, Callable[[pygame_async.Pool, pygame_async.Task], object]] = {
    "wait": lambda pool, task: pool.wait(timeout=BOUND),
    "result": lambda pool, task: task.result(timeout=BOUND),
}


class Blocked:
    """A thread blocked waiting for a call that runs until ``release()``."""

    def __init__(self, pool: pygame_async.Pool, tmp_path: Path, way: str) -> None:
        self.pool = pool
        self.flag = tmp_path / "release"
        pool.define("run_until_file_exists", run_until_file_exists)
        self.task = pool.call(None, "run_until_file_exists", str(self.flag))
        self.outcome: list[object] = []
        self.thread = threading.Thread(
            target=lambda: self.outcome.append(WAYS_TO_BLOCK[way](pool, self.task))
        )
        self.thread.start()
        wait_until(lambda: whitebox.waiting_reader(pool))  # it reads the busy pipe itself now

    def release(self) -> list[object]:
        self.flag.touch()
        self.thread.join(BOUND)
        assert not self.thread.is_alive()
        return self.outcome


@pytest.mark.parametrize("way", WAYS_TO_BLOCK)
def test_a_call_made_meanwhile_by_another_thread_is_read(
    pool: pygame_async.Pool, tmp_path: Path, way: str
) -> None:
    blocked = Blocked(pool, tmp_path, way)
    pool.define("add_one", add_one)
    # Goes to the other, idle worker: a pipe the blocked thread was not watching.
    assert pool.call(None, "add_one", 41).result(timeout=BOUND) == 42
    assert blocked.thread.is_alive()
    expected = True if way == "wait" else str(blocked.flag)
    assert blocked.release() == [expected]


@pytest.mark.parametrize("way", WAYS_TO_BLOCK)
def test_a_thread_lane_completion_wakes_a_waiter(
    pool: pygame_async.Pool, tmp_path: Path, way: str
) -> None:
    blocked = Blocked(pool, tmp_path, way)
    lane = pool._run_in_thread(None, "lane", add_one, 1)
    assert lane.result(timeout=BOUND) == 2
    assert blocked.thread.is_alive()
    blocked.release()


def test_a_crash_reaches_a_thread_blocked_in_result(pool: pygame_async.Pool) -> None:
    pool.define("crash", crash)
    task = pool.call(None, "crash")
    with pytest.raises(WorkerCrashedError, match="exit code 3"):
        task.result(timeout=BOUND)
    pool.define("add_one", add_one)
    assert pool.call(None, "add_one", 1).result(timeout=BOUND) == 2


class CountingPoll:
    """``select.poll`` for the waiting reader, counting the looks that do not sleep."""

    def __init__(self) -> None:
        self.looks = 0

    def __call__(self) -> Any:
        poller, counter = _REAL_POLL(), self

        class Poller:
            def register(self, *args: Any) -> None:
                poller.register(*args)

            def poll(self, timeout: int) -> list[tuple[int, int]]:
                counter.looks += timeout == 0
                return poller.poll(timeout)

        return Poller()


_REAL_POLL = select.poll


@pytest.mark.parametrize("calls", [1, 2])
def test_only_a_single_awaited_call_is_looked_for_before_sleeping(
    pool: pygame_async.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls: int
) -> None:
    counting = CountingPoll()
    monkeypatch.setattr(waiting.select, "poll", counting)
    flags = [tmp_path / f"release{index}" for index in range(calls)]
    pool.define("run_until_file_exists", run_until_file_exists)
    tasks = [pool.call(None, "run_until_file_exists", str(flag)) for flag in flags]
    # Each call on a worker of its own (a two-worker pool).
    wait_until(lambda: sorted(whitebox.calls_on_workers(pool)) == [0] * (2 - calls) + [1] * calls)
    assert whitebox.waiting_reader_spins(pool)  # a new pool: its first wait may be short
    assert pool.wait(timeout=0.05) is False
    # One call out: looked for first; two (a stream, each wake-up reads several): never.
    assert (counting.looks > 0) is (calls == 1)
    for flag in flags:
        flag.touch()
    assert [task.result(timeout=BOUND) for task in tasks] == [str(flag) for flag in flags]


@pytest.mark.parametrize("way", WAYS_TO_BLOCK)
def test_a_waiter_gives_up_at_its_timeout(
    pool: pygame_async.Pool, tmp_path: Path, way: str
) -> None:
    flag = tmp_path / "release"
    pool.define("run_until_file_exists", run_until_file_exists)
    assert whitebox.waiting_reader_spins(pool)  # a new pool: its first wait may be short
    task = pool.call(None, "run_until_file_exists", str(flag))
    if way == "wait":
        assert pool.wait(timeout=0.05) is False
    else:
        with pytest.raises(TimeoutError):
            task.result(timeout=0.05)
    assert not whitebox.waiting_reader(pool)
    # That wait was long: the next one sleeps at once, leaving the core to the workers.
    assert not whitebox.waiting_reader_spins(pool)
    flag.touch()
    assert task.result(timeout=BOUND) == str(flag)
    assert pool.wait(timeout=BOUND)


@pytest.mark.parametrize("way", WAYS_TO_BLOCK)
def test_the_io_thread_sleeps_while_a_waiter_reads_a_long_call(
    pool: pygame_async.Pool, tmp_path: Path, way: str
) -> None:
    # Waking every _POLLED_WINDOW to find the waiter still there would take
    # CPU from the workers running the long call; it sleeps until roused.
    blocked = Blocked(pool, tmp_path, way)
    whitebox.rouse_io_thread(pool)  # a turn that sees the waiter, as after any news
    wait_until(lambda: whitebox.io_thread_parked(pool))
    turns = whitebox.count_io_turns(pool)
    window = threading.Event()
    window.wait(0.2)  # a measuring window, not synchronisation: 100 polled windows long
    assert turns[0] <= 1
    assert blocked.release() == ([True] if way == "wait" else [str(blocked.flag)])
    # Leaving, the waiter roused it: it watches the busy sockets again.
    wait_until(lambda: turns[0] >= 1 and not whitebox.io_thread_parked(pool))


def test_a_reply_after_a_long_wait_gave_up_is_read_by_the_io_thread(
    pool: pygame_async.Pool, tmp_path: Path
) -> None:
    flag = tmp_path / "release"
    pool.define("run_until_file_exists", run_until_file_exists)
    task = pool.call(None, "run_until_file_exists", str(flag))
    gave_up: list[BaseException] = []

    def wait_too_little() -> None:
        try:
            task.result(timeout=0.5)
        except TimeoutError as exc:
            gave_up.append(exc)

    waiter = threading.Thread(target=wait_too_little)
    waiter.start()
    wait_until(lambda: whitebox.waiting_reader(pool))
    whitebox.rouse_io_thread(pool)
    wait_until(lambda: whitebox.io_thread_parked(pool))
    waiter.join(BOUND)
    assert len(gave_up) == 1
    assert not whitebox.io_thread_parked(pool)
    flag.touch()
    # Nobody polls or waits now: only the I/O thread, roused as the waiter left, reads it.
    wait_until(task.done)
    assert task.result(timeout=0) == str(flag)


def test_two_threads_waiting_for_results_both_get_theirs(
    pool: pygame_async.Pool, tmp_path: Path
) -> None:
    """Only one of them reads the pipes; the other waits on the pool's condition."""
    pool.define("run_until_file_exists", run_until_file_exists)
    flags = [tmp_path / "first", tmp_path / "second"]
    tasks = [pool.call(None, "run_until_file_exists", str(flag)) for flag in flags]
    results: dict[int, object] = {}
    threads = [
        threading.Thread(target=lambda i=i: results.update({i: tasks[i].result(timeout=BOUND)}))
        for i in range(2)
    ]
    for thread in threads:
        thread.start()
    wait_until(lambda: whitebox.waiting_reader(pool))
    for flag in reversed(flags):
        flag.touch()
    for thread in threads:
        thread.join(BOUND)
    assert results == {0: str(flags[0]), 1: str(flags[1])}


def test_a_waiting_reader_never_gives_up_before_its_timeout(
    pool: pygame_async.Pool, tmp_path: Path
) -> None:
    flag = tmp_path / "release"
    pool.define("run_until_file_exists", run_until_file_exists)
    task = pool.call(None, "run_until_file_exists", str(flag))
    started = time.monotonic()
    assert pool.wait(timeout=0.0301) is False  # poll() counts milliseconds: rounded up
    assert time.monotonic() - started >= 0.03
    flag.touch()
    assert task.result(timeout=BOUND) == str(flag)


@pytest.mark.parametrize("waiting", ["wait()", "the I/O thread"])
def test_replies_left_in_the_read_buffer_are_never_waited_for(
    monkeypatch: pytest.MonkeyPatch, waiting: str
) -> None:
    """A read takes a few frames and leaves the rest buffered: nobody may then wait on the socket.

    With one frame per read every burst of replies leaves frames behind, in
    user space, while the socket itself is empty: a waiter (or the I/O
    thread) that polled the socket for them would sleep to its timeout.
    """
    from pygame_async._lanes.process import channel

    monkeypatch.setattr(channel, "_FRAMES_PER_READ", 1)
    with pygame_async.Pool(2) as pool:
        add = pool.define("add_one", add_one)
        tasks = [add(None, i) for i in range(2_000)]
        started = time.monotonic()
        if waiting == "wait()":
            assert pool.wait(BOUND)
        else:  # nobody polls: the I/O thread reads every reply
            wait_until(lambda: all(task.done() for task in tasks))
        # A stall would be the whole timeout: each burst would wait it out.
        assert time.monotonic() - started < BOUND / 2
        assert pool.update() >= 0
        assert [task.result(timeout=BOUND) for task in tasks] == list(range(1, 2_001))


def test_a_frame_reader_says_when_a_whole_frame_is_buffered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    from pygame_async._lanes.process import channel, wire

    ours, theirs = socket.socketpair()
    with ours, theirs:
        reader = channel.FrameReader(ours)
        ours.setblocking(False)
        kind, body = wire.encode_skipped(7)
        frame = wire.FRAME.pack(kind, 0, len(body)) + body
        theirs.sendall(frame * 3 + frame[:5])  # three whole frames and part of a fourth
        wait_until(lambda: select_readable(ours))
        monkeypatch.setattr(channel, "_FRAMES_PER_READ", 1)
        replies, _ = reader.read_nowait()
        assert len(replies) == 1 and reader.has_frame()
        replies, _ = reader.read_nowait()
        replies, _ = reader.read_nowait()
        assert len(replies) == 1 and not reader.has_frame()  # only a part is left


def select_readable(sock: object) -> bool:
    import select

    return bool(select.select([sock], [], [], 0)[0])
