"""The house shows the design: imports run one way, no cycles, small rooms.

The package has four parts: the front (``pygame_async/__init__.py`` and
``assets.py``), the pygame adapter (``_pygame``), the lanes (``_lanes``) and
the core (``_core``).  Arrows run front -> adapter and lanes -> core, never
back; the core never imports pygame.  This walks every module's imports with
``ast`` (those under ``if TYPE_CHECKING:`` too: a cycle for the type checker
is a cycle for the reader) and checks them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pygame_async"
MAX_MODULE_LINES = 500
MAX_CLASS_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """Every module this one imports (absolute names), package-internal or not."""
    path = MODULES[name]
    tree = ast.parse(path.read_text())
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                source = f"{base}.{node.module}" if node.module else base
            else:
                source = node.module or ""
            found.add(source)
            for alias in node.names:  # `from pygame_async import _core` imports a module
                if f"{source}.{alias.name}" in MODULES:
                    found.add(f"{source}.{alias.name}")
    return found


def internal_imports(name: str) -> set[str]:
    return {imported for imported in imports_of(name) if imported in MODULES} - {name}


def part_of(name: str) -> str:
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in ("_core", "_lanes", "_pygame"):
        return parts[1]
    return "front"


ALLOWED = {
    "_core": {"_core"},
    "_lanes": {"_lanes", "_core"},
    "_pygame": {"_pygame", "_core"},
    "front": {"front", "_core", "_lanes", "_pygame"},
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_one_way(name: str) -> None:
    part = part_of(name)
    wrong = {
        imported
        for imported in internal_imports(name)
        if part_of(imported) not in ALLOWED[part] and imported != "pygame_async"
    }
    assert not wrong, f"{name} ({part}) imports {sorted(wrong)}"


@pytest.mark.parametrize("name", sorted(n for n in MODULES if part_of(n) in ("_core", "_lanes")))
def test_the_core_and_the_lanes_never_import_pygame_or_the_front(name: str) -> None:
    outside = imports_of(name) - set(MODULES)
    assert not {m for m in outside if m == "pygame" or m.startswith("pygame.")}, name
    assert "pygame_async" not in internal_imports(name) | (imports_of(name) & {"pygame_async"})


def test_lanes_never_import_the_pool_facade() -> None:
    for name in MODULES:
        if part_of(name) == "_lanes":
            assert "pygame_async._core.pool" not in internal_imports(name), name
            assert "pygame_async._core.default" not in internal_imports(name), name


def test_no_import_cycles() -> None:
    graph = {name: internal_imports(name) - {"pygame_async"} for name in MODULES}
    # A package imports its submodules through __init__ only as a front: drop
    # the arrows from a package to its own children so `import a.b` does not
    # count as a cycle through `a`.
    for name, targets in graph.items():
        graph[name] = {t for t in targets if not t.startswith(name + ".")}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                cycle = [*path[path.index(target) :], target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_rooms_are_small(name: str) -> None:
    source = MODULES[name].read_text()
    assert source.count("\n") <= MAX_MODULE_LINES, f"{name}: {source.count(chr(10))} lines"
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef):
            lines = (node.end_lineno or node.lineno) - node.lineno + 1
            assert lines <= MAX_CLASS_LINES, f"{name}.{node.name}: {lines} lines"


def test_modules_names_never_differ_by_one_letter() -> None:
    def near(a: str, b: str) -> bool:
        if a == b or abs(len(a) - len(b)) > 1:
            return a == b
        if len(a) == len(b):
            return sum(x != y for x, y in zip(a, b, strict=True)) == 1
        short, long = sorted((a, b), key=len)
        return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))

    stems = sorted({name.rsplit(".", 1)[-1].lstrip("_") for name in MODULES})
    pairs = [(a, b) for i, a in enumerate(stems) for b in stems[i + 1 :] if near(a, b)]
    assert not pairs


def test_importing_the_package_starts_nothing_and_imports_no_processes() -> None:
    code = (
        "import sys, threading; import pygame_async; "
        "assert threading.active_count() == 1, threading.enumerate(); "
        "bad = [m for m in ('multiprocessing', '_multiprocessing', 'concurrent.futures.process', "
        "'pygame', 'asyncio') if m in sys.modules]; "
        "assert not bad, bad"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
