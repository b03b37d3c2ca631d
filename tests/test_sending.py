"""Open files and sockets never cross to a worker: refused at call() and define(), named.

cloudpickle sends an open text file as a ``StringIO`` copy of its contents
and refuses a binary one with pickle's own words; pygame_async refuses both,
and every other open file or socket, the same way, saying what to pass
instead.  A worker's result that is an open file fails its call only.
"""

from __future__ import annotations

import io
import re
import socket
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

import pygame_async


@pytest.fixture
def level(tmp_path: Path) -> Path:
    path = tmp_path / "levels" / "1.txt"
    path.parent.mkdir()
    path.write_text("#####\n#...#\n#####\n")
    return path


def _read(source: Any) -> Any:
    return source.read()


def _refused(pool: pygame_async.Pool, *args: Any, **kwargs: Any) -> str:
    """Call 'load_level' with these arguments; return the TypeError's message."""
    with pytest.raises(TypeError) as raised:
        pool.call(None, "load_level", *args, **kwargs)
    assert pool.get_pending_count() == 0
    return str(raised.value)


def test_an_open_text_file_is_refused_at_call_naming_it(pool, level) -> None:
    pool.define("load_level", _read)
    with open(level) as file:
        message = _refused(pool, file)
    assert message == (
        f"call('load_level'): argument 1 (an open file {str(level)!r}) "
        "cannot be sent to a worker: pass the path instead"
    )
    assert pool.call(None, "load_level", io.StringIO("still fine")).result(timeout=10) == (
        "still fine"
    )


def test_an_open_binary_file_is_refused_the_same_way(pool, level) -> None:
    pool.define("load_level", _read)
    with open(level, "rb") as file:
        message = _refused(pool, 7, source=file)
    assert message == (
        f"call('load_level'): keyword argument 'source' (an open file {str(level)!r}) "
        "cannot be sent to a worker: pass the path instead"
    )
    with open(level, "rb", buffering=0) as raw:
        assert "argument 1 (an open file" in _refused(pool, raw)
    with open(level, "r+b") as both:
        assert "argument 1 (an open file" in _refused(pool, both)


def test_a_closed_file_is_refused_too(pool, level) -> None:
    pool.define("load_level", _read)
    with open(level) as file:
        pass
    assert f"argument 1 (a closed file {str(level)!r}) cannot be sent" in _refused(pool, file)


def test_temporary_files_are_refused(pool) -> None:
    pool.define("load_level", _read)
    with tempfile.NamedTemporaryFile("w+") as named:
        message = _refused(pool, named)
        assert f"argument 1 (an open temporary file {named.name!r}) cannot be sent" in message
    with tempfile.TemporaryFile() as anonymous:
        assert re.search(
            r"argument 1 \(an open file( \(descriptor \d+\)| '[^']+')\)", _refused(pool, anonymous)
        )
    with tempfile.SpooledTemporaryFile() as spooled:
        assert "argument 1 (an open temporary file) cannot be sent" in _refused(pool, spooled)


def test_a_file_inside_an_argument_is_named_with_its_holder(pool, level) -> None:
    pool.define("load_level", _read)
    with open(level) as file:
        message = _refused(pool, 1, [file])
    assert message == (
        f"call('load_level'): argument 2 (list, holding an open file {str(level)!r}) "
        "cannot be sent to a worker: pass the path instead"
    )


def test_sockets_are_refused(pool) -> None:
    pool.define("load_level", _read)
    server = socket.create_server(("127.0.0.1", 0))
    try:
        address = server.getsockname()
        message = _refused(pool, server)
        assert message == (
            f"call('load_level'): argument 1 (a socket bound to {address!r}) "
            "cannot be sent to a worker: pass its address instead and connect in the worker"
        )
    finally:
        server.close()
    left, right = socket.socketpair()
    with left, right:
        assert "argument 1 (a socket) cannot be sent" in _refused(pool, left)
    assert "argument 1 (a closed socket) cannot be sent" in _refused(pool, left)


def test_a_function_closing_over_an_open_file_is_refused_at_define(pool, level) -> None:
    with open(level) as level_file:

        def load_level() -> str:
            return level_file.read()

        with pytest.raises(TypeError) as raised:
            pool.define("load_level", load_level)
    assert str(raised.value) == (
        "define('load_level', function): the function cannot be sent to workers: "
        f"it closes over 'level_file' (an open file {str(level)!r}): "
        "use the path instead and open the file in the function"
    )


