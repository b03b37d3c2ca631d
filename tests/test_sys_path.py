"""Workers follow the game's ``sys.path`` as it is when a definition is made.

A game that adds a folder to ``sys.path`` after ``load()`` (a mod, a level
pack) must be able to define functions that live there, or that import from
there, on workers that were already running.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import pygame_async
from pygame_async._lanes.process import handle
from pygame_async._lanes.process.wire import ToWorker


def _make_package(folder: Path, name: str, body: str) -> None:
    package = folder / name
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "generate.py").write_text(body)


@pytest.fixture
def added_later(tmp_path: Path) -> Iterator[list[str]]:
    """Folders this test appends to sys.path; removed again, with what was imported from them."""
    added: list[str] = []
    before = set(sys.modules)
    yield added
    for folder in added:
        while folder in sys.path:
            sys.path.remove(folder)
    for name in set(sys.modules) - before:
        if name.split(".")[0] in {"levelpack", "levelpack_gone", "first_mod", "second_mod"}:
            del sys.modules[name]
    importlib.invalidate_caches()


def _add_levelpack(tmp_path: Path, added_later: list[str]) -> None:
    """Make the package levelpack in a folder appended to sys.path now (the pool is running)."""
    mods = tmp_path / "mods"
    _make_package(mods, "levelpack", "def level(n):\n    return ['#' * n] * n\n")
    sys.path.append(str(mods))
    added_later.append(str(mods))
    importlib.invalidate_caches()


def test_a_function_of_a_package_added_to_sys_path_after_the_pool_started(
    pool: pygame_async.Pool, tmp_path: Path, added_later: list[str]
) -> None:
    _add_levelpack(tmp_path, added_later)
    from levelpack.generate import level

    # Pickled by reference: the worker imports levelpack to load the definition.
    pool.define("level", level)
    calls = [pool.call(None, "level", 2) for _ in range(4)]  # on both workers
    assert [call.result(timeout=10) for call in calls] == [["##", "##"]] * 4


def test_a_closure_importing_a_package_added_to_sys_path_after_the_pool_started(
    pool: pygame_async.Pool, tmp_path: Path, added_later: list[str]
) -> None:
    _add_levelpack(tmp_path, added_later)

    # Pickled by value: the worker imports levelpack when the call runs.
    def import_and_generate(n: int) -> Any:
        import levelpack.generate

        return levelpack.generate.level(n)

    pool.define("closure", import_and_generate)
    calls = [pool.call(None, "closure", 3) for _ in range(4)]
    assert [call.result(timeout=10) for call in calls] == [["###"] * 3] * 4


def test_new_entries_are_appended_in_the_games_order(
    pool: pygame_async.Pool, tmp_path: Path, added_later: list[str]
) -> None:
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    _make_package(tmp_path / "first", "first_mod", "VALUE = 1\n")
    _make_package(tmp_path / "second", "second_mod", "VALUE = 2\n")
    sys.path.append(second)
    sys.path.insert(0, first)
    added_later += [first, second]

    def worker_path() -> list[str]:
        import sys

        return list(sys.path)

    pool.define("path", worker_path)
    path = pool.call(None, "path").result(timeout=10)
    assert path[-2:] == [first, second]  # appended, in the game's order
    assert path.count(first) == path.count(second) == 1

    def values() -> int:
        from first_mod.generate import VALUE as first_value
        from second_mod.generate import VALUE as second_value

        return first_value + second_value

    pool.define("values", values)
    assert pool.call(None, "values").result(timeout=10) == 3


def test_sys_path_is_sent_only_when_it_changed(
    tmp_path: Path, added_later: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[Any, ...]] = []
    encode_batch = handle.encode_batch

    def recording(operations: list[tuple[Any, ...]]) -> bytes:
        sent.extend(operations)
        return encode_batch(operations)

    monkeypatch.setattr(handle, "encode_batch", recording)

    def paths_sent() -> list[tuple[str, ...]]:
        return [op[1] for op in sent if op[0] == ToWorker.SYS_PATH]

    with pygame_async.Pool(1) as pool:
        pool.define("one", lambda: 1)
        pool.define("two", lambda: 2)
        assert pool.call(None, "two").result(timeout=10) == 2
        assert len(paths_sent()) <= 1  # at most once, with the first definition
        sent.clear()
        pool.define("three", lambda: 3)
        assert pool.call(None, "three").result(timeout=10) == 3
        assert paths_sent() == []
        folder = str(tmp_path / "pack")
        sys.path.append(folder)
        added_later.append(folder)
        pool.define("four", lambda: 4)
        assert pool.call(None, "four").result(timeout=10) == 4
        assert paths_sent() == [tuple(sys.path)]


def test_a_module_the_workers_cannot_find_still_fails_only_its_calls(
    pool: pygame_async.Pool, tmp_path: Path, added_later: list[str]
) -> None:
    # The folder is sent, but the module is gone from it by the time a worker looks.
    (tmp_path / "levelpack_gone.py").write_text("def f():\n    return 1\n")
    sys.path.append(str(tmp_path))
    added_later.append(str(tmp_path))
    import levelpack_gone

    (tmp_path / "levelpack_gone.py").unlink()
    pool.define("unloadable", levelpack_gone.f)
    pool.define("fine", lambda: "fine")
    error = pool.call(None, "unloadable").exception(timeout=10)
    assert isinstance(error, pygame_async.DefinitionLoadError)
    assert "No module named 'levelpack_gone'" in str(error)
    assert pool.call(None, "fine").result(timeout=10) == "fine"
