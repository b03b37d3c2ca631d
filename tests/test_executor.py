"""``pool.as_executor()``: the pool as a ``concurrent.futures.Executor``.

The first part ports what CPython's ``test_concurrent_futures`` checks of
an executor (submit, map and its timeout, exceptions, cancelling pending
futures, ``wait``, ``as_completed``, shutdown with and without waiting,
``cancel_futures``) to the lanes with threads of their own, process and
thread, where Futures complete as the calls end.  Calls are held busy with
files (``block_until``), never with sleeps.  The second part is what the
executor adds: definitions made once per function, Futures completed
without ``update()``, the pool left running, ``run_in_executor``, and the
inline lane, where ``submit`` runs the call before it returns.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import pytest
import whitebox
from helpers import BOUND, block_until, identity, signal_then_block, stepped_sum, wait_until
from lanes import make_pool

import pygame_async
from pygame_async._core import executor as executor_module

THREADED_LANES = ["process", "thread"]
"""The lanes whose own threads complete Futures: pending ones exist there."""


def executor_names(pool: pygame_async.Pool) -> list[str]:
    """The definitions the pool's executors made."""
    return [name for name in whitebox.defined_names(pool) if name.startswith("executor:")]


@pytest.fixture(params=THREADED_LANES)
def pool(request: pytest.FixtureRequest) -> Iterator[pygame_async.Pool]:
    """A two-worker pool on the process and the thread lane; at the end nothing is pending."""
    with make_pool(request.param, 2) as pool:
        yield pool
        wait_until(lambda: pool.get_pending_count() == 0)


@pytest.fixture
def executor(pool: pygame_async.Pool) -> Iterator[futures.Executor]:
    with pool.as_executor() as executor:
        yield executor


@pytest.fixture
def one_worker(request: pytest.FixtureRequest) -> Iterator[pygame_async.Pool]:
    """A one-worker pool on the lane given by indirect parametrization."""
    with make_pool(request.param, 1) as pool:
        yield pool
        wait_until(lambda: pool.get_pending_count() == 0)


@pytest.fixture(params=THREADED_LANES)
def lane_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def hold(
    executor: futures.Executor, tmp_path: Path, which: str = "a"
) -> tuple[futures.Future[Any], Path]:
    """Submit a call that runs until its gate file exists; return once it has started."""
    started, gate = tmp_path / f"started-{which}", tmp_path / f"gate-{which}"
    running = executor.submit(signal_then_block, str(started), str(gate))
    wait_until(started.exists)
    return running, gate


# -- what CPython checks of an executor -------------------------------------------------------


def test_submit(executor: futures.Executor) -> None:
    assert executor.submit(pow, 2, 8).result(BOUND) == 256


