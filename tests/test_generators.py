"""Generator functions on every lane: a call whose result is the generator's return value.

The inline lane resumes the generator one step per turn; the process and
thread lanes run it to completion.  Either way the caller sees the same thing.
"""

from __future__ import annotations

import pytest
from helpers import BOUND, stepped_failure, stepped_sum

import pygame_async


def test_a_generator_functions_call_returns_what_the_generator_returns(
    any_pool: pygame_async.Pool,
) -> None:
    any_pool.define("stepped_sum", stepped_sum)
    results: list[object] = []
    tasks = [any_pool.call(results.append, "stepped_sum", count) for count in (1, 10, 100)]
    assert any_pool.wait(timeout=BOUND)
    assert sorted(results) == [1, 55, 5050]
    assert [task.result(timeout=0) for task in tasks] == [1, 55, 5050]


def test_a_generator_with_no_steps_and_one_that_returns_nothing(
    any_pool: pygame_async.Pool,
) -> None:
    any_pool.define("stepped_sum", stepped_sum)
    assert any_pool.call(None, "stepped_sum", 0).result(timeout=BOUND) == 0

    def only_yields():  # type: ignore[no-untyped-def]
        yield 1
        yield 2

    any_pool.define("only_yields", only_yields)
    assert any_pool.call(None, "only_yields").result(timeout=BOUND) is None, "yielded values drop"
    assert any_pool.wait(timeout=BOUND)


def test_report_progress_works_inside_a_generator_call(any_pool: pygame_async.Pool) -> None:
    any_pool.define("stepped_sum", stepped_sum)
    reports: list[tuple[float, str | None]] = []
    task = any_pool.call(None, "stepped_sum", 4)
    task.on_progress(lambda fraction, message: reports.append((fraction, message)))
    assert any_pool.wait(timeout=BOUND)
    assert reports and reports[-1] == (1.0, "step 4"), "the last report comes before the result"
    assert task.progress == 1.0 and task.progress_message == "step 4"


def test_a_generator_that_raises_delivers_its_error_with_the_remote_traceback(
    any_pool: pygame_async.Pool,
) -> None:
    any_pool.define("stepped_failure", stepped_failure)
    errors: list[BaseException] = []
    task = any_pool.call({"error": errors.append}, "stepped_failure", 3)
    assert any_pool.wait(timeout=BOUND)
    assert isinstance(errors[0], ValueError) and str(errors[0]) == "failed after 3 steps"
    assert isinstance(errors[0].__cause__, pygame_async.RemoteTraceback)
    assert "stepped_failure" in str(errors[0].__cause__), "the traceback names the function"
    with pytest.raises(ValueError, match="after 3 steps"):
        task.result(timeout=0)
