"""Helpers shared by the tests, and the worker functions they define (importable by workers).

A worker process imports this module by name to run the functions below, so
it must import nothing a worker cannot (no test module, no fixture).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Generator
from pathlib import Path

import pygame_async

REPO = Path(__file__).resolve().parent.parent
BOUND = 10.0  # seconds: the longest any condition in a test may take to hold
HOLD_LIMIT = 6 * BOUND  # seconds: a blocked call gives up, so a failed test cannot hang its pool


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


def run_game_script(tmp_path: Path, source: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``source`` (dedented) as ``game.py`` in a fresh interpreter, as a game starts.

    It runs in ``tmp_path``, headless, with the repository and the tests
    importable and nothing else of this environment (plus ``env``).
    """
    script = tmp_path / "game.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={
            "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]),
            "SDL_VIDEODRIVER": "dummy",
            "SDL_AUDIODRIVER": "dummy",
            "PATH": "/usr/bin:/bin",
            **env,
        },
    )


def worker_pids(pool: pygame_async.Pool) -> list[int]:
    """The pids of a pool's worker processes (white-box, for leak checks)."""
    import whitebox

    return whitebox.worker_pids(pool)


# -- worker functions: defined by the tests, run on any lane -------------------------------


def identity(value: object) -> object:
    return value


def block_until(path: str) -> Generator[None, None, str]:
    """Run until a file appears: a call that stays busy as long as a test needs.

    A generator function, so it runs on every lane: the process and thread
    lanes run it to completion, the inline lane a step (one look for the
    file) per turn, so the game's thread can create the file meanwhile.
    Gives up (TimeoutError) after HOLD_LIMIT, so a test that fails before it
    creates the file ends with an error instead of a pool that never shuts down.
    """
    deadline = time.monotonic() + HOLD_LIMIT
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.001)
        yield
    return path


def signal_then_block(started: str, path: str) -> Generator[None, None, str]:
    """Create the file ``started`` (the call is running now), then :func:`block_until` ``path``."""
    with open(started, "w"):
        pass
    return (yield from block_until(path))


def stepped_sum(count: int) -> Generator[None, None, int]:
    """A generator function: ``count`` steps, reporting progress at each; returns their sum."""
    total = 0
    for step in range(1, count + 1):
        total += step
        pygame_async.report_progress(step / count, f"step {step}")
        yield
    return total


def stepped_failure(steps: int) -> Generator[None, None, None]:
    """A generator function that raises ValueError after ``steps`` steps."""
    for _ in range(steps):
        yield
    raise ValueError(f"failed after {steps} steps")


def fail_on_odd(value: int) -> int:
    """Return ``value``; raise ValueError for an odd one."""
    if value % 2:
        raise ValueError(f"odd: {value}")
    return value


def started_at(tag: object) -> tuple[object, float]:
    """Return ``tag`` and when this call started running (``time.monotonic()``, any process)."""
    return tag, time.monotonic()


def hold_until(moment: float) -> float:
    """Keep the worker busy until ``moment`` (``time.monotonic()``), then return it."""
    while time.monotonic() < moment:
        pass
    return moment
