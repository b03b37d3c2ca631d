"""Bad input to the public API: refused at the call, clearly, and the pool stays usable.

Every refusal must be a TypeError, ValueError or LookupError raised by the call
that was given the bad value, whose message names that call and the argument
(``ensure.at_most(n): n must be 0 or more, got -1``).  After it, the pool must
work as before: a good call still returns the right result.

Each property runs against one pool made inside the test (the autouse fixture
wants no worker alive once a test ends), with the hypothesis loop nested in it.

This file is the one home of every refusal of bad input, with the words each
message must have; the other test files do not repeat them.  The checks are
the pool's own, made before any lane sees the call, so they run on the
process lane (which alone refuses what cannot be pickled), except the check
of report_progress() inside a running call, which is the lane's: every lane.
"""

from __future__ import annotations

import itertools
import math
import subprocess
import sys
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

import dask_cluster
import pygame  # with pygame imported, an int callback is a pygame event type
import pytest
import whitebox
from helpers import BOUND, block_until, identity, wait_until
from hypothesis import given, settings
from hypothesis import strategies as st
from lanes import make_pool

import pygame_async

IDENTITY = "call('identity')"  # how refusals of a call of identity name it

SETTINGS = settings(max_examples=100, deadline=None, database=None)
FEW = settings(max_examples=50, deadline=None, database=None)

Refusal = tuple[Any, type[Exception], tuple[str, ...]]
"""A bad value, the error it must raise, and words its message must have."""

NOT_AN_INT = ("must be an int",)
NOT_0_OR_MORE = ("must be 0 or more",)
NOT_SECONDS = ("must be a number of seconds or None",)
NOT_FINITE_SECONDS = ("must be a finite number of seconds >= 0",)

# -- strategies ------------------------------------------------------------------

ODD_OBJECTS = st.one_of(
    st.text(max_size=4),
    st.binary(max_size=4),
    st.lists(st.integers(), max_size=2),
    st.tuples(st.integers()),
    st.frozensets(st.integers(), max_size=2),
    st.complex_numbers(allow_nan=False),
    st.builds(object),
)
"""Values that are no number, no callable, no mapping, and have no success/error."""


def bad_counts() -> st.SearchStrategy[Refusal]:
    """Worker counts and amounts that are not an int >= 0."""
    return st.one_of(
        st.one_of(ODD_OBJECTS, st.none(), st.booleans(), st.floats()).map(
            lambda value: (value, TypeError, NOT_AN_INT)
        ),
        st.integers(max_value=-1).map(lambda value: (value, ValueError, NOT_0_OR_MORE)),
    )


def bad_seconds() -> st.SearchStrategy[Refusal]:
    """Budgets and timeouts that are not None nor a finite number of seconds >= 0."""
    return st.one_of(
        st.one_of(ODD_OBJECTS, st.booleans()).map(lambda value: (value, TypeError, NOT_SECONDS)),
        st.floats(max_value=0.0, exclude_max=True).map(
            lambda value: (value, ValueError, NOT_FINITE_SECONDS)
        ),
        st.sampled_from([math.nan, -math.nan, math.inf]).map(
            lambda value: (value, ValueError, NOT_FINITE_SECONDS)
        ),
        st.integers(max_value=-1).map(lambda value: (value, ValueError, NOT_FINITE_SECONDS)),
    )


def bad_names() -> st.SearchStrategy[Refusal]:
    """Function names that are not a non-empty str."""
    return st.one_of(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), ODD_OBJECTS)
        .filter(lambda value: not isinstance(value, str))
        .map(lambda value: (value, TypeError, ("name must be a str",))),
        st.just(("", ValueError, ("name must not be empty",))),
    )


NON_CALLABLES = st.one_of(
    st.booleans(), st.integers(), st.floats(), ODD_OBJECTS, st.dictionaries(st.text(), st.none())
)


def unpicklable_function() -> Callable[[], object]:
    lock = threading.Lock()
    return lambda: lock  # cloudpickle cannot send the lock it closes over


