"""``update()``: finished calls reach the game's code, on the thread that calls it.

In this order: the lane gathers what it can without blocking (and the
inline lane runs its calls for the budget); released calls whose arguments
wait for a result get it; progress reports reach their callbacks; event-type
completions are posted; finished calls are delivered to their callbacks, in
completion order, until the budget is spent; then the game code the pool
deferred to this moment runs (a group's ``on_done`` after a cancel).
"""

from __future__ import annotations

import time

from pygame_async._core.dependencies import prepare_released
from pygame_async._core.interrupts import call_user
from pygame_async._core.lane_seam import Lane
from pygame_async._core.ledger import Ledger


def deliver_finished(ledger: Ledger, lane: Lane, limit: float | None) -> int:
    """Run one ``update(budget=limit)``; return how many calls were delivered."""
    started = time.perf_counter()
    if ledger.in_flight:
        lane.collect(limit)
    if ledger.dependencies.to_prepare:
        prepare_released(ledger)
    while ledger.progressed:  # one at a time: a callback that raises loses no other report
        with ledger.lock:
            if not ledger.progressed:
                break
            task = next(iter(ledger.progressed))
            del ledger.progressed[task]
        call_user(task._report_progress)
    if ledger.to_post:
        ledger.try_posting()
    delivered = 0
    while True:
        with ledger.lock:
            if not ledger.completed:
                break
            task = ledger.completed.popleft()
            ledger.pending -= 1
            if task.key is not None:
                ledger.delivered(task)
            # A report taken by a re-entered update() must still come first.
            progress_first = ledger.progressed.pop(task, False) is None
        delivered += 1
        if progress_first:
            call_user(task._report_progress)
        task._deliver()
        if limit is not None and time.perf_counter() - started >= limit:
            return delivered
    while ledger.deferred:
        with ledger.lock:
            if not ledger.deferred:
                break
            function = ledger.deferred.popleft()
        call_user(function)
    if ledger.broken is not None:
        raise ledger.broken_error()
    return delivered
