"""What happens when a finished call is delivered: the callback forms ``call()`` accepts.

This is the delivery seam.  ``call()`` turns its ``callback`` argument into a
:class:`Delivery` at once (so a bad callback fails at the call that made it),
and ``update()`` later hands each finished task to its delivery on the game's
thread.  The pygame adapter plugs in here without the core importing pygame:
it adds a form of its own (pygame event types, delivered by posting an event
from a pool thread) through :func:`add_callback_form`, and the hook that asks
an event-driven game to call ``update()`` through :func:`set_update_request`.
"""

from __future__ import annotations

import functools
import logging
import types
from collections.abc import Callable, Mapping
from concurrent.futures import InvalidStateError
from typing import Any, ClassVar, Protocol

logger = logging.getLogger("pygame_async")

CallbackForm = Callable[[object, str], "Delivery | None"]
_extra_forms: list[CallbackForm] = []

UpdateRequest = Callable[[object], bool]
"""``request(pool)``: make sure the game will call ``pool.update()``.

Called on a pool thread whenever callbacks wait for ``update()``, however
often; returns True if a request is waiting for the game.
"""
_update_request: UpdateRequest | None = None

_PAIR_KEYS = frozenset({"success", "error"})

# Callbacks of these types are plain functions whatever else is registered:
# telling them apart costs one set lookup instead of the isinstance() checks
# below (Mapping's is slow), on every call().
_PLAIN_FUNCTIONS = frozenset(
    {
        types.FunctionType,
        types.MethodType,
        types.BuiltinFunctionType,  # also bound methods of builtins: list.append
        functools.partial,
    }
)


class Delivered(Protocol):
    """What a delivery needs to know of the call it delivers."""

    @property
    def id(self) -> int:
        """The call's id."""

    @property
    def name(self) -> str:
        """The name of the function called."""

    def cancelled(self) -> bool:
        """Return True if the call was cancelled (only a :class:`FutureCompletion` hears of it)."""

    @property
    def _callback(self) -> object:
        """The ``callback`` argument given to ``call()``, as it was given."""


class Delivery(Protocol):
    """How one call's outcome reaches the game."""

    posted: ClassVar[bool]
    """True if delivering only posts an event, which any thread may do."""

    def deliver(self, task: Delivered, value: Any, exception: BaseException | None) -> bool:
        """Hand over the outcome (``exception`` is None on success); False to retry later."""


class Prepared:
    """A delivery pygame_async makes itself (a group's member): ``call()`` takes it as it is.

    Unlike the callback forms, it also hears of its call's cancellation.
    """

    __slots__ = ()
    posted: ClassVar[bool] = False

    def deliver(self, task: Delivered, value: Any, exception: BaseException | None) -> bool:
        """Hand over the outcome, on the thread that calls ``update()``."""
        raise NotImplementedError

    def cancelled(self, task: Delivered) -> None:
        """``[lock]`` The call was cancelled: :meth:`deliver` will never run for it."""


def add_callback_form(form: CallbackForm) -> None:
    """Let ``call()`` accept another kind of callback.

    ``form(callback, function_name)`` returns a Delivery for callbacks it
    recognises and None for the others.
    """
    _extra_forms.append(form)


def set_update_request(request: UpdateRequest) -> None:
    """Install the hook pools use to ask the game to call ``update()``."""
    global _update_request
    _update_request = request


def request_update(pool: object) -> bool:
    """Ask the game to call ``pool.update()``; True if a request is waiting for it."""
    return _update_request is not None and _update_request(pool)


def resolve(callback: object, function_name: str) -> Delivery:
    """Return the Delivery for a ``callback`` argument, or raise TypeError naming the problem.

    A function's delivery, and an object's with ``success``/``error``, is
    shared by every call: it finds the callback on the task
    (``Delivered._callback``), so a pending call holds no object of its own
    for it (each one is another object for the garbage collector to scan).
    """
    if callback is None:
        return _FIRE_AND_FORGET
    kind = type(callback)
    if kind in _PLAIN_FUNCTIONS:
        return _SUCCESS_ONLY
    if kind is FutureCompletion:  # PoolExecutor's calls: never one of the game's
        return callback  # type: ignore[return-value]
    if kind in _object_types:  # seen before: neither Prepared, a Mapping, nor callable
        for form in _extra_forms:
            delivery = form(callback, function_name)
            if delivery is not None:
                return delivery
        return _object_pair(callback, function_name)
    if isinstance(callback, Prepared):
        return callback
    for form in _extra_forms:
        delivery = form(callback, function_name)
        if delivery is not None:
            return delivery
    if isinstance(callback, Mapping):
        unknown = set(callback) - _PAIR_KEYS
        if unknown:
            raise TypeError(
                f"call({function_name!r}): a callback mapping may only have the keys "
                f"'success' and 'error', not {sorted(map(repr, unknown))}"
            )
        return _pair(callback.get("success"), callback.get("error"), function_name)
    if callable(callback):
        return _SUCCESS_ONLY
    delivery = _object_pair(callback, function_name)
    _object_types.add(kind)
    return delivery


