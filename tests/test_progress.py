"""Progress reported from inside a call reaches the game's main thread, on every lane."""

from __future__ import annotations

import threading
from collections.abc import Generator

from helpers import BOUND, block_until, wait_until
from lanes import wait_until_in

import pygame_async


def count_up(steps: int) -> int:
    for step in range(1, steps + 1):
        pygame_async.report_progress(step / steps, f"step {step}")
    return steps


def half_then_block(path: str) -> Generator[None, None, str]:
    pygame_async.report_progress(0.5, "halfway")
    return (yield from block_until(path))


def test_progress_callbacks_run_in_update_and_the_last_value_comes_before_the_result(
    any_pool: pygame_async.Pool,
) -> None:
    any_pool.define("count_up", count_up)
    seen: list[tuple[str, object, object]] = []
    threads: set[threading.Thread] = set()

    def on_progress(fraction: float, message: str | None) -> None:
        threads.add(threading.current_thread())
        seen.append(("progress", fraction, message))

    task = any_pool.call(lambda steps: seen.append(("done", steps, None)), "count_up", 5000)
    assert task.progress is None and task.progress_message is None
    assert task.on_progress(on_progress) is task
    assert any_pool.wait(timeout=BOUND)

    assert (task.progress, task.progress_message) == (1.0, "step 5000")
    assert seen[-2:] == [("progress", 1.0, "step 5000"), ("done", 5000, None)]
    fractions = [fraction for kind, fraction, _ in seen if kind == "progress"]
    assert fractions == sorted(fractions)
    # Reports are throttled in the worker; only the latest reaches each update().
    assert len(fractions) < 5000
    assert threads == {threading.main_thread()}


def test_task_progress_shows_the_latest_report_while_the_call_runs(
    any_pool: pygame_async.Pool, tmp_path
) -> None:
    any_pool.define("half_then_block", half_then_block)
    release = tmp_path / "release"
    task = any_pool.call(None, "half_then_block", str(release))
    wait_until_in(any_pool, lambda: task.progress == 0.5)
    assert task.progress_message == "halfway"
    assert not task.done()
    release.touch()
    assert task.result(timeout=BOUND) == str(release)
    any_pool.update()


def test_report_progress_outside_a_worker_does_nothing(
    any_pool: pygame_async.Pool, tmp_path
) -> None:
    any_pool.define("block_until", block_until)
    gate = tmp_path / "gate"
    seen: list[tuple[float, str | None]] = []
    task = any_pool.call(None, "block_until", str(gate))
    task.on_progress(lambda fraction, message: seen.append((fraction, message)))
    wait_until(lambda: task.state.value == "assigned")
    # While a call of the any_pool runs, reports made by the game's own threads reach nothing:
    assert pygame_async.report_progress(0.5, "from the game") is None
    assert count_up(10) == 10  # a worker's function run directly in the game
    other = threading.Thread(target=count_up, args=(10,))
    other.start()
    other.join(BOUND)
    assert not other.is_alive()
    assert any_pool.update() == 0, "no progress to deliver"
    assert (task.progress, task.progress_message) == (None, None)
    gate.touch()
    assert any_pool.wait(timeout=BOUND)
    assert seen == [] and (task.progress, task.progress_message) == (None, None)
