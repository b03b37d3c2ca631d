"""pygame_async.assets: batches of images, sounds, fonts and JSON, with progress, headless."""

from __future__ import annotations

import json
import logging
import math
import os
import random
import struct
import sys
import threading
import wave
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lanes
import pygame
import pytest

import pygame_async
from pygame_async import assets

FONT_FILE = os.path.join(os.path.dirname(pygame.__file__), "freesansbold.ttf")


@pytest.fixture(autouse=True)
def fresh_pygame() -> Iterator[None]:
    """Each test sets up the pygame modules it needs; none leaks into the next."""
    yield
    pygame.quit()


@pytest.fixture
def display() -> pygame.Surface:
    pygame.display.init()
    return pygame.display.set_mode((16, 16))


@pytest.fixture
def mixer() -> None:
    pygame.mixer.init()


@pytest.fixture
def idle_pool() -> Iterator[pygame_async.Pool]:
    """A pool without workers, for checks that must refuse before anything starts."""
    with pygame_async.Pool(0) as pool:
        yield pool


class Recorder:
    """Callbacks that record what they saw, and on which thread."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, int, int, bool, float]] = []
        self.off_main_thread: list[str] = []
        self.done_calls: list[assets.Batch] = []
        self.batch: assets.Batch | None = None

    def _seen(self, what: str, name: str) -> None:
        if threading.current_thread() is not threading.main_thread():
            self.off_main_thread.append(name)
        batch = self.batch
        assert batch is not None
        self.events.append((what, name, batch.loaded, batch.failed, batch.done, batch.fraction))

    def on_asset(self, name: str, asset: Any) -> None:
        assert self.batch is not None and self.batch.assets[name] is asset
        self._seen("asset", name)

    def on_error(self, name: str, error: BaseException) -> None:
        assert self.batch is not None and self.batch.errors[name] is error
        self._seen("error", name)

    def on_done(self, batch: assets.Batch) -> None:
        assert batch is self.batch and batch.done
        self._seen("done", "")
        self.done_calls.append(batch)

    def load(self, specs: dict[str, Any], **options: Any) -> assets.Batch:
        self.batch = assets.load(
            specs, on_asset=self.on_asset, on_error=self.on_error, on_done=self.on_done, **options
        )
        return self.batch


def make_image(path: Path, seed: int, size: tuple[int, int] = (8, 8)) -> tuple[int, int, int, int]:
    """Save a small image with per-pixel alpha; return the colour of its pixel (1, 2)."""
    rng = random.Random(seed)
    surface = pygame.Surface(size, pygame.SRCALPHA)
    surface.fill((rng.randrange(256), rng.randrange(256), rng.randrange(256), 255))
    colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256), 1 + rng.randrange(255))
    surface.set_at((1, 2), colour)
    pygame.image.save(surface, str(path))
    return colour


def make_wav(path: Path, seconds: float = 0.1, rate: int = 22050) -> None:
    with wave.open(str(path), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(rate)
        frames = int(seconds * rate)
        sound.writeframes(
            b"".join(struct.pack("<h", int(8000 * math.sin(i / 10))) for i in range(frames))
        )


def corrupt(path: Path) -> Path:
    path.write_bytes(random.Random(7).randbytes(600))
    return path


# -- images --------------------------------------------------------------------------------


def test_200_images_load_with_progress_and_one_corrupt_file_fails_alone(
    tmp_path: Path, pool: pygame_async.Pool
) -> None:
    colours = {f"tile{i}": make_image(tmp_path / f"tile{i}.png", i) for i in range(200)}
    specs: dict[str, Any] = {name: tmp_path / f"{name}.png" for name in colours}
    specs["broken"] = str(corrupt(tmp_path / "broken.png"))
    recorder = Recorder()

    batch = recorder.load(specs, pool=pool)

    assert (batch.total, batch.loaded, batch.failed, batch.done) == (201, 0, 0, False)
    assert batch.wait(timeout=10)
    assert (batch.loaded, batch.failed, batch.done, batch.fraction) == (200, 1, True, 1.0)
    assert set(batch.errors) == {"broken"}
    assert set(batch.assets) == set(colours)
    for name, colour in colours.items():
        surface = batch.assets[name]
        assert isinstance(surface, pygame.Surface)
        assert surface.get_size() == (8, 8)
        assert tuple(surface.get_at((1, 2))) == colour
    error = batch.errors["broken"]
    assert isinstance(error, assets.AssetError)
    assert str(tmp_path / "broken.png") in str(error)
    assert (error.name, error.kind, error.path) == ("broken", "image", specs["broken"])
    assert isinstance(error.__cause__, pygame.error)
    # Each callback saw the counts with its own asset included, one more each time;
    # the batch is done from on_done on.
    per_asset = [event for event in recorder.events if event[0] != "done"]
    assert [loaded + failed for _, _, loaded, failed, _, _ in per_asset] == list(range(1, 202))
    assert [fraction for *_, fraction in per_asset] == [n / 201 for n in range(1, 202)]
    assert not any(done for *_, done, _ in per_asset)
    assert [event[0] for event in per_asset].count("error") == 1
    assert recorder.events[-1] == ("done", "", 200, 1, True, 1.0)
    assert recorder.done_calls == [batch]
    assert recorder.off_main_thread == []


def test_images_are_converted_at_delivery_when_a_display_mode_is_set(
    tmp_path: Path, pool: pygame_async.Pool, display: pygame.Surface
) -> None:
    alpha_colour = make_image(tmp_path / "alpha.png", 1)
    pygame.image.save(pygame.Surface((4, 4)), str(tmp_path / "opaque.png"))  # 24-bit, no alpha

    batch = assets.load(
        {
            "alpha": tmp_path / "alpha.png",
            "opaque": tmp_path / "opaque.png",
            "raw": assets.Image(tmp_path / "opaque.png", convert=False),
        },
        pool=pool,
        convert=True,
    )

    assert batch.wait(timeout=10) and batch.failed == 0
    alpha, opaque, raw = (batch.assets[name] for name in ("alpha", "opaque", "raw"))
    assert alpha.get_flags() & pygame.SRCALPHA
    assert tuple(alpha.get_at((1, 2))) == alpha_colour
    assert opaque.get_bitsize() == display.get_bitsize()
    assert raw.get_bitsize() == 24  # this one asked not to be converted


def test_a_convert_request_without_a_display_mode_is_refused_at_load(
    tmp_path: Path, pool: pygame_async.Pool
) -> None:
    make_image(tmp_path / "a.png", 1)
    with pytest.raises(RuntimeError, match=r"assets.load\(\).*'a'.*set_mode\(\)"):
        assets.load({"a": tmp_path / "a.png"}, pool=pool, convert=True)
    with pytest.raises(RuntimeError, match="set_mode"):
        assets.load({"a": assets.Image(tmp_path / "a.png", convert=True)}, pool=pool)
    assert pool.get_pending_count() == 0  # nothing was started


def test_an_image_fails_alone_if_the_display_is_gone_when_it_is_delivered(
    tmp_path: Path, pool: pygame_async.Pool, display: pygame.Surface
) -> None:
    make_image(tmp_path / "a.png", 1)
    batch = assets.load(
        {"a": tmp_path / "a.png", "kept": assets.Image(tmp_path / "a.png", convert=False)},
        on_error=lambda name, error: None,
        pool=pool,
        convert=True,
    )
    pygame.display.quit()
    assert batch.wait(timeout=10)
    assert set(batch.errors) == {"a"} and set(batch.assets) == {"kept"}
    assert str(tmp_path / "a.png") in str(batch.errors["a"])


# -- sounds, fonts, data -------------------------------------------------------------------


def test_sounds_load_in_the_game_process(
    tmp_path: Path, pool: pygame_async.Pool, mixer: None
) -> None:
    make_wav(tmp_path / "beep.wav", seconds=0.25)
    corrupt(tmp_path / "noise.wav")
    recorder = Recorder()

    batch = recorder.load(
        {"beep": tmp_path / "beep.wav", "noise": tmp_path / "noise.wav"}, pool=pool
    )

    assert batch.wait(timeout=10)
    beep = batch.assets["beep"]
    assert isinstance(beep, pygame.mixer.Sound)
    assert beep.get_length() == pytest.approx(0.25, abs=0.01)
    assert set(batch.errors) == {"noise"}
    assert str(tmp_path / "noise.wav") in str(batch.errors["noise"])
    assert recorder.off_main_thread == []


def test_a_sound_fails_with_advice_when_the_mixer_is_not_initialized(
    tmp_path: Path, pool: pygame_async.Pool
) -> None:
    make_wav(tmp_path / "beep.wav")
    make_image(tmp_path / "a.png", 1)
    errors: dict[str, BaseException] = {}

    batch = assets.load(
        {"beep": tmp_path / "beep.wav", "a": tmp_path / "a.png"},
        on_error=errors.__setitem__,
        pool=pool,
    )

    assert batch.wait(timeout=10)
    assert set(errors) == {"beep"} and set(batch.assets) == {"a"}
    assert "pygame.mixer.init()" in str(errors["beep"])


def test_without_an_audio_device_a_sound_fails_saying_so_with_sdls_reason(
    tmp_path: Path, pool: pygame_async.Pool, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_wav(tmp_path / "beep.wav")
    make_image(tmp_path / "a.png", 1)
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-audio-driver")  # no device can be opened
    pygame.init()  # initializes every module it can: not the mixer
    pygame.display.set_mode((16, 16))  # and this clears SDL's error message, as in a game
    assert pygame.mixer.get_init() is None
    errors: dict[str, BaseException] = {}

    batch = assets.load(
        {"beep": tmp_path / "beep.wav", "a": tmp_path / "a.png"},
        on_error=errors.__setitem__,
        pool=pool,
    )

    assert batch.wait(timeout=10)
    assert set(errors) == {"beep"} and set(batch.assets) == {"a"}
    message = str(errors["beep"])
    assert "no audio device could be opened" in message
    assert "Audio target 'no-such-audio-driver' not available" in message  # SDL's reason
    assert "sounds are skipped" in message
    assert "(or pygame.init())" not in message  # it was called: no such advice
    assert pygame.mixer.get_init() is None


def test_a_sound_fails_with_advice_when_the_game_quit_the_mixer(
    tmp_path: Path, pool: pygame_async.Pool
) -> None:
    make_wav(tmp_path / "beep.wav")
    pygame.init()
    pygame.mixer.quit()
    errors: dict[str, BaseException] = {}

    batch = assets.load({"beep": tmp_path / "beep.wav"}, on_error=errors.__setitem__, pool=pool)

    assert batch.wait(timeout=10)
    message = str(errors["beep"])
    assert "an audio device can be opened now" in message
    assert "call pygame.mixer.init() before loading sounds" in message
    assert pygame.mixer.get_init() is None  # the game's choice stands: the mixer stays closed


def test_fonts_load_at_their_size(tmp_path: Path, pool: pygame_async.Pool) -> None:
    corrupt(tmp_path / "broken.ttf")

    batch = assets.load(
        {
            "small": assets.Font(FONT_FILE, 12),
            "large": assets.Font(Path(FONT_FILE), 48),
            "broken": assets.Font(tmp_path / "broken.ttf", 12),
            "missing": assets.Font(tmp_path / "missing.ttf", 12),
        },
        on_error=lambda name, error: None,
        pool=pool,
    )

    assert batch.wait(timeout=10)
    small, large = batch.assets["small"], batch.assets["large"]
    assert isinstance(small, pygame.font.Font) and isinstance(large, pygame.font.Font)
    assert small.size("Hello")[1] < large.size("Hello")[1]
    assert large.render("Hello", True, (255, 255, 255)).get_width() > 0
    assert set(batch.errors) == {"broken", "missing"}
    assert str(tmp_path / "broken.ttf") in str(batch.errors["broken"])
    assert "not a font file" in str(batch.errors["broken"])
    assert isinstance(batch.errors["missing"].__cause__, FileNotFoundError)


def test_json_and_custom_data_are_parsed_in_a_worker_that_never_imports_pygame(
    tmp_path: Path,
) -> None:
    level = {"width": 3, "layers": [{"data": [1, 2, 3]}], "name": "été"}
    (tmp_path / "level.json").write_text(json.dumps(level), encoding="utf-8")
    (tmp_path / "map.tmj").write_text(json.dumps({"tiled": True}))
    (tmp_path / "broken.json").write_text('{"width": 3,')
    (tmp_path / "scores.csv").write_text("ann,3\nbob,5\n")

    with pygame_async.Pool(1) as pool:
        batch = assets.load(
            {
                "level": tmp_path / "level.json",
                "map": str(tmp_path / "map.tmj"),
                "broken": tmp_path / "broken.json",
                "scores": assets.Data(
                    tmp_path / "scores.csv",
                    parser=lambda data: dict(
                        (name, int(score))
                        for name, score in (line.split(",") for line in data.decode().split())
                    ),
                ),
            },
            on_error=lambda name, error: None,
            pool=pool,
        )
        assert batch.wait(timeout=10)
        pool.define("has_pygame", lambda: "pygame" in sys.modules)
        worker_has_pygame = pool.call(None, "has_pygame").result(timeout=10)

    assert batch.assets == {"level": level, "map": {"tiled": True}, "scores": {"ann": 3, "bob": 5}}
    assert set(batch.errors) == {"broken"}
    assert isinstance(batch.errors["broken"].__cause__, json.JSONDecodeError)
    assert str(tmp_path / "broken.json") in str(batch.errors["broken"])
    assert worker_has_pygame is False


def test_missing_files_of_every_kind_fail_alone_naming_their_path(
    tmp_path: Path, pool: pygame_async.Pool, mixer: None
) -> None:
    make_image(tmp_path / "here.png", 1)
    missing = {
        "image": tmp_path / "gone.png",
        "sound": tmp_path / "gone.ogg",
        "data": tmp_path / "gone.json",
        "font": assets.Font(tmp_path / "gone.otf", 10),
    }
    recorder = Recorder()

    batch = recorder.load({**missing, "here": tmp_path / "here.png"}, pool=pool)

    assert batch.wait(timeout=10)
    assert set(batch.assets) == {"here"}
    assert set(batch.errors) == set(missing)
    for name, error in batch.errors.items():
        assert error.kind == name
        assert f"'{name}'" in str(error) and "gone." in str(error)
        assert isinstance(error.__cause__, FileNotFoundError)
    assert recorder.done_calls == [batch]
    assert recorder.off_main_thread == []


# -- callbacks and the batch ---------------------------------------------------------------


def test_a_failure_without_on_error_is_logged_with_its_path(
    tmp_path: Path, pool: pygame_async.Pool, caplog: pytest.LogCaptureFixture
) -> None:
    corrupt(tmp_path / "broken.png")
    with caplog.at_level(logging.WARNING, logger="pygame_async"):
        batch = assets.load({"broken": tmp_path / "broken.png"}, pool=pool)
        assert batch.wait(timeout=10)
    assert batch.failed == 1
    [record] = [r for r in caplog.records if r.name == "pygame_async"]
    assert record.levelno == logging.WARNING
    assert str(tmp_path / "broken.png") in record.getMessage()
    assert record.exc_info is not None and record.exc_info[1] is batch.errors["broken"]


def test_callbacks_run_only_inside_update(tmp_path: Path, pool: pygame_async.Pool) -> None:
    make_image(tmp_path / "a.png", 1)
    recorder = Recorder()
    batch = recorder.load({"a": tmp_path / "a.png"}, pool=pool)

    [task] = batch._tasks
    task.result(timeout=10)  # decoded, not yet delivered
    assert (batch.loaded, recorder.events) == (0, [])

    assert pool.update() == 1
    assert [event[:2] for event in recorder.events] == [("asset", "a"), ("done", "")]


def test_an_empty_batch_is_done_in_the_next_update(pool: pygame_async.Pool) -> None:
    recorder = Recorder()
    batch = recorder.load({}, pool=pool)
    assert (batch.total, batch.done, batch.fraction) == (0, False, 1.0)
    assert recorder.done_calls == []
    assert batch.wait(timeout=10)
    assert recorder.done_calls == [batch]


def test_an_on_asset_that_raises_does_not_cost_the_rest_of_the_batch(
    tmp_path: Path, pool: pygame_async.Pool
) -> None:
    for i in range(3):
        make_image(tmp_path / f"{i}.png", i)
    done: list[assets.Batch] = []

    def explode(name: str, asset: Any) -> None:
        raise ZeroDivisionError(name)

    batch = assets.load(
        {str(i): tmp_path / f"{i}.png" for i in range(3)},
        on_asset=explode,
        on_done=done.append,
        pool=pool,
    )
    raised = 0
    while not batch.done:
        try:
            batch.wait(timeout=10)
        except ZeroDivisionError:
            raised += 1
    assert (raised, batch.loaded, done) == (3, 3, [batch])


def test_the_default_pool_is_used_when_none_is_given(
    tmp_path: Path, loaded: pygame_async.Pool
) -> None:
    make_image(tmp_path / "a.png", 1)
    batch = assets.load({"a": tmp_path / "a.png"})
    assert pygame_async.wait(timeout=10)
    assert batch.done and batch.loaded == 1


def test_the_default_pool_must_be_loaded(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match=r"pygame_async.load\(\) first"):
        assets.load({"a": tmp_path / "a.png"})


def test_wait_gives_up_at_its_timeout_and_after_a_shutdown(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("[1]")
    pool = pygame_async.Pool(0)  # no worker: the data call waits in the queue
    try:
        batch = assets.load({"a": tmp_path / "a.json"}, pool=pool)
        assert batch.wait(timeout=0.05) is False
    finally:
        pool.shutdown(cancel_pending=True)
    assert batch.wait(timeout=10) is False
    assert not batch.done


@pytest.mark.parametrize(
    ("specs", "error", "match"),
    [
        ({"x": "foo.xyz"}, ValueError, r"assets.load\(\): asset 'x': cannot tell the kind of "),
        ({"x": "noext"}, ValueError, r"asset 'x'.*assets.Image\(path\)"),
        ({"x": 42}, TypeError, r"assets.load\(\): asset 'x': expected a path.*got int"),
        ({"x": b"a.png"}, TypeError, r"asset 'x'.*got bytes"),
        ({"ui": "ui.ttf"}, ValueError, r"asset 'ui': a font needs a size: use assets.Font"),
        ({3: "a.png"}, TypeError, r"asset names must be str, got int"),
        (["a.png"], TypeError, r"assets.load\(assets\): assets must be a mapping"),
    ],
)
def test_bad_assets_are_refused_at_load_naming_asset_and_argument(
    idle_pool: pygame_async.Pool, specs: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        assets.load(specs, pool=idle_pool)
    assert idle_pool.get_pending_count() == 0


@pytest.mark.parametrize(
    ("make", "error", "match"),
    [
        (lambda: assets.Font("a.ttf", "24"), TypeError, r"assets.Font\(path, size\): size must"),  # type: ignore[arg-type]
        (lambda: assets.Font("a.ttf", True), TypeError, r"size must be an int, got bool"),
        (lambda: assets.Font("a.ttf", 0), ValueError, r"size must be 1 or more, got 0"),
        (lambda: assets.Image(None), TypeError, r"assets.Image\(path\): path must be a str"),  # type: ignore[arg-type]
        (lambda: assets.Image("a.png", convert=1), TypeError, r"convert must be True, False"),  # type: ignore[arg-type]
        (lambda: assets.Sound(3.0), TypeError, r"assets.Sound\(path\): path must"),  # type: ignore[arg-type]
        (lambda: assets.Data("a.txt", parser=3), TypeError, r"parser must be a function"),  # type: ignore[arg-type]
    ],
)
def test_bad_specs_are_refused_at_construction(
    make: Any, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"on_asset": "print"}, TypeError, r"on_asset must be a function or None, got str"),
        ({"on_done": 1}, TypeError, r"on_done must be a function or None"),
        ({"convert": "yes"}, TypeError, r"convert must be True or False, got str"),
        ({"pool": "default"}, TypeError, r"pool must be a pygame_async.Pool or None, got str"),
    ],
)
def test_bad_options_are_refused_at_load(
    idle_pool: pygame_async.Pool, options: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        assets.load({"a": "a.png"}, **{"pool": idle_pool, **options})
    assert idle_pool.get_pending_count() == 0


def test_a_parser_that_cannot_reach_a_worker_is_refused_at_load(
    idle_pool: pygame_async.Pool,
) -> None:
    lock = threading.Lock()
    with pytest.raises(TypeError, match=r"asset 'x': its parser cannot be sent to a worker"):
        assets.load({"x": assets.Data("x.bin", parser=lambda data: (lock, data))}, pool=idle_pool)
    assert idle_pool.get_pending_count() == 0


def test_every_kind_of_asset_loads_on_every_lane(tmp_path: Path, lane: str, mixer: None) -> None:
    colour = make_image(tmp_path / "tile.png", seed=3)
    make_wav(tmp_path / "beep.wav", seconds=0.1)
    (tmp_path / "level.json").write_text(json.dumps({"width": 3}))
    threads_before = set(threading.enumerate())
    with lanes.make_pool(lane, 1) as pool:
        batch = assets.load(
            {
                "tile": tmp_path / "tile.png",
                "beep": tmp_path / "beep.wav",
                "font": assets.Font(FONT_FILE, 12),
                "level": tmp_path / "level.json",
            },
            pool=pool,
        )
        assert batch.wait(timeout=10) and batch.errors == {}
        if lane == "inline":  # a web build: decoding starts no thread
            assert set(threading.enumerate()) == threads_before
    assert tuple(batch.assets["tile"].get_at((1, 2))) == colour
    assert isinstance(batch.assets["beep"], pygame.mixer.Sound)
    assert isinstance(batch.assets["font"], pygame.font.Font)
    assert batch.assets["level"] == {"width": 3}
