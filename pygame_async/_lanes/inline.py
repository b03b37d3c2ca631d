"""The inline lane: calls run on the game's own thread, step by step, inside ``update()``.

For web builds (pygbag, Emscripten, WASI), where there is no process to
start and no real thread, and for games that want no concurrency at all.
It starts nothing and imports neither ``multiprocessing`` nor
``concurrent.futures.process``.

The lane has ``width`` *slots*.  :meth:`InlineLane.dispatch` fills them
with queued calls, in the order made; the calls in the slots then run on
whichever thread calls ``update()`` (:meth:`InlineLane.collect`, for about
the frame's budget) or blocks in ``wait()`` / ``Task.result()``
(:meth:`InlineLane.block`).  A plain function runs whole when its turn
comes.  A generator function runs one *step* (up to its next ``yield``) per
turn, the slots taking turns round robin, so a long job sliced with
``yield`` never holds a frame for longer than one step.  Between two steps
a generator call can be cancelled (it is closed: its ``finally`` runs) or
timed out (closed too, and failed with :class:`TaskTimeoutError`).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Generator
from typing import Any, Final

from pygame_async._core import progress, running
from pygame_async._core.call_queue import CallQueue
from pygame_async._core.definitions import Definition
from pygame_async._core.errors import TaskTimeoutError
from pygame_async._core.interrupts import blocking, call_user
from pygame_async._core.ledger import Ledger
from pygame_async._core.task import Task, TaskState
from pygame_async._lanes.in_process import Reporter

logger = logging.getLogger("pygame_async")

DEFAULT_SLICE: Final = 0.005
"""Seconds ``update()`` without a budget spends running inline calls (README: Lanes)."""


class _Slot:
    """A call the lane took: waiting for its first turn, or a generator between steps."""

    __slots__ = ("generator", "started_at", "stepped", "stepping", "task")

    def __init__(self, task: Task) -> None:
        self.task = task
        self.stepped = running.is_stepped(task.definition.payload)
        self.generator: Generator[Any, Any, Any] | None = None
        self.started_at: float | None = None  # monotonic time of its first step
        self.stepping = False  # a thread runs its step right now


class _Ended:
    """What a step ended with: still running, finished with a value, or failed."""

    __slots__ = ("error", "finished", "value")

    def __init__(self, finished: bool, value: Any = None, error: BaseException | None = None):
        self.finished = finished
        self.value = value
        self.error = error


_STILL_RUNNING: Final = _Ended(False)


class InlineLane:
    """The game's own thread: the lane seam (``_core.lane_seam.Lane``) it implements."""

    kind = "inline"
    in_game_process = True
    self_driving = False  # calls advance only in collect() and block()
    reruns = False

    def __init__(self, ledger: Ledger, queue: CallQueue, width: int) -> None:
        self._ledger = ledger
        self._queue = queue
        self._width = width
        self._slots: deque[_Slot] = deque()  # taken calls, in the order of their turns
        self._to_close: list[Generator[Any, Any, Any]] = []  # of cancelled calls
        self._starved = 0  # threads in block() that found no call to step: woken by each step
        self._closing = False
        self._closed = False

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
        """Fill free slots with queued calls, in the order made; they run in later turns."""
        while self._queue and len(self._slots) < self._width:
            task = self._queue.pop_next()
            self._ledger.take(task)
            self._slots.append(_Slot(task))
        self._close_if_done()

    def cancel(self, task: Task, kill: bool) -> bool:
        """Drop a call not yet started; stop a generator call between its steps.

        A plain function that is running (called from inside it, or from
        another thread) cannot be stopped: False.
        """
        slot = self._slot_of(task)
        if slot is None:
            return False
        if slot.stepping and not slot.stepped:
            return False
        self._ledger.cancel(task)
        if not slot.stepping:  # else the thread running its step closes it afterwards
            self._slots.remove(slot)
            if slot.generator is not None:
                self._to_close.append(slot.generator)
            self.dispatch()
        return True

    def after_cancel(self) -> None:
        """Close the generators of calls cancelled between steps: their ``finally`` runs here."""
        self._close_cancelled()

    def collect(self, budget: float | None) -> None:
        """Run the slots' calls, a step at a time, for about ``budget`` (at least one step)."""
        deadline = time.perf_counter() + (DEFAULT_SLICE if budget is None else budget)
        while self._step() and time.perf_counter() < deadline:
            pass
        self._close_cancelled()

    def block(self, seen: int, timeout: float | None) -> None:
        """Run steps until the pool changes (a call ends), or ``timeout`` passes.

        With nothing to run here (no call taken, or each one's step already
        running on another thread), wait for another thread to change the pool.
        """
        ledger = self._ledger
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            stepped = self._step()
            self._close_cancelled()
            with ledger.lock:
                if ledger.changes != seen or ledger.broken is not None:
                    return
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return
                if not stepped:
                    self._starved += 1
                    try:
                        blocking(ledger.changed.wait, remaining)
                    finally:
                        self._starved -= 1
                    return

    # -- width --------------------------------------------------------------------

    def worker_count(self) -> int:
        """How many calls may run at once; once closing, the calls still in slots."""
        return len(self._slots) if self._closing else self._width

    def add_worker(self) -> None:
        """Allow one more call at once."""
        self._width += 1
        self.dispatch()

    def stop_workers(self, amount: int) -> None:
        """Allow ``amount`` fewer calls at once; started calls finish, the others go back."""
        self._width = max(0, self._width - amount)
        waiting = [slot for slot in self._slots if slot.started_at is None and not slot.stepping]
        surplus = len(self._slots) - self._width
        if surplus > 0 and waiting:
            returned = sorted((slot.task for slot in waiting[-surplus:]), key=_made)
            for task in returned:
                self._slots.remove(self._slot_of(task))  # type: ignore[arg-type]
                self._ledger.untake(task)
            self._queue.put_back(returned)

    def close(self) -> None:
        """Run what is queued (in later turns), then close once every slot is empty."""
        self._closing = True
        self.dispatch()

    def join(self, timeout: float | None) -> None:
        """Run the lane's remaining calls here, on the thread shutting the pool down."""
        ledger = self._ledger
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            with ledger.lock:
                if self._closed or ledger.broken is not None:
                    return
                seen = ledger.changes
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return
            self.block(seen, remaining)

    def kill_at_exit(self) -> None:
        """Abandon every call: the interpreter is exiting (no ``finally`` runs now)."""
        for slot in list(self._slots):
            if not slot.stepping:
                self._slots.remove(slot)
                self._ledger.cancel(slot.task)
        self._close_if_done()

    # -- running steps: without the lock ----------------------------------------------

    def _step(self) -> bool:
        """Run one step of the next call whose turn it is; False if none can run here."""
        ledger = self._ledger
        with ledger.lock:
            slot = self._next_turn()
            if slot is None:
                return False
            slot.stepping = True
            arguments = slot.task.arguments  # a call cancelled from now on loses them
        task = slot.task
        try:
            ended = self._advance(slot, arguments)
        except BaseException as exc:  # Ctrl+C in the call: it is over, and the game interrupted
            self._end_step(slot, _Ended(True, error=running.failure(task.name, exc)))
            raise
        self._end_step(slot, ended)
        return True

    def _next_turn(self) -> _Slot | None:
        """``[lock]`` The first slot whose step no thread is running; it goes to the back."""
        for slot in self._slots:
            if not slot.stepping:
                self._slots.remove(slot)
                self._slots.append(slot)
                return slot
        return None

    def _advance(self, slot: _Slot, arguments: Any) -> _Ended:
        """Start the call, or resume its generator, up to its next ``yield`` or its end.

        Raises only ``KeyboardInterrupt`` (Ctrl+C, which interrupts the game);
        anything the call raises is its outcome.
        """
        task = slot.task
        if slot.started_at is None:
            slot.started_at = time.monotonic()
        elif task.timeout is not None and time.monotonic() - slot.started_at > task.timeout:
            assert slot.generator is not None  # only a generator call has more than one turn
            return _Ended(True, error=self._time_out(slot.generator, task))
        try:
            with progress.reporting(Reporter(self._ledger, task)):
                if slot.generator is None:
                    args, kwargs = arguments
                    value = call_user(_start_call, task.definition.payload, args, kwargs)
                    if not slot.stepped:
                        return _Ended(True, value)
                    slot.generator = value
                call_user(next, slot.generator)
        except StopIteration as stop:
            return _Ended(True, stop.value)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            return _Ended(True, error=running.failure(task.name, exc))
        return _STILL_RUNNING

    def _time_out(self, generator: Generator[Any, Any, Any], task: Task) -> TaskTimeoutError:
        """Close a generator call past its timeout; the error it fails with."""
        _close(generator, task)
        assert task.timeout is not None
        return TaskTimeoutError(
            f"{task.name!r} ran longer than its timeout of {task.timeout:g} s; "
            "it was closed between two steps",
            timeout=task.timeout,
            pid=None,
        )

    def _end_step(self, slot: _Slot, ended: _Ended) -> None:
        """File what a step ended with; close a generator cancelled while it ran."""
        ledger = self._ledger
        task = slot.task
        with ledger.lock:
            slot.stepping = False
            if self._starved:  # this call (or the next) may be theirs to step now
                ledger.changed.notify_all()
            cancelled = task.state is TaskState.CANCELLED
            if cancelled or ended.finished:
                self._slots.remove(slot)
                if not cancelled:
                    if ended.error is not None:
                        ledger.fail(task, ended.error)
                    else:
                        ledger.finish_with_value(task, ended.value)
                    ledger.notify()
                self.dispatch()
        if cancelled and not ended.finished and slot.generator is not None:
            _close(slot.generator, task)
        if ended.finished and not cancelled:
            ledger.post_and_request_update()

    def _close_cancelled(self) -> None:
        if not self._to_close:
            return
        with self._ledger.lock:
            generators, self._to_close = self._to_close, []
        for generator in generators:
            _close(generator, None)

    def _slot_of(self, task: Task) -> _Slot | None:
        for slot in self._slots:
            if slot.task is task:
                return slot
        return None

    def _close_if_done(self) -> None:
        """``[lock]`` Once closing with every slot empty: cancel what no slot can take, close."""
        if self._closing and not self._slots and not self._closed:
            for task in self._queue.take_all():  # no slot is left to run them
                self._ledger.cancel(task)
            self._closed = True
            self._ledger.lane_closed()


def _made(task: Task) -> int:
    """Sort key: the order calls were made in."""
    return task.id


def _start_call(function: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    """Call a defined function: its value, or a generator function's generator."""
    return function(*args, **kwargs)


def _close(generator: Generator[Any, Any, Any], task: Task | None) -> None:
    """Close a stopped call's generator (its ``finally`` runs); what that raises is logged."""
    try:
        generator.close()
    except Exception:
        name = "a cancelled call" if task is None else repr(task.name)
        logger.exception("pygame_async: %s raised while being closed", name)
