"""``report_progress()``: how a running call tells the game how far it is, on any lane.

A lane that runs a call sets a :class:`Reporter` for the thread running it
(:func:`reporting`); ``report_progress()`` validates its arguments and hands
them to that reporter.  Outside a call it only validates, so the same
function also runs directly in the game.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Protocol


class Reporter(Protocol):
    """Takes the progress reports of the call running on this thread."""

    def report(self, fraction: float, message: str | None) -> None:
        """Record (or send) one report; ``fraction`` is already checked."""


_current = threading.local()


@contextlib.contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Route ``report_progress()`` on this thread to ``reporter`` while a call runs."""
    previous = set_reporter(reporter)
    try:
        yield
    finally:
        set_reporter(previous)


def set_reporter(reporter: Reporter | None) -> Reporter | None:
    """Route ``report_progress()`` on this thread to ``reporter``; return the previous one.

    For a worker's serve loop, which sets one reporter for all its calls.
    """
    previous: Reporter | None = getattr(_current, "reporter", None)
    _current.reporter = reporter
    return previous


def report_progress(fraction: float, message: str | None = None) -> None:
    """Tell the game how far the running call is: ``fraction`` from 0 to 1.

    Call it from a function running on a worker; the game sees the latest
    value as ``task.progress`` (and ``task.progress_message``) and through
    ``task.on_progress(callback)``.  Cheap enough to call in an inner loop:
    reports are sent at most every 10 ms, and the last one always arrives
    before the call's result.  Outside a worker (the same function run
    directly in the game) it checks its arguments and does nothing else.
    """
    if isinstance(fraction, bool) or not isinstance(fraction, int | float):
        raise TypeError(
            f"report_progress(fraction): fraction must be a number from 0 to 1, "
            f"got {type(fraction).__name__}"
        )
    if not 0.0 <= fraction <= 1.0:  # also refuses NaN
        raise ValueError(f"report_progress(fraction): fraction must be from 0 to 1, got {fraction}")
    if message is not None and not isinstance(message, str):
        raise TypeError(
            f"report_progress(fraction, message): message must be a str or None, "
            f"got {type(message).__name__}"
        )
    reporter: Reporter | None = getattr(_current, "reporter", None)
    if reporter is not None:
        reporter.report(float(fraction), message)