def _object_pair(callback: object, function_name: str) -> Delivery:
    """Return the delivery of an object with ``success``/``error`` functions, checked now."""
    success = getattr(callback, "success", None)
    error = getattr(callback, "error", None)
    if success is None and error is None:
        if hasattr(callback, "success") or hasattr(callback, "error"):
            return _OBJECT_PAIR  # both there, both None: nothing runs, as for a mapping's
        raise TypeError(
            f"call({function_name!r}): callback must be None, a function taking the result, "
            "or an object or mapping with 'success'/'error' functions; "
            f"got {type(callback).__name__}"
        )
    _check_handlers(success, error, function_name)
    return _OBJECT_PAIR


def log_failure(task: Delivered, exception: BaseException) -> None:
    """Log a failure nobody handles, with its remote traceback: never drop it silently."""
    logger.warning(
        "call %d to %r failed and has no error callback",
        task.id,
        task.name,
        exc_info=(type(exception), exception, exception.__traceback__),
    )


def _pair(success: object, error: object, function_name: str) -> Delivery:
    _check_handlers(success, error, function_name)
    return _SuccessErrorPair(success, error)  # type: ignore[arg-type]


def _check_handlers(success: object, error: object, function_name: str) -> None:
    if (success is None or callable(success)) and (error is None or callable(error)):
        return  # every call() with a pair asks: no loop to say nothing
    for side, handler in (("success", success), ("error", error)):
        if handler is not None and not callable(handler):
            raise TypeError(
                f"call({function_name!r}): the callback's {side!r} must be a function or None, "
                f"got {type(handler).__name__}"
            )


class _FireAndForget:
    posted: ClassVar[bool] = False

    def deliver(self, task: Delivered, value: Any, exception: BaseException | None) -> bool:
        if exception is not None:
            log_failure(task, exception)
        return True


_FIRE_AND_FORGET = _FireAndForget()


class _SuccessOnly:
    """A function callback's delivery, one for all calls: the function is the task's."""

    __slots__ = ()
    posted: ClassVar[bool] = False

    def deliver(self, task: Delivered, value: Any, exception: BaseException | None) -> bool:
        if exception is not None:
            log_failure(task, exception)
        else:
            task._callback(value)  # type: ignore[operator]
        return True


_SUCCESS_ONLY = _SuccessOnly()


class _ObjectPair:
    """The delivery of an object with ``success``/``error``, one for all calls.

    ``call()`` checked the object's functions; they are looked up on it
    again here, rather than kept per call.
    """

    __slots__ = ()
    posted: ClassVar[bool] = False

    def deliver(self, task: Delivered, value: Any, exception: BaseException | None) -> bool:
        if exception is None:
            success = getattr(task._callback, "success", None)
            if success is not None:
                success(value)
            return True
        error = getattr(task._callback, "error", None)
        if error is not None:
            error(exception)
        else:
            log_failure(task, exception)
        return True


_OBJECT_PAIR = _ObjectPair()
# Types of objects resolved as success/error pairs: the next one of the type
# skips the checks that depend on its type alone.
_object_types: set[type] = set()


class _SuccessErrorPair:
    __slots__ = ("_error", "_success")
    posted: ClassVar[bool] = False

    def __init__(
        self,
        success: Callable[[Any], object] | None,
        error: Callable[[BaseException], object] | None,
    ) -> None:
        self._success = success
        self._error = error

    def deliver(self, task: Delivered, value: Any, exception: BaseException | None) -> bool:
        if exception is None:
            if self._success is not None:
                self._success(value)
        elif self._error is not None:
            self._error(exception)
        else:
            log_failure(task, exception)
        return True


class Completable(Protocol):
    """What a :class:`FutureCompletion` completes: a ``concurrent.futures.Future`` of a call."""

    def set_result(self, result: Any) -> None:
        """Finish the Future with the call's value (``Future.set_result``)."""

    def set_exception(self, exception: BaseException | None) -> None:
        """Finish the Future with the call's exception (``Future.set_exception``)."""

    def _settle_cancelled(self) -> None:
        """Mark the Future cancelled, once, whoever asks first (the call is cancelled)."""


class FutureCompletion:
    """Complete a Future with its call's outcome, without ``update()`` (``PoolExecutor``).

    ``call()`` takes one as its callback.  Like a pygame event it is
    delivered on a pool thread, not in ``update()``: ``Ledger.settle_futures``
    runs it with no lock held, on whatever thread files the outcome (a
    lane's thread; or the one calling ``update()`` or ``wait()``), and the
    call stops counting as pending only then.  Unlike any other delivery it
    also hears of a cancellation and of an outcome that arrives after the
    pool's shutdown (``Task._hears_every_end``): a Future left pending would
    hang whoever waits on it.  The Future's done-callbacks run on that thread.
    """

    __slots__ = ("future",)
    posted: ClassVar[bool] = True

    def __init__(self, future: Completable) -> None:
        self.future = future

    def deliver(self, task: Delivered, value: Any, exception: BaseException | None) -> bool:
        future = self.future
        try:
            if task.cancelled():
                future._settle_cancelled()
            elif exception is None:
                future.set_result(value)
            else:
                future.set_exception(exception)
        except InvalidStateError:  # pragma: no cover - a Future is completed once, by us
            logger.exception("pygame_async: the Future of call %d was completed twice", task.id)
        return True  # never retried: raising here would stop the thread that posts
