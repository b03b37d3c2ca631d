"""A burst of call()s: the process lane's I/O thread leaves its replies to a game that polls.

While a game that polls (``update()``, ``wait()``) makes calls in a burst,
the I/O thread does not read the busy workers' sockets (``call()`` would
wait for the GIL while it files them): the game's next poll reads them.  A
game that stops polling and calls without end must still see its calls
end: the I/O thread reads again once the game's last poll is old.
"""

from __future__ import annotations

import threading
import time

import pytest
import whitebox
from helpers import BOUND, identity, wait_until

import pygame_async
from pygame_async._lanes.process import io_thread

pytestmark = pytest.mark.process_lane


WINDOW = 0.5
"""The I/O thread's window, widened for these tests: the game's calls are a burst without a
doubt (a thread descheduled for a moment must not end one), whatever else runs beside."""


def call_in_bursts(pool: pygame_async.Pool, stop: threading.Event) -> None:
    """Make bursts of calls, a few milliseconds apart, until ``stop``: a game that never polls."""
    value = 0
    while not stop.is_set():
        for _ in range(2 * io_thread._BURST):
            pool.call(None, "identity", value)
            value += 1
        time.sleep(0.005)  # the load's own pace, not a wait for anything


def test_calls_made_without_end_still_end_once_the_game_stops_polling(
    pool: pygame_async.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(io_thread, "_POLLED_WINDOW", WINDOW)
    pool.define("identity", identity)
    assert pool.call(None, "identity", 0).result(timeout=BOUND) == 0  # both halves warm
    pool.update()  # a game that polls, then stops
    stop = threading.Event()
    caller = threading.Thread(target=call_in_bursts, args=(pool, stop))
    caller.start()
    try:
        wait_until(lambda: whitebox.io_thread_sees_a_burst(pool))
        first = pool.call(None, "identity", 1)  # in the thick of it
        # Neither update() nor wait() from now on: only the I/O thread can file it.
        wait_until(first.done, timeout=BOUND + 4 * WINDOW)
        made = whitebox.calls_made_by_game(pool)
        wait_until(lambda: whitebox.calls_made_by_game(pool) > made + 8 * io_thread._BURST)
        assert caller.is_alive(), "the bursts went on meanwhile"
    finally:
        stop.set()
        caller.join(BOUND)
    assert first.result(timeout=0) == 1
    assert pool.wait(timeout=BOUND), "and every call of the bursts ends"
