"""A newcomer's first hour (issue 13): exits in workers, double shutdown, documented names."""

from __future__ import annotations

import ast
import logging
import os
import pydoc
import sys
from pathlib import Path

import pytest
from helpers import BOUND

import pygame_async
from pygame_async import CallAbortedError, RemoteTraceback

PACKAGE = Path(pygame_async.__file__).parent


def exit_with(code: int) -> None:
    sys.exit(code)


def interrupt() -> None:
    raise KeyboardInterrupt("pressed in the worker")


def worker_pid() -> int:
    return os.getpid()


def make_pool(lane: str) -> pygame_async.Pool:
    return pygame_async.Pool(1, lane=lane)


@pytest.mark.parametrize("lane", ["process", "thread"])
@pytest.mark.parametrize(
    ("function", "type_name", "says"),
    [(exit_with, "SystemExit", "3"), (interrupt, "KeyboardInterrupt", "pressed in the worker")],
)
def test_a_base_exception_in_a_worker_reaches_the_game_as_an_async_error(
    lane: str, function: object, type_name: str, says: str, caplog: pytest.LogCaptureFixture
) -> None:
    with make_pool(lane) as pool:
        pool.define("fail", function)  # type: ignore[arg-type]
        pool.define("pid", worker_pid)
        before = pool.call(None, "pid").result(BOUND)
        handled: list[BaseException] = []
        on_error = {"error": handled.append}
        task = (
            pool.call(on_error, "fail", 3) if function is exit_with else pool.call(on_error, "fail")
        )
        try:
            task.result(timeout=BOUND)
        except Exception as error:  # the game's own `except Exception` catches it
            caught = error
        assert isinstance(caught, CallAbortedError)
        assert caught.type_name.endswith(type_name)
        assert type_name in str(caught) and says in str(caught)
        assert isinstance(caught.__cause__, RemoteTraceback | BaseException)
        assert pool.call(None, "pid").result(BOUND) == before, "the worker carries on"
        with caplog.at_level(logging.WARNING, logger="pygame_async"):
            fire_and_forget = pool.call(None, "fail", 3) if function is exit_with else None
            if fire_and_forget is None:
                fire_and_forget = pool.call(None, "fail")
            assert pool.wait(BOUND)
        assert handled == [caught], "delivered to the error callback, as itself"
        logged = [r for r in caplog.records if r.name == "pygame_async"]
        assert len(logged) == 1, [r.getMessage() for r in logged]
        assert isinstance(logged[0].exc_info and logged[0].exc_info[1], CallAbortedError)


def test_the_remote_traceback_of_an_exit_shows_where_it_was_raised() -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("fail", exit_with)
        error = pool.call(None, "fail", 3).exception(timeout=BOUND)
        assert isinstance(error, CallAbortedError)
        assert isinstance(error.__cause__, RemoteTraceback)
        assert "sys.exit(code)" in str(error.__cause__) and "SystemExit: 3" in str(error.__cause__)


def test_shutting_the_default_pool_down_twice_does_nothing() -> None:
    pygame_async.load(1)
    pygame_async.shutdown()
    pygame_async.shutdown()  # no RuntimeError saying to load() first
    pygame_async.shutdown(wait=False, cancel_pending=True)


def test_help_shows_no_anonymous_defaults() -> None:
    text = pydoc.render_doc(pygame_async, renderer=pydoc.plaintext)
    assert "object object at" not in text
    caller = pydoc.render_doc(pygame_async.AsyncFunction, renderer=pydoc.plaintext)
    assert "<the timeout given to define()>" in caller


def test_every_public_name_has_a_docstring() -> None:
    for name in pygame_async.__all__:
        value = getattr(pygame_async, name)
        if callable(value) and not isinstance(value, int):
            assert (value.__doc__ or "").strip(), name
            for member_name, member in vars(value).items() if isinstance(value, type) else ():
                if not member_name.startswith("_") and callable(member):
                    assert (member.__doc__ or "").strip(), f"{name}.{member_name}"


def test_every_public_task_attribute_is_documented() -> None:
    source = (PACKAGE / "_core" / "task.py").read_text()
    init = next(
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.FunctionDef) and node.name == "__init__"
    )
    undocumented = []
    body = init.body
    for index, statement in enumerate(body):
        if isinstance(statement, ast.Assign | ast.AnnAssign):
            targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and not target.attr.startswith("_")
                    and target.attr != "lane"  # set only by the pool, documented in place
                ):
                    following = body[index + 1] if index + 1 < len(body) else None
                    documented = isinstance(following, ast.Expr) and isinstance(
                        following.value, ast.Constant
                    )
                    if not documented:
                        undocumented.append(target.attr)
    assert not undocumented


def test_call_and_cancelled_say_what_they_do() -> None:
    assert "event type" in (pygame_async.Pool.call.__doc__ or "")
    assert "kill=True" in (pygame_async.Task.cancelled.__doc__ or "")
    assert "TaskState" in pygame_async.__all__
    assert pygame_async.TaskState.QUEUED.value == "queued"
