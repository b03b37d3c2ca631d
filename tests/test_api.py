"""The public surface: exports, the default pool's lifecycle, errors before load()."""

from __future__ import annotations

import inspect
import subprocess
import sys
import threading
from types import ModuleType

import pytest
import whitebox
from helpers import pid_alive, worker_pids
from lanes import LANES, make_pool

import pygame_async
from pygame_async import assets


def test_every_export_exists_and_is_documented() -> None:
    for name in pygame_async.__all__:
        obj = getattr(pygame_async, name)
        assert (obj.__doc__ or "").strip(), f"pygame_async.{name} has no docstring"


def public_objects(module: ModuleType) -> list[tuple[str, object]]:
    """The classes and functions a public module exports, as (qualified name, object)."""
    return [
        (f"{module.__name__}.{name}", getattr(module, name))
        for name in module.__all__
        if inspect.isclass(getattr(module, name)) or inspect.isroutine(getattr(module, name))
    ]


@pytest.mark.parametrize(
    ("name", "public"),
    [
        pytest.param(
            name,
            public,
            id=name,
        )
        for module in (pygame_async, assets)
        for name, public in public_objects(module)
    ],
)
def test_public_classes_and_functions_show_the_public_module(name: str, public: object) -> None:
    module = name.rpartition(".")[0]
    assert public.__module__ == module, f"{name} says it is from {public.__module__}"


# Each exception class the package exports, and its bases as documented: every
# error of pygame_async's own derives from AsyncError (README, "Errors"), and
# only these two derive from anything else.
DOCUMENTED_BASES: dict[type, tuple[type, ...]] = {
    pygame_async.AsyncError: (Exception,),
    pygame_async.CallAbortedError: (pygame_async.AsyncError,),
    pygame_async.DefinitionLoadError: (pygame_async.AsyncError,),
    pygame_async.DependencyError: (pygame_async.AsyncError,),
    pygame_async.PoolBrokenError: (pygame_async.AsyncError,),
    pygame_async.RemoteError: (pygame_async.AsyncError,),
    pygame_async.ResultNotSentError: (pygame_async.AsyncError,),
    pygame_async.TaskTimeoutError: (pygame_async.AsyncError, TimeoutError),  # "also a TimeoutError"
    pygame_async.WorkerCrashedError: (pygame_async.AsyncError,),
    pygame_async.WorkerProtocolError: (pygame_async.WorkerCrashedError,),  # "as if it had crashed"
    pygame_async.WorkerStartError: (pygame_async.AsyncError,),
    assets.AssetError: (pygame_async.AsyncError,),
}
NOT_AN_ERROR = {pygame_async.RemoteTraceback}  # the text of a traceback, set as __cause__


def test_errors_share_one_base() -> None:
    exported = {
        public
        for module in (pygame_async, assets)
        for _, public in public_objects(module)
        if isinstance(public, type) and issubclass(public, BaseException)
    }
    assert exported - NOT_AN_ERROR == set(DOCUMENTED_BASES), "every exported error is listed here"
    for error, bases in DOCUMENTED_BASES.items():
        assert error.__bases__ == bases, f"{error.__name__} derives from {error.__bases__}"
        if error is not pygame_async.AsyncError:
            assert issubclass(error, pygame_async.AsyncError)
    assert pygame_async.RemoteTraceback.__bases__ == (Exception,)


def test_the_core_tests_run_on_every_lane_there_is() -> None:
    assert sorted(LANES) == sorted(whitebox.lane_kinds())


def test_importing_the_core_does_not_import_pygame() -> None:
    code = "import sys, pygame_async; print('pygame' in sys.modules)"
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert output.strip() == "False"


@pytest.mark.parametrize(
    ("call", "what"),
    [
        (lambda: pygame_async.update(), "update()"),
        (lambda: pygame_async.wait(0), "wait()"),
        (lambda: pygame_async.get_worker_count(), "get_worker_count()"),
        (lambda: pygame_async.get_pending_count(), "get_pending_count()"),
        (lambda: pygame_async.add_worker(), "add_worker()"),
        (lambda: pygame_async.stop_workers(1), "stop_workers()"),
        (lambda: pygame_async.define("f", abs), "define()"),
        (lambda: pygame_async.undefine("f"), "undefine()"),
        (lambda: pygame_async.call(None, "f"), "call()"),
        (lambda: pygame_async.ensure.at_least(1), "ensure"),
        (lambda: pygame_async.ensure.at_most(1), "ensure"),
        (lambda: pygame_async.ensure.exactly(1), "ensure"),
    ],
)
def test_module_functions_before_load_say_to_load_first(call, what: str) -> None:
    with pytest.raises(RuntimeError, match=r"call pygame_async\.load\(\) first") as info:
        call()
    assert what in str(info.value)


def test_load_starts_warm_workers_and_shutdown_releases_them() -> None:
    pool = pygame_async.load(2)
    assert isinstance(pool, pygame_async.Pool)
    assert pygame_async.get_worker_count() == 2
    assert whitebox.idle_count(pool) == 2, "workers are ready when load returns"
    pids = worker_pids(pool)
    assert all(pid_alive(pid) for pid in pids)
    pygame_async.shutdown()
    assert not any(pid_alive(pid) for pid in pids)
    with pytest.raises(RuntimeError, match="load"):
        pygame_async.get_worker_count()


def test_load_twice_raises_and_load_after_shutdown_works() -> None:
    pygame_async.load(1)
    try:
        with pytest.raises(RuntimeError, match="already loaded"):
            pygame_async.load(1)
    finally:
        pygame_async.shutdown()
    pool = pygame_async.load(1)
    try:
        pygame_async.define("double", lambda x: 2 * x)
        assert pygame_async.call(None, "double", 21).result(timeout=10) == 42
    finally:
        pygame_async.shutdown()
    assert pool.get_worker_count() == 0


def test_module_functions_act_on_the_default_pool(loaded: pygame_async.Pool) -> None:
    results: list[int] = []
    square = pygame_async.define("square", lambda x: x * x)
    assert isinstance(square, pygame_async.AsyncFunction)
    assert square.name == "square"
    square(results.append, 3)
    pygame_async.call(results.append, "square", 4)
    assert pygame_async.get_pending_count() == 2
    assert pygame_async.wait(timeout=10)
    assert sorted(results) == [9, 16]
    assert pygame_async.get_pending_count() == 0
    pygame_async.ensure.at_least(3)
    assert pygame_async.get_worker_count() == 3 == loaded.get_worker_count()
    pygame_async.add_worker()
    pygame_async.stop_workers(2)
    assert pygame_async.get_worker_count() == 2
    pygame_async.undefine("square")
    with pytest.raises(LookupError):
        pygame_async.call(None, "square", 1)


def test_several_pools_are_independent(lane: str) -> None:
    with make_pool(lane, 1) as first, make_pool(lane, 1) as second:
        first.define("f", lambda: "first")
        second.define("f", lambda: "second")
        assert first.call(None, "f").result(timeout=10) == "first"
        assert second.call(None, "f").result(timeout=10) == "second"
        second.add_worker()
        assert (first.get_worker_count(), second.get_worker_count()) == (1, 2)
        with pytest.raises(LookupError):
            first.call(None, "g")


@pytest.mark.process_lane
def test_io_thread_is_gone_after_shutdown() -> None:
    before = set(threading.enumerate())
    with pygame_async.Pool(1):
        pass
    assert {t for t in threading.enumerate() if t.name == "pygame_async-io"} - before == set()
