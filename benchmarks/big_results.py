"""Big results, received the way a game receives them: in a loop that ticks every ~1 ms.

Each call is made, then the main thread runs a stand-in game loop until the
result is in its hands: one "frame" is a look at the pool (pygame_async's
``update()``, which also delivers; ``future.done()`` or ``AsyncResult.ready()``
for the others) followed by ``time.sleep(TICK)``.  A frame that ends later
than an idle one did means the main thread was kept from running, by work in
``update()``, by a pool thread holding the GIL, or by rebuilding the result
here; that lateness is the "block".  Nothing else is on the main thread, so
the numbers are the pool's alone, plus the machine's own jitter: the "floor"
column is the same loop's lateness while a worker of that pool keeps its CPU
busy for as long as a call took and returns nothing big.  "arrival ms" is
the main thread's own work in the frame that gets the result: its look at
the pool (``update()``, which delivers and so rebuilds the value;
``done()``, ``ready()``), taking the result and making it usable.  "main
ms/call" is its time in the looks at the pool over all the call's frames,
and in taking and finishing the result: what polling costs comes with it.

Pools that cannot pickle a Surface get what their users would write: the
worker returns ``(size, pygame.image.tobytes(surface, layout))`` and the main
thread wraps it with ``pygame.image.frombuffer`` (no copy), inside the timed
frame that sees the result; the layout has as many bytes per pixel as the
Surface (``tasks.SURFACE_FORMATS``).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from benchmarks import tasks
from benchmarks.common import MIB, Config, Metrics, expect, percentile
from benchmarks.runners import TIMEOUT, Runner

TICK = 0.001  # seconds a frame of the stand-in game loop sleeps
LATE = 0.0005  # a frame later than this (beyond an idle frame) counts as blocked


@dataclass(frozen=True)
class Arrival:
    """One result's trip: its value and what the main thread went through meanwhile."""

    value: Any
    seconds: float  # from the call to the result in the main thread's hands
    longest_block: float  # the latest frame's lateness
    total_block: float  # the lateness of every frame late by more than LATE, summed
    main: float  # seconds the main thread spent polling, taking and finishing the result
    arrival: float  # of which in the frame that got the result


def idle_frame() -> float:
    """How long a frame of the stand-in loop takes here and now, with nothing arriving."""
    samples = []
    last = time.perf_counter()
    for _ in range(100):
        time.sleep(TICK)
        now = time.perf_counter()
        samples.append(now - last)
        last = now
    return percentile(samples, 0.5)


def receive(
    runner: Runner, handle: Any, finish: Callable[[Any], Any], frame: float, start: float
) -> Arrival:
    """Tick until ``handle`` is done and ``finish(result)`` has made it usable here."""
    value = arrived = None
    longest = total = main = 0.0
    last = time.perf_counter()
    while arrived is None:
        looked = time.perf_counter()
        if runner.poll(handle):
            value = finish(runner.result(handle))
            arrived = time.perf_counter()
        main += time.perf_counter() - looked
        arrival = time.perf_counter() - looked
        time.sleep(TICK)  # the frame that got the result sleeps too: its lateness counts
        now = time.perf_counter()
        lateness = now - last - frame
        last = now
        longest = max(longest, lateness)
        if lateness > LATE:
            total += lateness
        expect(now - start < TIMEOUT, f"big result: nothing after {TIMEOUT} s")
    return Arrival(value, arrived - start, longest, total, main, arrival)


