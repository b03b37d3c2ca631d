"""``pool.as_executor()``: the pool as a ``concurrent.futures.Executor``.

For code written against the standard interface: ``loop.run_in_executor``,
libraries that take an ``Executor``, ``concurrent.futures.wait`` and
``as_completed``.  How a submitted call travels::

    submit(fn, *args) -- call() of the pool's definition of fn (made once) ---+
                                                                             |
    PoolFuture <- FutureCompletion <- Ledger.settle_futures <- the pool's lane <-+
      done        (the call's delivery:   (no lock held, on the thread
                   see _core.delivery)     that filed the outcome)

* **Definitions by identity.**  The first ``submit`` of a function defines
  it on the pool under a generated name (``"executor:<qualname>#<n>"``);
  later submits of the same object (``is``, never a recycled ``id()``: the
  table holds the function) call that definition, so the function crosses
  to each worker once.  The table is the pool's, shared by all its
  executors, and keeps the :data:`KEPT_FUNCTIONS` most recently used
  functions; an older one is undefined (calls already made still run).
* **Futures complete without ``update()``.**  A call's delivery is a
  :class:`~pygame_async._core.delivery.FutureCompletion`, which the ledger
  runs like a pygame event's posting, but holding no lock at all: on the
  lane's thread that filed the outcome, which also unpickles it (as for
  events).  The call stops counting as pending then, so ``pool.wait()`` and
  ``get_pending_count()`` come to 0 with no callback run by ``update()``.
  A Future's done-callbacks run on that thread: keep them short (asyncio's
  only schedule a wake-up).  A Future also hears of its call's
  cancellation, and of its outcome after the pool's shutdown.
* **Inline lane.**  No thread exists to complete a Future, so ``submit``
  runs the call to its end before returning, on the calling thread,
  through the pool like any call (the lane's other calls take their turns
  meanwhile), and returns a done Future.  So ``map``, ``wait``,
  ``as_completed`` and ``run_in_executor`` all work; nothing is ever
  pending, so ``cancel()`` returns False and a ``map`` timeout never fires.
  (``await task`` is the way to let an asyncio loop turn between steps.)
* ``shutdown()`` stops *this executor* taking calls and (with ``wait``)
  waits for its Futures; the pool runs on, and may make more executors.
"""

from __future__ import annotations

import contextlib
import itertools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable
from concurrent import futures
from typing import Any, Final, ParamSpec, Protocol, TypeVar

from pygame_async._core.delivery import FutureCompletion
from pygame_async._core.task import Task

_P = ParamSpec("_P")
_T = TypeVar("_T")

KEPT_FUNCTIONS: Final = 256
"""Distinct functions a pool keeps defined for its executors (the most recently submitted).

Each is a definition in every worker; a game submitting a new lambda or
``functools.partial`` each frame would otherwise grow them without end.
"""


class _Pool(Protocol):
    """What the executor asks of its :class:`~pygame_async.Pool`."""

    def define(self, name: str, function: Callable[..., Any]) -> object: ...

    def undefine(self, name: str) -> None: ...

    def call(self, callback: object, name: str, /, *args: Any, **kwargs: Any) -> Task: ...

    @property
    def _ledger(self) -> _Posting: ...


class _Posting(Protocol):
    def try_posting(self) -> None: ...


class PoolFuture(futures.Future[Any]):
    """The Future of a call submitted to a :class:`PoolExecutor`.

    ``cancel()`` cancels the call itself, which succeeds only while it has
    not started (a call queued on a busy worker has not).  ``running()`` is
    never True: a process lane cannot tell when a worker starts a call it
    holds; ``cancel()`` returning False says it has.
    """

    def __init__(self, executor: PoolExecutor) -> None:
        super().__init__()
        self._executor = executor
        self._task: Task | None = None  # set by submit() once the call is made
        self._settling = threading.Lock()
        self._cancel_settled = False

    def cancel(self) -> bool:
        """Cancel the call if it has not started; True if the Future is (now) cancelled."""
        task = self._task
        if self.done() or task is None:
            return self.cancelled()
        if not task.cancel():  # running, or finished meanwhile: the Future completes as usual
            return self.cancelled()
        self._settle_cancelled()
        self._executor._count_out()
        return True

    def _settle_cancelled(self) -> None:
        """Mark the Future cancelled and tell everyone waiting on it; once, whoever comes first.

        Both this Future's :meth:`cancel` and ``Ledger.settle_futures`` (the
        pool cancelled the call: its shutdown) come here.  ``Future.cancel``
        runs the done-callbacks; ``set_running_or_notify_cancel`` then wakes
        ``wait()`` and ``as_completed()``, and would raise if called twice.
        """
        with self._settling:
            if self._cancel_settled:
                return
            self._cancel_settled = True
        futures.Future.cancel(self)
        self.set_running_or_notify_cancel()


