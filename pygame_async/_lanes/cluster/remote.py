"""What runs on a dask worker: the lane's definitions, and a batch of calls.

A definition crosses to each dask worker once, as a :class:`DefinitionPlugin`
the lane registers with the scheduler: the scheduler hands it to every
worker that is there, and to every worker that joins later, before that
worker takes any task.  The plugin keeps the pickled function; the worker
unpickles it on its first call of that version and keeps it, so calls name
a definition by id and never carry it.

A call travels in a *batch*, one dask task (:func:`run_batch`) that runs its
calls one after another and returns one outcome per call: the value pickled
by pygame_async (bytes, opened in the game only when it needs the value), or
a :class:`RemoteFailure` with the remote traceback.

dask re-runs a task whose worker died, and recomputes a finished one whose
result died with its worker.  A call that may have started must not run
again behind the game's back, so a batch first *claims* itself in the
scheduler's metadata; a batch that finds its claim taken has run before
(its first worker died) and returns :data:`RERUN` with that worker's
address, running nothing.  The lane turns that into ``WorkerCrashedError``.
"""

from __future__ import annotations

import importlib
import math
import os
import sys
import threading
import time
from typing import Any, Final

from distributed import get_worker
from distributed.diagnostics.plugin import WorkerPlugin
from distributed.utils import sync

from pygame_async._core import progress, running, serialization
from pygame_async._lanes.failures import (
    FailureKind,
    RemoteFailure,
    describe_failure,
    why_not_sent,
)

DONE: Final = 0
"""A batch that ran: ``(DONE, (address, pid), outcomes)``."""
RERUN: Final = 1
"""A batch that had run before on a worker that died: ``(RERUN, (address, pid))``."""

METADATA_ROOT: Final = "pygame_async"
"""The branch of the scheduler's metadata where batches claim themselves."""

PROGRESS_INTERVAL: Final = 0.01
"""Progress reports leave a worker at most this often (seconds), as from a worker process."""

Outcome = tuple[int, float, bool, "bytes | RemoteFailure", "tuple[float, str | None] | None"]
"""``(task_id, seconds, succeeded, pickled value or failure, last progress report)``."""


class _Definition:
    """A definition on this worker: its pickle, unpickled on its first call (once)."""

    __slots__ = ("_blob", "_function", "_lock")

    def __init__(self, blob: bytes) -> None:
        self._blob = blob
        self._function: Any = None
        self._lock = threading.Lock()  # a worker with several threads loads it once

    def function(self) -> Any:
        """Return the function, or the RemoteFailure it could not be loaded with."""
        with self._lock:
            if self._function is None:
                try:
                    self._function = serialization.loads(self._blob)
                except BaseException as exc:
                    self._function = describe_failure(FailureKind.NOT_LOADED, exc)
                self._blob = b""
            return self._function


# The definitions of every lane using this worker, by (lane token, definition id).
_registry: dict[tuple[str, int], _Definition] = {}
_registry_lock = threading.Lock()


class DefinitionPlugin(WorkerPlugin):
    """One version of a definition, handed by the scheduler to every worker, present and future."""

    def __init__(
        self, token: str, definition_id: int, blob: bytes, sys_path: tuple[str, ...]
    ) -> None:
        self.token = token
        self.definition_id = definition_id
        self.blob = blob
        self.sys_path = sys_path

    @property
    def name(self) -> str:
        """The plugin's name with the scheduler: one per lane and definition version."""
        return plugin_name(self.token, self.definition_id)

    def setup(self, worker: Any) -> None:
        """Keep the definition's pickle here (it is unpickled on its first call)."""
        _follow_sys_path(self.sys_path)
        with _registry_lock:
            _registry.setdefault((self.token, self.definition_id), _Definition(self.blob))

    def teardown(self, worker: Any) -> None:
        """Forget the definition: no call will need this version again."""
        with _registry_lock:
            _registry.pop((self.token, self.definition_id), None)


def plugin_name(token: str, definition_id: int) -> str:
    """Name the worker plugin of a lane's definition version."""
    return f"pygame_async-{token}-{definition_id}"


