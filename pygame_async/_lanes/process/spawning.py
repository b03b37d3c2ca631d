"""Starting worker processes without forking the game or re-running its script.

Two hazards decide how workers start:

* Forking an initialised pygame process copies SDL's locks in whatever state
  its threads left them; measured here, 1 to 2.5% of forked children deadlock
  on the first event or mixer call, and forked children ignore SIGTERM.  So
  workers are *spawned*: a fresh interpreter on every platform.
* A spawned child normally re-imports the parent's ``__main__`` (the game
  script) so that pickled references to ``__main__`` resolve.  For a game that
  means a second window and a second game loop in every worker, or a hang when
  the script has no ``if __name__ == "__main__":`` guard.  pygame_async sends
  every function by value with cloudpickle, so the child never needs the
  script: this module starts children whose preparation data simply omits the
  main module (the same idea as loky's ``init_main_module=False``).

A new worker's start is kept short, since ``load()`` waits for it: the
child runs :mod:`.bootstrap` before multiprocessing's own child code, and
pygame_async's packages start *deferred* there, so the worker imports
:mod:`.child` and what it needs, not the whole pool (see that module).

The stdlib computes the preparation data and the command line inside
``Popen._launch`` (POSIX) or ``Popen.__init__`` (Windows) through the module
global ``spawn``.  We rebuild that one function over a copy of its module's
globals in which ``spawn`` is a view of the real module with those two
functions replaced.  Nothing global is patched, so other users of
multiprocessing in the game are unaffected.
"""

from __future__ import annotations

import multiprocessing.context
import multiprocessing.process
import multiprocessing.spawn
import os
import socket
import sys
import types
from collections.abc import Callable
from typing import Any

from pygame_async._lanes.process import child

_MAIN_MODULE_KEYS = ("init_main_from_path", "init_main_from_name")
_BOOTSTRAP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bootstrap.py")
_TOP_PACKAGE = __name__.partition(".")[0]


def _preparation_data_without_main(name: str) -> dict[str, Any]:
    """Return the stdlib's preparation data minus the instructions to import ``__main__``."""
    data: dict[str, Any] = multiprocessing.spawn.get_preparation_data(name)
    for key in _MAIN_MODULE_KEYS:
        data.pop(key, None)
    return data


def _deferred_packages() -> tuple[tuple[str, str, tuple[str, ...]], ...] | None:
    """Return where this process's pygame_async packages are, parents first; None if not files.

    Every package of pygame_async the game has imported starts deferred in
    the worker: one the worker never uses costs nothing, one it uses runs its
    ``__init__`` only if something needs more than its submodules.
    """
    packages = []
    for name in sorted(sys.modules):  # a parent sorts before its children
        if name != _TOP_PACKAGE and not name.startswith(_TOP_PACKAGE + "."):
            continue
        spec = getattr(sys.modules[name], "__spec__", None)
        if spec is None or spec.submodule_search_locations is None:
            continue  # a module, not a package
        if not spec.has_location or spec.origin is None or not os.path.isfile(spec.origin):
            return None  # a zip, a frozen build...: the worker imports them as usual
        packages.append((name, spec.origin, tuple(spec.submodule_search_locations)))
    return tuple(packages)


def _command_line(**arguments: Any) -> list[str]:
    """Return the stdlib's command line for a spawned child, made to run :mod:`.bootstrap` first."""
    command: list[str] = multiprocessing.spawn.get_command_line(**arguments)
    packages = _deferred_packages()
    if (
        not packages
        or not os.path.isfile(_BOOTSTRAP)
        or command[-3:-2] != ["-c"]  # not the usual `python -c ... --multiprocessing-fork`
        or command[-1] != "--multiprocessing-fork"
    ):
        return command
    given = ", ".join(f"{key}={value!r}" for key, value in arguments.items())
    bootstrap = f"{_TOP_PACKAGE}._lanes.process.bootstrap"
    program = (
        "import importlib.util as u; "
        f"s = u.spec_from_file_location({bootstrap!r}, {_BOOTSTRAP!r}); "
        "m = u.module_from_spec(s); s.loader.exec_module(m); "
        f"m.main({packages!r}, {given})"
    )
    if '"' in program:
        return command  # Windows wraps each argument in double quotes
    command[-2] = program
    return command


