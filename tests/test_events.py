"""Completions as pygame events, and the wake-up that lets an event-driven game call update()."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pygame
import pytest
from helpers import BOUND, block_until, identity, wait_until

import pygame_async
from pygame_async import UPDATE_EVENT


def fail(text: str) -> None:
    raise ValueError(text)


@pytest.fixture
def display() -> Iterator[None]:
    """pygame initialised on the dummy driver, with an empty event queue."""
    pygame.init()
    pygame.display.set_mode((32, 32))
    pygame.event.get()
    yield
    pygame.quit()


@pytest.fixture
def defined(pool: pygame_async.Pool) -> pygame_async.Pool:
    pool.define("identity", identity)
    pool.define("fail", fail)
    pool.define("block_until", block_until)
    return pool


@pytest.fixture
def one_worker() -> Iterator[pygame_async.Pool]:
    """A one-worker pool: calls finish in the order they were made, so order is checkable."""
    with pygame_async.Pool(1) as pool:
        pool.define("identity", identity)
        yield pool


def next_event(*types: int) -> pygame.event.Event:
    """Block in pygame.event.wait(), as an event-driven game does, for one of ``types``."""
    deadline = pygame.time.get_ticks() + int(BOUND * 1000)
    while pygame.time.get_ticks() < deadline:
        event = pygame.event.wait(100)
        if event.type in types:
            return event
    raise AssertionError(f"no event of types {types} within {BOUND} s")


def all_done(tasks: list[pygame_async.Task]) -> bool:
    return all(task.done() for task in tasks)


def test_event_type_callback_posts_the_outcome(display: None, defined: pygame_async.Pool) -> None:
    done = pygame.event.custom_type()
    ok_task = defined.call(done, "identity", [1, 2])
    failed_task = defined.call(done, "fail", "no path")

    first, second = next_event(done), next_event(done)
    by_task = {first.task: first, second.task: second}
    ok, failed = by_task[ok_task], by_task[failed_task]
    assert (ok.ok, ok.result, ok.error, ok.name) == (True, [1, 2], None, "identity")
    assert (failed.ok, failed.result, failed.name) == (False, None, "fail")
    assert isinstance(failed.error, ValueError) and str(failed.error) == "no path"
    assert isinstance(failed.error.__cause__, pygame_async.RemoteTraceback)
    assert "fail" in str(failed.error.__cause__)
    assert defined.get_pending_count() == 0
    assert defined.update() == 0  # already delivered, by the event


def test_event_wait_loop_gets_every_completion_without_calling_update_each_frame(
    display: None, defined: pygame_async.Pool
) -> None:
    path_found = pygame.event.custom_type()
    results: list[object] = []
    callback_threads: set[threading.Thread] = set()

    def on_result(value: object) -> None:
        callback_threads.add(threading.current_thread())
        results.append(value)

    for i in range(40):
        defined.call(path_found if i % 2 else on_result, "identity", i)

    from_events = []
    while len(results) + len(from_events) < 40:
        event = next_event(path_found, UPDATE_EVENT)
        if event.type == UPDATE_EVENT:
            assert event.pool is defined
            event.pool.update()
        else:
            from_events.append(event.result)
    assert sorted(results) == list(range(0, 40, 2))
    assert sorted(from_events) == list(range(1, 40, 2))
    assert callback_threads == {threading.main_thread()}
    assert defined.get_pending_count() == 0


def test_one_wake_up_waits_in_the_queue_however_many_completions(
    display: None, defined: pygame_async.Pool
) -> None:
    tasks = [defined.call(lambda value: None, "identity", i) for i in range(50)]
    wait_until(lambda: all_done(tasks) and pygame.event.peek(UPDATE_EVENT))
    wake_ups = pygame.event.get(UPDATE_EVENT)
    assert len(wake_ups) == 1
    assert wake_ups[0].pool is defined
    assert defined.update() == 50


def test_a_discarded_wake_up_does_not_stall_later_ones(
    display: None, defined: pygame_async.Pool
) -> None:
    first = defined.call(lambda value: None, "identity", 1)
    wait_until(lambda: first.done() and pygame.event.peek(UPDATE_EVENT))
    pygame.event.clear()  # the game throws its queue away, wake-up included

    seen: list[object] = []
    defined.call(seen.append, "identity", 2)
    next_event(UPDATE_EVENT).pool.update()
    assert seen == [2]


def test_a_game_that_calls_update_every_frame_is_unchanged(
    display: None, defined: pygame_async.Pool
) -> None:
    seen: list[object] = []
    for i in range(20):
        defined.call(seen.append, "identity", i)
    wait_until(lambda: defined.update() >= 0 and len(seen) == 20)
    assert sorted(seen) == list(range(20))
    assert len(pygame.event.get(UPDATE_EVENT)) <= 1


def test_full_queue_loses_nothing_and_keeps_order(
    display: None, one_worker: pygame_async.Pool
) -> None:
    done = pygame.event.custom_type()
    filler = pygame.event.custom_type()
    with pytest.raises(pygame.error, match="full"):
        for _ in range(70_000):
            pygame.event.post(pygame.event.Event(filler))

    tasks = [one_worker.call(done, "identity", i) for i in range(30)]
    wait_until(lambda: all_done(tasks))
    assert one_worker.get_pending_count() == 30  # finished, not yet posted
    assert not one_worker.wait(timeout=0.05)

    assert len(pygame.event.get(filler)) >= 65_000  # the game drains its queue
    one_worker.update()  # posts what waited, in order
    events = pygame.event.get(done)
    assert [event.result for event in events] == list(range(30))
    assert [event.task for event in events] == tasks
    assert one_worker.get_pending_count() == 0


def test_blocked_event_type_waits_and_is_posted_once_allowed(
    display: None, one_worker: pygame_async.Pool
) -> None:
    done = pygame.event.custom_type()
    pygame.event.set_blocked(done)
    tasks = [one_worker.call(done, "identity", i) for i in range(10)]
    wait_until(lambda: all_done(tasks))
    one_worker.update()
    assert one_worker.get_pending_count() == 10

    pygame.event.set_allowed(done)
    assert one_worker.wait(timeout=BOUND)
    assert [event.result for event in pygame.event.get(done)] == list(range(10))


def test_a_new_completion_retries_the_events_that_waited(
    display: None, one_worker: pygame_async.Pool
) -> None:
    done = pygame.event.custom_type()
    pygame.event.set_blocked(done)
    held = [one_worker.call(done, "identity", i) for i in range(3)]
    wait_until(lambda: all_done(held))
    pygame.event.set_allowed(done)
    one_worker.call(done, "identity", 3)  # no update(): the pool's own thread retries
    results = [next_event(done).result for _ in range(4)]
    assert results == [0, 1, 2, 3]


def test_completions_before_init_and_after_quit_wait_for_update(
    defined: pygame_async.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    done = pygame.event.custom_type()
    seen: list[object] = []
    pygame.quit()  # imported, not initialised
    tasks = [defined.call(done, "identity", 1), defined.call(seen.append, "identity", 2)]
    wait_until(lambda: all_done(tasks))
    assert defined.get_pending_count() == 2
    defined.update()
    assert seen == [2] and defined.get_pending_count() == 1

    pygame.init()
    try:
        defined.update()
        events = pygame.event.get(done)
        assert [event.result for event in events] == [1]
        pygame.quit()
        after_quit = defined.call(done, "identity", 3)
        wait_until(after_quit.done)
        assert defined.call(None, "identity", 4).result(timeout=BOUND) == 4  # the pool lives on
        defined.update()
        assert defined.get_pending_count() == 1  # the event, waiting for pygame
    finally:
        pygame.quit()
    assert not [record for record in caplog.records if record.levelname in {"ERROR", "CRITICAL"}]


def test_update_event_is_in_the_user_range_and_out_of_custom_types_reach() -> None:
    assert pygame.USEREVENT < UPDATE_EVENT < pygame.NUMEVENTS
    allocated = [pygame.event.custom_type() for _ in range(1000)]
    assert UPDATE_EVENT not in allocated
