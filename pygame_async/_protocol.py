"""The messages between the game process and a worker, and how failures travel.

Each worker has its own duplex pipe.  The game sends it *batches*: a list of
operations, pickled once.  The worker answers with one message per event.

Game to worker::

    (DEFINE, definition_id, name, function_blob)   load a function into the registry
    (FORGET, definition_id)                        drop a superseded definition
    (CALL, task_id, definition_id, arguments_blob)  run a call
    (SKIP, task_id)                                 drop that call if it has not started
    (STOP,)                                         leave after the current call

Worker to game::

    (HELLO, pid)                  ready to take calls
    (START_FAILED, failure)       the pool's initializer raised; the worker leaves
    (OVER_MEMORY, bytes)          above the pool's memory limit; sent before the reply
    (PROGRESS, task_id, fraction, message)   the running call reported progress
    (RESULT, task_id, blob, seconds)      the call returned; blob is the pickled value
    (FAILED, task_id, failure, seconds)   the call failed; see :class:`RemoteFailure`
    (SKIPPED, task_id)            the call was dropped before it started (SKIP)

``seconds`` is how long the worker spent on the call, unpickling and
pickling included: the pool's estimate of what the next one will cost.

Envelopes are plain pickles of plain tuples: only the blobs inside hold user
objects, and those are opened by code that handles their errors.
"""

from __future__ import annotations

import pickle
from typing import Any, NamedTuple

from pygame_async import _serialization
from pygame_async._errors import (
    DefinitionLoadError,
    RemoteError,
    RemoteTraceback,
    ResultNotSentError,
)

DEFINE, FORGET, CALL, STOP, SKIP = range(5)
HELLO, RESULT, FAILED, PROGRESS, START_FAILED, OVER_MEMORY, SKIPPED = range(5, 12)

# Failure kinds.
RAISED = "raised"  # the function raised
NOT_SENT = "not-sent"  # the result could not be pickled in the worker
NOT_LOADED = "not-loaded"  # the definition could not be loaded in the worker


class RemoteFailure(NamedTuple):
    """A failure in a worker, in a form that always pickles."""

    kind: str
    type_name: str
    message: str
    traceback: str
    exception_blob: bytes | None


def encode(message: Any) -> bytes:
    """Pickle a message envelope."""
    return pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)


def decode(data: bytes) -> Any:
    """Unpickle a message envelope."""
    return pickle.loads(data)


def failure_to_exception(name: str, failure: RemoteFailure) -> BaseException:
    """Rebuild, in the game, the exception a failed call of ``name`` delivers.

    The worker's own exception comes back with its own type where it can be
    unpickled here; otherwise a :class:`RemoteError` stands in for it.  Either
    way its ``__cause__`` is the remote traceback, as in ``concurrent.futures``.
    """
    cause = RemoteTraceback(failure.traceback)
    exception: BaseException
    if failure.kind == NOT_SENT:
        exception = ResultNotSentError(f"cannot send result of {name!r}: {failure.message}")
    elif failure.kind == NOT_LOADED:
        exception = DefinitionLoadError(
            f"the worker could not load the definition of {name!r}: "
            f"{failure.type_name}: {failure.message}"
        )
    else:
        exception = _unpickle_exception(failure)
    exception.__cause__ = cause
    return exception


def _unpickle_exception(failure: RemoteFailure) -> BaseException:
    if failure.exception_blob is not None:
        try:
            exception = _serialization.loads(failure.exception_blob)
        except Exception:
            pass
        else:
            if isinstance(exception, BaseException):
                return exception
    return RemoteError(f"{failure.type_name}: {failure.message}", failure.type_name)
