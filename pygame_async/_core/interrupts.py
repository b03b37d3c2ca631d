"""Ctrl+C in the middle of the pool's own code: deferred until the pool is consistent.

Python turns SIGINT into ``KeyboardInterrupt`` on the main thread, between
any two bytecodes.  Raised half-way through ``call()`` or ``update()``, it
would leave a call queued but not counted, or counted but never delivered.
So, as trio does, a pool made on the main thread installs a SIGINT handler
(only if the game still has Python's default one) that looks at what was
interrupted:

* in code run by a :func:`protected` entry point of the pool (its public
  methods), the interrupt is *deferred*: it is raised when the outermost
  protected call returns, or at the next :func:`blocking` point, where the
  pool's state is whole again;
* anywhere else, and in the game's callbacks (run through :func:`call_user`)
  and the pool's blocking waits (run through :func:`blocking`), it is raised
  at once, exactly as Python's default handler would.

Frames are told apart by three code objects, so the cost of protection is a
wrapper call; the frame walk happens only when the signal arrives.  A game
that installs its own SIGINT handler keeps it; the pool never replaces it.
"""

from __future__ import annotations

import functools
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType
from typing import Any, ParamSpec, TypeVar

_P = ParamSpec("_P")
_T = TypeVar("_T")

_MAIN_THREAD = threading.main_thread().ident
_pending = False  # an interrupt was deferred; raise it at the next safe point
_users = 0  # live pools that asked for the handler
_lock = threading.Lock()


def protected(function: Callable[_P, _T]) -> Callable[_P, _T]:
    """Defer Ctrl+C while ``function`` (a pool entry point) changes the pool's state."""

    @functools.wraps(function)
    def guard(*args: _P.args, **kwargs: _P.kwargs) -> _T:
        try:
            return function(*args, **kwargs)
        finally:
            if _pending and threading.get_ident() == _MAIN_THREAD:
                _raise_if_outermost(sys._getframe(1))

    return guard


def call_user(function: Callable[..., _T], /, *args: Any) -> _T:
    """Run the game's code (a callback) from protected code: Ctrl+C interrupts it as usual."""
    return function(*args)


def blocking(function: Callable[..., _T], /, *args: Any) -> _T:
    """Run a wait of the pool's (with its state whole): Ctrl+C ends it at once.

    An interrupt deferred earlier is raised here, before blocking.
    """
    global _pending
    if _pending and threading.get_ident() == _MAIN_THREAD:
        _pending = False
        raise KeyboardInterrupt
    return function(*args)


def _guard_code() -> Any:
    return protected(lambda: None).__code__


_GUARD = _guard_code()
_USER = call_user.__code__
_BLOCKING = blocking.__code__


def _deferrable(frame: FrameType | None) -> bool:
    """Tell whether an interrupt arriving in ``frame`` lands in protected pool code."""
    innermost = frame
    while frame is not None:
        code = frame.f_code
        if code is _USER:
            # Still in the trampoline itself: the callback has not started (or
            # has returned), so this is the pool's own bookkeeping around it.
            return frame is innermost
        if code is _BLOCKING:
            return False
        if code is _GUARD:
            return True
        frame = frame.f_back
    return False


def _raise_if_outermost(caller: FrameType | None) -> None:
    """At a protected call's exit: raise the deferred interrupt unless an outer one will."""
    global _pending
    frame = caller
    while frame is not None:
        code = frame.f_code
        if code is _GUARD:
            return  # an enclosing protected call raises it when it returns
        if code is _USER or code is _BLOCKING:
            break  # called from a callback or a wait: this is the outermost
        frame = frame.f_back
    _pending = False
    raise KeyboardInterrupt


def _on_sigint(signum: int, frame: FrameType | None) -> None:
    global _pending
    if _deferrable(frame):
        _pending = True
        return
    signal.default_int_handler(signum, frame)


def install() -> None:
    """Protect pools from Ctrl+C from now on (called as a pool is made)."""
    global _users
    with _lock:
        _users += 1
        if (
            threading.get_ident() == _MAIN_THREAD
            and signal.getsignal(signal.SIGINT) is signal.default_int_handler
        ):
            signal.signal(signal.SIGINT, _on_sigint)


def uninstall() -> None:
    """Give the default handler back once no pool needs ours (called at shutdown)."""
    global _users
    with _lock:
        _users = max(0, _users - 1)
        if (
            _users == 0
            and threading.get_ident() == _MAIN_THREAD
            and signal.getsignal(signal.SIGINT) is _on_sigint
        ):
            signal.signal(signal.SIGINT, signal.default_int_handler)
