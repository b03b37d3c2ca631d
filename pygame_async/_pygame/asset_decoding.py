"""Where and how each kind of asset is decoded: the lanes' work, and the main thread's share.

:func:`start` sends one asset's decoding where it costs the game's main thread
least, and :func:`finish` does what must happen on that thread at delivery.
The module docstring of :mod:`pygame_async.assets` says where each kind goes
and why; README's "Where each kind is decoded" has the measurements, from
``python -m benchmarks.assets_lanes``.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, Final

import pygame

from pygame_async._core.pool import Pool
from pygame_async._core.task import Task
from pygame_async._pygame.asset_specs import Font, Image, Parser, Sound, Spec

# Calls of the pool carry these names, so logs and Task reprs say what they load.
_DATA_DEFINITION: Final = "pygame_async.assets.data"
_IMAGE_CALL: Final = "pygame_async.assets.image"
_SOUND_CALL: Final = "pygame_async.assets.sound"
_FONT_CALL: Final = "pygame_async.assets.font"

_MIXER_NOT_INITIALIZED: Final = (
    "pygame.mixer is not initialized: call pygame.mixer.init() (or pygame.init()) "
    "before loading sounds"
)


def start(pool: Pool, callback: object, spec: Spec, path: str, mixer_problem: str | None) -> Task:
    """Start decoding the asset ``spec`` names, read from ``path``, on the lane for its kind.

    ``callback`` is the success/error pair ``Pool.call`` accepts.  For a
    sound, ``mixer_problem`` is :func:`mixer_problem`'s answer at ``load()``:
    the sound fails with it if the mixer is still not initialized.
    """
    if isinstance(spec, Image):
        return pool._run_in_thread(callback, _IMAGE_CALL, _load_image, path)
    if isinstance(spec, Sound):
        return pool._run_in_thread(callback, _SOUND_CALL, _load_sound, path, mixer_problem)
    if isinstance(spec, Font):
        return pool._run_in_thread(callback, _FONT_CALL, _read_font_file, path)
    return _call_data_decoder(pool, callback, path, spec.parser)


def finish(spec: Spec, path: str, value: Any, convert: bool) -> Any:
    """Do the main thread's share of the work at delivery, and return the asset.

    A font is opened here, from the file its lane has read; an image is
    converted to the display's pixel format if ``convert``.  Anything else is
    ``value`` as its lane decoded it.
    """
    if isinstance(spec, Font):
        if not pygame.font.get_init():
            pygame.font.init()
        font = pygame.font.Font(path, spec.size)
        # For a file that is not a font, pygame returns a Font without a face
        # instead of raising, and that Font's get_height() crashes the process;
        # size("") is the call that fails cleanly on it.
        try:
            font.size("")
        except pygame.error as exc:
            raise pygame.error(f"not a font file pygame can use ({exc})") from exc
        return font
    if isinstance(spec, Image) and convert:
        surface: pygame.Surface = value
        if surface.get_flags() & pygame.SRCALPHA or surface.get_masks()[3]:
            return surface.convert_alpha()
        return surface.convert()
    return value


def mixer_problem() -> str | None:
    """Say why no sound can load now; None if ``pygame.mixer`` is initialized.

    Called by ``load()`` on the game's thread, once per batch with sounds.
    ``pygame.init()`` initializes the mixer only if it can open an audio
    device, and keeps no trace of why it could not (SDL's error message is
    cleared by the next call that succeeds, ``set_mode()`` for one): asking
    the mixer again is the one way to get SDL's reason.  If it can be opened
    now, it is closed again: whether the game has a mixer stays the game's
    choice.
    """
    if pygame.mixer.get_init():
        return None
    if not pygame.get_init():
        return _MIXER_NOT_INITIALIZED
    try:
        pygame.mixer.init()
    except pygame.error as exc:
        return (
            f"no audio device could be opened ({exc}), so pygame.mixer is not initialized "
            f"and sounds are skipped"
        )
    pygame.mixer.quit()
    return (
        "pygame.mixer is not initialized, though an audio device can be opened now "
        "(pygame.mixer.quit() was called, or no device was free at pygame.init()): "
        "call pygame.mixer.init() before loading sounds"
    )


# -- the work on each lane --------------------------------------------------------------


def _load_image(path: str) -> pygame.Surface:
    return pygame.image.load(path)


def _load_sound(path: str, problem: str | None) -> pygame.mixer.Sound:
    if not pygame.mixer.get_init():
        raise pygame.error(problem or _MIXER_NOT_INITIALIZED)
    return pygame.mixer.Sound(path)


def _read_font_file(path: str) -> None:
    # Reading the whole file finds a missing or unreadable one off the main
    # thread and leaves it in the page cache, so opening it at delivery is quick.
    with open(path, "rb") as file:
        while file.read(1 << 20):
            pass


def _data_decoder() -> Callable[[str, Parser | None], Any]:
    """Return the function workers run for data files.

    It is nested on purpose: cloudpickle sends a nested function by value,
    so a worker runs it without importing this module, and with it pygame
    (time and memory on every worker, more with pygame 2.6.1, which imports
    numpy: README's "Where each kind is decoded" has the figures).  It must
    therefore use nothing from this module.
    """

    def decode(path: str, parser: Parser | None) -> Any:
        import json

        with open(path, "rb") as file:
            data = file.read()
        return json.loads(data) if parser is None else parser(data)

    return decode


_pools_with_decoder: weakref.WeakSet[Pool] = weakref.WeakSet()


def _call_data_decoder(pool: Pool, callback: object, path: str, parser: Parser | None) -> Task:
    if pool not in _pools_with_decoder:
        pool.define(_DATA_DEFINITION, _data_decoder())
        _pools_with_decoder.add(pool)
    try:
        return pool.call(callback, _DATA_DEFINITION, path, parser)
    except LookupError:  # someone undefined the reserved name: define it again
        pool.define(_DATA_DEFINITION, _data_decoder())
        return pool.call(callback, _DATA_DEFINITION, path, parser)