def _follow_sys_path(entries: tuple[str, ...]) -> None:
    """Append the game's ``sys.path`` entries this worker lacks (as a worker process does).

    A worker on the game's machine then imports the game's own modules; a
    worker elsewhere needs them installed (README: Beyond one machine).
    """
    present = set(sys.path)
    added = [entry for entry in dict.fromkeys(entries) if entry not in present]
    if added:
        sys.path.extend(added)
        importlib.invalidate_caches()


class _Reporter:
    """Sends the running call's progress to the game as dask events, throttled."""

    __slots__ = ("_sent_at", "_task_id", "_topic", "_worker", "last")

    def __init__(self, worker: Any, topic: str) -> None:
        self._worker = worker
        self._topic = topic
        self._task_id = 0
        self._sent_at = -math.inf
        self.last: tuple[float, str | None] | None = None

    def start(self, task_id: int) -> None:
        """Report for this call from now on."""
        self._task_id = task_id
        self._sent_at = -math.inf
        self.last = None

    def report(self, fraction: float, message: str | None) -> None:
        """Keep the latest report; send it if the last one left long enough ago.

        The latest one also travels with the call's outcome, so the game
        always ends with it, whichever arrives first.
        """
        self.last = (fraction, message)
        now = time.monotonic()
        if now - self._sent_at >= PROGRESS_INTERVAL:
            self._sent_at = now
            self._worker.log_event(self._topic, [self._task_id, fraction, message])


def run_batch(
    token: str, epoch: int, number: int, calls: list[tuple[int, int, bytes]], topic: str
) -> tuple[Any, ...]:
    """Run a batch of calls, in order, unless it ran before; see the module docstring."""
    worker = get_worker()
    first = _claim(worker, token, epoch, number)
    if first is not None:
        return (RERUN, first)
    reporter = _Reporter(worker, topic)
    outcomes = []
    with progress.reporting(reporter):
        for task_id, definition_id, arguments in calls:
            outcomes.append(_run(token, task_id, definition_id, arguments, reporter))
    return (DONE, (worker.address, os.getpid()), outcomes)


def _claim(worker: Any, token: str, epoch: int, number: int) -> tuple[str, int] | None:
    """Claim a batch in the scheduler's metadata: None, or the worker that claimed it first.

    Two round trips to the scheduler per batch, not per call.  A dask task
    runs again only after its worker is gone, so a read then a write is
    enough: the first run wrote its claim before it ran anything.
    """
    path = [METADATA_ROOT, token, epoch, number]
    try:
        first = sync(worker.loop, worker.scheduler.get_metadata, keys=path, default=None)
    except Exception:  # no answer: the batch may have run; running it again is worse
        return ("an unknown worker", 0)
    if first is not None:
        address, pid = first
        return (str(address), int(pid))
    sync(worker.loop, worker.scheduler.set_metadata, keys=path, value=[worker.address, os.getpid()])
    return None


def _run(
    token: str, task_id: int, definition_id: int, arguments: bytes, reporter: _Reporter
) -> Outcome:
    """Run one call of a batch; never raises (only killing the worker stops a batch)."""
    with _registry_lock:
        definition = _registry.get((token, definition_id))
    if definition is None:  # cannot happen while the lane keeps its plugins registered
        missing = LookupError(f"definition {definition_id} is not registered on this worker")
        return (task_id, 0.0, False, describe_failure(FailureKind.NOT_LOADED, missing), None)
    function = definition.function()  # unpickled on its first call here: not timed
    if isinstance(function, RemoteFailure):
        return (task_id, 0.0, False, function, None)
    started = time.perf_counter()  # the call's own time: the lane's estimate of the next
    reporter.start(task_id)
    try:
        args, kwargs = serialization.loads(arguments)
        value = running.run_to_completion(function, args, kwargs)
    except BaseException as exc:  # sys.exit() in a call must not end the batch
        kind = FailureKind.RAISED if isinstance(exc, Exception) else FailureKind.EXITED
        return (task_id, _since(started), False, describe_failure(kind, exc), reporter.last)
    try:
        blob = serialization.dumps(value)
    except BaseException as exc:
        failure = describe_failure(FailureKind.NOT_SENT, exc, why_not_sent(value, exc))
        return (task_id, _since(started), False, failure, reporter.last)
    return (task_id, _since(started), True, blob, reporter.last)


def _since(started: float) -> float:
    return time.perf_counter() - started
