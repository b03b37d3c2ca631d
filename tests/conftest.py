"""Shared fixtures: headless SDL, pools on every lane that prove their workers are gone."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import dask_cluster
import lanes
import whitebox
from helpers import pid_alive, worker_pids

import pygame_async


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "process_lane: true of the process lane only (worker processes, pickling, kill, "
        "timeouts), beside tests that run on every lane",
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Close the dask cluster the tests shared; its worker processes must be gone."""
    dask_cluster.close()


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Every test must end with no worker process and no lane thread of ours alive.

    The exceptions: the workers of the dask cluster the tests share
    (``dask_cluster``), which must be just those it plans, nothing left over;
    and those of a :func:`module_pool` still open, which are proven gone once
    its module's last test has run.
    """
    yield
    if whitebox.default_pool() is not None:
        pygame_async.shutdown(cancel_pending=True)
        raise AssertionError("the test left the default pool loaded")
    shared = {pid for pool in _module_pools for pid in worker_pids(pool)}
    assert dask_cluster.not_shared(also=shared) == []
    assert lanes.lane_threads_left() == []


@pytest.fixture(params=lanes.LANES)
def lane(request: pytest.FixtureRequest) -> str:
    """Each lane of :data:`lanes.LANES` in turn: a test taking it runs once per lane."""
    return str(request.param)


@pytest.fixture
def any_pool(lane: str) -> Iterator[pygame_async.Pool]:
    """A two-worker pool on each lane, shut down (and its workers proven gone) after the test."""
    with lanes.make_pool(lane, 2) as pool:
        yield pool
        started = lanes.owned(pool)
    assert not any(lanes.alive(runner) for runner in started)
    lanes.check_left_running(pool)


@pytest.fixture
def pool() -> Iterator[pygame_async.Pool]:
    """A two-worker pool on the process lane, shut down (and proven gone) after the test."""
    with pygame_async.Pool(2) as pool:
        pids = worker_pids(pool)
        yield pool
    assert not any(pid_alive(pid) for pid in pids)


_module_pools: list[pygame_async.Pool] = []  # the module_pool fixtures open now


@pytest.fixture(scope="module")
def module_pool() -> Iterator[pygame_async.Pool]:
    """A two-worker process pool that one module's tests share, proven gone after the last.

    For modules whose tests only define functions and call them on the
    process lane (no crash, kill, timeout, resize or shutdown): its workers
    start, and import what the calls need (pygame), once rather than once a
    test.  Its workers, those it started with and those it ends with, must be
    gone once it has shut down.
    """
    with pygame_async.Pool(2) as pool:
        pids = set(worker_pids(pool))
        _module_pools.append(pool)
        try:
            yield pool
        finally:
            _module_pools.remove(pool)
            pids.update(worker_pids(pool))
    assert not any(pid_alive(pid) for pid in pids)


@pytest.fixture
def loaded() -> Iterator[pygame_async.Pool]:
    """The default pool, loaded with two workers and shut down after the test."""
    pool = pygame_async.load(2)
    pids = worker_pids(pool)
    yield pool
    if whitebox.default_pool() is pool:
        pygame_async.shutdown()
    assert not any(pid_alive(pid) for pid in pids)
