"""Worker processes: never fork the game, never re-run its script, stay quiet."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import whitebox
from helpers import run_game_script

import pygame_async

GAME_STATE = "as imported"  # a test changes it: a forked worker would see the change


def read_game_state() -> str:
    return GAME_STATE


def test_a_script_without_main_guard_runs_its_top_level_once(tmp_path: Path) -> None:
    # Like a small game: top-level code that opens a window, defines functions
    # in __main__, and uses the pool without `if __name__ == "__main__":`.
    result = run_game_script(
        tmp_path,
        """
        import os, pygame
        import pygame_async
        print("top-level ran in", os.getpid(), flush=True)
        pygame.init()
        screen = pygame.display.set_mode((64, 48))
        SCALE = 3

        def scaled(x):
            return x * SCALE, os.getpid()

        class Point:
            def __init__(self, x):
                self.x = x

        pygame_async.load(2)
        pygame_async.define("scaled", scaled)
        pygame_async.define("point", lambda x: Point(x))
        values = [pygame_async.call(None, "scaled", i).result(timeout=20) for i in range(6)]
        point = pygame_async.call(None, "point", 5).result(timeout=20)
        assert [v for v, _ in values] == [0, 3, 6, 9, 12, 15]
        assert type(point) is Point and point.x == 5
        assert all(pid != os.getpid() for _, pid in values)
        pygame_async.shutdown()
        print("done", flush=True)
        """,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len([line for line in lines if line.startswith("top-level ran")]) == 1
    assert lines[-1] == "done"
    assert "Traceback" not in result.stderr


def test_workers_do_not_import_pygame_unless_a_function_does(tmp_path: Path) -> None:
    result = run_game_script(
        tmp_path,
        """
        import sys
        import pygame  # the game has pygame; its workers need not
        import pygame_async

        with pygame_async.Pool(1) as pool:
            pool.define("has_pygame", lambda: "pygame" in sys.modules)
            pool.define("use_pygame", lambda: __import__("pygame").Rect(1, 2, 3, 4).size[0] * 4)
            print(pool.call(None, "has_pygame").result(timeout=20))
            print(pool.call(None, "use_pygame").result(timeout=20))
            print(pool.call(None, "has_pygame").result(timeout=20))
        """,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    banners = [line for line in lines if line.startswith(("pygame ", "pygame-ce "))]
    assert len(banners) == 1, "the game's own import prints the banner; no worker does"
    assert [line for line in lines if line in ("False", "12", "True")] == ["False", "12", "True"]


def test_a_game_that_exits_without_shutdown_leaves_no_worker(tmp_path: Path) -> None:
    result = run_game_script(
        tmp_path,
        """
        import os
        import pygame_async
        import whitebox

        pool = pygame_async.load(2)
        pygame_async.define("getpid", os.getpid)
        pids = {pygame_async.call(None, "getpid").result(timeout=20) for _ in range(4)}
        print(*whitebox.worker_pids(pool), flush=True)
        """,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    for pid in map(int, result.stdout.split()):
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text()


def test_the_worker_context_never_forks(monkeypatch) -> None:
    assert whitebox.worker_start_method() == "spawn"
    # What a fork would show: the game's state, changed since its modules were imported...
    monkeypatch.setattr(sys.modules[__name__], "GAME_STATE", "changed by the game at run time")
    with pygame_async.Pool(1) as pool:
        pool.define("parent_pid", os.getppid)
        pool.define("game_state", read_game_state)
        # ...is not in a worker, which imports them afresh; and its parent is the game
        # itself, not a fork server's process.
        assert pool.call(None, "parent_pid").result(timeout=20) == os.getpid()
        assert pool.call(None, "game_state").result(timeout=20) == "as imported"
    assert GAME_STATE == "changed by the game at run time"
