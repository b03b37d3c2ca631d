"""The pygame adapter for delivery: completions as pygame events, and the update request.

Two things plug into the core's delivery seam (:mod:`pygame_async._core.delivery`):

* A callback may be a pygame event type.  The call is then delivered by
  posting ``pygame.event.Event(type, ok=..., result=..., error=..., task=...,
  name=...)``, which the pool's I/O thread does as soon as the reply arrives:
  a game blocked in ``pygame.event.wait()`` wakes up with it.
* When function callbacks wait for ``update()``, the pool posts one
  :data:`UPDATE_EVENT` (``event.pool`` is the pool), so a game that only
  reacts to events knows to call ``update()``.

Posting happens on pool threads; only the game's main thread reads the event
queue.  An event that cannot be posted (the queue is full, its type is
blocked, pygame is not initialised) is kept and tried again later; see
``Ledger.post_finished``.

This module never imports pygame: it uses the pygame the game has imported.
So the core, and every worker, stay free of pygame unless user code needs it.
"""

from __future__ import annotations

import sys
import weakref
from types import ModuleType
from typing import Any, ClassVar

from pygame_async._core import delivery
from pygame_async._core.delivery import Delivered

UPDATE_EVENT = 65534
"""The pygame event type of the update request: handle it by calling ``update()``.

The last type of SDL's user range (pygame-ce refuses 65535).
``pygame.event.custom_type()`` hands out types from the bottom of that range
and restarts from the bottom after ``pygame.quit()``, so a game would have to
allocate over 32,000 types to reach this one.
"""


def _pygame() -> ModuleType | None:
    """Return the pygame module the game has imported, if any."""
    return sys.modules.get("pygame")


class _PostEvent:
    """Deliver a call by posting a pygame event of the type given as its callback."""

    __slots__ = ("_event_type",)
    posted: ClassVar[bool] = True

    def __init__(self, event_type: int) -> None:
        self._event_type = event_type

    def deliver(self, task: Delivered, value: Any, exception: BaseException | None) -> bool:
        pygame = _pygame()
        if pygame is None:
            return False
        event = pygame.event.Event(
            self._event_type,
            ok=exception is None,
            result=value if exception is None else None,
            error=exception,
            task=task,
            name=task.name,
        )
        return _post(pygame, event)


def _post(pygame: ModuleType, event: Any) -> bool:
    """Post an event from any thread; False if it cannot be posted now."""
    try:
        # False when the type is blocked; pygame.error when the queue is full
        # or the video system is not initialised (before init, after quit).
        return bool(pygame.event.post(event))
    except pygame.error:
        return False


def event_type_form(callback: object, function_name: str) -> delivery.Delivery | None:
    """Accept an ``int`` callback as a pygame event type."""
    if isinstance(callback, bool) or not isinstance(callback, int):
        return None
    pygame = _pygame()
    if pygame is None:
        raise TypeError(
            f"call({function_name!r}): an int callback is a pygame event type, "
            "but pygame is not imported"
        )
    if callback == UPDATE_EVENT:
        raise ValueError(
            f"call({function_name!r}): the callback cannot be pygame_async.UPDATE_EVENT, "
            "which the pool posts itself; use pygame.event.custom_type()"
        )
    if not pygame.USEREVENT <= callback < pygame.NUMEVENTS:
        raise ValueError(
            f"call({function_name!r}): an event-type callback must be a user event type "
            f"from pygame.USEREVENT ({pygame.USEREVENT}) to {pygame.NUMEVENTS - 1}, "
            f"e.g. pygame.event.custom_type(); got {callback}"
        )
    return _PostEvent(callback)


class _RequestToken:
    """Rides on a pool's UPDATE_EVENT: alive while the event may still be queued."""

    __slots__ = ("__weakref__",)


# The token of each pool's latest UPDATE_EVENT.  pygame frees an event's
# attributes when the game takes the event from the queue and drops it, so a
# dead token means the request was taken.  Attributes of an event discarded
# with ``event.clear()`` are never freed, hence the second check in
# request_update().
_latest_tokens: weakref.WeakKeyDictionary[object, weakref.ref[_RequestToken]] = (
    weakref.WeakKeyDictionary()
)


def request_update(pool: object) -> bool:
    """Post an UPDATE_EVENT for ``pool`` unless its last one is still in the queue."""
    pygame = _pygame()
    if pygame is None:
        return False
    latest = _latest_tokens.get(pool)
    try:
        # Peeking without pumping only locks SDL's queue, which any thread may do.
        if (
            latest is not None
            and latest() is not None
            and pygame.event.peek(UPDATE_EVENT, pump=False)
        ):
            return True
    except pygame.error:
        return False
    token = _RequestToken()
    if not _post(pygame, pygame.event.Event(UPDATE_EVENT, pool=pool, token=token)):
        return False
    _latest_tokens[pool] = weakref.ref(token)
    return True
