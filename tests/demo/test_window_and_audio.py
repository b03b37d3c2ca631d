"""The swarm demo's start on a player's machine: no display, a small screen, no audio device."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pygame
import pytest

from demos.swarm import game
from demos.swarm.view import SCREEN_SIZE
from demos.swarm.window import ROOM, Window, fit

REPO = Path(__file__).resolve().parents[2]
DISPLAY_VARIABLES = ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY")


@pytest.fixture(autouse=True)
def fresh_pygame() -> Iterator[None]:
    yield
    pygame.quit()


def near(colour: pygame.Color, expected: tuple[int, int, int]) -> bool:
    """True if ``colour`` is ``expected``, give or take smoothscale's rounding."""
    return all(abs(a - b) <= 4 for a, b in zip(colour[:3], expected, strict=True))


def start_demo(**environment: str) -> subprocess.CompletedProcess[str]:
    """Start ``python -m demos.swarm`` for a player (no --headless), for 30 frames at most."""
    env = {key: value for key, value in os.environ.items() if key not in DISPLAY_VARIABLES}
    env.update(SDL_AUDIODRIVER="dummy", **environment)
    return subprocess.run(
        [sys.executable, "-m", "demos.swarm", "--frames", "30"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_without_a_display_the_demo_says_so_and_exits_with_an_error() -> None:
    result = start_demo()  # no DISPLAY, no WAYLAND_DISPLAY, no SDL_VIDEODRIVER: SDL's fallback

    assert result.returncode == 2, result.stderr
    assert "no window can be shown" in result.stderr
    assert "fell back to its 'offscreen' video driver" in result.stderr
    assert "DISPLAY and WAYLAND_DISPLAY are not set" in result.stderr
    assert "python -m demos.swarm --headless" in result.stderr
    assert "Traceback" not in result.stderr
    assert "frame time" not in result.stdout  # it did not play unseen


def test_a_display_that_cannot_be_opened_is_named() -> None:
    result = start_demo(DISPLAY=":97")  # no X server there

    assert result.returncode == 2, result.stderr
    assert "SDL could not open DISPLAY=:97 and fell back to its 'offscreen'" in result.stderr
    assert "--headless" in result.stderr


def test_an_invisible_driver_asked_for_is_refused_too() -> None:
    result = start_demo(SDL_VIDEODRIVER="dummy")

    assert result.returncode == 2, result.stderr
    assert "SDL_VIDEODRIVER=dummy gives SDL its 'dummy' video driver" in result.stderr
    assert "--headless" in result.stderr


@pytest.mark.parametrize(
    ("desktop", "expected"),
    [
        ((1024, 768), (972, 648)),
        ((1366, 768), (1012, 675)),
        ((1280, 720), (950, 633)),
        ((1920, 1080), SCREEN_SIZE),  # room enough: the canvas's own size, never bigger
        ((3840, 2160), SCREEN_SIZE),
    ],
)
def test_the_window_fits_the_desktop_and_keeps_the_aspect(
    desktop: tuple[int, int], expected: tuple[int, int]
) -> None:
    room = (int(desktop[0] * ROOM[0]), int(desktop[1] * ROOM[1]))
    size = fit(SCREEN_SIZE, room)
    assert size == expected
    assert size[0] <= room[0] and size[1] <= room[1]
    assert abs(size[0] / size[1] - SCREEN_SIZE[0] / SCREEN_SIZE[1]) < 0.005


def test_a_fitted_window_shows_the_whole_canvas_and_maps_the_mouse_back() -> None:
    pygame.init()
    window = Window(SCREEN_SIZE, desktop=(1024, 768))
    display = pygame.display.get_surface()
    assert display.get_size() == (972, 648)  # a 1200x800 window would not fit 1024x768
    assert window.canvas.get_size() == SCREEN_SIZE
    width, height = SCREEN_SIZE
    window.canvas.fill((200, 0, 0), (0, 0, width // 2, height))
    window.canvas.fill((0, 0, 200), (width // 2, 0, width - width // 2, height))
    window.canvas.fill((0, 200, 0), (width - 20, height - 20, 20, 20))  # the far corner

    window.present()

    assert near(display.get_at((5, 324)), (200, 0, 0))
    assert near(display.get_at((966, 5)), (0, 0, 200))
    assert near(display.get_at((968, 644)), (0, 200, 0))  # nothing cut off
    assert window.to_canvas((0, 0)) == (0, 0)
    assert window.to_canvas((971, 647)) == (1198, 798)
    assert window.to_canvas((486, 324)) == (600, 400)

    # The player makes the window taller: the canvas keeps its aspect, between bars.
    pygame.display.set_mode((900, 800), pygame.RESIZABLE)
    window.present()
    display = pygame.display.get_surface()
    assert near(display.get_at((450, 40)), (0, 0, 0))  # the bar above
    assert near(display.get_at((450, 760)), (0, 0, 0))  # the bar below
    assert near(display.get_at((5, 105)), (200, 0, 0))  # the canvas: 900x600 from y=100
    assert near(display.get_at((895, 695)), (0, 200, 0))
    assert window.to_canvas((0, 100)) == (0, 0)
    assert window.to_canvas((450, 400)) == (600, 400)


def test_headless_the_canvas_is_the_display_itself() -> None:
    pygame.init()
    window = Window(SCREEN_SIZE)
    assert window.canvas is pygame.display.get_surface()
    assert window.canvas.get_size() == SCREEN_SIZE
    assert window.to_canvas((123, 456)) == (123, 456)


def test_without_an_audio_device_the_demo_says_why_once_and_plays_silent(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-audio-driver")  # no device can be opened

    def press_escape(frame: int) -> None:
        if frame == 3:
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE, mod=0))

    sounds: list[dict[str, pygame.mixer.Sound]] = []
    with caplog.at_level(logging.WARNING):
        game.run(
            game.Options(workers=1),
            script=press_escape,
            finish=lambda played: sounds.append(played.art.sounds),
        )

    assert sounds == [{}]  # the game ran, silent
    warnings = [record.getMessage() for record in caplog.records]
    assert warnings == [
        "no audio device could be opened "
        "(Audio target 'no-such-audio-driver' not available): sounds are skipped"
    ]
