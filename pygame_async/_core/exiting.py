"""What runs as the interpreter exits: pools end their workers before anything waits for them.

The hooks run before the ``atexit`` module's (so before ``multiprocessing``'s,
which would join workers that may never stop by themselves), last
registered first.  A lane that imports a library with exit hooks of its own
(``distributed`` brings ``concurrent.futures``', which stops its thread pools
from taking work) registers the pool's hooks :func:`again`, after that
import, so that they run first: the pools then leave while that library can
still do what leaving needs.  A hook runs as often as it was registered; the
pools' hook does nothing the second time.  A web build's threading (pygbag's
green threads) may lack these hooks; there is no worker process to end there.
"""

from __future__ import annotations

import atexit
import threading
from collections.abc import Callable

_register = getattr(threading, "_register_atexit", atexit.register)
_hooks: list[Callable[[], None]] = []


def at_exit(hook: Callable[[], None]) -> None:
    """Have ``hook()`` run as the interpreter exits, before the ``atexit`` module's hooks."""
    _hooks.append(hook)
    _register(hook)


def again() -> None:
    """Register every hook once more, so that they run before those registered since."""
    for hook in _hooks:
        _register(hook)