def bad_callbacks() -> st.SearchStrategy[Refusal]:
    """Callbacks call() must refuse, in every form it accepts."""
    pair_side = st.sampled_from(["success", "error"])
    not_a_function = st.one_of(st.booleans(), st.integers(), st.floats(), ODD_OBJECTS)
    good_or_none = st.sampled_from([None, print])

    def pair(side: str, bad: object, other: object, as_mapping: bool) -> object:
        handlers = {side: bad, ("error" if side == "success" else "success"): other}
        return handlers if as_mapping else types.SimpleNamespace(**handlers)

    user_events = range(pygame.USEREVENT, pygame.NUMEVENTS)
    return st.one_of(
        # neither None, nor a function, nor a success/error pair
        st.one_of(st.floats(), ODD_OBJECTS, st.booleans()).map(
            lambda value: (value, TypeError, ("callback must be None, a function",))
        ),
        # a mapping with keys other than success/error
        st.builds(
            lambda unknown, known: ({**unknown, **known}, TypeError, ("may only have the keys",)),
            st.dictionaries(
                st.one_of(st.text(), st.integers()).filter(
                    lambda key: key not in ("success", "error")
                ),
                good_or_none,
                min_size=1,
                max_size=3,
            ),
            st.dictionaries(pair_side, good_or_none),
        ),
        # a success/error pair (mapping or object) with a side that is not a function
        st.builds(
            lambda side, bad, other, as_mapping: (
                pair(side, bad, other, as_mapping),
                TypeError,
                (f"{side!r} must be a function",),
            ),
            pair_side,
            not_a_function,
            good_or_none,
            st.booleans(),
        ),
        # an int that is not a pygame user event type the pool may post
        st.integers()
        .filter(lambda value: value not in user_events)
        .map(lambda value: (value, ValueError, ("must be a user event type", f"got {value}"))),
        st.just((pygame_async.UPDATE_EVENT, ValueError, ("cannot be pygame_async.UPDATE_EVENT",))),
    )


def bad_fractions() -> st.SearchStrategy[Refusal]:
    """Progress fractions that are not a number from 0 to 1."""
    return st.one_of(
        st.one_of(st.none(), st.booleans(), ODD_OBJECTS).map(
            lambda value: (value, TypeError, ("fraction must be a number from 0 to 1",))
        ),
        st.floats()
        .filter(lambda value: not 0.0 <= value <= 1.0)
        .map(lambda value: (value, ValueError, ("fraction must be from 0 to 1",))),
        st.one_of(st.integers(max_value=-1), st.integers(min_value=2)).map(
            lambda value: (value, ValueError, ("fraction must be from 0 to 1",))
        ),
    )


# -- checks ------------------------------------------------------------------------


def refused(
    action: Callable[[], object],
    error: type[Exception],
    call: str,
    argument: str,
    words: tuple[str, ...] = (),
) -> BaseException:
    """Assert that ``action`` raises ``error`` with a message naming ``call`` and ``argument``.

    The message must also have ``words``: what the call wanted instead.
    """
    with pytest.raises(error) as info:
        action()
    message = str(info.value)
    assert call in message, f"{message!r} does not name the call {call!r}"
    assert argument in message, f"{message!r} does not name the argument {argument!r}"
    for word in words:
        assert word in message, f"{message!r} does not say {word!r}"
    return info.value


def says_what_it_got(exception: BaseException, value: object) -> None:
    """The message of a refused number says what it got: the type, or the value."""
    got = type(value).__name__ if isinstance(exception, TypeError) else str(value)
    assert f"got {got}" in str(exception), str(exception)


_values = itertools.count()


def assert_usable(pool: pygame_async.Pool, name: str = "identity") -> None:
    """A good call still works, returns the right result, and is delivered."""
    value = next(_values)
    results: list[object] = []
    task = pool.call(results.append, name, value)
    assert task.result(timeout=BOUND) == value
    assert pool.wait(timeout=BOUND)
    assert results == [value]
    assert pool.get_pending_count() == 0


@pytest.fixture
def default_pool() -> Iterator[pygame_async.Pool]:
    """The default pool with one worker and ``identity`` defined."""
    pool = pygame_async.load(1)
    try:
        pygame_async.define("identity", identity)
        yield pool
    finally:
        if whitebox.default_pool() is pool:
            pygame_async.shutdown()


# -- worker counts -------------------------------------------------------------------


def test_pool_refuses_bad_worker_counts_and_starts_nothing() -> None:
    @SETTINGS
    @given(bad=bad_counts())
    def check(bad: Refusal) -> None:
        value, error, words = bad
        exception = refused(
            lambda: pygame_async.Pool(value), error, "Pool(workers)", "workers", words
        )
        says_what_it_got(exception, value)
        assert dask_cluster.not_shared() == []  # (the shared dask cluster aside)

    check()


