"""``ensure``: keep the worker count within bounds, chainably."""

from __future__ import annotations

from typing import Protocol

from pygame_async._core import validate


class _Resizable(Protocol):
    def get_worker_count(self) -> int: ...

    def add_worker(self) -> None: ...

    def stop_workers(self, amount: int = 1) -> None: ...


class Ensure:
    """Adjust a pool's worker count; each method returns the object so calls chain.

    ``pool.ensure.at_least(2).at_most(4)`` starts workers until there are 2
    and stops workers until there are at most 4.  Starting does not block:
    the count changes at once, the new workers become ready shortly after.
    """

    __slots__ = ("_pool",)

    def __init__(self, pool: _Resizable) -> None:
        self._pool = pool

    def exactly(self, n: int) -> Ensure:
        """Start or stop workers until there are exactly ``n``."""
        validate.count("ensure.exactly(n)", "n", n)
        return self.at_least(n).at_most(n)

    def at_least(self, n: int) -> Ensure:
        """Start workers until there are at least ``n``."""
        validate.count("ensure.at_least(n)", "n", n)
        for _ in range(n - self._pool.get_worker_count()):
            self._pool.add_worker()
        return self

    def at_most(self, n: int) -> Ensure:
        """Stop workers (idle ones first) until there are at most ``n``."""
        validate.count("ensure.at_most(n)", "n", n)
        surplus = self._pool.get_worker_count() - n
        if surplus > 0:
            self._pool.stop_workers(surplus)
        return self
