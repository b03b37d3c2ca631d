"""The pools under test, behind one small interface: bind a function, submit, collect.

``bind(name, func)`` returns ``submit(*args) -> handle``; ``result(handle)``
blocks until that call's result is back and ``gather(handles)`` collects many;
``poll(handle)`` is what a game loop does once per frame: deliver what has
arrived (pygame_async's ``update()``) and say whether this call is done.
Every wait has a timeout, so a broken pool fails the run instead of hanging it.
"""

from __future__ import annotations

import abc
import functools
import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from types import TracebackType
from typing import Any

import pygame_async

try:
    import loky  # type: ignore[import-untyped]
except ImportError:  # a benchmark-only dependency: its rows then say "not installed"
    loky = None

try:
    import distributed
except ImportError:  # the [dask] extra: the dask rows then say "not installed"
    distributed = None

WORKERS = 2
TIMEOUT = 120.0  # seconds any single wait may take before the run fails

Submit = Callable[..., Any]


class Runner(abc.ABC):
    """One pool with ``WORKERS`` workers; a context manager that always shuts it down."""

    label: str
    sends_closures = True  # False: functions must be importable module-level ones
    sends_surfaces = False  # False: a Surface must travel as bytes and be rebuilt here
    modes: tuple[str, ...] = ("",)  # ways to wait for one result, measured separately
    mode = ""
    unavailable: str | None = None  # why this pool cannot run here, e.g. not installed
    workloads: frozenset[str] | None = None  # the only workloads it runs; None: all that apply
    extra = False  # True: runs only the workloads that name it (Workload.runners)

    @abc.abstractmethod
    def start(self) -> None:
        """Create the pool; on failure leave no process behind."""

    @abc.abstractmethod
    def bind(self, name: str, func: Callable[..., Any]) -> Submit:
        """Return ``submit(*args) -> handle`` running ``func(*args)`` in a worker."""

    @abc.abstractmethod
    def result(self, handle: Any) -> Any:
        """Block until the call behind ``handle`` is done; return its result or raise."""

    @abc.abstractmethod
    def poll(self, handle: Any) -> bool:
        """One frame's look at the pool, never blocking: True once ``handle`` is done."""

    @abc.abstractmethod
    def close(self) -> None:
        """Shut the pool down and wait until no worker process remains."""

    def gather(self, handles: list[Any]) -> list[Any]:
        """Results of ``handles``, in order."""
        return [self.result(handle) for handle in handles]

    def __enter__(self) -> Runner:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class _Slot:
    """A pygame_async success/error callback pair that keeps the outcome."""

    __slots__ = ("done", "exception", "value")

    def __init__(self) -> None:
        self.done = False
        self.value: Any = None
        self.exception: BaseException | None = None

    def success(self, value: Any) -> None:
        self.value = value
        self.done = True

    def error(self, exception: BaseException) -> None:
        self.exception = exception
        self.done = True

    def outcome(self) -> Any:
        if self.exception is not None:
            raise self.exception
        return self.value


class PygameAsyncRunner(Runner):
    """pygame_async on worker processes: define once, call with a callback, deliver in ``update()``.

    Mode ``update`` waits for one result like an uncapped game loop, calling
    ``pool.update()`` without sleeping; mode ``wait`` calls ``pool.wait()``.
    """

    label = "pygame_async"
    sends_surfaces = True
    modes = ("update", "wait")
    mode = "update"
    lane = "process"

    def start(self) -> None:
        self._pool = pygame_async.Pool(WORKERS, lane=self.lane)

    @property
    def pool(self) -> pygame_async.Pool:
        """The pool itself, for the workloads that measure its own API (``update()``)."""
        return self._pool

    def bind(self, name: str, func: Callable[..., Any]) -> Submit:
        call = self._pool.define(name, func)

        def submit(*args: Any) -> _Slot:
            slot = _Slot()
            call(slot, *args)
            return slot

        return submit

    def result(self, handle: _Slot) -> Any:
        if self.mode == "wait":
            self._wait()
        else:
            deadline = time.perf_counter() + TIMEOUT
            update = self._pool.update
            while not handle.done:
                update()
                if time.perf_counter() > deadline:
                    raise TimeoutError(f"pygame_async: no result after {TIMEOUT} s")
        return handle.outcome()

    def gather(self, handles: list[_Slot]) -> list[Any]:
        self._wait()
        return [handle.outcome() for handle in handles]

    def poll(self, handle: _Slot) -> bool:
        self._pool.update()
        return handle.done

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_pending=True)

    def _wait(self) -> None:
        if not self._pool.wait(TIMEOUT):
            raise TimeoutError(f"pygame_async: calls still pending after {TIMEOUT} s")


