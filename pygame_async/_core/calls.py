"""Making a call: everything ``call()`` does on the game's thread before it returns its Task.

It checks what it can at once (the name, the callback, the arguments, which
the lane packs: a bad one fails here, naming it), makes the Task, lets a
newer call with the same key supersede the older one, and either queues the
call on the pool's lane or, with ``after=`` or Tasks among its arguments,
makes it wait for those (:mod:`pygame_async._core.dependencies`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from pygame_async._core import delivery, validate
from pygame_async._core.call_options import PLAIN, USE_DEFINITION_TIMEOUT, CallOptions
from pygame_async._core.definitions import Definition, Definitions
from pygame_async._core.dependencies import (
    check_same_pool,
    task_arguments,
    without_tasks,
)
from pygame_async._core.ledger import PoolState
from pygame_async._core.pool_lanes import PoolLanes
from pygame_async._core.task import Task, TaskState

_UNDEFINED_ID: Final = 0  # the definition id of game-process work: no definition table entry


def make_call(
    owner: Any,
    callback: object,
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    options: CallOptions,
) -> Task:
    """``Pool._call``: make a call of the function defined as ``name``; return its Task.

    Every game's hot path: a call without options (``PLAIN``) skips their
    checks, and one of priority 0 goes straight into its deque.
    """
    definitions: Definitions = owner._definitions
    lanes: PoolLanes = owner._lanes
    if type(name) is not str or not name:
        validate.name("call(callback, name, ...)", name)
    form = delivery.resolve(callback, name)
    definitions.lookup(name)  # an unknown name fails before any pickling
    lane = lanes.own
    plain = options is PLAIN
    if not plain and options.retries and not lane.reruns:
        raise ValueError(
            f"{name}.options(retries): the {lane.kind} lane never runs a call twice; "
            "only the dask lane runs a call again when its worker dies"
        )
    after = options.after
    # Inline rather than has_task_arguments(): every call() asks, and ``in`` over map() runs in C.
    needs_values = Task in map(type, args) or (bool(kwargs) and Task in map(type, kwargs.values()))
    if needs_values:  # packed once the Tasks' results are known; the rest is checked now
        after += tuple(task_arguments(args, kwargs))
    if after:
        check_same_pool(f"call({name!r}, after)", owner, after)
    if needs_values:
        lane.pack_arguments(name, *without_tasks(args, kwargs))
        arguments: Any = (args, kwargs)
    else:
        arguments = lane.pack_arguments(name, args, kwargs)
    ledger, queue = lanes.ledger, lanes.own_queue
    stale = None
    with ledger.lock:
        if ledger.state is not PoolState.RUNNING:
            ledger.require_running(f"call({name!r})")
        # Looked up again under the lock: a definition replaced meanwhile
        # could otherwise be forgotten by the workers under this call.
        definition = definitions.lookup(name)
        timeout = definition.timeout if plain else options.timeout
        if timeout is USE_DEFINITION_TIMEOUT:
            timeout = definition.timeout
        task = Task(owner, next(ledger.task_ids), definition, form, arguments, timeout, callback)
        task.lane = lane
        definition.live_calls += 1
        ledger.pending += 1
        ledger.calls_made += 1
        if not plain:
            task.priority = options.priority
            task.retries = options.retries
            if options.key is not None:
                task.key = options.key
                stale = ledger.claim_key(task)
                if stale is not None:
                    ledger.supersede(stale, queue)
        if after:
            ledger.dependencies.hold(task, after, queue, needs_values)
            if task.state is TaskState.QUEUED:
                lane.dispatch()
        else:
            # Calls already waiting mean the lane can start none (every change
            # that frees a worker dispatches): only a burst's first call tries,
            # or one that goes before them (it may take back prefetched calls).
            zero = queue.zero
            if task.priority == 0 and queue.zero_only:
                dispatch = not zero
                zero.append(task)  # the newest call: it goes after every other of priority 0
            else:
                dispatch = not queue or queue.outranked_by(task)
                if task.priority == 0:
                    zero.append(task)
                else:
                    queue.push(task)
            if dispatch:
                lane.dispatch()
    if stale is not None:
        stale.lane.after_cancel()  # an inline generator it stopped is closed here
    return task


def make_game_process_call(
    owner: Any,
    lanes: PoolLanes,
    callback: object,
    name: str,
    function: Callable[..., Any],
    args: tuple[Any, ...],
) -> Task:
    """Run ``function(*args)`` in the game process for the pool ``owner``; return its Task."""
    validate.name("_run_in_thread(callback, name, function)", name)
    form = delivery.resolve(callback, name)
    ledger = lanes.ledger
    with ledger.lock:
        ledger.require_running(f"_run_in_thread({name!r})")
        lane, queue = lanes.for_game_process_work()
        definition = Definition(_UNDEFINED_ID, name, function, live_calls=1)
        task = Task(owner, next(ledger.task_ids), definition, form, (args, {}), None, callback)
        task.lane = lane
        ledger.pending += 1
        dispatch = not queue
        queue.push(task)
        if dispatch:
            lane.dispatch()
    return task
