"""A simulated web build: run a script as pygbag would find the platform, then report.

    python tests/websim.py REPORT.json SCRIPT [ARGS...]

Before SCRIPT runs (as ``__main__``, from its own folder, as ``python SCRIPT``
would), this process is made to look like a browser's CPython, as far as
pygame_async can tell:

* ``sys.platform`` is ``"emscripten"``;
* importing ``multiprocessing``, ``_multiprocessing`` or
  ``concurrent.futures.process`` (or a submodule) raises ImportError;
* starting a thread raises RuntimeError (``threading.Thread.start`` and
  ``_thread.start_new_thread``);
* ``threading`` is replaced, as pygbag's ``aio.gthread`` replaces it, by
  green-thread stand-ins: ``Lock`` and ``RLock`` are counters that never
  block, and ``Condition`` has no ``notify()``/``notify_all()`` while its
  ``wait()`` and ``wait_for()`` raise (our own stand-in, written from how
  pygbag's module behaves; pygbag itself needs a browser).

Every refused import and thread start is recorded, with where it came from,
even if the caller caught the error.  REPORT.json then says what happened,
and what ``pygame_async.Pool`` said when asked for the process and thread
lanes here.  The script's exit status is this process's.
"""

from __future__ import annotations

import _thread
import importlib.abc
import importlib.machinery
import json
import os
import runpy
import sys
import threading
import traceback
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

REFUSED_MODULES = ("multiprocessing", "_multiprocessing", "concurrent.futures.process")

refused: dict[str, list[str]] = {"imports": [], "threads": []}


def _where() -> str:
    """The stack that asked, without this module's own frames."""
    frames = [f for f in traceback.extract_stack() if f.filename != __file__]
    return "".join(traceback.format_list(frames[-6:]))


def _is_refused(name: str) -> bool:
    return any(name == refused or name.startswith(refused + ".") for refused in REFUSED_MODULES)


class _NoProcesses(importlib.abc.MetaPathFinder):
    """Refuse the modules a web build's CPython does not have."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if _is_refused(fullname):
            refused["imports"].append(f"{fullname}\n{_where()}")
            raise ImportError(f"websim: no module {fullname!r} in a web build", name=fullname)
        return None


def _no_thread(*args: Any, **kwargs: Any) -> NoReturn:
    refused["threads"].append(_where())
    raise RuntimeError("websim: a web build cannot start a thread")


class _GreenLock:
    """pygbag's green-thread lock: a counter; acquiring always succeeds at once."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        self.count += 1
        return True

    def release(self) -> None:
        self.count -= 1

    def locked(self) -> bool:
        return self.count > 0


class _GreenCondition:
    """pygbag's green-thread condition: nothing to notify, and waiting raises."""

    def __init__(self, lock: Any = None) -> None:
        self.lock = lock or _GreenLock()

    def acquire(self, *args: Any) -> bool:
        return bool(self.lock.acquire())

    def release(self) -> None:
        self.lock.release()

    def wait(self, timeout: float | None = None) -> bool:
        raise RuntimeError("notify not supported")

    def wait_for(self, predicate: Any, timeout: float | None = None) -> bool:
        raise RuntimeError("wait not supported")


def _green_threading() -> ModuleType:
    """``threading`` as a pygbag build has it: the real module's names, green locks."""
    green = ModuleType("threading")
    green.__dict__.update({k: v for k, v in vars(threading).items() if not k.startswith("__")})
    green.Lock = green.RLock = _GreenLock  # type: ignore[attr-defined]
    green.Condition = _GreenCondition  # type: ignore[attr-defined]
    green._register_atexit = lambda function, *args, **kwargs: None  # type: ignore[attr-defined]
    return green


def simulate() -> None:
    """Make this process look like a web build's, from now on."""
    already = sorted(name for name in sys.modules if _is_refused(name))
    if already:
        raise SystemExit(f"websim: {already} imported before the simulation began")
    sys.platform = "emscripten"
    sys.meta_path.insert(0, _NoProcesses())
    threading.Thread.start = _no_thread  # type: ignore[method-assign]
    _thread.start_new_thread = _no_thread
    threading._start_new_thread = _no_thread  # type: ignore[attr-defined]
    sys.modules["threading"] = _green_threading()


def refusals() -> dict[str, str]:
    """What ``pygame_async.Pool`` says when asked for each lane a web build has not."""
    import pygame_async

    said = {}
    for lane in ("process", "thread"):
        try:
            pygame_async.Pool(1, lane=lane).shutdown()
            said[lane] = "accepted"
        except ValueError as error:
            said[lane] = str(error)
    return said


def main(report_path: Path, script: Path, args: list[str]) -> int:
    """Run ``script`` with ``args`` in the simulation; write the report; its exit status."""
    # pygame first, as the desktop build it is: pygame-ce takes a web-only
    # import path (its statically linked modules) when sys.platform says
    # emscripten, which a desktop pygame-ce cannot follow.
    import pygame  # noqa: F401

    simulate()
    sys.argv = [str(script), *args]
    sys.path[0] = str(script.parent)  # as `python script` puts the script's folder first
    status: int | str | None = 0
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as stop:
        status = stop.code
    report = {
        "platform": sys.platform,
        "exit_status": status,
        "refused_imports": refused["imports"],
        "refused_threads": refused["threads"],
        "threads_alive": [thread.name for thread in threading.enumerate()],
        "green_threads": sys.modules["threading"].Condition is _GreenCondition,
        "modules": {
            name: getattr(sys.modules.get(name), "__file__", None)
            for name in ("pygame_async", "demos", "cloudpickle")
        },
        "refusals": refusals(),
    }
    report_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    if isinstance(status, str):
        print(status, file=sys.stderr)
        return 1
    return status or 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]).resolve(), sys.argv[3:]))
