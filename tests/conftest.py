"""Shared fixtures: headless SDL, pools that prove their workers are gone."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import whitebox
from helpers import pid_alive, worker_pids

import pygame_async


@pytest.fixture(autouse=True)
def no_process_left_behind() -> Iterator[None]:
    """Every test must end with no worker process of ours alive."""
    yield
    if whitebox.default_pool() is not None:
        pygame_async.shutdown(cancel_pending=True)
        raise AssertionError("the test left the default pool loaded")
    assert multiprocessing.active_children() == []


@pytest.fixture
def pool() -> Iterator[pygame_async.Pool]:
    """A two-worker pool, shut down (and proven gone) after the test."""
    with pygame_async.Pool(2) as pool:
        pids = worker_pids(pool)
        yield pool
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
