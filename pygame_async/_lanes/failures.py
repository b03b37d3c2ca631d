"""How a call that ran in another process comes back: its result as a pickle, or its failure.

Shared by the lanes whose calls run outside the game process (worker
processes, dask workers).  Where the call ran, :func:`describe_failure`
turns what it raised into a :class:`RemoteFailure`, which always travels
(its texts are plain strings; the exception itself is a pickle that may not
open in the game).  In the game, a lane files an outcome that is opened
only when the game needs the value (never under the pool's lock):
:class:`PickledResult` or :class:`RemoteFailed`, whose exception is rebuilt
by :func:`failure_to_exception` with the remote traceback as its cause.
"""

from __future__ import annotations

import enum
import traceback
from typing import Any, NamedTuple

from pygame_async._core import serialization
from pygame_async._core.errors import (
    CallAbortedError,
    DefinitionLoadError,
    RemoteError,
    RemoteTraceback,
    ResultNotSentError,
)


class FailureKind(enum.IntEnum):
    """What went wrong where the call ran."""

    RAISED = 0  # the function raised an Exception
    NOT_SENT = 1  # the result could not be pickled where it ran
    NOT_LOADED = 2  # the definition could not be loaded where it ran
    EXITED = 3  # the function raised a BaseException that is not an Exception


class RemoteFailure(NamedTuple):
    """A failure where the call ran, in a form that always travels."""

    kind: FailureKind
    type_name: str
    message: str
    traceback: str
    exception_blob: bytes | None


# -- where the call ran ------------------------------------------------------------


def describe_failure(
    kind: FailureKind, exc: BaseException, message: str | None = None
) -> RemoteFailure:
    """Describe an exception in a form that always travels (``message``: instead of its own)."""
    try:
        exception_blob: bytes | None = serialization.dumps(exc)
    except BaseException:
        exception_blob = None
    return RemoteFailure(
        kind=kind,
        type_name=serialization.describe(exc),
        message=_text_of(exc) if message is None else message,
        traceback="".join(traceback.format_exception(exc)),
        exception_blob=exception_blob,
    )


def why_not_sent(value: object, exc: BaseException) -> str | None:
    """Say why a result cannot be sent, where pickle's own words would not help."""
    if not isinstance(exc, serialization.UnsendableError):
        return None
    if exc.is_object(value):
        found = f"it is {exc.what}"
    else:
        found = f"it ({serialization.describe(value)}) holds {exc.what}"
    return f"{found}: {exc.advice('result')}"


def _text_of(exc: BaseException) -> str:
    try:
        return str(exc)
    except BaseException:
        return f"<{type(exc).__name__} whose str() failed>"


# -- in the game ------------------------------------------------------------------------


class PickledResult:
    """A call's result: a pickle (and raw buffers), opened when the game needs the value."""

    __slots__ = ("_blob", "_buffers")

    succeeded = True

    def __init__(self, blob: bytes, buffers: tuple[Any, ...] = ()) -> None:
        self._blob = blob
        self._buffers = buffers

    def open(self, name: str) -> tuple[Any, BaseException | None]:
        """Unpickle the value; a value that cannot be unpickled here fails the call."""
        try:
            return serialization.loads(self._blob, self._buffers), None
        except Exception as exc:
            error = ResultNotSentError(
                f"cannot send result of {name!r}: the game could not unpickle it: {exc}"
            )
            error.__cause__ = exc
            return None, error


class RemoteFailed:
    """A call's failure where it ran, turned into the game's exception when opened."""

    __slots__ = ("_failure",)

    succeeded = False

    def __init__(self, failure: RemoteFailure) -> None:
        self._failure = failure

    def open(self, name: str) -> tuple[Any, BaseException | None]:
        """Rebuild the exception the call delivers."""
        return None, failure_to_exception(name, self._failure)


def failure_to_exception(name: str, failure: RemoteFailure) -> BaseException:
    """Rebuild, in the game, the exception a failed call of ``name`` delivers.

    The worker's own exception comes back with its own type where it can be
    unpickled here; otherwise a :class:`RemoteError` stands in for it.  Either
    way its ``__cause__`` is the remote traceback, as in ``concurrent.futures``.
    A ``SystemExit``, ``KeyboardInterrupt`` or other ``BaseException`` that is
    not an ``Exception`` never reaches the game as itself: it would end the
    game, so a :class:`CallAbortedError` naming it stands in.
    """
    cause = RemoteTraceback(failure.traceback)
    exception: BaseException
    if failure.kind is FailureKind.NOT_SENT:
        exception = ResultNotSentError(f"cannot send result of {name!r}: {failure.message}")
    elif failure.kind is FailureKind.NOT_LOADED:
        exception = DefinitionLoadError(
            f"the worker could not load the definition of {name!r}: "
            f"{failure.type_name}: {failure.message}"
        )
    elif failure.kind is FailureKind.EXITED:
        detail = f": {failure.message}" if failure.message else ""
        exception = CallAbortedError(
            f"{name!r} raised {failure.type_name}{detail} in its worker",
            type_name=failure.type_name,
        )
    else:
        exception = _unpickle_exception(failure)
    exception.__cause__ = cause
    return exception


def _unpickle_exception(failure: RemoteFailure) -> BaseException:
    if failure.exception_blob is not None:
        try:
            exception = serialization.loads(failure.exception_blob)
        except Exception:
            pass
        else:
            if isinstance(exception, Exception):
                return exception
    return RemoteError(f"{failure.type_name}: {failure.message}", failure.type_name)
