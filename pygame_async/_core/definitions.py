"""The pool's table of defined functions and their versions.

Every ``define()`` makes a new :class:`Definition` with its own id; calls name
the id, not the name.  So a call made before a redefinition or an
``undefine()`` runs the version that was current when it was made, and a
worker started later can still be given that version.  A version that is no
longer current is *retired* (lanes told to forget it) once no call made on
it is still unfinished.

What a lane needs to run a definition is its ``payload``, made by the lane
from the function when ``define()`` is called (the process lane pickles it;
the thread lane keeps the function itself).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(eq=False, slots=True)
class Definition:
    """One version of a defined function, as the game process knows it."""

    id: int
    name: str
    payload: Any  # what the lane runs: a pickled function, or the function itself
    timeout: float | None = None  # seconds a call may run on a worker
    live_calls: int = 0  # calls made on this version not yet finished or cancelled
    current: bool = True
    estimate: float | None = None  # seconds a worker spends on a call: a moving average

    def measured(self, seconds: float) -> None:
        """Fold a worker's measure of one call into the estimate."""
        if self.estimate is None:
            self.estimate = seconds
        else:
            self.estimate += (seconds - self.estimate) * 0.2

    @property
    def retirable(self) -> bool:
        """True once no worker will ever need this version again."""
        return not self.current and self.live_calls == 0


class Definitions:
    """The current definition of each name, and the ids they are known by."""

    def __init__(self) -> None:
        self._current: dict[str, Definition] = {}
        self._ids = itertools.count(1)

    def __iter__(self) -> Iterator[Definition]:
        return iter(self._current.values())

    def define(
        self, name: str, payload: Any, timeout: float | None = None
    ) -> tuple[Definition, Definition | None]:
        """Make ``payload`` the current definition of ``name``.

        Returns the new definition and the one it replaced, if any.
        """
        definition = Definition(next(self._ids), name, payload, timeout)
        replaced = self._current.get(name)
        if replaced is not None:
            replaced.current = False
        self._current[name] = definition
        return definition, replaced

    def undefine(self, name: str) -> Definition | None:
        """Make ``name`` undefined; returns the definition it had, if any."""
        definition = self._current.pop(name, None)
        if definition is not None:
            definition.current = False
        return definition

    def lookup(self, name: str) -> Definition:
        """Return the current definition of ``name`` or raise LookupError saying what exists."""
        try:
            return self._current[name]
        except KeyError:
            known = ", ".join(repr(known) for known in sorted(self._current)) or "none"
            raise LookupError(
                f"call({name!r}): no function is defined under that name "
                f"(defined: {known}); define it first with define({name!r}, function)"
            ) from None
