"""The dask lane's thread: everything that talks to the cluster, never under the pool's lock.

One thread per lane (``pygame_async-dask-N``) does, in turns: the ops the
lane queued, in order (register a definition as a worker plugin before the
first batch of it is submitted; submit batches; unregister; clear claims);
asking the scheduler for its workers when they changed; gathering the
batches whose futures are done and filing their outcomes; timeouts; scaling;
and posting event-type completions and progress for the game.

dask runs two things of ours on its own threads, and they only file under
the lock and wake this thread (dask's loop must never wait for the game):
a future's done callback (on dask's callback thread), and the events the
lane subscribed to, on dask's event loop: progress reports and workers
coming and going.  Outcomes arrive as bytes; they are unpickled only when
the game opens them, never here.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import logging
import threading
import time
from typing import Any, Final

from pygame_async._core.errors import TaskTimeoutError
from pygame_async._core.task import TaskState
from pygame_async._lanes.cluster import batching, filing, remote
from pygame_async._lanes.cluster.state import Batch, DaskState, Op

logger = logging.getLogger("pygame_async")

_POLL: Final = 0.25  # seconds between two looks while waiting for a busy worker to retire
_FETCH_PATIENCE: Final = 5.0
"""Seconds the first fetch of finished results may take before the lane looks for lost ones."""
_numbers = itertools.count(1)


class Collector:
    """The lane's one thread, and the handlers dask calls on its own threads."""

    def __init__(self, state: DaskState) -> None:
        self._state = state
        self._thread = threading.Thread(
            target=self._run, name=f"pygame_async-dask-{next(_numbers)}", daemon=True
        )

    def start(self) -> None:
        """Subscribe to the lane's events, learn the workers, then start the thread."""
        client = self._state.connection.client
        client.subscribe_topic(self._state.progress_topic, self._on_progress)
        client.subscribe_topic("all", self._on_cluster_event)
        self._observe()
        self._thread.start()

    def join(self, timeout: float | None) -> None:
        """Wait for the thread to end (not from the thread itself: a callback it runs)."""
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    # -- dask's threads: file and wake, nothing else --------------------------------------

    def _on_progress(self, event: tuple[float, Any]) -> None:
        """Record a progress report (on dask's event loop)."""
        task_id, fraction, message = event[1]
        state = self._state
        with state.ledger.lock:
            task = state.by_id.get(task_id)
            if task is not None:
                state.ledger.record_progress(task, float(fraction), message)
                state.ledger.notify()
                state.post_due = True
                state.wake.notify()

    def _on_cluster_event(self, event: tuple[float, Any]) -> None:
        """Take note of workers coming and going (a scheduler event, on dask's event loop)."""
        message = event[1]
        if isinstance(message, dict) and message.get("action") in ("add-worker", "remove-worker"):
            with self._state.ledger.lock:
                self._state.observe = True
                self._state.wake.notify()

    def _on_done(self, batch: Batch) -> Any:
        def done(future: Any) -> None:  # on dask's callback thread
            with self._state.ledger.lock:
                batch.done = True
                self._state.finished.append(batch)
                self._state.wake.notify()

        return done

    # -- the thread -------------------------------------------------------------------------

    def _run(self) -> None:
        state = self._state
        try:
            while self._turn():
                state.ledger.post_and_request_update()
        except BaseException as exc:
            with state.ledger.lock:
                state.ledger.break_down(exc)
        finally:
            self._finish()

    def _turn(self) -> bool:
        """Wait for work, then do it outside the lock; False once the lane is over."""
        state = self._state
        with state.ledger.lock:
            while True:
                if state.abandon:
                    return False
                self._expire()
                if state.closing and not (state.in_flight or state.queue or state.ops):
                    return False
                if state.ops or state.finished or state.observe or state.post_due:
                    break
                if state.scaling and not state.closing:
                    break
                state.wake.wait(self._patience())
                if state.retiring:
                    state.scaling = True  # a busy worker may be idle now: try again
                if state.observe_failed or (state.closing and not state.workers):
                    state.observe = True
            ops, state.ops = list(state.ops), type(state.ops)()
            finished, state.finished = state.finished, []
            observe, state.observe = state.observe, False
            scaling = state.scaling and not state.closing
            state.scaling = False
            state.post_due = False
        for op in ops:
            self._perform(op)
        if observe:
            self._observe()
        if finished:
            self._gather(finished)
        if scaling:
            self._scale()
        return True

    def _patience(self) -> float | None:
        """``[lock]`` How long to wait: until the next timeout, or a while to retry scaling."""
        state = self._state
        waits = [deadline - time.monotonic() for deadline in state.deadlines.values()]
        if state.target is not None and state.retiring:
            waits.append(_POLL)
        if (state.closing and not state.workers) or state.observe_failed:
            waits.append(_POLL)  # workers may still be starting, or the scheduler come back
        return max(0.0, min(waits)) if waits else None

    def _expire(self) -> None:
        """``[lock]`` Fail the calls past their timeout; their late outcomes will be dropped.

        The call runs on where it is (dask cannot stop a running task), so its
        slot stays taken until it ends: the cluster really is busy with it.
        """
        state = self._state
        now = time.monotonic()
        for task, deadline in list(state.deadlines.items()):
            if deadline > now:
                continue
            del state.deadlines[task]
            if task.state is not TaskState.ASSIGNED:
                continue
            assert task.timeout is not None
            state.ledger.fail(
                task,
                TaskTimeoutError(
                    f"{task.name!r} ran longer than its timeout of {task.timeout:g} s on the "
                    f"dask cluster at {state.connection.describe()}; dask cannot stop it there, "
                    "and its outcome will be thrown away",
                    timeout=task.timeout,
                    pid=None,
                ),
            )
            state.ledger.notify()
            state.post_due = True  # an event-type callback is posted now, not at the next news

    # -- ops ----------------------------------------------------------------------------------

    def _perform(self, op: Op) -> None:
        state = self._state
        client = state.connection.client
        if op.kind == "submit":
            assert op.batch is not None
            self._submit(op.batch)
        elif op.kind == "define":
            assert op.definition is not None
            payload = op.definition.payload
            name = remote.plugin_name(state.token, op.definition.id)
            plugin = remote.DefinitionPlugin(
                state.token, op.definition.id, payload.blob, payload.sys_path
            )
            try:
                answers = client.register_plugin(plugin, name=name)
            except Exception as exc:  # its calls then fail on the workers, saying it is missing
                logger.error(
                    "pygame_async: the dask cluster refused the definition of %r: %s",
                    op.definition.name,
                    exc,
                )
                return
            state.plugins.add(name)
            _log_refusals(op.definition.name, answers)
        elif op.kind == "forget":
            assert op.definition is not None
            name = remote.plugin_name(state.token, op.definition.id)
            if name in state.plugins:
                state.plugins.discard(name)
                _tidy(client.unregister_worker_plugin, name)
        elif op.kind == "clear_epoch":
            _tidy(client.set_metadata, [remote.METADATA_ROOT, state.token, op.epoch], None)

    def _submit(self, batch: Batch) -> None:
        state = self._state
        client = state.connection.client
        try:
            future = client.submit(
                remote.run_batch,
                state.token,
                batch.epoch,
                batch.number,
                batch.calls,
                state.progress_topic,
                key=state.connection.batch_key(batch.number),
                priority=batch.priority,
                pure=False,
            )
        except Exception as exc:
            with state.ledger.lock:
                filing.fail_batch(state, batch, exc)
                state.end_batch(batch)
                state.ledger.notify()
            return
        batch.calls = []  # dask has them now
        batch.future = future
        future.add_done_callback(self._on_done(batch))

    # -- outcomes -----------------------------------------------------------------------------

    def _gather(self, batches: list[Batch]) -> None:
        """File the outcomes of batches whose futures are done; never waits for ever."""
        results = self._fetch(batches)
        errors: dict[int, BaseException | None] = {}
        lost: set[int] = set()
        for batch in batches:
            if batch.number in results:
                continue
            status = batch.future.status
            if status == "cancelled" or self._state.abandon:
                errors[batch.number] = None
            elif status == "error":
                try:
                    errors[batch.number] = batch.future.exception(timeout=_FETCH_PATIENCE)
                except Exception as exc:  # the scheduler could not say: that is the error
                    errors[batch.number] = exc
            else:  # it ran, then went with its worker before its result was fetched
                lost.add(batch.number)
        futures = [batch.future for batch in batches]
        state = self._state
        with state.ledger.lock:
            for batch in batches:
                batch.future = None
                if batch.number in results:
                    filing.file_result(state, batch, results[batch.number])
                elif batch.number in lost:
                    filing.result_lost(state, batch)
                else:
                    filing.fail_batch(state, batch, errors[batch.number])
                state.end_batch(batch)
            batching.dispatch(state)
            state.ledger.notify()
        del futures  # dropped outside the lock: dask releases them on its own locks

    def _fetch(self, batches: list[Batch]) -> dict[int, Any]:
        """Fetch the results of the batches that finished, by number (bytes, never unpickled).

        A finished batch's result stays on the worker that ran it until it
        is fetched.  Should that worker leave first, dask takes the future
        back to run it again and waits for that, for ever if no worker is
        left: so each wait is bounded, and a batch whose future is no
        longer finished when one runs out is left out (lost with its
        worker).  The bound doubles each time, so that a big result on a
        slow network still comes in whole.
        """
        state = self._state
        client = state.connection.client
        waiting = [batch for batch in batches if batch.future.status == "finished"]
        results: dict[int, Any] = {}
        patience = _FETCH_PATIENCE
        while waiting and not state.abandon:
            gather = functools.partial(
                client.gather, [batch.future for batch in waiting], asynchronous=True
            )
            try:
                values = client.sync(gather, callback_timeout=patience)
            except TimeoutError:
                waiting = [batch for batch in waiting if batch.future.status == "finished"]
                patience *= 2
                continue
            except Exception:  # one failed meanwhile: the others come in on their own
                for batch in waiting:
                    with contextlib.suppress(Exception):  # _gather says why
                        results[batch.number] = batch.future.result(timeout=patience)
                return results
            results.update(zip((batch.number for batch in waiting), values, strict=True))
            return results
        return results

    # -- workers -----------------------------------------------------------------------------

    def _observe(self) -> None:
        """Ask the scheduler for its workers; free slots take the calls that wait.

        A scheduler that does not answer (gone, or the network) is logged and
        asked again later: the calls wait, or time out, as on a cluster
        without workers.
        """
        state = self._state
        try:
            workers = state.connection.workers()
        except Exception as exc:
            logger.warning(
                "pygame_async: the dask scheduler at %s did not say which workers it has: %s",
                state.connection.describe(),
                exc,
            )
            with state.ledger.lock:
                state.observe_failed = True
            return
        with state.ledger.lock:
            state.observe_failed = False
            state.workers = workers
            if state.target is not None and state.retiring:
                state.scaling = True  # a worker left: retiring may go on
            batching.dispatch(state)
            if state.closing:
                batching.fail_unrunnable(state)
            state.ledger.notify()

    def _scale(self) -> None:
        """Bring the cluster to the lane's target; busy workers retire once idle."""
        state = self._state
        connection = state.connection
        with state.ledger.lock:
            target = state.target
        if target is None:
            return
        plan = connection.plan()
        if target > plan:
            connection.scale_up(target)
            retiring = False
        elif target < plan:
            retiring = connection.scale_down(plan - target) < plan - target
        else:
            retiring = False
        with state.ledger.lock:
            state.retiring = retiring

    def _finish(self) -> None:
        """Leave: cancel what is left, unregister what the lane registered, close its Client."""
        state = self._state
        connection = state.connection
        try:
            client = connection.client
            for topic in (state.progress_topic, "all"):
                _quietly(client.unsubscribe_topic, topic)
            with state.ledger.lock:
                futures = [b.future for b in state.in_flight.values() if b.future is not None]
                for batch in list(state.in_flight.values()):  # left by a breakdown
                    for task in batch.tasks:
                        if task.state is TaskState.ASSIGNED:
                            state.ledger.cancel(task)
                    state.end_batch(batch)
            if futures:
                _quietly(client.cancel, futures)
            for name in sorted(state.plugins):
                _quietly(client.unregister_worker_plugin, name)
            _quietly(client.set_metadata, [remote.METADATA_ROOT, state.token], None)
        finally:
            try:
                connection.close()
            finally:
                with state.ledger.lock:
                    state.closed = True
                    state.ledger.lane_closed()


def _tidy(function: Any, *args: Any) -> None:
    """Tidy the cluster up as the lane goes (old definitions, old claims); a failure is logged.

    What is left behind costs the scheduler a little memory, nothing else:
    no call depends on it.
    """
    try:
        function(*args)
    except Exception as exc:
        logger.warning("pygame_async: the dask lane could not tidy up the cluster: %s", exc)


def _quietly(function: Any, *args: Any) -> None:
    """Tidy the cluster up on the way out; a cluster already gone has nothing to tidy."""
    try:
        function(*args)
    except Exception as exc:
        logger.debug("pygame_async: dask lane: %s failed on the way out: %s", function, exc)


def _log_refusals(name: str, answers: Any) -> None:
    """Say which workers could not take a definition (pygame_async missing there, say)."""
    if not isinstance(answers, dict):
        return
    for address, answer in answers.items():
        if isinstance(answer, dict) and answer.get("status") not in (None, "OK"):
            logger.warning(
                "pygame_async: the dask worker %s could not take the definition of %r: %s",
                address,
                name,
                answer.get("exception_text") or answer,
            )
