"""Big arguments, sent the way a game sends them: from a loop that ticks every ~1 ms.

Each call hands a worker 16 MiB (a ``bytes``, a numpy array, a 32-bit
Surface); the worker answers with a few numbers that prove it saw this
call's data.  The main thread then runs the stand-in game loop of
``big_results`` until the answer is in its hands.  "main ms" is the time
the main thread spent inside the pool's own functions for that call:
``call()`` or ``submit()``, and every ``update()`` (or ``done()``) until the
answer arrived.  "blocked ms" is the loop's lateness, as for big results: it
also counts the time a pool's own thread held the GIL, pickling the data.
"copy ms" is one copy of the argument's bytes into memory already paged in
(the fastest of five), made here: the least that keeping the worker's view
as it was at ``call()`` can cost the game's thread, for a mutable argument.

Pools that cannot pickle a Surface get what their users would write: the
main thread turns it into bytes with ``pygame.image.tobytes`` (inside the
timed ``submit``) and the worker wraps them with ``image.frombuffer``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks.big_results import LATE, TICK, idle_frame
from benchmarks.common import MIB, Config, Metrics, expect, percentile
from benchmarks.runners import TIMEOUT, Runner


def corners(value: Any) -> tuple[int, int, int]:
    """In the worker: the argument's size in bytes, its first and its last byte."""
    import pygame

    if isinstance(value, pygame.Surface):
        width, height = value.get_size()
        first, last = value.get_at((0, 0)), value.get_at((width - 1, height - 1))
        return width * height * value.get_bytesize(), first.r, last.r
    if isinstance(value, bytes):
        return len(value), value[0], value[-1]
    flat = value.reshape(-1).view("uint8")  # a numpy array
    return flat.nbytes, int(flat[0]), int(flat[-1])


def corners_of_rgba(size: tuple[int, int], pixels: bytes) -> tuple[int, int, int]:
    """In the worker, for pools that send a Surface as bytes: rebuild it, then :func:`corners`."""
    import pygame

    return corners(pygame.image.frombuffer(pixels, size, "RGBA"))


def _size(config: Config) -> int:
    return config.big_result_bytes  # the size big results have: 16 MiB, 4 MiB with --quick


def _send(
    runner: Runner, submit: Callable[[], Any], frame: float
) -> tuple[Any, float, float, float]:
    """One call: its answer, main-thread seconds in the pool, lateness summed, and wall time."""
    start = time.perf_counter()
    handle = submit()
    inside = time.perf_counter() - start
    late = 0.0
    last = time.perf_counter()
    while True:
        before = time.perf_counter()
        done = runner.poll(handle)
        value = runner.result(handle) if done else None
        inside += time.perf_counter() - before
        if done:
            return value, inside, late, time.perf_counter() - start
        time.sleep(TICK)
        now = time.perf_counter()
        lateness = now - last - frame
        last = now
        if lateness > LATE:
            late += lateness
        expect(now - start < TIMEOUT, f"big argument: no answer after {TIMEOUT} s")


def copy_floor(source: Any) -> float:
    """Seconds one copy of ``source``'s bytes into paged-in memory takes (the fastest of five)."""
    with memoryview(source) as view:
        flat = view.cast("B") if view.contiguous else memoryview(bytes(view))
        target = bytearray(flat.nbytes)
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            target[:] = flat
            best = min(best, time.perf_counter() - start)
    return best


def _measure(
    runner: Runner,
    config: Config,
    prepare: Callable[[int], Callable[[], Any]],
    expected: Callable[[int], tuple[int, int, int]],
    floor: float,
) -> Metrics:
    """``reps`` calls, each with fresh contents (``prepare(rep)``, not timed), checked."""
    frame = idle_frame()
    inside, late, wall = [], [], []
    for rep in range(config.big_result_reps):
        submit = prepare(rep)
        value, main, blocked, seconds = _send(runner, submit, frame)
        expect(value == expected(rep), f"big argument: the worker saw {value}, not this call's")
        inside.append(main)
        late.append(blocked)
        wall.append(seconds)
    size = _size(config)
    return {
        "main ms/call": percentile(inside, 0.5) * 1e3,
        "main ms max": max(inside) * 1e3,
        "blocked ms/call": percentile(late, 0.5) * 1e3,
        "MB/s": len(wall) * size / MIB / sum(wall),
        "copy ms": floor * 1e3,
    }


def bytes_argument(runner: Runner, config: Config) -> Metrics:
    """A 16 MiB ``bytes`` argument per call."""
    size = _size(config)
    submit = runner.bind("corners", corners)

    def prepare(rep: int) -> Callable[[], Any]:
        data = bytes([rep]) * size
        return lambda: submit(data)

    floor = copy_floor(bytes(size))
    return _measure(runner, config, prepare, lambda rep: (size, rep, rep), floor)


def array_argument(runner: Runner, config: Config) -> Metrics:
    """A 16 MiB numpy array (the game keeps it and changes it between calls)."""
    import numpy

    size = _size(config)
    array = numpy.zeros((size // 4096, 4096), numpy.uint8)
    submit = runner.bind("corners", corners)

    def prepare(rep: int) -> Callable[[], Any]:
        array[0, 0] = array[-1, -1] = rep
        return lambda: submit(array)

    return _measure(runner, config, prepare, lambda rep: (size, rep, rep), copy_floor(array))


def read_only_array_argument(runner: Runner, config: Config) -> Metrics:
    """A 16 MiB numpy array the game made read-only (``flags.writeable = False``) for the call.

    Between calls (not timed) the game makes it writable, changes it and makes
    it read-only again: pygame_async then sends it without a snapshot.
    """
    import numpy

    size = _size(config)
    array = numpy.zeros((size // 4096, 4096), numpy.uint8)
    submit = runner.bind("corners", corners)

    def prepare(rep: int) -> Callable[[], Any]:
        array.flags.writeable = True  # the last call is answered: the game may change it
        array[0, 0] = array[-1, -1] = rep
        array.flags.writeable = False
        return lambda: submit(array)

    return _measure(runner, config, prepare, lambda rep: (size, rep, rep), copy_floor(array))


def surface_argument(runner: Runner, config: Config) -> Metrics:
    """A 2048x2048 32-bit Surface with per-pixel alpha (16 MiB) the game keeps drawing on."""
    import pygame

    side = int((_size(config) // 4) ** 0.5)
    surface = pygame.Surface((side, side), pygame.SRCALPHA, 32)
    if runner.sends_surfaces:
        submit = runner.bind("corners", corners)

        def send() -> Any:
            return submit(surface)
    else:
        submit_rgba = runner.bind("corners", corners_of_rgba)

        def send() -> Any:
            return submit_rgba(surface.get_size(), pygame.image.tobytes(surface, "RGBA"))

    def prepare(rep: int) -> Callable[[], Any]:
        surface.fill((rep, 0, 0, 255))
        return send

    floor = copy_floor(surface.get_buffer())
    return _measure(runner, config, prepare, lambda rep: (side * side * 4, rep, rep), floor)
