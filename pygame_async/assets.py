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
calls it, like any call of the pool (figures: the "Asset loading" section of
the README):

========  ====================  ==================================================
kind      where it is decoded   why
========  ====================  ==================================================
image     the pool's thread     ``pygame.image.load`` releases the GIL while it
          lane                  decodes, and the Surface needs no copy.  Through a
                                worker, its pixels are unpickled inside
                                ``update()``: 120-490 ms for one 2048x2048 image.
sound     the pool's thread     a ``Sound`` belongs to the game's mixer, and
          lane                  ``pygame.mixer.Sound`` releases the GIL while it
                                decodes and resamples.
font      read on the thread    SDL_ttf opens every face on one FreeType library,
          lane, opened at       which must not be used by two threads at once, and
          delivery              pygame does not lock it: the file is read off the
                                main thread, then opened there (0.05-0.08 ms).
data      a worker process      ``json.loads`` holds the GIL for the whole parse
                                (90-160 ms for a 4.9 MB map), while unpickling the
                                parsed result costs the main thread 18-36 ms.
========  ====================  ==================================================

``convert`` (``convert_alpha()`` for images with per-pixel alpha, else
``convert()``) runs on the main thread at delivery: it needs the display.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import weakref
from collections.abc import Callable, Mapping
from concurrent.futures import CancelledError
from dataclasses import dataclass
from typing import Any, ClassVar, Final, TypeAlias

import pygame

from pygame_async._core import default as _default
from pygame_async._core import serialization as _serialization
from pygame_async._core import validate as _validate
from pygame_async._core.errors import AsyncError
from pygame_async._core.pool import Pool
from pygame_async._core.task import Task

__all__ = ["AssetError", "Batch", "Data", "Font", "Image", "Sound", "extensions", "load"]

logger = logging.getLogger("pygame_async")

PathLike: TypeAlias = "str | os.PathLike[str]"
Parser: TypeAlias = Callable[[bytes], Any]

# Calls of the pool carry these names, so logs and Task reprs say what they load.
_DATA_DEFINITION: Final = "pygame_async.assets.data"
_IMAGE_CALL: Final = "pygame_async.assets.image"
_SOUND_CALL: Final = "pygame_async.assets.sound"
_FONT_CALL: Final = "pygame_async.assets.font"
_EMPTY_BATCH_CALL: Final = "pygame_async.assets.empty"


@dataclass(frozen=True, slots=True)
class _Format:
    """A file format pygame decodes through SDL_image (images) or SDL_mixer (sounds)."""

    kind: str  # "image" or "sound"
    name: str
    extensions: tuple[str, ...]
    since: tuple[int, int, int]  # the first SDL_image / SDL_mixer 2 release that decodes it
    # What else decoding takes, that pygame cannot tell: an optional library of
    # SDL_image's or SDL_mixer's build, or data on the machine.  None: nothing.
    needs: str | None = None


