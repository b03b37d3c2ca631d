"""What a game asks the asset loader for: one spec class per kind of asset.

``assets.Image``, ``assets.Sound``, ``assets.Font`` and ``assets.Data`` are
defined here and re-exported by :mod:`pygame_async.assets`, which makes them
its own (``__module__``).  Each checks its arguments when it is made, so a bad
spec fails where the game wrote it, before anything is loaded.
"""

# No ``from __future__ import annotations`` here, on purpose: the classes say
# they are pygame_async.assets', and string annotations would then be resolved
# in that module's namespace (typing.get_type_hints does so for every field).

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeAlias

PathLike: TypeAlias = str | os.PathLike[str]
Parser: TypeAlias = Callable[[bytes], Any]


def _check_path(call: str, path: object) -> None:
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"{call}: path must be a str or os.PathLike, got {type(path).__name__}")


@dataclass(frozen=True, slots=True)
class Image:
    """An image file, loaded as a ``pygame.Surface``.

    ``convert`` overrides the batch's ``convert`` for this image: True
    converts it to the display's pixel format at delivery, False keeps it as
    decoded, None (the default) follows ``load(..., convert=...)``.
    """

    kind: ClassVar[str] = "image"

    path: PathLike
    convert: bool | None = None

    def __post_init__(self) -> None:
        _check_path("assets.Image(path)", self.path)
        if self.convert is not None and not isinstance(self.convert, bool):
            raise TypeError(
                f"assets.Image(path, convert): convert must be True, False or None, "
                f"got {type(self.convert).__name__}"
            )


@dataclass(frozen=True, slots=True)
class Sound:
    """A sound file, loaded as a ``pygame.mixer.Sound``; the mixer must be initialized."""

    kind: ClassVar[str] = "sound"

    path: PathLike

    def __post_init__(self) -> None:
        _check_path("assets.Sound(path)", self.path)


@dataclass(frozen=True, slots=True)
class Font:
    """A TrueType or OpenType font file at a size in points, loaded as a ``pygame.font.Font``."""

    kind: ClassVar[str] = "font"

    path: PathLike
    size: int

    def __post_init__(self) -> None:
        _check_path("assets.Font(path, size)", self.path)
        if isinstance(self.size, bool) or not isinstance(self.size, int):
            raise TypeError(
                f"assets.Font(path, size): size must be an int, got {type(self.size).__name__}"
            )
        if self.size <= 0:
            raise ValueError(f"assets.Font(path, size): size must be 1 or more, got {self.size}")


@dataclass(frozen=True, slots=True)
class Data:
    """A data file (a JSON document, a tile map...), parsed in a worker process.

    Without ``parser`` the file is parsed as JSON.  ``parser(data: bytes)``
    parses any other format; it runs in a worker, so it may be a lambda or a
    function of the game, and it must return something picklable.
    """

    kind: ClassVar[str] = "data"

    path: PathLike
    parser: Parser | None = None

    def __post_init__(self) -> None:
        _check_path("assets.Data(path, parser)", self.path)
        if self.parser is not None and not callable(self.parser):
            raise TypeError(
                f"assets.Data(path, parser): parser must be a function taking bytes, or None; "
                f"got {type(self.parser).__name__}"
            )


Spec: TypeAlias = Image | Sound | Font | Data
