"""Big arguments travel beside the pickle: the game's thread only snapshots what could change.

On the process lane a call's big raw buffers (a ``bytes`` or ``bytearray``
argument, a numpy array's data, a Surface's pixels) are left out of the
pickle and written to the worker by its bulk writer after ``call()``
returns.  ``bytes`` cannot change and is sent as it is; anything mutable is
copied once at ``call()`` (into staging memory that is used again), so what
the game does to it afterwards never reaches the worker.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import Any

import numpy
import pygame
import pytest
from helpers import BOUND, block_until, wait_until

import pygame_async
from pygame_async._core import serialization
from pygame_async._core.arguments_apart import Apart
from pygame_async._lanes.process.staging import KEEP_BYTES

BIG = 4 * serialization.OUT_OF_BAND_BYTES


def pattern(size: int, seed: int) -> bytes:
    block = bytes((seed + i * 7) % 251 for i in range(4096))
    return (block * (size // len(block) + 1))[:size]


def describe(value: Any) -> tuple[str, int, str]:
    """What a worker saw: the type, the length and a digest of the contents."""
    if isinstance(value, numpy.ndarray):  # the worker's is as writable as the game's was
        kind = f"ndarray {value.dtype} {value.shape} writeable={value.flags.writeable}"
        return kind, value.nbytes, _digest(value.tobytes())
    if isinstance(value, pygame.Surface):
        pixels = pygame.image.tobytes(value, "RGBA")
        return f"Surface {value.get_size()} {value.get_bitsize()}", len(pixels), _digest(pixels)
    return type(value).__name__, len(value), _digest(bytes(value))


def describe_after(path: str, value: Any) -> tuple[str, int, str]:
    """Wait for ``path`` first: the game changes its copy of ``value`` meanwhile."""
    yield from block_until(path)
    return describe(value)


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _lane_state(pool: pygame_async.Pool) -> Any:
    return pool._lanes.own._state  # type: ignore[attr-defined]


@pytest.fixture
def one_worker() -> Any:
    with pygame_async.Pool(1) as pool:
        pool.define("describe", describe)
        pool.define("describe_after", describe_after)
        yield pool


def test_a_big_bytes_argument_is_sent_as_it_is(one_worker: pygame_async.Pool) -> None:
    data = pattern(BIG, 3)
    task = one_worker.call(None, "describe", data)
    arguments = task.arguments
    if arguments is not None:  # not yet answered: it still holds what it sends
        assert type(arguments) is Apart
        assert len(arguments.blob) < 1024  # the pickle holds no byte of the data
        (buffer, writable), *_ = arguments.buffers
        assert memoryview(buffer).obj is data and not writable  # no copy was made
        assert arguments.layout == ((BIG, False),)
    assert task.result(timeout=BOUND) == ("bytes", BIG, _digest(data))


def test_a_big_keyword_argument_travels_apart_too(one_worker: pygame_async.Pool) -> None:
    data = bytearray(pattern(BIG, 4))
    pool = one_worker
    pool.define("length_of", lambda *, data: (type(data).__name__, len(data), data[-1]))
    assert pool.call(None, "length_of", data=data).result(timeout=BOUND) == (
        "bytearray",
        BIG,
        data[-1],
    )


def _mutable_values() -> list[tuple[str, Any]]:
    surface = pygame.Surface((1024, 1024), pygame.SRCALPHA, 32)
    surface.fill((10, 20, 30, 40))
    rgb = pygame.Surface((1000, 1001), 0, 24)
    rgb.fill((5, 6, 7))
    return [
        ("bytearray", bytearray(pattern(BIG, 1))),
        ("numpy array", numpy.arange(BIG // 8, dtype=numpy.float64).reshape(512, -1)),
        ("Fortran-ordered array", numpy.asfortranarray(numpy.ones((1024, 1024), numpy.int32))),
        ("32-bit Surface", surface),
        ("24-bit Surface", rgb),
    ]


def _mutate(value: Any) -> None:
    if isinstance(value, pygame.Surface):
        value.fill((255, 0, 0))  # a locked Surface would raise here
    elif isinstance(value, numpy.ndarray):
        value += 1
    else:
        value[:] = bytes(len(value))


@pytest.mark.parametrize(("label", "value"), _mutable_values(), ids=lambda x: str(x)[:24])
def test_a_change_after_call_never_reaches_the_worker(
    one_worker: pygame_async.Pool, tmp_path: Path, label: str, value: Any
) -> None:
    release = str(tmp_path / "release")
    before = describe(value)
    task = one_worker.call(None, "describe_after", release, value)
    _mutate(value)  # at once: the call has not even been sent, let alone run
    assert describe(value) != before
    Path(release).touch()
    assert task.result(timeout=BOUND) == before, label


def _read_only(array: numpy.ndarray) -> numpy.ndarray:
    array.flags.writeable = False
    return array


@pytest.mark.parametrize(
    "make",
    [
        lambda: _read_only(numpy.arange(BIG // 8, dtype=numpy.float64)),
        lambda: _read_only(_read_only(numpy.ones((1024, 1024), numpy.int32)).reshape(-1)),
        lambda: numpy.frombuffer(pattern(BIG, 5), numpy.uint8),  # read-only over bytes
    ],
    ids=["read-only array", "read-only view of one", "array over bytes"],
)
def test_an_array_nothing_can_write_to_is_sent_as_it_is(
    one_worker: pygame_async.Pool, make: Any
) -> None:
    array = make()
    task = one_worker.call(None, "describe", array)
    arguments = task.arguments
    if arguments is not None:  # not yet answered: it still holds what it sends
        assert type(arguments) is Apart
        (buffer, writable), *_ = arguments.buffers
        assert not isinstance(buffer, memoryview) and not writable  # no snapshot was made
        assert memoryview(buffer).obj is array
    assert task.result(timeout=BOUND) == describe(array)
    assert _lane_state(one_worker).staging.kept == 0  # no staging memory was ever used


def test_a_read_only_view_of_a_writable_array_is_still_snapshotted(
    one_worker: pygame_async.Pool, tmp_path: Path
) -> None:
    release = str(tmp_path / "release")
    base = numpy.zeros(BIG, numpy.uint8)
    view = _read_only(base.view())
    before = describe(view)
    task = one_worker.call(None, "describe_after", release, view)
    base += 1  # the view cannot be written, its base can: the worker must not see it
    assert describe(view) != before
    Path(release).touch()
    assert task.result(timeout=BOUND) == before


def test_staging_memory_is_used_again_once_the_worker_has_read_it(
    one_worker: pygame_async.Pool,
) -> None:
    staging = _lane_state(one_worker).staging
    array = numpy.zeros(BIG // 8)
    for round_ in range(3):
        array[:] = round_
        assert one_worker.call(None, "describe", array).result(timeout=BOUND)[1] == BIG
        # Given back when the answer is filed; one buffer served every call,
        # each snapshot taking the one given back before it.
        wait_until(lambda: staging.kept == BIG)
    assert BIG <= KEEP_BYTES


def crash_with(data: Any) -> None:
    os._exit(3)


def test_a_worker_that_dies_on_a_big_argument_costs_only_that_call(tmp_path: Path) -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("crash_with", crash_with)
        pool.define("describe", describe)
        data = numpy.ones(BIG // 8)
        with pytest.raises(pygame_async.WorkerCrashedError):
            pool.call(None, "crash_with", data).result(timeout=BOUND)
        assert pool.call(None, "describe", data).result(timeout=BOUND)[1] == BIG


def test_many_big_calls_queued_behind_each_other_arrive_in_order() -> None:
    with pygame_async.Pool(2) as pool:
        pool.define("describe", describe)
        values = [bytearray(pattern(BIG, seed)) for seed in range(6)]
        values += [pattern(BIG, seed) for seed in range(6, 9)]
        tasks = [pool.call(None, "describe", value) for value in values]
        for value in values:
            if not isinstance(value, bytes):
                _mutate(value)
        results = [task.result(timeout=BOUND) for task in tasks]
        assert [digest for _, _, digest in results] == [
            _digest(pattern(BIG, seed)) for seed in range(9)
        ]


def test_an_unpicklable_big_argument_is_named_at_call(one_worker: pygame_async.Pool) -> None:
    with pytest.raises(TypeError, match=r"call\('describe'\): argument 2 \(generator\)"):
        one_worker.call(None, "describe", bytearray(BIG), (i for i in range(3)))


def test_an_odd_sized_snapshot_is_exact(one_worker: pygame_async.Pool) -> None:
    value = bytearray(pattern(9 * serialization.OUT_OF_BAND_BYTES + 12345, 8))
    task = one_worker.call(None, "describe", value)
    _mutate(value)
    assert task.result(timeout=BOUND) == ("bytearray", len(value), _digest(pattern(len(value), 8)))


def test_the_thread_that_sends_big_arguments_ends_with_the_pool() -> None:
    names = ("pygame_async-bulk-writer",)
    with pygame_async.Pool(2) as pool:
        pool.define("describe", describe)
        for seed in range(3):
            pool.call(None, "describe", bytearray(pattern(BIG, seed))).result(timeout=BOUND)
        assert {thread.name for thread in threading.enumerate()} >= set(names)
    wait_until(lambda: not [t for t in threading.enumerate() if t.name in names])


def test_staging_memory_is_freed_when_the_pool_shuts_down() -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("describe", describe)
        staging = _lane_state(pool).staging
        pool.call(None, "describe", bytearray(BIG)).result(timeout=BOUND)
        wait_until(lambda: staging.kept == BIG)
    wait_until(lambda: staging.kept == 0)