_ALWAYS: Final = (2, 0, 0)
_TRACKER_NEEDS: Final = (
    "tracker modules need SDL_mixer built with libxmp or libmodplug (pygame-ce 2.5.8's Linux "
    "wheels have libxmp; pygame 2.6.1's use the machine's libmodplug.so.1 if it has one)"
)
# Every format SDL_image and SDL_mixer 2 decode, from their sources: IMG.c's
# table of loaders, and Mix_LoadWAV_RW, which reads WAV, AIFF and VOC itself and
# hands everything else to its music decoders (a format none recognises is
# tried as a tracker module).  README's "Loading assets" has the same table,
# with what pygame 2.6.1's and pygame-ce 2.5.8's Linux wheels decode.
_FORMATS: Final = (
    _Format("image", "BMP", ("bmp",), (0, 0, 0)),  # pygame's own: no SDL_image needed
    _Format("image", "Windows icon or cursor", ("ico", "cur"), _ALWAYS),
    _Format("image", "GIF", ("gif",), _ALWAYS),
    _Format("image", "JPEG", ("jpg", "jpeg"), _ALWAYS),
    _Format("image", "IFF ILBM or PBM", ("lbm",), _ALWAYS),
    _Format("image", "PCX", ("pcx",), _ALWAYS),
    _Format("image", "PNG", ("png",), _ALWAYS),
    _Format("image", "PNM", ("pnm", "ppm", "pgm", "pbm"), _ALWAYS),
    _Format("image", "TGA", ("tga",), _ALWAYS),
    _Format("image", "TIFF", ("tif", "tiff"), _ALWAYS),
    _Format("image", "WebP", ("webp",), _ALWAYS),
    _Format("image", "GIMP XCF", ("xcf",), _ALWAYS),
    _Format("image", "XPM", ("xpm",), _ALWAYS),
    _Format("image", "XV thumbnail", ("xv",), _ALWAYS),
    _Format("image", "SVG", ("svg",), (2, 0, 2)),
    _Format("image", "QOI", ("qoi",), (2, 6, 0)),
    _Format("image", "AVIF", ("avif",), (2, 6, 0), "AVIF needs SDL_image built with libavif"),
    _Format("image", "JPEG XL", ("jxl",), (2, 6, 0), "JPEG XL needs SDL_image built with libjxl"),
    _Format("sound", "WAV", ("wav",), _ALWAYS),
    _Format("sound", "AIFF or IFF 8SVX", ("aiff", "aif", "8svx"), _ALWAYS),
    _Format("sound", "Creative VOC", ("voc",), _ALWAYS),
    _Format("sound", "Ogg Vorbis", ("ogg", "oga"), _ALWAYS),
    _Format("sound", "FLAC", ("flac",), _ALWAYS),
    _Format("sound", "MP3", ("mp3",), (2, 0, 1)),
    _Format("sound", "Opus", ("opus",), (2, 6, 0)),  # as a Sound since 2.6.0 (music since 2.0.4)
    _Format("sound", "WavPack", ("wv",), (2, 8, 0)),
    _Format(
        "sound",
        "MIDI",
        ("mid", "midi"),
        _ALWAYS,
        "MIDI needs instruments: a Timidity configuration (timidity.cfg) or a SoundFont "
        "(SDL_SOUNDFONTS) on the machine",
    ),
    _Format("sound", "tracker module", ("mod", "s3m", "xm", "it"), _ALWAYS, _TRACKER_NEEDS),
)
_FORMAT_OF: Final = {extension: f for f in _FORMATS for extension in f.extensions}
_FONT_EXTENSIONS: Final = frozenset({"otf", "ttc", "ttf"})
_DATA_EXTENSIONS: Final = frozenset({"json", "tmj", "tsj"})  # .tmj/.tsj: Tiled JSON maps, tilesets

_SPEC_HINT: Final = (
    "use assets.Image(path), assets.Sound(path), assets.Font(path, size) or assets.Data(path)"
)


class AssetError(AsyncError):
    """Delivered to ``on_error`` for an asset that could not be loaded.

    The message names the asset and its path; ``name``, ``path`` and
    ``kind`` ("image", "sound", "font" or "data") say which asset, and
    ``__cause__`` is the original exception (``FileNotFoundError``,
    ``pygame.error``, ``json.JSONDecodeError``...).
    """

    def __init__(self, message: str, name: str, path: PathLike, kind: str) -> None:
        super().__init__(message)
        self.name = name
        self.path = path
        self.kind = kind


# -- what to load: one spec class per kind ----------------------------------------------


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


