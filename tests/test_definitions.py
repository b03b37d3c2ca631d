"""define/undefine: what can be defined and its versions, on every lane; what crosses once."""

from __future__ import annotations

import sys

import pytest
import whitebox
from helpers import block_until, identity
from lanes import make_pool

import pygame_async

# Counts, inside each worker process, how often a Payload was unpickled there.
unpickled_in_this_process = 0


class Payload:
    """A large object whose unpickling is counted in the process that unpickles it."""

    def __init__(self, size: int) -> None:
        self.data = bytes(size)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_payload, (self.data,))


def _rebuild_payload(data: bytes) -> Payload:
    global unpickled_in_this_process
    unpickled_in_this_process += 1
    payload = Payload.__new__(Payload)
    payload.data = data
    return payload


def make_closure(payload: Payload):
    def size_and_unpickles(_: int) -> tuple[int, int]:
        import test_definitions

        return len(payload.data), test_definitions.unpickled_in_this_process

    return size_and_unpickles


@pytest.mark.process_lane
def test_a_closure_crosses_to_each_worker_once_not_per_call(pool: pygame_async.Pool) -> None:
    payload = Payload(8 * 1024 * 1024)
    pool.define("measure", make_closure(payload))
    replies = [pool.call(None, "measure", i).result(timeout=20) for i in range(40)]
    assert {size for size, _ in replies} == {8 * 1024 * 1024}
    assert {count for _, count in replies} == {1}, "unpickled once per worker, never per call"


def test_lambdas_and_closures_work(any_pool: pygame_async.Pool) -> None:
    offset = 10
    any_pool.define("lambda", lambda x: x + offset)

    def outer() -> object:
        table = {"a": 1}
        return lambda key: table[key]

    any_pool.define("closure", outer())
    assert any_pool.call(None, "lambda", 1).result(timeout=10) == 11
    assert any_pool.call(None, "closure", "a").result(timeout=10) == 1


def test_a_function_from_the_games_own_module(lane: str, tmp_path, monkeypatch) -> None:
    # The module is importable only through the game's sys.path and working
    # directory: workers started now must see both.
    (tmp_path / "game_logic.py").write_text("def triple(x):\n    return 3 * x\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    import game_logic

    with make_pool(lane, 1) as fresh:
        fresh.define("triple", game_logic.triple)
        assert fresh.call(None, "triple", 5).result(timeout=10) == 15
        fresh.define("cwd", lambda: __import__("os").getcwd())
        cwd = fresh.call(None, "cwd").result(timeout=10)
        if lane == "dask":  # its workers keep the directory they started in, maybe elsewhere
            assert cwd == fresh.call(None, "cwd").result(timeout=10)
        else:
            assert cwd == str(tmp_path)
    sys.modules.pop("game_logic", None)


def test_redefinition_applies_to_later_calls_only(lane: str, tmp_path) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("block_until", block_until)
        pool.define("version", lambda: "old")
        blocker = pool.call(None, "block_until", str(tmp_path / "gate"))
        before = pool.call(None, "version")  # queued behind the blocker
        version = pool.define("version", lambda: "new")
        after = version(None)
        (tmp_path / "gate").touch()
        blocker.result(timeout=10)
        assert before.result(timeout=10) == "old"
        assert after.result(timeout=10) == "new"


def test_pending_calls_survive_undefine_and_later_calls_fail_at_once(lane: str, tmp_path) -> None:
    with make_pool(lane, 1) as pool:
        pool.define("block_until", block_until)
        pool.define("answer", lambda: 42)
        blocker = pool.call(None, "block_until", str(tmp_path / "gate"))
        pending = pool.call(None, "answer")
        pool.undefine("answer")
        with pytest.raises(LookupError, match=r"call\('answer'\): no function is defined"):
            pool.call(None, "answer")
        (tmp_path / "gate").touch()
        blocker.result(timeout=10)
        assert pending.result(timeout=10) == 42


def test_a_worker_started_later_gets_old_versions_still_needed(lane: str) -> None:
    with make_pool(lane, 0) as pool:
        pool.define("version", lambda: 1)
        first = pool.call(None, "version")
        pool.define("version", lambda: 2)
        second = pool.call(None, "version")
        pool.undefine("version")
        pool.add_worker()
        assert (first.result(timeout=10), second.result(timeout=10)) == (1, 2)


@pytest.mark.process_lane
def test_superseded_definitions_are_retired() -> None:
    with pygame_async.Pool(1) as pool:
        for version in range(5):
            pool.define("f", lambda version=version: version)
            assert pool.call(None, "f").result(timeout=10) == version
        pool.update()
        (pid,) = whitebox.worker_pids(pool)
        current = whitebox.current_definition(pool, "f")
        assert whitebox.known_definitions(pool, pid) == {current.id}


def test_undefining_an_unknown_name_is_not_an_error(any_pool: pygame_async.Pool) -> None:
    any_pool.define("kept", identity)
    pending = any_pool.call(None, "kept", 1)
    assert any_pool.undefine("never-defined") is None  # no error...
    any_pool.undefine("never-defined")  # ...nor a second time
    any_pool.define("gone", identity)
    any_pool.undefine("gone")
    any_pool.undefine("gone")  # ...nor for a name undefined already
    # ...and nothing else changes: the name stays unknown, other definitions and calls stay.
    for name in ("never-defined", "gone"):
        with pytest.raises(LookupError, match=f"call\\('{name}'\\): no function is defined"):
            any_pool.call(None, name)
    assert any_pool.call(None, "kept", 2).result(timeout=10) == 2
    assert pending.result(timeout=10) == 1
    assert any_pool.wait(timeout=10)
    assert any_pool.get_pending_count() == 0


def test_lookup_error_names_what_is_defined(any_pool: pygame_async.Pool) -> None:
    any_pool.define("alpha", abs)
    with pytest.raises(LookupError, match=r"no function is defined.*'alpha'"):
        any_pool.call(None, "beta")


@pytest.mark.process_lane
def test_a_definition_the_worker_cannot_load_fails_its_calls_only(
    pool: pygame_async.Pool, tmp_path, monkeypatch
) -> None:
    # The module is gone by the time a worker looks for it (workers follow the
    # game's sys.path, so it must be missing from the disk, not from the path).
    (tmp_path / "only_in_the_game.py").write_text("def f():\n    return 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import only_in_the_game

    (tmp_path / "only_in_the_game.py").unlink()

    pool.define("unloadable", only_in_the_game.f)
    pool.define("fine", lambda: "fine")
    error = pool.call(None, "unloadable").exception(timeout=10)
    assert isinstance(error, pygame_async.DefinitionLoadError)
    assert "'unloadable'" in str(error) and "only_in_the_game" in str(error)
    assert "ModuleNotFoundError" in str(error.__cause__)
    assert pool.call(None, "fine").result(timeout=10) == "fine"
    sys.modules.pop("only_in_the_game", None)
