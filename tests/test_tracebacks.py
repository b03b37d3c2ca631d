"""A remote traceback shows the game's own file, line and source text.

Functions of the game's ``__main__``, lambdas and closures are pickled by
value; the traceback of one that fails in a worker must read as it would
had the function failed in the game, even where the worker cannot read the
game's file.  Each test runs a real game script, ``python game.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

GAME = textwrap.dedent(
    """
    import os
    import sys
    import traceback

    import pygame_async


    def boom(x):
        y = x + 1
        raise ValueError(f"boom {y}")


    def make_checker(limit):
        def check(x):
            if x > limit:
                raise OverflowError(f"{x} > {limit}")
            return x

        return check


    def main():
        with pygame_async.Pool(1) as pool:
            pool.define("boom", boom)
            pool.define("lambda", lambda x: 1 // x)
            pool.define("closure", make_checker(3))
            if "--hide-file" in sys.argv:  # as if the worker ran where the file is not
                os.rename(__file__, __file__ + ".hidden")
            for name, argument in (("boom", 1), ("lambda", 0), ("closure", 5)):
                error = pool.call(None, name, argument).exception(timeout=20)
                print(f"=== {name} remote")
                print(error.__cause__, end="")
        for name, function in (("boom", boom), ("closure", make_checker(3))):
            try:
                function(5)  # the same failure, in the game
            except Exception as exc:
                print(f"=== {name} local")
                print("".join(traceback.format_exception(exc)), end="")
        print("=== end")


    if __name__ == "__main__":
        main()
    """
)


def _run_game(tmp_path: Path, *options: str) -> dict[str, str]:
    game = tmp_path / "game.py"
    game.write_text(GAME)
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    done = subprocess.run(
        [sys.executable, str(game), *options],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=25,
    )
    assert done.returncode == 0, done.stderr
    sections = re.split(r"^=== (.+)$", done.stdout, flags=re.MULTILINE)[1:]
    return dict(zip(sections[::2], sections[1::2], strict=True))


def _frames_in(text: str, game: Path) -> list[str]:
    """The frames of the game's file in a traceback, each with the source lines shown under it."""
    frames = re.findall(r'^  File "[^"]*".*\n(?:    .*\n)*', text, flags=re.MULTILINE)
    return [frame for frame in frames if frame.startswith(f'  File "{game}"')]


def _line_of(source: str, text: str) -> int:
    return source.splitlines().index(text) + 1


def _check(tmp_path: Path, sections: dict[str, str], *, like_local: bool) -> None:
    game = tmp_path / "game.py"
    remote = {name: sections[f"{name} remote"] for name in ("boom", "lambda", "closure")}
    boom_line = _line_of(GAME, '    raise ValueError(f"boom {y}")')
    assert f'  File "{game}", line {boom_line}, in boom\n' in remote["boom"]
    assert '    raise ValueError(f"boom {y}")\n' in remote["boom"]
    lambda_line = _line_of(GAME, '        pool.define("lambda", lambda x: 1 // x)')
    assert f'  File "{game}", line {lambda_line}, in <lambda>\n' in remote["lambda"]
    assert '    pool.define("lambda", lambda x: 1 // x)\n' in remote["lambda"]
    check_line = _line_of(GAME, '            raise OverflowError(f"{x} > {limit}")')
    assert f'  File "{game}", line {check_line}, in check\n' in remote["closure"]
    assert '    raise OverflowError(f"{x} > {limit}")\n' in remote["closure"]
    assert "<dynamic-code>" not in "".join(remote.values())
    if like_local:  # as the game shows the same failure (where it can read its file)
        for name in ("boom", "closure"):
            local = _frames_in(sections[f"{name} local"], game)
            assert _frames_in(remote[name], game) == local[-1:]


def test_the_remote_traceback_shows_the_games_file_line_and_source(tmp_path: Path) -> None:
    _check(tmp_path, _run_game(tmp_path), like_local=True)


def test_the_source_travels_when_the_worker_cannot_read_the_games_file(tmp_path: Path) -> None:
    # The game's own traceback would show no source now: linecache drops a
    # file it cannot find.  The worker's has what was sent with the definition.
    _check(tmp_path, _run_game(tmp_path, "--hide-file"), like_local=False)