def _spec_of(name: str, value: object) -> Spec:
    """Turn one entry of ``load()``'s mapping into a spec, or raise naming the asset."""
    if isinstance(value, Image | Sound | Font | Data):
        return value
    if not isinstance(value, str | os.PathLike):
        raise TypeError(
            f"assets.load(): asset {name!r}: expected a path (str or os.PathLike) or an "
            f"asset spec such as assets.Image(path), got {type(value).__name__}"
        )
    extension = _extension(value)
    known = _FORMAT_OF.get(extension)
    if known is not None:
        missing = _missing_decoder(known)
        if missing is not None:
            spec = "assets.Image(path)" if known.kind == "image" else "assets.Sound(path)"
            raise ValueError(
                f"assets.load(): asset {name!r}: {os.fspath(value)!r} is a {known.name} "
                f"{known.kind}, which this pygame cannot decode: {missing}; {spec} tries anyway"
            )
        return Image(value) if known.kind == "image" else Sound(value)
    if extension in _DATA_EXTENSIONS:
        return Data(value)
    if extension in _FONT_EXTENSIONS:
        raise ValueError(
            f"assets.load(): asset {name!r}: a font needs a size: use assets.Font({value!r}, size)"
        )
    raise ValueError(
        f"assets.load(): asset {name!r}: cannot tell the kind of {os.fspath(value)!r} "
        f"from its extension; {_SPEC_HINT}"
    )


def _extension(path: PathLike) -> str:
    return os.path.splitext(os.fspath(path))[1].lower().lstrip(".")


def _sdl_version(kind: str) -> tuple[int, int, int] | None:
    """SDL_image's version (images) or SDL_mixer's (sounds) that pygame uses; None: none."""
    if kind == "image":
        if not pygame.image.get_extended():
            return None
        version = pygame.image.get_sdl_image_version()
        return None if version is None else (version[0], version[1], version[2])
    version = pygame.mixer.get_sdl_mixer_version()
    return version[0], version[1], version[2]


def _missing_decoder(known: _Format) -> str | None:
    """Say what this pygame lacks to decode ``known``; None if it has what it takes.

    Only what pygame can tell: whether it has SDL_image, and the versions of
    SDL_image and SDL_mixer.  Optional libraries (``known.needs``) are not.
    """
    if known.since == (0, 0, 0):
        return None
    library = "SDL_image" if known.kind == "image" else "SDL_mixer"
    version = _sdl_version(known.kind)
    if version is None:
        return "pygame was built without SDL_image (pygame.image.get_extended() is False)"
    if version < known.since:
        wanted = ".".join(map(str, known.since))
        return f"it needs {library} {wanted} or newer, and has {'.'.join(map(str, version))}"
    return None


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
    decodable = [f for f in _FORMATS if _missing_decoder(f) is None]
    return {
        "image": frozenset(e for f in decodable if f.kind == "image" for e in f.extensions),
        "sound": frozenset(e for f in decodable if f.kind == "sound" for e in f.extensions),
        "data": _DATA_EXTENSIONS,
        "font": _FONT_EXTENSIONS,
    }


# -- the work on each lane --------------------------------------------------------------


def _load_image(path: str) -> pygame.Surface:
    return pygame.image.load(path)


_MIXER_NOT_INITIALIZED: Final = (
    "pygame.mixer is not initialized: call pygame.mixer.init() (or pygame.init()) "
    "before loading sounds"
)


def _mixer_problem() -> str | None:
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


def _nothing() -> None:
    return None


def _data_decoder() -> Callable[[str, Parser | None], Any]:
    """Return the function workers run for data files.

    It is nested on purpose: cloudpickle sends a nested function by value,
    so a worker runs it without importing this module, and with it pygame
    (about 150 ms and 20 MB more per worker with pygame 2.6.1, which imports
    numpy).  It must therefore use nothing from this module.
    """

    def decode(path: str, parser: Parser | None) -> Any:
        import json

        with open(path, "rb") as file:
            data = file.read()
        return json.loads(data) if parser is None else parser(data)

    return decode


_pools_with_decoder: weakref.WeakSet[Pool] = weakref.WeakSet()


