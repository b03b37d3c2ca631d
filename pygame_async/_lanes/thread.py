"""The thread lane: calls run on threads of the game process, arguments passed by reference.

For work that releases the GIL (decoders, file reads) or must happen in the
game process.  A lane of ``width`` threads, started as calls need them;
each takes the next queued call, runs it with no lock held, and files its
outcome in the ledger.  Callbacks still run only in ``update()`` on the
game's thread.  A running call cannot be stopped (threads cannot be
killed), so ``cancel()`` only drops calls that have not started.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from pygame_async._core import progress, running
from pygame_async._core.call_queue import CallQueue
from pygame_async._core.definitions import Definition
from pygame_async._core.interrupts import blocking
from pygame_async._core.ledger import Ledger
from pygame_async._core.task import Task
from pygame_async._lanes.in_process import Reporter


class ThreadLane:
    """Threads of the game process: the lane seam (``_core.lane_seam.Lane``) they implement."""

    kind = "thread"
    in_game_process = True
    self_driving = True
    reruns = False

    def __init__(self, ledger: Ledger, queue: CallQueue, width: int) -> None:
        self._ledger = ledger
        self._queue = queue
        self._width = width
        self._threads: list[threading.Thread] = []  # serving now (they count against width)
        self._started: list[threading.Thread] = []  # every thread started, for join()
        self._idle = 0  # threads waiting for a call
        self._work = threading.Condition(ledger.lock)
        self._closing = False
        self._closed = False
        self._count = 0

    # -- definitions and calls: under the pool's lock unless said -------------------

    def prepare_definition(self, name: str, function: Callable[..., Any]) -> Any:
        """Return the function itself: nothing crosses a process boundary."""
        return function

    def pack_arguments(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Return the arguments themselves: they are passed by reference."""
        return (args, kwargs)

    def define(self, definition: Definition) -> None:
        """Nothing to send anywhere."""

    def forget(self, definition: Definition) -> None:
        """Nothing to drop anywhere."""

    def dispatch(self) -> None:
        """Wake idle threads for the queued calls, and start more while there is room."""
        waiting = len(self._queue)
        if not waiting:
            return
        if self._idle:
            self._work.notify(waiting)
            waiting -= self._idle
        while waiting > 0 and len(self._threads) < self._width:
            waiting -= 1
            self._count += 1
            thread = threading.Thread(
                target=self._serve, name=f"pygame_async-thread-{self._count}", daemon=True
            )
            self._threads.append(thread)
            self._started = [started for started in self._started if started.is_alive()]
            self._started.append(thread)
            thread.start()

    def cancel(self, task: Task, kill: bool) -> bool:
        """Refuse: a call a thread took is running, and threads cannot be stopped."""
        return False

    def after_cancel(self) -> None:
        """Nothing to finish: only calls that never started are cancelled."""

    def collect(self, budget: float | None) -> None:
        """Nothing to gather: outcomes are filed as calls end."""

    def block(self, seen: int, timeout: float | None) -> None:
        """Wait on the ledger's condition until it changes."""
        with self._ledger.lock:
            if self._ledger.changes == seen and self._ledger.broken is None:
                limit = None if timeout is None else min(timeout, threading.TIMEOUT_MAX)
                blocking(self._ledger.changed.wait, limit)

    # -- width --------------------------------------------------------------------

    def worker_count(self) -> int:
        """How many calls may run at once; once closing, the threads still draining the queue."""
        return len(self._threads) if self._closing else self._width

    def add_worker(self) -> None:
        """Allow one more call at once."""
        self._width += 1
        self.dispatch()

    def stop_workers(self, amount: int) -> None:
        """Allow ``amount`` fewer calls at once; busy threads leave after their call."""
        self._width = max(0, self._width - amount)
        self._work.notify_all()

    def close(self) -> None:
        """Finish the queued calls, then let every thread leave."""
        self._closing = True
        self.dispatch()
        self._work.notify_all()
        self._close_if_done()

    def join(self, timeout: float | None) -> None:
        """Wait for the lane's threads to end, those started meanwhile too.

        A thread leaves the width before it ends; one may start another on
        its way (the queue's next call), so the list is read again until no
        thread is left.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        me = threading.current_thread()
        while True:
            with self._ledger.lock:
                self._started = [thread for thread in self._started if thread.is_alive()]
                left = [thread for thread in self._started if thread is not me]
            if not left:
                return
            for thread in left:
                remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
                thread.join(remaining)
            if deadline is not None and time.monotonic() >= deadline:
                return

    def kill_at_exit(self) -> None:
        """Threads are daemons: the interpreter abandons what they run."""

    # -- a thread of the lane ------------------------------------------------------

    def _serve(self) -> None:
        ledger = self._ledger
        me = threading.current_thread()
        while True:
            with ledger.lock:
                task = self._next_call()
                if task is None:
                    self._threads.remove(me)
                    self._close_if_done()
                    return
                arguments = task.arguments  # a call superseded from now on loses them
            self._run(task, arguments)

    def _next_call(self) -> Task | None:
        """Wait (under the lock) for a call this thread may run; None when it must leave."""
        while True:
            if len(self._threads) > self._width:
                return None
            if self._queue:
                task = self._queue.pop_next()
                self._ledger.take(task)
                # The pool dispatches only a burst's first call: the rest need more threads.
                self.dispatch()
                return task
            if self._closing:
                return None
            self._idle += 1
            try:
                self._work.wait()
            finally:
                self._idle -= 1

    def _run(self, task: Task, arguments: Any) -> None:
        ledger = self._ledger
        function = task.definition.payload
        args, kwargs = arguments
        try:
            with progress.reporting(Reporter(ledger, task)):
                value = running.run_to_completion(function, args, kwargs)
        except BaseException as exc:  # SystemExit here would end only this thread
            error = running.failure(task.name, exc)
            with ledger.lock:
                ledger.fail(task, error)
                ledger.notify()
        else:
            with ledger.lock:
                ledger.finish_with_value(task, value)
                ledger.notify()
        with ledger.lock:
            self.dispatch()  # calls that waited for this one (after=) may be queued now
        ledger.post_and_request_update()

    def _close_if_done(self) -> None:
        if self._closing and not self._threads and not self._closed:
            for task in self._queue.take_all():  # no thread is left to run them
                self._ledger.cancel(task)
            self._closed = True
            self._ledger.lane_closed()