class PygameAsyncThreadRunner(PygameAsyncRunner):
    """pygame_async on its thread lane: ``WORKERS`` threads of this process."""

    label = "pygame_async, thread lane"
    lane = "thread"
    workloads = frozenset({"tiny", "round_trip"})


class PygameAsyncInlineRunner(PygameAsyncRunner):
    """pygame_async on its inline lane: calls run inside ``update()`` and ``wait()``, here."""

    label = "pygame_async, inline lane"
    lane = "inline"
    workloads = frozenset({"tiny", "round_trip"})


class _ExecutorRunner(Runner):
    """A ``concurrent.futures`` executor: submit, then wait on the futures."""

    _executor: Any

    def bind(self, name: str, func: Callable[..., Any]) -> Submit:
        return functools.partial(self._executor.submit, func)

    def result(self, handle: Any) -> Any:
        return handle.result(TIMEOUT)

    def poll(self, handle: Any) -> bool:
        return bool(handle.done())


class ProcessPoolRunner(_ExecutorRunner):
    """``concurrent.futures.ProcessPoolExecutor`` on the forkserver context."""

    label = "ProcessPoolExecutor"
    sends_closures = False

    def start(self) -> None:
        context = multiprocessing.get_context("forkserver")
        self._executor = ProcessPoolExecutor(WORKERS, mp_context=context)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


class MultiprocessingRunner(Runner):
    """``multiprocessing.Pool`` on the forkserver context, with ``apply_async``."""

    label = "multiprocessing.Pool"
    sends_closures = False

    def start(self) -> None:
        self._pool = multiprocessing.get_context("forkserver").Pool(WORKERS)

    def bind(self, name: str, func: Callable[..., Any]) -> Submit:
        apply_async = self._pool.apply_async
        return lambda *args: apply_async(func, args)

    def result(self, handle: Any) -> Any:
        return handle.get(TIMEOUT)

    def poll(self, handle: Any) -> bool:
        return bool(handle.ready())

    def close(self) -> None:
        self._pool.terminate()  # every result is in by now: nothing is lost
        self._pool.join()


class LokyRunner(_ExecutorRunner):
    """``loky.get_reusable_executor``; it pickles functions with cloudpickle, closures too."""

    label = "loky"
    unavailable = None if loky is not None else "loky: not installed"

    def start(self) -> None:
        self._executor = loky.get_reusable_executor(max_workers=WORKERS)

    def close(self) -> None:
        self._executor.shutdown(wait=True, kill_workers=True)


def _local_cluster() -> Any:
    """A dask LocalCluster of WORKERS worker processes, one thread each, as the pools have."""
    return distributed.LocalCluster(
        n_workers=WORKERS, threads_per_worker=1, processes=True, dashboard_address=":0"
    )


class DaskLaneRunner(PygameAsyncRunner):
    """pygame_async's dask lane, ``DaskLane(cluster)``, on a LocalCluster of its own."""

    label = "pygame_async DaskLane"
    extra = True
    unavailable = None if distributed is not None else "distributed: not installed"

    def start(self) -> None:
        self._cluster = _local_cluster()
        try:
            self._pool = pygame_async.Pool(WORKERS, lane=pygame_async.DaskLane(self._cluster))
        except BaseException:
            self._cluster.close()
            raise

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._cluster.close()


class DaskSubmitRunner(Runner):
    """dask itself: ``client.submit`` once per call (``pure=False``: every call runs), then gather.

    On a LocalCluster of its own, as :class:`DaskLaneRunner`'s.
    """

    label = "dask client.submit"
    extra = True
    unavailable = DaskLaneRunner.unavailable

    def start(self) -> None:
        self._cluster = _local_cluster()
        self._client = distributed.Client(self._cluster, set_as_default=False)

    def bind(self, name: str, func: Callable[..., Any]) -> Submit:
        submit = self._client.submit
        return lambda *args: submit(func, *args, pure=False)

    def result(self, handle: Any) -> Any:
        return handle.result(TIMEOUT)

    def gather(self, handles: list[Any]) -> list[Any]:
        return list(self._client.gather(handles))

    def poll(self, handle: Any) -> bool:
        return bool(handle.done())

    def close(self) -> None:
        try:
            self._client.close()
        finally:
            self._cluster.close()


RUNNERS: tuple[type[Runner], ...] = (
    PygameAsyncRunner,
    PygameAsyncThreadRunner,
    PygameAsyncInlineRunner,
    ProcessPoolRunner,
    MultiprocessingRunner,
    LokyRunner,
    DaskLaneRunner,
    DaskSubmitRunner,
)
BASELINE = ProcessPoolRunner.label