def _call_data_decoder(pool: Pool, job: _Job, path: str, parser: Parser | None) -> Task:
    if pool not in _pools_with_decoder:
        pool.define(_DATA_DEFINITION, _data_decoder())
        _pools_with_decoder.add(pool)
    try:
        return pool.call(job, _DATA_DEFINITION, path, parser)
    except LookupError:  # someone undefined the reserved name: define it again
        pool.define(_DATA_DEFINITION, _data_decoder())
        return pool.call(job, _DATA_DEFINITION, path, parser)


# -- a batch and its deliveries ------------------------------------------------------------


class Batch:
    """The assets of one ``load()`` call, as they arrive, with counts for a loading bar.

    ``assets`` maps each loaded name to its object and ``errors`` each failed
    name to its :class:`AssetError`.  Everything here changes only inside the
    pool's ``update()``, on the thread that calls it, before the matching
    callback runs: a callback sees counts that include its own asset.
    """

    def __init__(
        self,
        pool: Pool,
        total: int,
        on_asset: Callable[[str, Any], object] | None,
        on_error: Callable[[str, AssetError], object] | None,
        on_done: Callable[[Batch], object] | None,
    ) -> None:
        self.total = total
        """How many assets the batch holds."""
        self.loaded = 0
        """How many assets have loaded so far."""
        self.failed = 0
        """How many assets have failed so far."""
        self.assets: dict[str, Any] = {}
        """Each loaded asset's object by name: Surface, Sound, Font or parsed data."""
        self.errors: dict[str, AssetError] = {}
        """Each failed asset's error by name."""
        self._pool = pool
        self._on_asset = on_asset
        self._on_error = on_error
        self._on_done = on_done
        self._tasks: list[Task] = []
        self._finished = False  # on_done has been called (or is running)

    @property
    def done(self) -> bool:
        """True once every asset has loaded or failed, from the moment ``on_done`` is called.

        That is in the ``update()`` that delivers the last asset, right after
        its own callback; for an empty batch, in the next ``update()``.
        """
        return self._finished

    @property
    def fraction(self) -> float:
        """The share of assets finished, loaded or failed, from 0.0 to 1.0."""
        return 1.0 if self.total == 0 else (self.loaded + self.failed) / self.total

    def __repr__(self) -> str:
        return (
            f"<pygame_async.assets.Batch {self.loaded + self.failed}/{self.total} done: "
            f"{self.loaded} loaded, {self.failed} failed>"
        )

    def wait(self, timeout: float | None = None) -> bool:
        """Run the pool's ``update()`` until the batch is done; False if ``timeout`` passes first.

        For scripts, tests and a loading screen with nothing to animate: it
        blocks the calling thread, and runs every callback ``update()`` has
        to deliver, this batch's and others'.  Also False if the pool was
        shut down before the batch was done.
        """
        limit = _validate.seconds("Batch.wait(timeout)", "timeout", timeout)
        deadline = None if limit is None else time.monotonic() + limit
        while True:
            unfinished = [task for task in self._tasks if not task.done()]
            self._pool.update()
            if self.done:
                return True
            if not unfinished:
                # Every call had finished before that update(), which would have
                # delivered them all: the pool was shut down and dropped the rest.
                return False
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            with contextlib.suppress(TimeoutError, CancelledError):
                unfinished[0].exception(remaining)

    # -- called by the deliveries, inside update() --------------------------------------

    def _asset_loaded(self, name: str, asset: Any) -> None:
        self.assets[name] = asset
        self.loaded += 1
        try:
            if self._on_asset is not None:
                self._on_asset(name, asset)
        finally:  # a raising on_asset must not cost the game its on_done
            self._finish_if_done()

    def _asset_failed(self, error: AssetError) -> None:
        self.errors[error.name] = error
        self.failed += 1
        try:
            if self._on_error is not None:
                self._on_error(error.name, error)
            else:
                logger.warning(
                    "%s (and load() was given no on_error)",
                    error,
                    exc_info=(type(error), error, error.__traceback__),
                )
        finally:
            self._finish_if_done()

    def _finish_if_done(self) -> None:
        if self._finished or self.loaded + self.failed < self.total:
            return
        self._finished = True
        if self._on_done is not None:
            self._on_done(self)