class _SpawnWithoutMain(types.ModuleType):
    """``multiprocessing.spawn`` as the rebuilt launcher sees it: main-free, bootstrapped."""

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing.spawn, name)

    get_preparation_data = staticmethod(_preparation_data_without_main)
    get_command_line = staticmethod(_command_line)


def _rebuild_without_main(function: Callable[..., Any]) -> Callable[..., Any]:
    """Return a copy of a stdlib launcher function that sees :class:`_SpawnWithoutMain`."""
    code = function.__code__
    if code.co_freevars:
        # A closure (e.g. a future `super()` call) cannot be rebuilt this way;
        # failing loudly at import beats silently re-running the game script.
        raise ImportError(
            f"pygame_async cannot adapt {function.__qualname__} on Python {sys.version}: "
            "please report this as a bug"
        )
    namespace = dict(function.__globals__)
    namespace["spawn"] = _SpawnWithoutMain("multiprocessing.spawn")
    rebuilt = types.FunctionType(code, namespace, function.__name__, function.__defaults__, None)
    rebuilt.__kwdefaults__ = function.__kwdefaults__
    rebuilt.__qualname__ = function.__qualname__
    return rebuilt


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    from multiprocessing import popen_spawn_win32

    class _PopenWithoutMain(popen_spawn_win32.Popen):
        """Windows spawn launcher: no ``__main__`` in the child, packages deferred."""

        __init__ = _rebuild_without_main(popen_spawn_win32.Popen.__init__)

else:
    from multiprocessing import popen_spawn_posix

    class _PopenWithoutMain(popen_spawn_posix.Popen):
        """POSIX spawn launcher: no ``__main__`` in the child, packages deferred."""

        _launch = _rebuild_without_main(popen_spawn_posix.Popen._launch)  # type: ignore[attr-defined]


class SpawnProcessWithoutMain(multiprocessing.context.SpawnProcess):
    """A spawned process whose child does not import the parent's ``__main__``.

    Module-level on purpose: the process object itself is pickled to the child.
    """

    _start_method = "spawn"

    @staticmethod
    def _Popen(process_obj: Any) -> Any:
        return _PopenWithoutMain(process_obj)


class SpawnContextWithoutMain(multiprocessing.context.SpawnContext):
    """A spawn context whose processes never re-run the game's main script."""

    _name = "spawn"
    Process = SpawnProcessWithoutMain


def worker_context() -> SpawnContextWithoutMain:
    """Return the multiprocessing context every pygame_async worker starts with."""
    return SpawnContextWithoutMain()


def start_worker(
    setup: bytes | None,
    memory_limit: int | None,
    worker_setups: tuple[Callable[[], object], ...] = (),
    *,
    low_priority: bool = False,
) -> tuple[multiprocessing.process.BaseProcess, socket.socket, socket.socket]:
    """Start a worker process; return it and the game's ends of its main and bulk sockets.

    The worker gets the other ends; the game closes its copies once the child
    has them.  ``worker_setups`` run in the worker first (see
    :func:`pygame_async._core.lane_seam.add_worker_setup`); ``low_priority``
    runs it below the game (``Pool(worker_priority)``).  Called on the
    lane's starter thread: it waits while the new interpreter reads its
    start-up data.
    """
    ours, theirs = socket.socketpair()
    our_bulk, their_bulk = socket.socketpair()
    try:
        process = worker_context().Process(
            target=child.main,
            args=(theirs, their_bulk, setup, memory_limit, worker_setups, low_priority),
            name="pygame_async-worker",
            # Not a daemon: a worker's own code may start processes.  The pool
            # ends every worker at exit before multiprocessing would join them.
            daemon=False,
        )
        process.start()
    except BaseException:
        ours.close()
        our_bulk.close()
        raise
    finally:
        theirs.close()
        their_bulk.close()
    return process, ours, our_bulk