def test_load_refuses_bad_worker_counts_and_can_then_load() -> None:
    @SETTINGS
    @given(bad=bad_counts())
    def check(bad: Refusal) -> None:
        value, error, _ = bad
        with pytest.raises(error):
            pygame_async.load(value)
        with pytest.raises(RuntimeError, match=r"call pygame_async\.load\(\) first"):
            pygame_async.get_worker_count()
        assert dask_cluster.not_shared() == []  # (the shared dask cluster aside)

    check()
    pool = pygame_async.load(1)
    try:
        pygame_async.define("identity", identity)
        assert_usable(pool)
    finally:
        pygame_async.shutdown()


def test_load_names_itself_when_it_refuses_a_worker_count() -> None:
    @FEW
    @given(bad=bad_counts())
    def check(bad: Refusal) -> None:
        value, error, words = bad
        refused(lambda: pygame_async.load(value), error, "load(workers)", "workers", words)

    check()


def test_stop_workers_and_ensure_refuse_bad_counts_and_keep_the_workers() -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("identity", identity)
        resizers: list[tuple[str, str, Callable[[Any], object]]] = [
            ("stop_workers(amount)", "amount", pool.stop_workers),
            ("ensure.exactly(n)", "n", pool.ensure.exactly),
            ("ensure.at_least(n)", "n", pool.ensure.at_least),
            ("ensure.at_most(n)", "n", pool.ensure.at_most),
        ]

        @SETTINGS
        @given(resizer=st.sampled_from(resizers), bad=bad_counts())
        def check(resizer: tuple[str, str, Callable[[Any], object]], bad: Refusal) -> None:
            call, argument, method = resizer
            value, error, words = bad
            exception = refused(lambda: method(value), error, call, argument, words)
            says_what_it_got(exception, value)
            assert pool.get_worker_count() == 1

        check()
        assert_usable(pool)


def test_add_worker_takes_no_amount() -> None:
    with pygame_async.Pool(0) as pool:
        with pytest.raises(TypeError):
            pool.add_worker(2)  # type: ignore[call-arg]
        assert pool.get_worker_count() == 0


# -- definitions ---------------------------------------------------------------------


def test_define_refuses_bad_names_and_functions_and_keeps_what_was_defined() -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("identity", identity)
        good_names = st.one_of(st.just("identity"), st.text(min_size=1, max_size=8))

        @SETTINGS
        @given(
            case=st.one_of(
                st.tuples(bad_names(), st.just(identity)).map(
                    lambda c: (c[0][0], c[1], c[0][1], "name", c[0][2])
                ),
                st.tuples(good_names, NON_CALLABLES).map(
                    lambda c: (c[0], c[1], TypeError, "function", ("function must be callable",))
                ),
                st.tuples(good_names, st.builds(unpicklable_function)).map(
                    lambda c: (c[0], c[1], TypeError, "function", ("the function cannot be sent",))
                ),
            )
        )
        def check(case: tuple[Any, Any, type[Exception], str, tuple[str, ...]]) -> None:
            name, function, error, argument, words = case
            if argument == "function":
                words = (f"define({name!r}, function)", *words)
            refused(lambda: pool.define(name, function), error, "define(", argument, words)
            if isinstance(name, str) and name and name != "identity":
                with pytest.raises(LookupError):
                    pool.call(None, name)  # a refused definition defines nothing
            assert_usable(pool)  # and replaces nothing

        check()


def test_undefine_refuses_bad_names() -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("identity", identity)

        @SETTINGS
        @given(bad=bad_names())
        def check(bad: Refusal) -> None:
            value, error, words = bad
            refused(lambda: pool.undefine(value), error, "undefine(name)", "name", words)

        check()
        assert_usable(pool)


# -- calls --------------------------------------------------------------------------


