"""The file formats the asset loader knows, and what this pygame lacks to decode one.

A plain path's kind comes from its extension: :data:`FORMAT_OF` for images
and sounds, :data:`DATA_EXTENSIONS` and :data:`FONT_EXTENSIONS` for the
rest.  An image or sound format is decoded by SDL_image or SDL_mixer 2 from
some release on, and some need more than pygame can tell about: that is
:class:`Format`.  :func:`missing_decoder` compares a format with what the
installed pygame has, which is how ``assets.load()`` refuses a format up
front and ``assets.extensions()`` lists the decodable ones.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

import pygame


@dataclass(frozen=True, slots=True)
class Format:
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
FORMATS: Final = (
    Format("image", "BMP", ("bmp",), (0, 0, 0)),  # pygame's own: no SDL_image needed
    Format("image", "Windows icon or cursor", ("ico", "cur"), _ALWAYS),
    Format("image", "GIF", ("gif",), _ALWAYS),
    Format("image", "JPEG", ("jpg", "jpeg"), _ALWAYS),
    Format("image", "IFF ILBM or PBM", ("lbm",), _ALWAYS),
    Format("image", "PCX", ("pcx",), _ALWAYS),
    Format("image", "PNG", ("png",), _ALWAYS),
    Format("image", "PNM", ("pnm", "ppm", "pgm", "pbm"), _ALWAYS),
    Format("image", "TGA", ("tga",), _ALWAYS),
    Format("image", "TIFF", ("tif", "tiff"), _ALWAYS),
    Format("image", "WebP", ("webp",), _ALWAYS),
    Format("image", "GIMP XCF", ("xcf",), _ALWAYS),
    Format("image", "XPM", ("xpm",), _ALWAYS),
    Format("image", "XV thumbnail", ("xv",), _ALWAYS),
    Format("image", "SVG", ("svg",), (2, 0, 2)),
    Format("image", "QOI", ("qoi",), (2, 6, 0)),
    Format("image", "AVIF", ("avif",), (2, 6, 0), "AVIF needs SDL_image built with libavif"),
    Format("image", "JPEG XL", ("jxl",), (2, 6, 0), "JPEG XL needs SDL_image built with libjxl"),
    Format("sound", "WAV", ("wav",), _ALWAYS),
    Format("sound", "AIFF or IFF 8SVX", ("aiff", "aif", "8svx"), _ALWAYS),
    Format("sound", "Creative VOC", ("voc",), _ALWAYS),
    Format("sound", "Ogg Vorbis", ("ogg", "oga"), _ALWAYS),
    Format("sound", "FLAC", ("flac",), _ALWAYS),
    Format("sound", "MP3", ("mp3",), (2, 0, 1)),
    Format("sound", "Opus", ("opus",), (2, 6, 0)),  # as a Sound since 2.6.0 (music since 2.0.4)
    Format("sound", "WavPack", ("wv",), (2, 8, 0)),
    Format(
        "sound",
        "MIDI",
        ("mid", "midi"),
        _ALWAYS,
        "MIDI needs instruments: a Timidity configuration (timidity.cfg) or a SoundFont "
        "(SDL_SOUNDFONTS) on the machine",
    ),
    Format("sound", "tracker module", ("mod", "s3m", "xm", "it"), _ALWAYS, _TRACKER_NEEDS),
)
"""Every image and sound format, in the order README's table lists them."""

FORMAT_OF: Final = {extension: f for f in FORMATS for extension in f.extensions}
"""Each image and sound extension (lower-case, no dot) to its format."""

FONT_EXTENSIONS: Final = frozenset({"otf", "ttc", "ttf"})
DATA_EXTENSIONS: Final = frozenset({"json", "tmj", "tsj"})  # .tmj/.tsj: Tiled JSON maps, tilesets


def extension_of(path: str | os.PathLike[str]) -> str:
    """Return the extension of ``path`` as the tables hold it: lower-case, without the dot."""
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


def missing_decoder(known: Format) -> str | None:
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


def decoder_hint(kind: str, path: str | os.PathLike[str]) -> str | None:
    """Say what decoding ``path`` as ``kind`` may take that this pygame lacks; None: nothing known.

    For a ``pygame.error`` from the decoder, which does not say that a library
    or data was missing: the format's ``needs``, else :func:`missing_decoder`.
    """
    known = FORMAT_OF.get(extension_of(path))
    if known is None or known.kind != kind:
        return None
    return known.needs or missing_decoder(known)