class PoolExecutor(futures.Executor):
    """A ``concurrent.futures.Executor`` view of a pool: made by ``pool.as_executor()``.

    ``submit(fn, *args, **kwargs)`` runs ``fn(*args, **kwargs)`` on the
    pool's lane and returns a :class:`PoolFuture`, completed without
    ``update()``.  ``fn`` is defined on the pool once per function object
    (it crosses to each worker once, as it is at its first submit: what it
    closes over is not sent again).  The executor's ``shutdown()`` leaves
    the pool running.  See the module docstring for the inline lane.
    """

    def __init__(self, pool: _Pool) -> None:
        self._pool = pool
        self._names = _names_of(pool)
        self._futures: set[futures.Future[Any]] = set()  # not yet done
        self._lock = threading.Lock()  # guards _futures and _shut_down
        self._shut_down = False

    def __repr__(self) -> str:
        state = "shut down" if self._shut_down else "running"
        return f"<pygame_async.PoolExecutor {state} of {self._pool!r}>"

    def submit(
        self, fn: Callable[_P, _T], /, *args: _P.args, **kwargs: _P.kwargs
    ) -> futures.Future[_T]:
        """Run ``fn(*args, **kwargs)`` on the pool; return its Future.

        Raises TypeError when ``fn`` is not callable or it or an argument
        cannot be sent to the pool's workers, and RuntimeError after this
        executor's (or the pool's) shutdown.
        """
        if not callable(fn):
            raise TypeError(
                f"PoolExecutor.submit(fn): fn must be callable, got {type(fn).__name__}"
            )
        future = PoolFuture(self)
        with self._lock:
            if self._shut_down:
                raise RuntimeError(
                    "PoolExecutor.submit(fn): cannot schedule new futures after shutdown"
                )
            self._futures.add(future)
        future.add_done_callback(self._forget)
        try:
            task = self._names.call(self._pool, fn, FutureCompletion(future), args, kwargs)
        except BaseException:
            self._forget(future)
            raise
        future._task = task
        if not task.lane.self_driving:
            _run_here(task)
            if not future.done():  # another thread was posting as the call ended
                self._count_out()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Take no more calls; the pool itself runs on.

        With ``cancel_futures``, cancel the calls of this executor that have
        not started.  With ``wait``, return once every Future this executor
        made is done.  Safe to call several times.
        """
        with self._lock:
            self._shut_down = True
            pending = list(self._futures)
        if cancel_futures:
            for future in pending:
                future.cancel()
        if wait:
            futures.wait(pending)

    def _forget(self, future: futures.Future[Any]) -> None:
        """Forget a done Future (its done-callback, on whatever thread completed it)."""
        with self._lock:
            self._futures.discard(future)

    def _count_out(self) -> None:
        """Post what waits to be posted now, so a cancelled call stops counting as pending."""
        self._pool._ledger.try_posting()


def _run_here(task: Task) -> None:
    """Inline lane: run the call to its end on this thread (the lane's other calls step too).

    Its Future is completed on the way, by the ledger's posting when the
    call ends; what it raised is the Future's to tell, not ours.
    """
    with contextlib.suppress(futures.CancelledError):  # cancelled meanwhile: the Future says so
        task.exception()


class _FunctionNames:
    """A pool's names for the functions its executors were given, by function identity."""

    def __init__(self) -> None:
        # id(fn) -> (fn, name), least recently submitted first.  Holding fn
        # keeps its id from being reused by another function while it is here.
        self._names: OrderedDict[int, tuple[Callable[..., Any], str]] = OrderedDict()
        self._numbers = itertools.count(1)
        # Held across define() and call(): a name is never undefined between
        # the two by another thread.  Reentrant: pickling an argument may
        # run a reducer of the game's that submits.
        self._lock = threading.RLock()

    def call(
        self,
        pool: _Pool,
        fn: Callable[..., Any],
        completion: FutureCompletion,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Task:
        """Call ``fn`` on ``pool``, defining it first if it is new."""
        with self._lock:
            try:
                name = self._name_of(pool, fn)
                return pool.call(completion, name, *args, **kwargs)
            except TypeError as exc:  # the function or an argument cannot be sent
                qualname = getattr(fn, "__qualname__", type(fn).__qualname__)
                raise TypeError(f"PoolExecutor.submit(fn): cannot run {qualname}: {exc}") from exc

    def _name_of(self, pool: _Pool, fn: Callable[..., Any]) -> str:
        entry = self._names.get(id(fn))
        if entry is not None and entry[0] is fn:
            self._names.move_to_end(id(fn))
            return entry[1]
        qualname = getattr(fn, "__qualname__", type(fn).__qualname__)
        name = f"executor:{qualname}#{next(self._numbers)}"
        pool.define(name, fn)
        self._names[id(fn)] = (fn, name)
        while len(self._names) > KEPT_FUNCTIONS:
            _, (_, oldest) = self._names.popitem(last=False)
            pool.undefine(oldest)
        return name


# A pool's table, shared by all its executors (as_executor() makes a new
# view each time: a game may call it for every run_in_executor).  Weak on
# the pool: the table goes with it.
_tables: weakref.WeakKeyDictionary[object, _FunctionNames] = weakref.WeakKeyDictionary()
_tables_lock = threading.Lock()


def _names_of(pool: _Pool) -> _FunctionNames:
    with _tables_lock:
        table = _tables.get(pool)
        if table is None:
            table = _tables[pool] = _FunctionNames()
        return table
