"""Callback forms, and failures that are never dropped silently; on every lane.

Pygame event types as callbacks are in test_events.py (process lane).
"""

from __future__ import annotations

import logging
import threading
import types

import pytest

import pygame_async


class Unpicklable(Exception):
    """An exception carrying a lock, so it cannot travel back from a worker."""

    def __init__(self) -> None:
        super().__init__("holds a lock")
        self.lock = threading.Lock()


def raise_value_error(text: str) -> None:
    raise ValueError(text)


def call_sys_exit(code: int) -> None:
    import sys

    sys.exit(code)


def raise_unpicklable() -> None:
    raise Unpicklable()


def return_lock() -> threading.Lock:
    return threading.Lock()


@pytest.fixture
def defined(any_pool: pygame_async.Pool) -> pygame_async.Pool:
    any_pool.define("ok", lambda: "fine")
    any_pool.define("fail", raise_value_error)
    return any_pool


def deliver_one(pool: pygame_async.Pool, task: pygame_async.Task) -> None:
    task.exception(timeout=10)
    assert pool.update() == 1


def test_none_callback_logs_a_failure_with_its_remote_traceback(defined, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="pygame_async")
    deliver_one(defined, defined.call(None, "fail", "boom"))
    # Only pygame_async's: a dask lane's cluster may log warnings of its own meanwhile.
    (record,) = [record for record in caplog.records if record.name == "pygame_async"]
    assert record.levelno == logging.WARNING and record.name == "pygame_async"
    assert "'fail'" in record.getMessage()
    text = caplog.text
    assert "ValueError: boom" in text
    assert "RemoteTraceback" in text and "in raise_value_error" in text


def test_none_callback_ignores_success(defined, caplog) -> None:
    deliver_one(defined, defined.call(None, "ok"))
    # Only pygame_async's own: a dask lane's in-process scheduler logs at INFO as it works.
    assert [record for record in caplog.records if record.name.startswith("pygame_async")] == []


def test_function_callback_gets_the_result_and_is_skipped_on_failure(defined, caplog) -> None:
    results: list[object] = []
    deliver_one(defined, defined.call(results.append, "ok"))
    assert results == ["fine"]
    deliver_one(defined, defined.call(results.append, "fail", "bad"))
    assert results == ["fine"], "not called on failure"
    assert "ValueError: bad" in caplog.text, "but the failure is logged"


@pytest.mark.parametrize("form", ["object", "mapping"])
def test_success_error_pair(defined, form: str) -> None:
    successes: list[object] = []
    errors: list[BaseException] = []
    handlers = {"success": successes.append, "error": errors.append}
    callback = handlers if form == "mapping" else types.SimpleNamespace(**handlers)
    deliver_one(defined, defined.call(callback, "ok"))
    deliver_one(defined, defined.call(callback, "fail", "nope"))
    assert successes == ["fine"]
    (error,) = errors
    assert type(error) is ValueError and str(error) == "nope"
    assert isinstance(error.__cause__, pygame_async.RemoteTraceback)
    assert "raise_value_error" in str(error.__cause__)


def test_a_pair_with_a_missing_or_none_side_falls_back(defined, caplog) -> None:
    results: list[object] = []
    deliver_one(defined, defined.call({"error": results.append}, "ok"))  # no success: ignored
    deliver_one(defined, defined.call({"success": results.append, "error": None}, "fail", "x"))
    assert results == []
    assert "ValueError: x" in caplog.text

    class OnlySuccess:
        def success(self, value: object) -> None:
            results.append(value)

    deliver_one(defined, defined.call(OnlySuccess(), "ok"))
    assert results == ["fine"]


def test_a_call_that_raises_system_exit_fails_with_call_aborted_error(defined) -> None:
    defined.define("exit", call_sys_exit)
    errors: list[BaseException] = []
    deliver_one(defined, defined.call({"error": errors.append}, "exit", 3))
    (error,) = errors
    assert isinstance(error, pygame_async.CallAbortedError)
    assert error.type_name == "SystemExit"
    assert "'exit'" in str(error) and "SystemExit" in str(error)
    assert isinstance(error.__cause__, pygame_async.RemoteTraceback)
    assert "in call_sys_exit" in str(error.__cause__)
    assert defined.call(None, "ok").result(timeout=10) == "fine", "the worker carries on"


@pytest.mark.process_lane
def test_an_exception_that_cannot_travel_arrives_as_remote_error(pool) -> None:
    pool.define("raise_unpicklable", raise_unpicklable)
    errors: list[BaseException] = []
    deliver_one(pool, pool.call({"error": errors.append}, "raise_unpicklable"))
    (error,) = errors
    assert isinstance(error, pygame_async.RemoteError)
    assert error.type_name.endswith("Unpicklable") and "holds a lock" in str(error)
    assert "raise_unpicklable" in str(error.__cause__)


@pytest.mark.process_lane
def test_a_result_that_cannot_travel_fails_that_call_only(pool) -> None:
    pool.define("return_lock", return_lock)
    pool.define("ok", lambda: "fine")
    errors: list[BaseException] = []
    deliver_one(pool, pool.call({"error": errors.append}, "return_lock"))
    (error,) = errors
    assert isinstance(error, pygame_async.ResultNotSentError)
    assert str(error).startswith("cannot send result of 'return_lock': ")
    assert pool.call(None, "ok").result(timeout=10) == "fine", "the worker survives"


def test_a_callback_exception_propagates_and_loses_nothing(defined) -> None:
    delivered: list[object] = []

    def explode(value: object) -> None:
        raise RuntimeError("callback bug")

    tasks = [defined.call(explode, "ok")] + [defined.call(delivered.append, "ok") for _ in range(3)]
    for task in tasks:
        task.result(timeout=10)
    assert defined.get_pending_count() == 4
    with pytest.raises(RuntimeError, match="callback bug"):
        while defined.update(budget=0):
            pass
    # Everything not yet delivered is still there for the next update().
    assert defined.get_pending_count() == 3 - len(delivered)
    defined.update()
    assert len(delivered) == 3
