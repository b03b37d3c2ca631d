"""``await task``: a call's outcome in an asyncio loop, on any lane, with no ``update()``.

How the awaiting coroutine learns that the call is over depends on who
runs calls (``Lane.self_driving``):

* **process, thread**: the lane's own threads end every call.  The
  coroutine asks the ledger to be told (``Ledger.watch``); the hook runs
  under the pool's lock, on the thread that ended the call, and only
  schedules a wake-up on the loop with ``loop.call_soon_threadsafe`` (which
  neither blocks nor runs the game's code).  The outcome is opened (a
  process lane's pickle is unpickled) on the loop's thread, never on the
  lane's.
* **inline**: nothing runs a call unless a thread asks.  The coroutine runs
  one step of the lane (``Lane.collect(0)``: whichever call's turn it is),
  then gives the loop a turn (``asyncio.sleep(0)``), until the call is over;
  so other coroutines run between two steps of a generator call.

Either way awaiting delivers nothing: the task stays in the pool's books,
and its callback runs in a later ``update()``.

A cancelled call raises ``asyncio.CancelledError``, as awaiting a cancelled
``concurrent.futures.Future`` through ``asyncio.wrap_future`` (so
``run_in_executor``) does; since Python 3.8 it is not the class
``Task.result()`` raises (``concurrent.futures.CancelledError``, an
Exception).  Cancelling the awaiting asyncio task calls ``task.cancel()``,
never a kill: a call that has not started never will, and the inline lane
stops a generator call between two steps, as ``cancel()`` does for any
caller; a call already running elsewhere runs on and is delivered as usual,
while the awaiter is cancelled at once.

Only the code of an ``await`` imports this module, so ``import
pygame_async`` never imports asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any, Protocol

from pygame_async._core.interrupts import protected


class _Lane(Protocol):
    self_driving: bool

    def collect(self, budget: float | None) -> None: ...


class Awaited(Protocol):
    """What awaiting needs of a :class:`~pygame_async._core.task.Task`."""

    @property
    def id(self) -> int:
        """The call's number."""

    @property
    def name(self) -> str:
        """The name of the function called."""

    @property
    def lane(self) -> _Lane:
        """The lane that runs the call."""

    def done(self) -> bool:
        """Return True once the call finished or was cancelled."""

    def cancelled(self) -> bool:
        """Return True if the call was cancelled."""

    def cancel(self, kill: bool = False) -> bool:
        """Cancel the call if it has not started."""

    def result(self, timeout: float | None = None) -> Any:
        """Return the call's value, or raise its exception (or ``CancelledError``)."""

    def _watch(self, hook: Any) -> bool:
        """Have ``hook()`` called (under the pool's lock) when the call ends."""

    def _unwatch(self, hook: Any) -> None:
        """Forget a hook given to ``_watch``."""


async def outcome(task: Awaited) -> Any:
    """Wait for ``task``'s call to end on this loop; return its value or raise its exception."""
    try:
        if task.lane.self_driving:
            await _told_of_end(task)
        else:
            await _step_until_over(task)
    except asyncio.CancelledError:
        task.cancel()  # not kill: a call already running runs on, delivered as usual
        raise
    if task.cancelled():  # before result(): a call may raise futures.CancelledError itself
        raise asyncio.CancelledError(f"task {task.id} ({task.name!r}) was cancelled")
    # Over (or the pool broke): result() opens the outcome here, on the
    # loop's thread, and returns the value or raises the call's exception
    # with its remote traceback (or PoolBrokenError).  It never blocks now.
    return task.result(0)


async def gather(tasks: list[Any]) -> list[Any]:
    """Await every task (``await group``): their values in order, or the first error raised."""
    return list(await asyncio.gather(*tasks))


async def _told_of_end(task: Awaited) -> None:
    """Sleep until a lane's thread ends the call (or the pool breaks)."""
    loop = asyncio.get_running_loop()
    while True:
        woken: asyncio.Future[None] = loop.create_future()
        hook = functools.partial(_wake_soon, loop, woken)
        if not task._watch(hook):
            return
        try:
            await woken
        finally:
            task._unwatch(hook)  # called already, unless this awaiter was cancelled


def _wake_soon(loop: asyncio.AbstractEventLoop, woken: asyncio.Future[None]) -> None:
    """``[lock]`` On the thread that ended the call: wake the awaiter on its own loop."""
    with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is left to wake
        loop.call_soon_threadsafe(_wake, woken)


def _wake(woken: asyncio.Future[None]) -> None:
    """On the loop's thread: let the awaiting coroutine go on."""
    if not woken.done():  # cancelled meanwhile
        woken.set_result(None)


async def _step_until_over(task: Awaited) -> None:
    """Inline lane: run the lane a step at a time, giving the loop a turn after each."""
    lane = task.lane
    while not task.done():
        _step(lane)
        await asyncio.sleep(0)


@protected
def _step(lane: _Lane) -> None:
    """Run one step of the inline lane (Ctrl+C deferred while the lane's books are open)."""
    lane.collect(0.0)
