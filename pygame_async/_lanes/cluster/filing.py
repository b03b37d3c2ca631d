"""Filing what a dask task came back with: one outcome per call, a crash, or a failure.

Everything here runs under the pool's lock, on the lane's thread, and opens
nothing: a call's value and error stay pickles until the game opens them.
"""

from __future__ import annotations

from typing import Any

from distributed.scheduler import KilledWorker

from pygame_async._core.errors import AsyncError, WorkerCrashedError
from pygame_async._core.task import TaskState
from pygame_async._lanes.cluster import remote
from pygame_async._lanes.cluster.state import Batch, DaskState
from pygame_async._lanes.failures import PickledResult, RemoteFailed


def file_result(state: DaskState, batch: Batch, result: Any) -> None:
    """``[lock]`` File what a batch returned: one outcome per call, or a rerun refused."""
    if result[0] == remote.RERUN:
        address, pid = result[1]
        crashed(state, batch, address, pid)
        return
    tasks = {task.id: task for task in batch.tasks}
    ledger = state.ledger
    for task_id, seconds, succeeded, payload, last in result[2]:
        task = tasks[task_id]
        task.definition.measured(seconds)
        if task.state is not TaskState.ASSIGNED:
            continue  # timed out, or superseded while it ran: its outcome is dropped
        if last is not None and (task.progress, task.progress_message) != tuple(last):
            ledger.record_progress(task, float(last[0]), last[1])
        ledger.finish(task, PickledResult(payload) if succeeded else RemoteFailed(payload))


def fail_batch(state: DaskState, batch: Batch, error: BaseException | None) -> None:
    """``[lock]`` A batch came back without outcomes: crashed, dropped, or refused.

    ``error`` None: dask cancelled the task itself (the lane never does),
    when it lost its scheduler or was restarted: the calls fail, saying
    so, rather than vanish.
    """
    if isinstance(error, KilledWorker):
        last = getattr(error, "last_worker", None)
        crashed(state, batch, str(getattr(last, "address", "of the cluster")), None)
        return
    ledger = state.ledger
    where = state.connection.describe()
    for task in batch.tasks:
        if task.state is not TaskState.ASSIGNED:
            continue
        if error is None:
            failure = AsyncError(
                f"the dask cluster at {where} dropped the call of {task.name!r} (its task "
                "was cancelled by dask: the scheduler was lost or restarted, say); it may "
                "have run"
            )
        else:
            failure = AsyncError(
                f"the dask cluster at {where} could not run {task.name!r}: "
                f"{type(error).__name__}: {error} (is pygame_async, of the game's "
                "version, installed on every dask worker?)"
            )
            failure.__cause__ = error
        ledger.fail(task, failure)


def crashed(state: DaskState, batch: Batch, address: str, pid: int | None) -> None:
    """``[lock]`` The worker running a batch died: its calls fail, or run again (retries)."""
    where = f"the dask worker {address}" + (f" (pid {pid})" if pid else "")
    if len(batch.tasks) == 1:
        how = f"{where} running {{name}} died"
    else:
        how = f"{where} died running a batch of {len(batch.tasks)} short calls, {{name}} among them"
    _fail_or_retry(state, batch, how, pid, address)


def result_lost(state: DaskState, batch: Batch) -> None:
    """``[lock]`` A batch ran, but its worker left before its result was fetched.

    dask would run it again for the result (a rerun its claim refuses), or
    wait for ever on a cluster left without workers: its calls fail as a
    crash of that worker does.
    """
    how = "the dask worker that ran {name}"
    if len(batch.tasks) > 1:
        how += f" (in a batch of {len(batch.tasks)} short calls)"
    how += " left the cluster before the result could be fetched from it"
    _fail_or_retry(state, batch, how, None, None)


def _fail_or_retry(
    state: DaskState, batch: Batch, how: str, pid: int | None, address: str | None
) -> None:
    """``[lock]`` Fail each call of a batch that its worker took down, or queue it again.

    ``how`` says what happened, with ``{name}`` where the call's name goes.
    """
    for task in batch.tasks:
        if task.state is not TaskState.ASSIGNED:
            continue
        if task.retries > 0:
            task.retries -= 1
            state.ledger.untake(task)
            state.queue.put_back([task])
            continue
        what = how.format(name=repr(task.name))
        if len(batch.tasks) == 1:
            what += "; it does not run again, since it may have started"
            what += " (f.options(retries=n) lets it run again, n times)"
        else:
            what += "; none of them runs again (any may have run)"
        error = WorkerCrashedError(what, pid=pid, exitcode=None, address=address)
        state.ledger.fail(task, error)
