"""Load a game's assets in the background, with a callback per asset and progress counts.

::

    from pygame_async import assets

    batch = assets.load(
        {"wall": "gfx/wall.png", "beep": "sfx/beep.wav", "level": "maps/level.json",
         "ui": assets.Font("fonts/ui.ttf", 24)},
        on_asset=store, on_done=start_game, convert=True,
    )
    while not batch.done:                      # a loading screen
        pygame_async.update()                  # callbacks run here, on this thread
        draw_bar(batch.fraction)               # then flip() and clock.tick() as usual

Each kind is decoded where it costs the game's main thread least; every
outcome reaches the game through the pool's ``update()``, on the thread that
calls it, like any call of the pool (figures: README's "Where each kind is
decoded", from ``python -m benchmarks.assets_lanes``):

========  ====================  ==================================================
kind      where it is decoded   why
========  ====================  ==================================================
image     the pool's thread     ``pygame.image.load`` releases the GIL while it
          lane                  decodes, and the Surface needs no copy.  Through a
                                worker, its pixels are unpickled on the main
                                thread, inside ``update()``.
sound     the pool's thread     a ``Sound`` belongs to the game's mixer, and
          lane                  ``pygame.mixer.Sound`` releases the GIL while it
                                decodes and resamples.
font      read on the thread    SDL_ttf opens every face on one FreeType library,
          lane, opened at       which must not be used by two threads at once, and
          delivery              pygame does not lock it: the file is read off the
                                main thread, then opened there.
data      a worker process      ``json.loads`` holds the GIL for the whole parse,
                                while unpickling the parsed result costs the main
                                thread much less.
========  ====================  ==================================================

``convert`` (``convert_alpha()`` for images with per-pixel alpha, else
``convert()``) runs on the main thread at delivery: it needs the display.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final

import pygame

from pygame_async._core import default as _default
from pygame_async._core import serialization as _serialization
from pygame_async._core.pool import Pool
from pygame_async._pygame import asset_decoding as _decoding
from pygame_async._pygame.asset_batch import AssetError, Batch, start_batch
from pygame_async._pygame.asset_formats import (
    DATA_EXTENSIONS,
    FONT_EXTENSIONS,
    FORMAT_OF,
    FORMATS,
    extension_of,
    missing_decoder,
)
from pygame_async._pygame.asset_specs import Data, Font, Image, Parser, PathLike, Sound, Spec

__all__ = ["AssetError", "Batch", "Data", "Font", "Image", "Sound", "extensions", "load"]

# The public classes are defined in the adapter's private modules; they are
# documented, shown and pickled as this module's, where a game imports them from.
for _public in (AssetError, Batch, Data, Font, Image, Sound):
    _public.__module__ = __name__

_SPEC_HINT: Final = (
    "use assets.Image(path), assets.Sound(path), assets.Font(path, size) or assets.Data(path)"
)


def load(
    assets: Mapping[str, PathLike | Spec],
    /,
    *,
    on_asset: Callable[[str, Any], object] | None = None,
    on_error: Callable[[str, AssetError], object] | None = None,
    on_done: Callable[[Batch], object] | None = None,
    pool: Pool | None = None,
    convert: bool = False,
) -> Batch:
    """Start loading ``assets`` (name -> path or spec) in the background; return their Batch.

    The kind of a plain path comes from its extension: the images and sounds
    this pygame decodes (png, jpg, bmp, gif, tga, webp, xcf...; wav, ogg, mp3,
    flac, opus, aiff, mid, mod, xm...: :func:`extensions` lists them) and JSON
    (json, and Tiled's tmj/tsj).  A format this pygame's SDL_image or SDL_mixer
    is too old for, or that needs SDL_image it lacks, is refused saying so.
    Fonts need a size, so they are given as ``assets.Font(path, size)``;
    ``assets.Image``, ``assets.Sound`` and ``assets.Data`` name the kind of
    any other path.

    Callbacks run in the pool's ``update()``, on the thread that calls it:
    ``on_asset(name, asset)`` per loaded asset, ``on_error(name, error)`` per
    failed one (an :class:`AssetError` naming the path; without
    ``on_error`` the failure is logged on the ``pygame_async`` logger), and
    ``on_done(batch)`` once every asset has loaded or failed.  A failure
    never stops the rest of the batch.

    ``pool`` defaults to the pool of ``pygame_async.load()``.  With
    ``convert``, images are converted to the display's pixel format on
    delivery, which needs ``pygame.display.set_mode()`` to have been called:
    RuntimeError otherwise.  Bad arguments raise TypeError or ValueError
    naming the asset, before anything is loaded.
    """
    pool = _pool_for(pool)
    if not isinstance(assets, Mapping):
        raise TypeError(
            f"assets.load(assets): assets must be a mapping of names to paths or asset specs, "
            f"got {type(assets).__name__}"
        )
    callbacks = {"on_asset": on_asset, "on_error": on_error, "on_done": on_done}
    for argument, callback in callbacks.items():
        if callback is not None and not callable(callback):
            raise TypeError(
                f"assets.load(): {argument} must be a function or None, "
                f"got {type(callback).__name__}"
            )
    if not isinstance(convert, bool):
        raise TypeError(
            f"assets.load(): convert must be True or False, got {type(convert).__name__}"
        )
    specs: dict[str, Spec] = {}
    for name, value in assets.items():
        if not isinstance(name, str):
            raise TypeError(f"assets.load(): asset names must be str, got {type(name).__name__}")
        specs[name] = _spec_of(name, value)
    converting = [name for name, spec in specs.items() if _converts(spec, convert)]
    if converting and pygame.display.get_surface() is None:
        raise RuntimeError(
            f"assets.load(): converting images (asset {converting[0]!r}) needs a display mode: "
            "call pygame.display.set_mode() first, or load with convert=False"
        )
    for name, spec in specs.items():
        if isinstance(spec, Data) and spec.parser is not None:
            _check_picklable(name, spec.parser)

    has_sounds = any(isinstance(spec, Sound) for spec in specs.values())
    mixer_problem = _decoding.mixer_problem() if has_sounds else None
    return start_batch(pool, specs, set(converting), mixer_problem, on_asset, on_error, on_done)


def extensions() -> dict[str, frozenset[str]]:
    """Return the file extensions ``load()`` takes a plain path's kind from, for this pygame.

    A mapping of kind ("image", "sound", "data", "font") to extensions,
    lower-case and without the dot; ``load()`` matches them case-insensitively.
    Images and sounds are the formats of SDL_image and SDL_mixer 2 that the
    installed pygame can decode, as far as it can tell: with SDL_image
    (``pygame.image.get_extended()``), and the versions of SDL_image and
    SDL_mixer it uses.  Some also need an optional part of SDL's build or of
    the machine, which pygame cannot tell (tracker modules need libxmp or
    libmodplug, MIDI needs instruments, AVIF and JPEG XL their libraries):
    they are listed, and an asset that fails for want of it says so.  Fonts
    are listed too, though a font is always given as ``Font(path, size)``.
    """
    decodable = [f for f in FORMATS if missing_decoder(f) is None]
    return {
        "image": frozenset(e for f in decodable if f.kind == "image" for e in f.extensions),
        "sound": frozenset(e for f in decodable if f.kind == "sound" for e in f.extensions),
        "data": DATA_EXTENSIONS,
        "font": FONT_EXTENSIONS,
    }


def _pool_for(pool: object) -> Pool:
    if pool is None:
        return _default._loaded("assets.load()")
    if not isinstance(pool, Pool):
        raise TypeError(
            f"assets.load(): pool must be a pygame_async.Pool or None, got {type(pool).__name__}"
        )
    return pool


def _spec_of(name: str, value: object) -> Spec:
    """Turn one entry of ``load()``'s mapping into a spec, or raise naming the asset."""
    if isinstance(value, Image | Sound | Font | Data):
        return value
    if not isinstance(value, str | os.PathLike):
        raise TypeError(
            f"assets.load(): asset {name!r}: expected a path (str or os.PathLike) or an "
            f"asset spec such as assets.Image(path), got {type(value).__name__}"
        )
    extension = extension_of(value)
    known = FORMAT_OF.get(extension)
    if known is not None:
        missing = missing_decoder(known)
        if missing is not None:
            spec = "assets.Image(path)" if known.kind == "image" else "assets.Sound(path)"
            raise ValueError(
                f"assets.load(): asset {name!r}: {os.fspath(value)!r} is a {known.name} "
                f"{known.kind}, which this pygame cannot decode: {missing}; {spec} tries anyway"
            )
        return Image(value) if known.kind == "image" else Sound(value)
    if extension in DATA_EXTENSIONS:
        return Data(value)
    if extension in FONT_EXTENSIONS:
        raise ValueError(
            f"assets.load(): asset {name!r}: a font needs a size: use assets.Font({value!r}, size)"
        )
    raise ValueError(
        f"assets.load(): asset {name!r}: cannot tell the kind of {os.fspath(value)!r} "
        f"from its extension; {_SPEC_HINT}"
    )


def _converts(spec: Spec, convert: bool) -> bool:
    return isinstance(spec, Image) and (convert if spec.convert is None else spec.convert)


def _check_picklable(name: str, parser: Parser) -> None:
    try:
        _serialization.dumps(parser)
    except Exception as exc:
        raise TypeError(
            f"assets.load(): asset {name!r}: its parser cannot be sent to a worker: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
