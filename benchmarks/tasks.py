"""The functions the benchmarks run in worker processes.

They live in their own module, apart from ``run.py``, so that every pool can
import them by name in its workers (forkserver and spawn children re-import
modules, they never inherit them).
"""

from __future__ import annotations

from collections.abc import Callable


def add_one(x: int) -> int:
    """The tiniest call: measures the pool's own cost per call."""
    return x + 1


def cpu_work(n: int) -> int:
    """Pure-Python arithmetic taking time proportional to ``n``; holds the GIL throughout."""
    total = 0
    for i in range(n):
        total += i * i % 7
    return total


def make_bytes(size: int, fill: int) -> bytes:
    """A ``size``-byte result, every byte ``fill``, so the receiver can check it."""
    return bytes([fill]) * size


def measure_table(table: bytes, i: int) -> int:
    """What a user of a pool that cannot send closures writes: the map as an argument."""
    return len(table) + table[i] + i


def make_lookup(table: bytes) -> Callable[[int], int]:
    """A closure over ``table``: the function a game would define once and call often."""

    def lookup(i: int) -> int:
        return len(table) + table[i] + i

    return lookup