def test_call_refuses_bad_names_callbacks_and_arguments_and_queues_nothing() -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("identity", identity)

        def unpicklable_at(
            args: list[int], index: int, keyword: str | None
        ) -> tuple[tuple[object, ...], dict[str, object], str]:
            """Arguments with a lock (which cannot be sent) among them, and how it is named."""
            if keyword is not None:
                return (*args,), {keyword: threading.Lock()}, f"keyword argument {keyword!r}"
            index = min(index, len(args))
            return (*args[:index], threading.Lock(), *args[index:]), {}, f"argument {index + 1}"

        unsent = ("(_thread.lock) cannot be sent",)
        cases = st.one_of(
            bad_names().map(lambda bad: (None, bad[0], (), {}, bad[1], "call(", "name", bad[2])),
            st.text(min_size=1, max_size=8)
            .filter(lambda name: name != "identity")
            .map(
                lambda name: (
                    None,
                    name,
                    (),
                    {},
                    LookupError,
                    f"call({name!r})",
                    repr(name),
                    ("no function is defined",),
                )
            ),
            bad_callbacks().map(
                lambda bad: (bad[0], "identity", (1,), {}, bad[1], IDENTITY, "callback", bad[2])
            ),
            st.builds(
                lambda made: (
                    None,
                    "identity",
                    made[0],
                    made[1],
                    TypeError,
                    IDENTITY,
                    made[2],
                    unsent,
                ),
                st.builds(
                    unpicklable_at,
                    st.lists(st.integers(), max_size=3),
                    st.integers(min_value=0, max_value=3),
                    st.one_of(st.none(), st.sampled_from(["key", "name", "callback"])),
                ),
            ),
        )

        @SETTINGS
        @given(case=cases)
        def check(case: tuple[Any, ...]) -> None:
            callback, name, args, kwargs, error, call, argument, words = case
            refused(
                lambda: pool.call(callback, name, *args, **kwargs), error, call, argument, words
            )
            assert pool.get_pending_count() == 0, "a refused call is not queued"
            assert_usable(pool)

        check()


def test_callback_ints_are_user_event_types_only() -> None:
    with pygame_async.Pool(0) as pool:
        pool.define("identity", identity)
        for event_type in (pygame.NOEVENT, pygame.QUIT, pygame.KEYDOWN, pygame.USEREVENT - 1):
            refused(
                lambda: pool.call(event_type, "identity", 1),  # noqa: B023
                ValueError,
                IDENTITY,
                "callback",
                ("must be a user event type", f"got {event_type}"),
            )
        assert pool.get_pending_count() == 0


def test_an_int_callback_without_pygame_imported_is_refused() -> None:
    code = (
        "import pygame_async, sys\n"
        "pool = pygame_async.Pool(0)\n"
        "pool.define('identity', abs)\n"
        "try:\n"
        "    pool.call(32866, 'identity', 1)\n"
        "except TypeError as exc:\n"
        "    print(exc)\n"
        "print(pool.get_pending_count(), 'pygame' in sys.modules)\n"
        "pool.shutdown()\n"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=BOUND
    ).stdout
    refusal, state = output.strip().splitlines()
    assert "call('identity')" in refusal and "callback" in refusal, refusal
    assert "pygame is not imported" in refusal
    assert state == "0 False"


# -- budgets and timeouts ---------------------------------------------------------------


def test_update_and_wait_refuse_bad_seconds() -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("identity", identity)
        waits: list[tuple[str, str, Callable[[Any], object]]] = [
            ("update(budget)", "budget", pool.update),
            ("wait(timeout)", "timeout", pool.wait),
        ]

        @SETTINGS
        @given(which=st.sampled_from(waits), bad=bad_seconds())
        def check(which: tuple[str, str, Callable[[Any], object]], bad: Refusal) -> None:
            call, argument, method = which
            value, error, words = bad
            exception = refused(lambda: method(value), error, call, argument, words)
            says_what_it_got(exception, value)

        check()
        assert_usable(pool)


def test_update_and_wait_accept_huge_finite_float_seconds() -> None:
    with pygame_async.Pool(0) as pool:

        @FEW
        @given(seconds=st.floats(min_value=threading.TIMEOUT_MAX, allow_infinity=False))
        def check(seconds: float) -> None:
            assert pool.update(budget=seconds) == 0
            assert pool.wait(timeout=seconds) is True  # nothing pending: no need to block

        check()


def _open_gate_once_blocked(pool: pygame_async.Pool, gate: str, stop: threading.Event) -> None:
    """Open the gate once a thread blocks in the pool (white-box), or when told.

    A blocked thread either reads the busy pipes itself or waits on the condition.
    """
    while not stop.wait(0.001):
        if whitebox.waiting_threads(pool):
            break
    open(gate, "w").close()


