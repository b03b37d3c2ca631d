"""A thread blocked in ``wait()`` or ``Task.result()`` reads the busy workers' replies itself.

A reply then wakes one thread, the one waiting for it, instead of the I/O
thread and then the waiter (see benchmarks "round_trip").  One thread at a
time becomes the *waiting reader*: it blocks on the busy workers' sockets
plus a *news* pipe, which every change of the ledger writes to while a
reader waits (a call made by another thread, a crash, a thread-lane
completion, shutdown), so it misses nothing.  Other waiting threads wait
on the ledger's condition.  Arming happens under the pool's lock, after the
caller checked the ledger under that same lock, so nothing slips in between.

A reader that awaits a single call, and whose last wait was short (under
``_SPIN``), looks at the sockets for up to ``_SPIN`` without sleeping before
it sleeps in ``poll()``: a tiny call's reply then reaches a thread that is
awake.  With several calls out, their replies come in a stream and each
wake-up reads several; after a longer wait it sleeps at once: neither costs
the game a core the workers need.
"""

from __future__ import annotations

import contextlib
import math
import os
import select
import threading
import time

from pygame_async._core.interrupts import blocking
from pygame_async._lanes.process.handle import WorkerHandle
from pygame_async._lanes.process.receiving import Receiver
from pygame_async._lanes.process.state import LaneState

_LONGEST_WAIT = 3600.0  # seconds: longer waits are made of several
_PATIENCE = 0.001  # seconds a reader waits for a socket another thread is reading
_SPIN = 0.0002  # seconds a reader looks without sleeping before it sleeps in poll()


class WaitingReader:
    """Blocks a game thread until the pool changes, reading replies meanwhile."""

    def __init__(self, state: LaneState, receiver: Receiver) -> None:
        self._state = state
        self._receiver = receiver
        self._news_read, self._news_write = os.pipe()
        os.set_blocking(self._news_write, False)
        self._news_sent = False
        self._spin_pays = True  # the last wait was shorter than _SPIN: look before sleeping
        state.ledger.add_listener(self._on_change)

    def block(self, seen: int, timeout: float | None) -> None:
        """Wait until ``Ledger.changes`` moves past ``seen`` or ``timeout`` passes."""
        state = self._state
        ledger = state.ledger
        with ledger.lock:
            if ledger.changes != seen or ledger.broken is not None:
                return
            busy = [
                worker
                for worker in state.workers
                if worker.in_flight
                and worker.alive
                and worker.bulk is None
                and not worker.reader.eof
            ]
            if state.waiting_reader or not busy:
                self._stop_polling()
                blocking(ledger.changed.wait, _bounded(timeout))
                return
            # One reply awaited: worth looking for before sleeping.  Many: they
            # come in a stream, each wake-up reads several.
            alone = len(busy) == 1 and len(busy[0].in_flight) == 1
            buffered = [worker for worker in busy if worker.reader.has_frame()]
            if not buffered:
                state.waiting_reader = True
                state.waiting_since = time.monotonic()
        if buffered:  # replies read off their socket already: no waiting for it
            for worker in buffered:
                self._receiver.read(worker, patience=_PATIENCE)
            return
        try:
            ready = blocking(self._wait_for_news, busy, timeout, alone)
        finally:
            with ledger.lock:
                state.waiting_reader = False
                state.polled_at = time.monotonic()  # like update(): the I/O thread waits a moment
                if state.io_parked:  # it slept until we left: it must see that moment end
                    state.io_parked = False
                    state.rouser.rouse()
                if self._news_sent:
                    self._news_sent = False
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._news_read, 4096)
        for worker in ready:
            self._receiver.read(worker, patience=_PATIENCE)

    def _wait_for_news(
        self, busy: list[WorkerHandle], timeout: float | None, alone: bool
    ) -> list[WorkerHandle]:
        """Block until a watched socket has a reply, news arrives, or ``timeout`` passes.

        ``alone``: a single call is awaited, so looking before sleeping may pay.
        """
        poller = select.poll()
        poller.register(self._news_read, select.POLLIN)
        by_descriptor = {}
        for worker in busy:
            descriptor = worker.socket.fileno()
            by_descriptor[descriptor] = worker
            poller.register(descriptor, select.POLLIN)
        limit = _LONGEST_WAIT if timeout is None else min(timeout, _LONGEST_WAIT)
        started = time.perf_counter()
        events: list[tuple[int, int]] = []
        if alone and self._spin_pays:
            # A tiny call's reply comes within a round trip: looking for it
            # without sleeping spares the wake-up of a thread asleep in poll(),
            # which costs as much again (see benchmarks "round_trip").  Each
            # look releases the GIL.
            spin_until = started + min(limit, _SPIN)
            while not events and time.perf_counter() < spin_until:
                events = poller.poll(0)
        if not events:
            left = limit - (time.perf_counter() - started)
            events = poller.poll(max(0, math.ceil(left * 1000)))  # rounded up: never too early
        # Spin next time only if this wait was that short: a stream of longer
        # calls must not cost the game's thread a core while workers need it.
        self._spin_pays = time.perf_counter() - started < _SPIN
        return [by_descriptor[fd] for fd, _ in events if fd in by_descriptor]

    def _on_change(self) -> None:
        """Wake the waiting reader, if any: the ledger changed (under the pool's lock)."""
        if self._state.waiting_reader and not self._news_sent:
            self._news_sent = True
            with contextlib.suppress(BlockingIOError):
                os.write(self._news_write, b"!")

    def _stop_polling(self) -> None:
        """Before blocking elsewhere: from now on the I/O thread must read every reply."""
        state = self._state
        if state.polled_at != -math.inf:
            state.polled_at = -math.inf
            state.rouser.rouse()

    def close(self) -> None:
        """Release the news pipe."""
        os.close(self._news_read)
        os.close(self._news_write)


def _bounded(timeout: float | None) -> float | None:
    """Clamp a timeout the threading module would refuse as too large; it is as good as none."""
    return None if timeout is None else min(timeout, threading.TIMEOUT_MAX)
