"""A worker's start: it imports only what it needs before its first call.

Each test runs a small game in a fresh interpreter, as the start of a real
game is: its worker processes are spawned from a process that has imported
pygame and pygame_async and nothing the test suite brings along.  The games
print what they found as JSON; each one also checks that its workers are
gone once its pool has shut down.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from helpers import run_game_script

REPO = Path(__file__).resolve().parent.parent

# What a worker needs for none of its own work: the pool's machinery (the
# package front and what it imports, the process lane's game side), pygame,
# and the heavy modules that come with them.
NOT_BEFORE_THE_FIRST_CALL = (
    "pygame",
    "asyncio",
    "concurrent.futures",
    "distributed",
    "dask",
    "numpy",
    "pygame_async._core.default",
    "pygame_async._core.pool",
    "pygame_async._core.ledger",
    "pygame_async._core.task",
    "pygame_async._core.delivery",
    "pygame_async._core.lane_seam",
    "pygame_async._lanes.process.process_lane",
    "pygame_async._lanes.process.dispatch",
    "pygame_async._lanes.process.io_thread",
    "pygame_async._lanes.cluster.spec",
    "pygame_async._pygame.events",
    "pygame_async._pygame.surfaces",
)

GAME_PRELUDE = """
import json, sys
import pygame  # a game has pygame; its workers need not
import pygame_async
from helpers import pid_alive, wait_until
import whitebox
"""

GAME_EPILOGUE = """
for pid in gone:
    wait_until(lambda: not pid_alive(pid))
print(json.dumps(found))
"""


def run_game(tmp_path: Path, body: str) -> Any:
    """Run a game script (prelude, ``body``, epilogue); return what it printed as JSON.

    ``body`` fills ``found`` (what it reports) and ``gone`` (the pids that
    must have exited: the epilogue waits, boundedly, for each).
    """
    source = GAME_PRELUDE + textwrap.dedent(body) + GAME_EPILOGUE
    result = run_game_script(tmp_path, source, PYGAME_HIDE_SUPPORT_PROMPT="1")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_a_worker_imports_nothing_it_does_not_need_before_its_first_call(tmp_path: Path) -> None:
    found = run_game(
        tmp_path,
        """
        with pygame_async.Pool(1) as pool:
            gone = whitebox.worker_pids(pool)
            pool.define("modules", lambda: sorted(sys.modules))
            pool.define("front_ran", lambda: "Pool" in vars(sys.modules["pygame_async"]))
            pool.define("surface", lambda: __import__("pygame").Surface((2, 3)))
            modules = pool.call(None, "modules").result(timeout=20)
            front_ran = pool.call(None, "front_ran").result(timeout=20)
            size = pool.call(None, "surface").result(timeout=20).get_size()
        found = {"modules": modules, "front_ran": front_ran, "size": size}
        """,
    )
    modules = set(found["modules"])
    assert "pygame_async._lanes.process.child" in modules, "the first call ran in a worker"
    assert [name for name in NOT_BEFORE_THE_FIRST_CALL if name in modules] == []
    assert found["front_ran"] is False, "pygame_async/__init__.py did not run in the worker"
    # pygame only when a function imports it; its Surface result still travels.
    assert found["size"] == [2, 3]


def test_the_package_front_runs_in_a_worker_once_a_call_needs_it(tmp_path: Path) -> None:
    found = run_game(
        tmp_path,
        """
        def uses_the_front(state):
            import pygame_async as front  # the worker's: its __init__ has run by now

            front.report_progress(0.5)
            return state.name, front.Pool.__module__, "pygame_async._core.pool" in sys.modules

        with pygame_async.Pool(1) as pool:
            gone = whitebox.worker_pids(pool)
            pool.define("front_ran", lambda: "Pool" in vars(sys.modules["pygame_async"]))
            pool.define("uses_the_front", uses_the_front)
            before = pool.call(None, "front_ran").result(timeout=20)
            # Unpickling the argument, a reference to pygame_async.TaskState, runs the front.
            task = pool.call(None, "uses_the_front", pygame_async.TaskState.FINISHED)
            found = [before, *task.result(timeout=20)]
        """,
    )
    assert found == [False, "FINISHED", "pygame_async", True]


def test_a_deferred_package_runs_its_init_only_for_a_name_it_lacks() -> None:
    # The worker's bootstrap, in a fresh interpreter of its own: the package
    # front starts deferred, as it does in every worker.
    code = textwrap.dedent(
        """
        import importlib.util, json, sys
        path = sys.argv[1]
        where = path + "/_lanes/process/bootstrap.py"
        spec = importlib.util.spec_from_file_location("bootstrap", where)
        bootstrap = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bootstrap)
        front = bootstrap.defer("pygame_async", path + "/__init__.py", (path,))
        from pygame_async._core import errors  # a submodule: the __init__ waits
        from pygame_async import _core  # a subpackage, by name: still waiting
        steps = ["Pool" in vars(front), _core.errors is errors]
        steps.append(front.RemoteError is errors.RemoteError)  # a name the __init__ defines
        steps += ["Pool" in vars(front), sys.modules["pygame_async"] is front]
        try:
            front.no_such_name
        except AttributeError as exc:
            steps.append(str(exc))
        steps.append(bootstrap.defer("pygame_async", path + "/__init__.py", (path,)) is None)
        print(json.dumps(steps))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "pygame_async")],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [
        False,
        True,
        True,
        True,
        True,
        "module 'pygame_async' has no attribute 'no_such_name'",
        True,
    ]