@pytest.mark.parametrize("how", ["wait", "result", "exception"])
def test_timeouts_beyond_timeout_max_just_wait(how: str, tmp_path: Any) -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("block_until", block_until)
        gate = str(tmp_path / "gate")
        task = pool.call(None, "block_until", gate)
        stop = threading.Event()
        opener = threading.Thread(target=_open_gate_once_blocked, args=(pool, gate, stop))
        opener.start()
        try:
            if how == "wait":
                assert pool.wait(timeout=1e10) is True
            elif how == "result":
                assert task.result(timeout=1e10) == gate
            else:
                assert task.exception(timeout=1e10) is None
        finally:
            stop.set()
            opener.join(BOUND)
            pool.wait(timeout=BOUND)


def test_task_result_and_exception_refuse_bad_timeouts() -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("identity", identity)
        task = pool.call(None, "identity", "value")
        assert task.result(timeout=BOUND) == "value"
        pool.update()

        @FEW
        @given(which=st.sampled_from(["result", "exception"]), bad=bad_seconds())
        def check(which: str, bad: Refusal) -> None:
            value, error, words = bad
            method = task.result if which == "result" else task.exception
            refused(lambda: method(value), error, f"{which}(timeout)", "timeout", words)

        check()


@pytest.mark.parametrize(
    ("timeout", "error"),
    [(-1, ValueError), ("1", TypeError), (math.inf, ValueError), (False, TypeError)],
)
def test_task_result_refuses_bad_timeouts_while_the_call_is_queued(
    timeout: Any, error: type[Exception]
) -> None:
    with pygame_async.Pool(0) as pool:
        pool.define("identity", identity)
        task = pool.call(None, "identity", 1)  # no worker: it stays queued
        refused(lambda: task.result(timeout), error, "result(timeout)", "timeout")
        assert task.cancel()


def test_task_result_with_a_nan_timeout_does_not_spin_forever() -> None:
    with pygame_async.Pool(0) as pool:
        pool.define("identity", identity)
        task = pool.call(None, "identity", 1)  # no worker: it stays queued
        outcome: list[BaseException | None] = []

        def get() -> None:
            try:
                task.result(timeout=math.nan)
            except BaseException as exc:
                outcome.append(exc)
            else:
                outcome.append(None)

        getter = threading.Thread(target=get, daemon=True)
        getter.start()
        try:
            getter.join(0.5)  # a refusal is immediate: 0.5 s is a generous bound
            assert not getter.is_alive(), "result(timeout=nan) is still spinning"
            (exception,) = outcome
            assert isinstance(exception, ValueError) and "timeout" in str(exception)
        finally:
            task.cancel()  # releases the spinning thread (CancelledError)
            getter.join(BOUND)


# -- timeouts per definition ------------------------------------------------------------


def bad_call_timeouts() -> st.SearchStrategy[Refusal]:
    """Per-definition/per-call timeouts: like bad_seconds, and 0 (no call could ever run)."""
    return st.one_of(
        bad_seconds(),
        st.sampled_from([0, 0.0, -0.0]).map(lambda v: (v, ValueError, ("must be more than 0",))),
    )


def test_define_and_options_refuse_bad_timeouts_and_change_nothing() -> None:
    with pygame_async.Pool(1) as pool:
        identity_f = pool.define("identity", identity)

        @SETTINGS
        @given(use_options=st.booleans(), bad=bad_call_timeouts())
        def check(use_options: bool, bad: Refusal) -> None:
            value, error, words = bad
            if use_options:
                refused(
                    lambda: identity_f.options(timeout=value),
                    error,
                    "identity.options(timeout)",
                    "timeout",
                    words,
                )
            else:
                # str would turn every result into text: a refused redefinition replaces nothing
                refused(
                    lambda: pool.define("identity", str, timeout=value),
                    error,
                    "define('identity', function, timeout)",
                    "timeout",
                    words,
                )
            assert_usable(pool)

        check()
        assert identity_f.options(timeout=BOUND)(None, 3).result(timeout=BOUND) == 3
        assert identity_f.options(timeout=None)(None, 4).result(timeout=BOUND) == 4
        assert pool.wait(timeout=BOUND)