def test_submit_keyword_arguments_even_named_fn_and_self(executor: futures.Executor) -> None:
    def capture(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return args, kwargs

    assert executor.submit(capture, 1, y=8).result(BOUND) == ((1,), {"y": 8})
    assert executor.submit(capture, 1, self=2, fn=3).result(BOUND) == ((1,), {"self": 2, "fn": 3})


def test_map(executor: futures.Executor) -> None:
    assert list(executor.map(pow, range(10), range(10))) == list(map(pow, range(10), range(10)))


def test_map_raises_the_calls_exception_when_its_turn_comes(executor: futures.Executor) -> None:
    results = executor.map(divmod, [1, 1, 1, 1], [2, 3, 0, 5])
    assert next(results) == (0, 1)
    assert next(results) == (0, 1)
    with pytest.raises(ZeroDivisionError) as info:
        next(results)
    assert isinstance(info.value.__cause__, pygame_async.RemoteTraceback)


def test_map_with_a_timeout_raises_timeout_error_after_what_was_ready(
    executor: futures.Executor, tmp_path: Path
) -> None:
    ready, gate = tmp_path / "ready", tmp_path / "gate"
    ready.touch()
    got: list[object] = []
    with pytest.raises(futures.TimeoutError):
        for path in executor.map(block_until, [str(ready), str(ready), str(gate)], timeout=0.5):
            got.append(path)
    assert got == [str(ready), str(ready)]
    gate.touch()  # the call that timed out for map() still runs, and ends


def test_an_exception_keeps_its_remote_traceback(executor: futures.Executor) -> None:
    future = executor.submit(divmod, 1, 0)
    exception = future.exception(BOUND)
    assert isinstance(exception, ZeroDivisionError)
    assert isinstance(exception.__cause__, pygame_async.RemoteTraceback)
    with pytest.raises(ZeroDivisionError):
        future.result(BOUND)


@pytest.mark.parametrize("one_worker", THREADED_LANES, indirect=True)
def test_cancel_a_pending_future_but_not_a_running_one(
    one_worker: pygame_async.Pool, tmp_path: Path
) -> None:
    with one_worker.as_executor() as executor:
        running, gate = hold(executor, tmp_path)
        pending = executor.submit(identity, "never")
        told: list[futures.Future[Any]] = []
        pending.add_done_callback(told.append)
        assert pending.cancel() is True
        assert pending.cancel() is True, "cancelling twice is fine"
        assert pending.cancelled() and pending.done()
        assert told == [pending], "its done-callbacks ran"
        with pytest.raises(futures.CancelledError):
            pending.result(0)
        assert running.cancel() is False, "a running call cannot be cancelled"
        assert not running.done()
        gate.touch()
        assert running.result(BOUND) == str(gate)
        assert running.cancel() is False, "nor a finished one"


def test_wait_first_completed(executor: futures.Executor, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    quick = executor.submit(pow, 21, 2)
    blocked = executor.submit(block_until, str(gate))
    done, not_done = futures.wait(
        [quick, blocked], timeout=BOUND, return_when=futures.FIRST_COMPLETED
    )
    assert (done, not_done) == ({quick}, {blocked})
    gate.touch()


def test_wait_first_exception(executor: futures.Executor, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    quick = executor.submit(pow, 21, 2)
    quick.result(BOUND)
    failing = executor.submit(divmod, 1, 0)
    blocked = executor.submit(block_until, str(gate))
    done, not_done = futures.wait(
        [quick, failing, blocked], timeout=BOUND, return_when=futures.FIRST_EXCEPTION
    )
    assert (done, not_done) == ({quick, failing}, {blocked})
    gate.touch()


def test_wait_first_exception_when_one_has_already_failed(executor: futures.Executor) -> None:
    failing = executor.submit(divmod, 1, 0)
    failing.exception(BOUND)
    done, _ = futures.wait([failing], return_when=futures.FIRST_EXCEPTION)
    assert done == {failing}


def test_wait_all_completed_and_its_timeout(executor: futures.Executor, tmp_path: Path) -> None:
    gate = tmp_path / "gate"
    quick = executor.submit(pow, 2, 2)
    failing = executor.submit(divmod, 1, 0)
    blocked = executor.submit(block_until, str(gate))
    done, not_done = futures.wait([quick, failing, blocked], timeout=0.3)
    assert (done, not_done) == ({quick, failing}, {blocked})
    gate.touch()
    done, not_done = futures.wait([quick, failing, blocked], timeout=BOUND)
    assert (done, not_done) == ({quick, failing, blocked}, set())


def test_as_completed_yields_each_once_and_times_out_on_the_rest(
    executor: futures.Executor, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    quick = executor.submit(pow, 2, 3)
    failing = executor.submit(divmod, 1, 0)
    assert set(futures.as_completed([quick, quick, failing], timeout=BOUND)) == {quick, failing}
    blocked = executor.submit(block_until, str(gate))
    yielded: list[futures.Future[Any]] = []
    with pytest.raises(futures.TimeoutError, match=r"1 \(of 2\) futures unfinished"):
        for future in futures.as_completed([quick, blocked], timeout=0.3):
            yielded.append(future)
    assert yielded == [quick]
    gate.touch()
    assert list(futures.as_completed([blocked], timeout=BOUND)) == [blocked]


def test_submit_after_shutdown_raises_runtime_error(pool: pygame_async.Pool) -> None:
    executor = pool.as_executor()
    executor.shutdown()
    executor.shutdown()  # safe to call several times
    with pytest.raises(RuntimeError, match="cannot schedule new futures after shutdown"):
        executor.submit(pow, 2, 2)


def test_shutdown_waits_for_its_futures(pool: pygame_async.Pool, tmp_path: Path) -> None:
    executor = pool.as_executor()
    running, gate = hold(executor, tmp_path)
    queued = [executor.submit(pow, 2, n) for n in range(3)]
    returned = threading.Event()
    shutting_down = threading.Thread(target=lambda: (executor.shutdown(), returned.set()))
    shutting_down.start()
    assert not returned.wait(0.1), "shutdown(wait=True) waits for the running call"
    gate.touch()
    shutting_down.join(BOUND)
    assert returned.is_set()
    assert all(future.done() for future in [running, *queued])
    assert [future.result(0) for future in queued] == [1, 2, 4]


def test_shutdown_without_wait_returns_at_once_and_the_futures_still_complete(
    pool: pygame_async.Pool, tmp_path: Path
) -> None:
    executor = pool.as_executor()
    running, gate = hold(executor, tmp_path)
    executor.shutdown(wait=False)
    assert not running.done()
    gate.touch()
    assert running.result(BOUND) == str(gate)


@pytest.mark.parametrize("one_worker", THREADED_LANES, indirect=True)
@pytest.mark.parametrize("wait", [True, False])
def test_shutdown_cancel_futures_cancels_those_not_started(
    one_worker: pygame_async.Pool, tmp_path: Path, wait: bool
) -> None:
    executor = one_worker.as_executor()
    running, gate = hold(executor, tmp_path)
    queued = [executor.submit(identity, n) for n in range(5)]
    if wait:
        done = threading.Thread(target=executor.shutdown, kwargs={"cancel_futures": True})
        done.start()
        wait_until(lambda: all(future.cancelled() for future in queued))
        gate.touch()
        done.join(BOUND)
        assert not done.is_alive()
    else:
        executor.shutdown(wait=False, cancel_futures=True)
        assert all(future.cancelled() for future in queued)
        gate.touch()
    assert running.result(BOUND) == str(gate), "the running one was not cancelled"


def test_the_context_manager_shuts_the_executor_down_and_the_pool_runs_on(
    pool: pygame_async.Pool,
) -> None:
    with pool.as_executor() as executor:
        submitted = [executor.submit(pow, 2, n) for n in range(4)]
    assert all(future.done() for future in submitted), "exit waits, like shutdown()"
    with pytest.raises(RuntimeError):
        executor.submit(pow, 2, 2)
    pool.define("identity", identity)
    assert pool.call(None, "identity", 9).result(BOUND) == 9, "the pool runs on"
    assert pool.as_executor().submit(pow, 2, 5).result(BOUND) == 32, "and makes more executors"
    assert pool.wait(timeout=BOUND)


# -- what the executor adds -------------------------------------------------------------------


def test_a_function_submitted_again_is_defined_once(pool: pygame_async.Pool) -> None:
    def double(value: int) -> int:
        return value * 2

    executor = pool.as_executor()
    assert [executor.submit(double, n).result(BOUND) for n in range(5)] == [0, 2, 4, 6, 8]
    assert list(executor.map(double, range(3))) == [0, 2, 4]
    assert pool.as_executor().submit(double, 7).result(BOUND) == 14, "any executor of the pool"
    assert executor_names(pool) == [
        "executor:test_a_function_submitted_again_is_defined_once.<locals>.double#1"
    ]
    assert executor.submit(pow, 2, 2).result(BOUND) == 4
    assert len(executor_names(pool)) == 2, "another function, another definition"


def test_new_functions_are_never_taken_for_old_ones(pool: pygame_async.Pool) -> None:
    # A new lambda each time: some may reuse a dead one's id(); none may run
    # another's definition.
    executor = pool.as_executor()
    for n in range(20):
        assert executor.submit(lambda n=n: n).result(BOUND) == n


def test_only_the_most_recently_used_functions_stay_defined(
    pool: pygame_async.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(executor_module, "KEPT_FUNCTIONS", 3)
    executor = pool.as_executor()
    functions = [lambda n=n: n for n in range(5)]
    kept = functions[0]
    for function in functions:
        assert executor.submit(function).result(BOUND) == function()
        assert executor.submit(kept).result(BOUND) == 0  # the first stays the most recent
    assert len(executor_names(pool)) == 3


def test_futures_complete_without_update_and_nothing_stays_pending(
    pool: pygame_async.Pool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def update(budget: float | None = None) -> int:
        raise AssertionError("an executor's Futures must not need update()")

    monkeypatch.setattr(pool, "update", update)
    executor = pool.as_executor()
    running, gate = hold(executor, tmp_path)
    called_on: list[threading.Thread] = []
    running.add_done_callback(lambda _: called_on.append(threading.current_thread()))
    submitted = [executor.submit(pow, 3, n) for n in range(20)]
    assert [future.result(BOUND) for future in submitted] == [3**n for n in range(20)]
    gate.touch()
    assert running.result(BOUND) == str(gate)
    wait_until(lambda: pool.get_pending_count() == 0)
    assert called_on != [threading.current_thread()], "completed by a thread of the pool's"
    monkeypatch.undo()
    assert pool.update() == 0, "nothing was left for update() to deliver"


def test_run_in_executor_and_cancelling_its_awaiter(
    pool: pygame_async.Pool, tmp_path: Path
) -> None:
    async def main() -> tuple[object, list[object]]:
        loop = asyncio.get_running_loop()
        one = await loop.run_in_executor(pool.as_executor(), pow, 3, 3)
        many = await asyncio.gather(
            *(loop.run_in_executor(pool.as_executor(), pow, 2, n) for n in range(8))
        )
        return one, many

    assert asyncio.run(main()) == (27, [2**n for n in range(8)])
    assert len(executor_names(pool)) == 1, "one definition for all those executors"

    executor = pool.as_executor()
    _, gate = hold(executor, tmp_path)
    _, other_gate = hold(executor, tmp_path, "b")  # both workers busy now
    future = executor.submit(identity, "never")

    async def cancel_the_awaiter() -> None:
        awaiting = asyncio.wrap_future(future)
        await asyncio.sleep(0)
        awaiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await awaiting

    asyncio.run(cancel_the_awaiter())
    wait_until(future.cancelled)
    gate.touch()
    other_gate.touch()
    executor.shutdown()


def test_a_done_callback_may_wait_for_another_future_on_the_thread_lane(tmp_path: Path) -> None:
    # Futures are completed with no lock of the pool's held: the thread that
    # completes the second one is not stuck behind the callback of the first.
    # (On the process lane done-callbacks run on the I/O thread, which must
    # not wait: as in CPython's process pool, whose manager thread runs them.)
    with make_pool("thread", 2) as pool, pool.as_executor() as executor:
        later, later_gate = hold(executor, tmp_path, "later")
        first, first_gate = hold(executor, tmp_path, "first")
        seen: list[object] = []
        waiting = threading.Event()

        def wait_for_later(_: futures.Future[Any]) -> None:
            waiting.set()
            seen.append(later.result(BOUND))

        first.add_done_callback(wait_for_later)
        first_gate.touch()
        assert waiting.wait(BOUND), "a lane thread waits in the callback now"
        later_gate.touch()
        wait_until(lambda: seen == [str(later_gate)])


@pytest.mark.parametrize("cancel_pending", [True, False])
def test_a_pool_shut_down_under_its_executor_leaves_no_future_pending(
    lane_name: str, tmp_path: Path, cancel_pending: bool
) -> None:
    with make_pool(lane_name, 1) as pool:
        executor = pool.as_executor()
        running, gate = hold(executor, tmp_path)
        queued = executor.submit(identity, "queued")
        pool.shutdown(wait=False, cancel_pending=cancel_pending)
        gate.touch()
        pool.shutdown(wait=True)
        assert running.result(BOUND) == str(gate), "a Future still hears of a call after shutdown"
        if cancel_pending:
            wait_until(queued.cancelled)
        else:
            assert queued.result(BOUND) == "queued"
        with pytest.raises(RuntimeError, match="shut down"):
            executor.submit(pow, 2, 2)


# -- the inline lane: submit() runs the call ---------------------------------------------------


def test_on_the_inline_lane_submit_runs_the_call_and_returns_a_done_future() -> None:
    with make_pool("inline", 1) as pool, pool.as_executor() as executor:
        future = executor.submit(stepped_sum, 10)  # a generator call: every step, in submit()
        assert future.done() and future.result(0) == 55
        assert future.cancel() is False, "nothing is ever pending"
        assert list(executor.map(pow, range(4), range(4), timeout=0)) == [1, 1, 4, 27]
        failing = executor.submit(divmod, 1, 0)
        assert isinstance(failing.exception(0), ZeroDivisionError)
        assert isinstance(failing.exception(0).__cause__, pygame_async.RemoteTraceback)
        done, not_done = futures.wait([future, failing], timeout=0)
        assert (done, not_done) == ({future, failing}, set())
        assert set(futures.as_completed([future, failing], timeout=0)) == {future, failing}
        assert executor.submit(stepped_sum, 3).result(0) == 6
        assert len(executor_names(pool)) == 3, "stepped_sum, pow, divmod: once each"
        assert pool.get_pending_count() == 0

        async def main() -> object:
            return await asyncio.get_running_loop().run_in_executor(executor, pow, 2, 10)

        assert asyncio.run(main()) == 1024
    assert pool.get_pending_count() == 0


def test_on_the_inline_lane_the_games_calls_take_their_turns_during_submit() -> None:
    with make_pool("inline", 2) as pool:
        pool.define("stepped_sum", stepped_sum)
        delivered: list[object] = []
        game_call = pool.call(delivered.append, "stepped_sum", 3)
        executor = pool.as_executor()
        assert executor.submit(stepped_sum, 50).result(0) == 1275
        assert game_call.done(), "the game's call ran its steps meanwhile"
        assert delivered == [], "and waits for update() as ever"
        assert pool.update() == 1
        assert delivered == [6]
