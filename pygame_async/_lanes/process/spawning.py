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

The stdlib computes the preparation data inside ``Popen._launch`` (POSIX) or
``Popen.__init__`` (Windows) through the module global ``spawn``.  We rebuild
that one function over a copy of its module's globals in which ``spawn`` is a
view of the real module whose ``get_preparation_data`` drops the two
``init_main_*`` keys.  Nothing global is patched, so other users of
multiprocessing in the game are unaffected.
"""

from __future__ import annotations

import multiprocessing.context
import multiprocessing.process
import multiprocessing.spawn
import socket
import sys
import types
from typing import Any

from pygame_async._lanes.process import child

_MAIN_MODULE_KEYS = ("init_main_from_path", "init_main_from_name")


def _preparation_data_without_main(name: str) -> dict[str, Any]:
    """Return the stdlib's preparation data minus the instructions to import ``__main__``."""
    data: dict[str, Any] = multiprocessing.spawn.get_preparation_data(name)
    for key in _MAIN_MODULE_KEYS:
        data.pop(key, None)
    return data


class _SpawnWithoutMain(types.ModuleType):
    """``multiprocessing.spawn`` as seen by the rebuilt launcher: the same, but main-free."""

    def __getattr__(self, name: str) -> Any:
        return getattr(multiprocessing.spawn, name)

    get_preparation_data = staticmethod(_preparation_data_without_main)


def _rebuild_without_main(function: Any) -> Any:
    """Return a copy of a stdlib launcher function that sees the main-free ``spawn``."""
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
        """Windows spawn launcher that does not make the child import ``__main__``."""

        __init__ = _rebuild_without_main(popen_spawn_win32.Popen.__init__)

else:
    from multiprocessing import popen_spawn_posix

    class _PopenWithoutMain(popen_spawn_posix.Popen):
        """POSIX spawn launcher that does not make the child import ``__main__``."""

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
    setup: bytes | None, memory_limit: int | None
) -> tuple[multiprocessing.process.BaseProcess, socket.socket, socket.socket]:
    """Start a worker process; return it and the game's ends of its main and bulk sockets.

    The worker gets the other ends; the game closes its copies once the child
    has them.  Called on the lane's starter thread: it waits while the new
    interpreter reads its start-up data.
    """
    ours, theirs = socket.socketpair()
    our_bulk, their_bulk = socket.socketpair()
    try:
        process = worker_context().Process(
            target=child.main,
            args=(theirs, their_bulk, setup, memory_limit),
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