def test_budgets_and_timeouts_accept_or_clearly_refuse_huge_ints() -> None:
    with pygame_async.Pool(0) as pool:
        identity_f = pool.define("identity", identity)
        takers: list[tuple[str, str, Callable[[Any], object]]] = [
            ("update(budget)", "budget", pool.update),
            ("wait(timeout)", "timeout", pool.wait),
            (
                "define('x', function, timeout)",
                "timeout",
                lambda t: pool.define("x", abs, timeout=t),
            ),
            ("identity.options(timeout)", "timeout", lambda t: identity_f.options(timeout=t)),
        ]

        @FEW
        @given(taker=st.sampled_from(takers), seconds=st.integers(min_value=2**1024))
        def check(taker: tuple[str, str, Callable[[Any], object]], seconds: int) -> None:
            call, argument, method = taker
            try:
                method(seconds)  # a huge limit is as good as none...
            except ValueError as exc:  # ...or refused, clearly
                assert call in str(exc) and argument in str(exc), str(exc)

        check()


@pytest.mark.parametrize(("how", "seconds"), [("define", 1e7), ("options", 1e300)])
def test_a_huge_call_timeout_is_refused_or_just_never_expires(how: str, seconds: float) -> None:
    pool = pygame_async.Pool(1)
    try:
        try:
            if how == "define":
                identity_f = pool.define("identity", identity, timeout=seconds)
            else:
                identity_f = pool.define("identity", identity).options(timeout=seconds)
        except ValueError as exc:
            assert "timeout" in str(exc)
            return
        task = identity_f(None, 7)
        wait_until(lambda: task.done() or not whitebox.io_thread_alive(pool))
        assert whitebox.io_thread_alive(pool), "the pool's I/O thread died"
        assert task.result(timeout=BOUND) == 7
        assert pool.wait(timeout=BOUND)
    finally:
        if whitebox.io_thread_alive(pool):
            pool.shutdown(cancel_pending=True)
        else:  # shutdown() would wait forever for the dead I/O thread: kill the workers
            whitebox.kill_at_exit(pool, timeout=0)
            wait_until(lambda: dask_cluster.not_shared() == [])


# -- progress ------------------------------------------------------------------------


def test_on_progress_refuses_non_functions_and_keeps_the_task() -> None:
    with pygame_async.Pool(1) as pool:
        pool.define("identity", identity)
        task = pool.call(None, "identity", "kept")

        @SETTINGS
        @given(bad=NON_CALLABLES)
        def check(bad: Any) -> None:
            exception = refused(
                lambda: task.on_progress(bad),
                TypeError,
                "Task.on_progress(callback)",
                "callback",
            )
            says_what_it_got(exception, bad)

        check()
        assert task.on_progress(lambda fraction, message: None) is task
        assert task.result(timeout=BOUND) == "kept"
        assert pool.wait(timeout=BOUND)
        assert_usable(pool)


def test_executor_submit_refuses_non_callables_and_what_cannot_be_sent() -> None:
    with pygame_async.Pool(1) as pool:
        executor = pool.as_executor()
        submit = "PoolExecutor.submit(fn)"

        @SETTINGS
        @given(bad=NON_CALLABLES)
        def check(bad: Any) -> None:
            exception = refused(
                lambda: executor.submit(bad), TypeError, submit, "fn", ("must be callable",)
            )
            says_what_it_got(exception, bad)

        check()
        unsendable = ("cannot be sent",)
        function = unpicklable_function()
        refused(lambda: executor.submit(function), TypeError, submit, "fn", unsendable)
        lock = threading.Lock()
        refused(
            lambda: executor.submit(identity, lock), TypeError, submit, "argument 1", unsendable
        )
        assert executor.submit(identity, "still works").result(BOUND) == "still works"
        wait_until(lambda: pool.get_pending_count() == 0)
        pool.define("identity", identity)
        assert_usable(pool)


def report(fraction: Any, message: Any = None) -> str:
    pygame_async.report_progress(fraction, message)
    return "reported"


Report = tuple[Any, Any, type[Exception], str, tuple[str, ...]]
"""A report_progress(fraction, message) to refuse: the error, the argument named, words said."""


