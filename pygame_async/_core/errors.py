"""The errors pygame_async raises or delivers, and the remote traceback they carry."""

from __future__ import annotations


class AsyncError(Exception):
    """Base class of the errors pygame_async itself raises or delivers."""


class ResultNotSentError(AsyncError):
    """Delivered when a call's result could not travel back to the game.

    The worker ran the function, but its return value could not be pickled
    there or unpickled in the game (a Surface without the pygame adapter, an
    open file, a lock...).  The message names the function; ``__cause__``
    holds the pickling error.
    """


class RemoteError(AsyncError):
    """Delivered in place of an exception that could not travel back from a worker.

    ``type_name`` is the qualified name of the exception raised in the
    worker and ``__cause__`` holds its remote traceback.
    """

    def __init__(self, message: str, type_name: str) -> None:
        super().__init__(message)
        self.type_name = type_name


class DefinitionLoadError(AsyncError):
    """Delivered when a worker could not load the definition a call needed.

    Typically a function that refers to a module the worker cannot import.
    ``__cause__`` holds the remote traceback of the failure.
    """


class WorkerCrashedError(AsyncError):
    """Delivered to the call that was running on a worker process that died.

    Only that call fails: calls queued behind it run on other workers.
    ``pid`` and ``exitcode`` describe the dead process (a negative exit code
    is the number of the signal that killed it).  On the dask lane
    ``address`` is the dead dask worker's address (``pid`` its process id
    on its own machine, ``exitcode`` None: dask does not say).
    """

    def __init__(
        self, message: str, pid: int | None, exitcode: int | None, address: str | None = None
    ) -> None:
        super().__init__(message)
        self.pid = pid
        self.exitcode = exitcode
        self.address = address


class WorkerProtocolError(WorkerCrashedError):
    """Delivered to the calls of a worker that sent something the game could not read.

    A worker process must only ever write pygame_async's own messages to its
    pipe; one that wrote anything else (a corrupt or foreign message, or one
    cut short) was killed and replaced, as if it had crashed.  The message
    says what arrived.
    """


class CallAbortedError(AsyncError):
    """Delivered when a call raised a ``BaseException`` that is not an ``Exception``.

    ``SystemExit`` (``sys.exit()`` in a worker), ``KeyboardInterrupt`` or
    ``GeneratorExit`` raised by a function would end or interrupt the game if
    re-raised there, so this error stands in for them.  ``type_name`` names
    the exception; ``__cause__`` holds the remote traceback.  The worker
    carries on with its next call.
    """

    def __init__(self, message: str, type_name: str) -> None:
        super().__init__(message)
        self.type_name = type_name


class PoolBrokenError(AsyncError):
    """Raised when the pool's own machinery failed: a bug in pygame_async.

    The pool stops its workers and fails its calls with this error; every
    later use of it raises it.  Please report it, with the traceback in its
    ``__cause__``.  A new pool can be made.
    """


class TaskTimeoutError(AsyncError, TimeoutError):
    """Delivered to a call that ran longer than its timeout.

    The timeout counts from when the call started on a worker.  The worker
    was killed (it could not be interrupted otherwise) and replaced; other
    calls are unaffected.  ``timeout`` is the limit, in seconds, and ``pid``
    the killed worker's process id.  On the inline lane a generator call is
    closed at its first turn past its timeout instead, and ``pid`` is None.
    On the dask lane the timeout counts from when the call was handed to
    the cluster; nothing is killed (dask cannot stop a running task), the
    call's late outcome is thrown away, and ``pid`` is None.
    """

    def __init__(self, message: str, timeout: float, pid: int | None) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.pid = pid


class WorkerStartError(AsyncError):
    """Delivered to calls no worker could run because workers failed to start.

    Raised by ``Pool()``/``load()`` when no worker started at all.  The
    message says why (the pool's ``initializer`` raised: ``__cause__`` holds
    its remote traceback; or the process exited early).  The pool does not
    restart failing workers in a loop: ``add_worker()`` tries again.
    """


class DependencyError(AsyncError):
    """Delivered to a call that did not run because a call it depends on did not succeed.

    A call made with ``after=`` (or with a Task among its arguments) runs only
    once each of those finished successfully.  ``dependency`` is the Task
    that failed or was cancelled; ``__cause__`` is its error (a
    ``CancelledError`` when it was cancelled).  The calls that depend on this
    one fail the same way in turn.
    """

    def __init__(self, message: str, dependency: object) -> None:
        super().__init__(message)
        self.dependency = dependency


class RemoteTraceback(Exception):
    """The formatted traceback of an exception raised in a worker.

    pygame_async sets it as ``__cause__`` of every exception that comes back
    from a worker, as ``concurrent.futures`` does, so that logging the error
    in the game shows where it happened in the worker.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text