class _Job:
    """One asset's callback pair: ``success``/``error`` as ``Pool.call`` accepts them."""

    __slots__ = ("_batch", "_convert", "_mixer_problem", "_name", "_path", "_spec")

    def __init__(
        self, batch: Batch, name: str, spec: Spec, convert: bool, mixer_problem: str | None
    ) -> None:
        self._batch = batch
        self._name = name
        self._spec = spec
        self._path = os.path.abspath(spec.path)  # workers and threads must not see a chdir
        self._convert = convert
        self._mixer_problem = mixer_problem  # for a sound: why it cannot load, if it cannot

    def start(self, pool: Pool) -> Task:
        spec = self._spec
        if isinstance(spec, Image):
            return pool._run_in_thread(self, _IMAGE_CALL, _load_image, self._path)
        if isinstance(spec, Sound):
            return pool._run_in_thread(
                self, _SOUND_CALL, _load_sound, self._path, self._mixer_problem
            )
        if isinstance(spec, Font):
            return pool._run_in_thread(self, _FONT_CALL, _read_font_file, self._path)
        return _call_data_decoder(pool, self, self._path, spec.parser)

    def success(self, value: Any) -> None:
        try:
            asset = self._finish(value)
        except Exception as exc:
            self.error(exc)
        else:
            self._batch._asset_loaded(self._name, asset)

    def error(self, exc: BaseException) -> None:
        spec = self._spec
        kind = spec.kind
        known = _FORMAT_OF.get(_extension(spec.path))
        hint = ""
        if isinstance(exc, pygame.error) and known is not None and known.kind == kind:
            # What pygame cannot tell beforehand: the missing decoder, if that is why.
            reason = known.needs or _missing_decoder(known)
            hint = f" ({reason})" if reason else ""
        error = AssetError(
            f"cannot load {kind} {self._name!r} from {os.fspath(spec.path)!r}: "
            f"{_serialization.describe(exc)}: {exc}{hint}",
            self._name,
            spec.path,
            kind,
        )
        error.__cause__ = exc
        self._batch._asset_failed(error)

    def _finish(self, value: Any) -> Any:
        """Do the main thread's share of the work, at delivery."""
        spec = self._spec
        if isinstance(spec, Font):
            if not pygame.font.get_init():
                pygame.font.init()
            font = pygame.font.Font(self._path, spec.size)
            # For a file that is not a font, pygame returns a Font without a face
            # instead of raising, and that Font's get_height() crashes the process;
            # size("") is the call that fails cleanly on it.
            try:
                font.size("")
            except pygame.error as exc:
                raise pygame.error(f"not a font file pygame can use ({exc})") from exc
            return font
        if isinstance(spec, Image) and self._convert:
            surface: pygame.Surface = value
            if surface.get_flags() & pygame.SRCALPHA or surface.get_masks()[3]:
                return surface.convert_alpha()
            return surface.convert()
        return value


# -- the entry point -------------------------------------------------------------------------


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
    mixer_problem = _mixer_problem() if has_sounds else None

    batch = Batch(pool, len(specs), on_asset, on_error, on_done)
    for name, spec in specs.items():
        job = _Job(batch, name, spec, _converts(spec, convert), mixer_problem)
        batch._tasks.append(job.start(pool))
    if not specs:
        # on_done still runs inside update(), like every callback of the pool.
        batch._tasks.append(
            pool._run_in_thread(lambda _: batch._finish_if_done(), _EMPTY_BATCH_CALL, _nothing)
        )
    return batch


def _pool_for(pool: object) -> Pool:
    if pool is None:
        return _default._loaded("assets.load()")
    if not isinstance(pool, Pool):
        raise TypeError(
            f"assets.load(): pool must be a pygame_async.Pool or None, got {type(pool).__name__}"
        )
    return pool


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