def bad_reports() -> st.SearchStrategy[Report]:
    """(fraction, message, error, argument, words) that report_progress must refuse."""
    return st.one_of(
        st.tuples(bad_fractions(), st.one_of(st.none(), st.text(max_size=4))).map(
            lambda c: (c[0][0], c[1], c[0][1], "fraction", c[0][2])
        ),
        st.tuples(
            st.floats(min_value=0.0, max_value=1.0),
            st.one_of(st.booleans(), st.integers(), st.floats(), st.binary(), st.builds(object)),
        ).map(lambda c: (c[0], c[1], TypeError, "message", ("message must be a str or None",))),
    )


def says_what_it_got_in(exception: BaseException, report: Report) -> None:
    """A refused report says what it got: the fraction, or the message, it was given."""
    fraction, message, _, argument, _ = report
    says_what_it_got(exception, fraction if argument == "fraction" else message)


def test_report_progress_refuses_bad_fractions_and_messages_in_the_game() -> None:
    @SETTINGS
    @given(case=bad_reports())
    def check(case: Report) -> None:
        fraction, message, error, argument, words = case
        exception = refused(
            lambda: report(fraction, message), error, "report_progress(", argument, words
        )
        says_what_it_got_in(exception, case)

    check()
    assert report(0.5, "half") == "reported"
    assert report(1) == "reported"


def test_report_progress_refuses_bad_input_in_a_worker_which_survives(lane: str) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("identity", identity)
        pool.define("report", report)

        @FEW
        @given(case=bad_reports())
        def check(case: Report) -> None:
            fraction, message, error, argument, words = case
            task = pool.call({"error": lambda exc: None}, "report", fraction, message)
            exception = task.exception(timeout=BOUND)
            assert isinstance(exception, error), repr(exception)
            assert "report_progress(" in str(exception) and argument in str(exception)
            assert all(word in str(exception) for word in words), str(exception)
            says_what_it_got_in(exception, case)
            assert pool.wait(timeout=BOUND)
            assert pool.call(None, "report", 0.5, "ok").result(timeout=BOUND) == "reported"
            assert pool.wait(timeout=BOUND)

        check()
        assert_usable(pool)


# -- the module-level API -----------------------------------------------------------------


def test_module_functions_refuse_bad_input_and_the_default_pool_survives(
    default_pool: pygame_async.Pool,
) -> None:
    ensure = pygame_async.ensure
    counted: list[tuple[str, str, Callable[[Any], object]]] = [
        ("stop_workers(amount)", "amount", pygame_async.stop_workers),
        ("ensure.exactly(n)", "n", ensure.exactly),
        ("ensure.at_least(n)", "n", ensure.at_least),
        ("ensure.at_most(n)", "n", ensure.at_most),
    ]
    timed: list[tuple[str, str, Callable[[Any], object]]] = [
        ("update(budget)", "budget", pygame_async.update),
        ("wait(timeout)", "timeout", pygame_async.wait),
    ]
    named: list[tuple[str, str, Callable[[Any], object]]] = [
        ("define(name, function)", "name", lambda name: pygame_async.define(name, identity)),
        ("undefine(name)", "name", pygame_async.undefine),
        ("call(callback, name, ...)", "name", lambda name: pygame_async.call(None, name)),
    ]
    define_timeout = (
        "define('late', function, timeout)",
        "timeout",
        lambda timeout: pygame_async.define("late", identity, timeout=timeout),
    )
    cases = st.one_of(
        st.tuples(st.sampled_from(counted), bad_counts()),
        st.tuples(st.just(define_timeout), bad_call_timeouts()),
        st.tuples(st.sampled_from(timed), bad_seconds()),
        st.tuples(st.sampled_from(named), bad_names()),
        st.tuples(
            st.just(
                ("call(", "callback", lambda callback: pygame_async.call(callback, "identity", 1))
            ),
            bad_callbacks(),
        ),
    )

    @SETTINGS
    @given(case=cases)
    def check(case: tuple[tuple[str, str, Callable[[Any], object]], Refusal]) -> None:
        (call, argument, function), (value, error, words) = case
        refused(lambda: function(value), error, call, argument, words)
        with pytest.raises(LookupError):
            pygame_async.call(None, "late")  # a refused definition defines nothing
        assert pygame_async.get_worker_count() == 1
        assert pygame_async.get_pending_count() == 0

    check()
    assert_usable(default_pool)
    assert pygame_async.call(None, "identity", "module").result(timeout=BOUND) == "module"
    assert pygame_async.wait(timeout=BOUND)
