"""assets.load() knows every file format the installed pygame decodes, by its extension.

The files are made here (tests/media.py), and loaded for real.  What the
installed SDL_mixer can decode is asked of SDL_mixer itself (``Mix_Init``,
through ctypes: pygame does not tell), so each flavour of pygame is held to
what it really has.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from pathlib import Path

import media
import pygame
import pytest

import pygame_async
from pygame_async import assets

# The extensions issue 13 found refused, though pygame decodes them.
SOUNDS_ONCE_REFUSED = ("opus", "wv", "xm", "mid", "mod", "it", "s3m", "aiff")
MIX_INIT = {"flac": 1, "mod": 2, "mp3": 8, "ogg": 16, "mid": 32, "opus": 64, "wavpack": 128}


@pytest.fixture(autouse=True)
def fresh_pygame() -> Iterator[None]:
    yield
    pygame.quit()


@pytest.fixture
def mixer() -> None:
    pygame.mixer.init()


def sdl_mixer_decoders() -> set[str]:
    """Ask the SDL_mixer that pygame.mixer loaded which optional decoders it has (Linux)."""
    with open("/proc/self/maps") as maps:
        library = next(line.split()[-1] for line in maps if "libSDL2_mixer" in line)
    sdl_mixer = ctypes.CDLL(library)  # the copy already loaded: dlopen hands it back
    flags = sdl_mixer.Mix_Init(sum(MIX_INIT.values()))
    return {name for name, flag in MIX_INIT.items() if flags & flag}


def version(kind: str) -> tuple[int, ...]:
    if kind == "image":
        found = pygame.image.get_sdl_image_version()
        assert found is not None
        return tuple(found)
    return tuple(pygame.mixer.get_sdl_mixer_version())


def kind_of(path: str) -> str:
    return assets._spec_of("x", path).kind


def test_every_listed_extension_gives_a_plain_path_its_kind() -> None:
    listed = assets.extensions()
    assert set(listed) == {"image", "sound", "data", "font"}
    for kind in ("image", "sound", "data"):
        for extension in listed[kind]:
            assert kind_of(f"a/b.{extension}") == kind
            assert kind_of(f"a/b.{extension.upper()}") == kind
    assert {"png", "jpg", "jpeg", "bmp", "gif", "tga", "webp", "svg", "xcf", "lbm"} <= listed[
        "image"
    ]
    assert {"wav", "ogg", "mp3", "flac", "opus", "aiff", "voc", "mid", "mod", "xm"} <= listed[
        "sound"
    ]
    assert listed["data"] == {"json", "tmj", "tsj"} and listed["font"] == {"ttf", "otf", "ttc"}


def test_the_extensions_once_refused_are_taken_where_pygame_decodes_them() -> None:
    assert kind_of("gfx/layers.xcf") == "image"
    has_wavpack = version("sound") >= (2, 8, 0)  # WavPack came with SDL_mixer 2.8.0
    for extension in SOUNDS_ONCE_REFUSED:
        if extension == "wv" and not has_wavpack:
            with pytest.raises(ValueError, match=r"WavPack sound, which this pygame cannot") as e:
                kind_of("sfx/loop.wv")
            assert "it needs SDL_mixer 2.8.0 or newer, and has " in str(e.value)
            assert "assets.Sound(path) tries anyway" in str(e.value)
            assert "wv" not in assets.extensions()["sound"]
        else:
            assert kind_of(f"sfx/loop.{extension}") == "sound"
            assert extension in assets.extensions()["sound"]


def test_qoi_is_taken_only_from_sdl_image_2_6_on() -> None:
    if version("image") >= (2, 6, 0):
        assert kind_of("a.qoi") == "image" and "qoi" in assets.extensions()["image"]
    else:
        with pytest.raises(ValueError, match=r"needs SDL_image 2\.6\.0 or newer, and has 2\."):
            kind_of("a.qoi")


def test_unknown_extensions_are_still_refused_at_once() -> None:
    for path in ("a.xyz", "noextension", "a.png.bak"):
        with pytest.raises(ValueError, match="cannot tell the kind of"):
            kind_of(path)


def test_generated_files_of_each_format_load_or_fail_saying_what_is_missing(
    tmp_path: Path, pool: pygame_async.Pool, mixer: None
) -> None:
    decoders = sdl_mixer_decoders()
    for name, write in [
        ("tone.aiff", media.aiff),
        ("tone.voc", media.voc),
        ("note.mid", media.midi),
        ("song.mod", media.mod),
        ("song.s3m", media.s3m),
        ("song.xm", media.xm),
        ("song.it", media.it),
        ("layers.xcf", media.xcf),
        ("pixels.qoi", media.qoi),
    ]:
        write(tmp_path / name)
    plain = {path.name: path for path in tmp_path.iterdir()}
    if version("image") < (2, 6, 0):
        del plain["pixels.qoi"]  # refused at load: see the test above
    errors: dict[str, BaseException] = {}

    batch = assets.load(plain, on_error=errors.__setitem__, pool=pool)

    assert batch.wait(timeout=30)
    loaded = batch.assets
    # Decoded by SDL_mixer and SDL_image themselves, in every build.
    assert loaded["tone.aiff"].get_length() == pytest.approx(0.25, abs=0.01)
    assert loaded["tone.voc"].get_length() == pytest.approx(0.25, abs=0.01)
    layers = loaded["layers.xcf"]
    assert layers.get_size() == (8, 6)
    assert [tuple(layers.get_at((x, y))) for y in range(6) for x in range(8)] == media.pixels(8, 6)
    if "pixels.qoi" in plain:
        qoi = loaded["pixels.qoi"]
        assert [tuple(qoi.get_at((x, y))) for y in range(6) for x in range(8)] == media.pixels(8, 6)
    # Tracker modules: with libxmp or libmodplug, two rows at speed 6 and 125 BPM
    # (0.24 s; libxmp renders 0.244 s, libmodplug 0.348 s); without, each fails
    # saying what SDL_mixer lacks.
    for song in ("song.mod", "song.s3m", "song.xm", "song.it"):
        if "mod" in decoders:
            assert 0.2 < loaded[song].get_length() < 0.5, song
        else:
            assert "SDL_mixer built with libxmp or libmodplug" in str(errors[song]), song
    # MIDI needs instruments as well as a decoder: these machines have none.
    if "note.mid" in errors:
        assert "MIDI needs instruments" in str(errors["note.mid"])
    else:
        assert loaded["note.mid"].get_length() > 0
    assert set(loaded) | set(errors) == set(plain)
    assert set(errors) <= {"note.mid", "song.mod", "song.s3m", "song.xm", "song.it"}


def test_a_spec_tries_a_format_this_pygame_is_too_old_for_and_says_why_it_failed(
    tmp_path: Path, pool: pygame_async.Pool, mixer: None
) -> None:
    (tmp_path / "tone.wv").write_bytes(b"wvpk" + bytes(60))  # not a real WavPack file
    errors: dict[str, BaseException] = {}

    batch = assets.load(
        {"loop": assets.Sound(tmp_path / "tone.wv")}, on_error=errors.__setitem__, pool=pool
    )

    assert batch.wait(timeout=10)
    message = str(errors["loop"])
    assert str(tmp_path / "tone.wv") in message
    if version("sound") < (2, 8, 0):
        assert "(it needs SDL_mixer 2.8.0 or newer, and has 2." in message
    else:
        assert "needs SDL_mixer" not in message  # it has WavPack: the file itself is bad