def test_define_names_a_file_held_deeper_in_what_the_function_uses(pool, level) -> None:
    import functools

    with open(level, "rb") as handle:
        levels = {"first": handle}

        def helper() -> bytes:
            return levels["first"].read()

        def load_level() -> bytes:
            return helper()

        with pytest.raises(
            TypeError,
            match=r"it closes over 'helper', which closes over 'levels' "
            r"\(dict, holding an open file '.*1\.txt'\): use the path",
        ):
            pool.define("load_level", load_level)
        with pytest.raises(TypeError, match=r"its partial argument 1 \(an open file '.*1\.txt'\)"):
            pool.define("load_level", functools.partial(_read, handle))
        with pytest.raises(
            TypeError, match=r"its default for 'source' \(an open file '.*1\.txt'\)"
        ):
            pool.define("load_level", lambda source=handle: source.read())
    with pytest.raises(TypeError, match=r"it closes over 'lock' \(_thread.lock\): TypeError: "):
        import threading

        lock = threading.Lock()
        pool.define("locked", lambda: lock)


def test_a_result_that_is_an_open_file_fails_that_call_only(pool, level) -> None:
    pool.define("open_level", lambda path, mode: open(path, mode))  # noqa: SIM115
    for mode in ("r", "rb"):
        error = pool.call(None, "open_level", str(level), mode).exception(timeout=10)
        assert isinstance(error, pygame_async.ResultNotSentError)
        assert str(error) == (
            f"cannot send result of 'open_level': it is an open file {str(level)!r}: "
            "return its contents or its path instead"
        )
    pool.define("open_levels", lambda path: {"first": open(path)})  # noqa: SIM115
    error = pool.call(None, "open_levels", str(level)).exception(timeout=10)
    assert isinstance(error, pygame_async.ResultNotSentError)
    assert str(error) == (
        f"cannot send result of 'open_levels': it (dict) holds an open file {str(level)!r}: "
        "return its contents or its path instead"
    )
    pool.define("a_socket", lambda: socket.socket())
    error = pool.call(None, "a_socket").exception(timeout=10)
    assert str(error) == (
        "cannot send result of 'a_socket': it is a socket: return what it received instead"
    )
    pool.define("read_level", lambda path: Path(path).read_text())
    assert pool.call(None, "read_level", str(level)).result(timeout=10) == level.read_text()


def test_standard_streams_and_in_memory_files_still_cross(pool) -> None:
    # A function may default to printing on the standard streams: in the
    # worker they are the worker's own, as cloudpickle always made them.
    def where(file: Any = sys.stderr) -> str:
        return "stderr" if file is sys.stderr else repr(file)

    pool.define("where", where)
    assert pool.call(None, "where").result(timeout=10) == "stderr"
    pool.define("load_level", _read)
    assert pool.call(None, "load_level", io.BytesIO(b"#.#")).result(timeout=10) == b"#.#"


class Reopened(io.TextIOWrapper):
    """A file class of the game's that says how to cross: the worker reopens its path.

    ``__reduce_ex__``, not ``__reduce__``: from Python 3.12 ``TextIOWrapper``
    has a ``__reduce_ex__`` of its own that refuses, which a ``__reduce__``
    would not override.
    """

    def __reduce_ex__(self, protocol: object) -> tuple[Any, ...]:
        return open, (self.name,)


def test_a_file_class_that_says_how_to_pickle_itself_is_trusted(pool, level) -> None:
    pool.define("load_level", _read)
    with Reopened(open(level, "rb")) as file:  # the wrapper closes the file
        assert pool.call(None, "load_level", file).result(timeout=10) == level.read_text()


def test_an_open_file_among_the_initializers_arguments_is_refused(level) -> None:
    with open(level) as file, pytest.raises(TypeError) as raised:
        pygame_async.Pool(1, initializer=print, initargs=(file,))
    assert str(raised.value) == (
        "Pool(initializer): the initializer or its initargs cannot be sent to workers: "
        f"one is or holds an open file {str(level)!r}: pass the path instead"
    )
