"""Helpers shared by the tests (importable by worker processes too)."""

from __future__ import annotations

import time
from collections.abc import Callable

import pygame_async

BOUND = 10.0  # seconds: the longest any condition in a test may take to hold


def wait_until(condition: Callable[[], object], timeout: float = BOUND) -> None:
    """Wait for a condition with a bounded timeout; fail the test if it never holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s: {condition}")
        time.sleep(0.005)


def pid_alive(pid: int) -> bool:
    """True if a process with this pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):  # gone, or going as we read
        return False


def worker_pids(pool: pygame_async.Pool) -> list[int]:
    """The pids of a pool's worker processes (white-box, for leak checks)."""
    return [worker.pid for worker in pool._workers if worker.pid is not None]