def measure(
    runner: Runner,
    reps: int,
    size: int,
    submit: Callable[[int], Any],
    finish: Callable[[Any], Any],
    check: Callable[[Any, int], None],
) -> Metrics:
    """``reps`` calls one at a time, each received by the ticking loop and checked."""
    frame = idle_frame()
    arrivals = []
    for rep in range(reps):
        start = time.perf_counter()
        arrival = receive(runner, submit(rep), finish, frame, start)
        check(arrival.value, rep)
        # Keep the figures, not the value: five big Surfaces would linger otherwise.
        arrivals.append(dataclasses.replace(arrival, value=None))
    return {
        "MB/s": reps * size / MIB / sum(a.seconds for a in arrivals),
        "longest block ms": max(a.longest_block for a in arrivals) * 1e3,
        "blocked ms/call": percentile([a.total_block for a in arrivals], 0.5) * 1e3,
        "floor ms/call": noise_floor(runner, reps, percentile([a.seconds for a in arrivals], 0.5)),
        "arrival ms": percentile([a.arrival for a in arrivals], 0.5) * 1e3,
        "arrival ms max": max(a.arrival for a in arrivals) * 1e3,
        "main ms/call": percentile([a.main for a in arrivals], 0.5) * 1e3,
    }


def noise_floor(runner: Runner, reps: int, seconds: float) -> float:
    """The loop's lateness per call while a worker computes for ``seconds`` (median, ms)."""
    submit = runner.bind("spin", tasks.spin)
    frame = idle_frame()
    totals = []
    for _ in range(reps):
        arrival = receive(runner, submit(seconds), _same, frame, time.perf_counter())
        expect(arrival.value == 0, f"noise floor: spin returned {arrival.value!r}")
        totals.append(arrival.total_block)
    return percentile(totals, 0.5) * 1e3


def big_bytes(runner: Runner, config: Config) -> Metrics:
    """A large ``bytes`` result per call: MB/s, and how long the main thread was held."""
    size = config.big_result_bytes
    submit = runner.bind("make_bytes", tasks.make_bytes)

    def check(data: bytes, rep: int) -> None:
        expect(len(data) == size and data[0] == data[-1] == rep, "big result: wrong bytes")

    reps = config.big_result_reps
    return measure(runner, reps, size, lambda rep: submit(size, rep), _same, check)


def big_surface(runner: Runner, config: Config, kind: str = "srcalpha") -> Metrics:
    """A large Surface of ``kind`` per call, usable on the main thread: as :func:`big_bytes`.

    ``kind`` is one of ``tasks.SURFACE_FORMATS``; the main thread's figures
    come first, since what it costs the game's thread to get a Surface is
    what it measures.
    """
    import pygame

    side = config.surface_side
    if runner.sends_surfaces:
        submit = runner.bind("make_surface", tasks.make_surface)
        finish: Callable[[Any], Any] = _same
    else:
        submit = runner.bind("make_surface_bytes", tasks.make_surface_bytes)
        layout = tasks.SURFACE_FORMATS[kind]

        def finish(sized: tuple[tuple[int, int], bytes]) -> pygame.Surface:
            size, pixels = sized
            return pygame.image.frombuffer(pixels, size, layout)

    depth = 24 if kind == "24bit" else 32

    def check(surface: pygame.Surface, rep: int) -> None:
        colour = pygame.Color(tasks.surface_colour(rep, kind))
        expect(
            surface.get_size() == (side, side)
            and surface.get_bitsize() == depth
            and surface.get_at((0, 0)) == colour
            and surface.get_at((side - 1, side - 1)) == colour,
            f"big result: wrong Surface {surface}",
        )

    reps, size = config.surface_reps, side * side * depth // 8
    metrics = measure(runner, reps, size, lambda rep: submit(side, rep, kind), finish, check)
    main = {key: metrics.pop(key) for key in ("arrival ms", "arrival ms max", "main ms/call")}
    return {**main, **metrics}


def big_surface_no_alpha(runner: Runner, config: Config) -> Metrics:
    """:func:`big_surface` of 32-bit Surfaces without alpha (``pygame.Surface((w, h))``)."""
    return big_surface(runner, config, "no_alpha")


def big_surface_24(runner: Runner, config: Config) -> Metrics:
    """:func:`big_surface` of 24-bit Surfaces."""
    return big_surface(runner, config, "24bit")


def _same(value: Any) -> Any:
    return value
