"""The first code a worker process runs: it defers pygame_async's packages, then spawns.

A worker needs only :mod:`.child` and the few modules it imports, yet importing
any module of a package runs the package's ``__init__`` first, and
``pygame_async/__init__.py`` imports the whole pool (the core, the lanes, the
pygame adapter); ``_lanes`` and ``_lanes.process`` import more of the same.
So before :func:`multiprocessing.spawn.spawn_main` unpickles the worker's
target (and so imports :mod:`.child`), :func:`main` puts every package of
pygame_async the game has imported in ``sys.modules`` *deferred*: real
package modules, made from the game's copies (the worker does not have the
game's ``sys.path`` yet), whose ``__init__`` has not run.  Importing their
submodules works as ever.  The first time anything asks a deferred package
for a name it lacks (a function the worker runs reads
``pygame_async.report_progress``, or unpickles ``pygame_async.TaskState``),
its ``__init__`` runs then, in that module object, and the name is looked
up again: the worker ends up with the package exactly as an eager import
leaves it, paying for it only if a call needs it.  A name that is a
submodule is imported as one instead, so ``from package import submodule``
does not run the ``__init__`` either.

This module is loaded by file path (see :mod:`.spawning`), not imported:
importing it would run the very ``__init__`` it defers.  It therefore
imports nothing of pygame_async, and only what spawning imports anyway.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import sys
import threading
import types
from typing import Any

Packages = tuple[tuple[str, str, tuple[str, ...]], ...]
"""``(name, file of its __init__, its __path__)`` of each package to defer, parents first."""


def main(packages: Packages, **spawn_arguments: Any) -> None:
    """Defer ``packages`` (the game's own copies), then run multiprocessing's spawned child."""
    for name, init_file, search_path in packages:
        defer(name, init_file, search_path)
    from multiprocessing.spawn import spawn_main

    spawn_main(**spawn_arguments)


def defer(name: str, init_file: str, search_path: tuple[str, ...]) -> types.ModuleType | None:
    """Put package ``name`` in ``sys.modules`` with its ``__init__`` not run yet.

    The package is the one at ``init_file``: the game's, found before this
    process has the game's ``sys.path``.  Returns the deferred module, or None
    when it is imported already (then it stays as it is).
    """
    if name in sys.modules:
        return None
    spec = importlib.util.spec_from_file_location(
        name, init_file, submodule_search_locations=list(search_path)
    )
    if spec is None or spec.loader is None:
        return None
    module = importlib.util.module_from_spec(spec)
    module.__dict__["__getattr__"] = _Completion(module)
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    if parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


class _Completion:
    """A deferred package's module ``__getattr__``: it runs the ``__init__`` when first needed."""

    def __init__(self, module: types.ModuleType) -> None:
        self._module = module
        self._lock = threading.RLock()
        self._running = False

    def __call__(self, attribute: str) -> Any:
        module = self._module
        if not attribute.startswith("__") and _is_submodule(module, attribute):
            return importlib.import_module(f"{module.__name__}.{attribute}")
        with self._lock:
            if self._running:  # asked by the __init__ itself: a module still being imported
                raise AttributeError(_missing(module, attribute))
            if module.__dict__.get("__getattr__") is self:
                self._running = True
                try:
                    del module.__dict__["__getattr__"]
                    spec = module.__spec__
                    assert spec is not None and spec.loader is not None
                    spec.loader.exec_module(module)
                finally:
                    self._running = False
        try:
            return module.__dict__[attribute]
        except KeyError:
            hook = module.__dict__.get("__getattr__")  # the __init__ may define its own
            if hook is not None:
                return hook(attribute)
            raise AttributeError(_missing(module, attribute)) from None


def _is_submodule(package: types.ModuleType, name: str) -> bool:
    """Tell whether ``name`` is a submodule (or subpackage) of ``package``."""
    full = f"{package.__name__}.{name}"
    if full in sys.modules:
        return True
    path = getattr(package, "__path__", None)
    return path is not None and importlib.machinery.PathFinder.find_spec(full, path) is not None


def _missing(module: types.ModuleType, attribute: str) -> str:
    return f"module {module.__name__!r} has no attribute {attribute!r}"
