"""Tests for the performance window under SDL's dummy video driver."""

from __future__ import annotations

import warnings

import numpy as np
import pygame
import pytest

from livegan.errors import DisplayError
from livegan.show import window as window_module
from livegan.show.hud import Hud
from livegan.show.window import (
    NO_DISPLAY_MESSAGE,
    Action,
    InputEvent,
    Window,
    WindowConfig,
    display_available,
    letterbox,
)

RED, GREEN, BLUE, WHITE, BLACK = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


@pytest.fixture(autouse=True)
def dummy_display(monkeypatch):
    """Run every test on the dummy driver and leave pygame fully quit afterwards."""
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    yield
    pygame.quit()


@pytest.fixture
def window():
    # nearest-neighbour scaling, so exact pixel colours can be checked at edges
    win = Window(WindowConfig(size=(256, 256), smooth_scale=False))
    yield win
    win.close()


def quadrants(width: int, height: int) -> np.ndarray:
    """An asymmetric test frame: red, blue on top; green, white below."""
    frame = np.zeros((height, width, 3), np.uint8)  # [H, W, 3]
    frame[: height // 2, : width // 2] = RED
    frame[: height // 2, width // 2 :] = BLUE
    frame[height // 2 :, : width // 2] = GREEN
    frame[height // 2 :, width // 2 :] = WHITE
    return frame


def colour(shot: np.ndarray, x: int, y: int) -> tuple[int, ...]:
    return tuple(int(v) for v in shot[y, x])


def key(code: int) -> pygame.event.Event:
    return pygame.event.Event(pygame.KEYDOWN, key=code, mod=0, unicode="", scancode=0)


@pytest.mark.parametrize("shape", [(64, 64), (96, 128), (256, 256), (300, 1000), (1024, 1024)])
def test_shows_frames_of_several_sizes(window, shape):
    frame = quadrants(shape[1], shape[0])
    window.show(frame)
    shot = window.screenshot()
    assert shot.shape == (256, 256, 3) and shot.dtype == np.uint8
    rect = letterbox((shape[1], shape[0]), (256, 256))
    # sample the middle of each quadrant of the letterboxed image
    left, right = rect.x + rect.w // 4, rect.x + 3 * rect.w // 4
    top, bottom = rect.y + rect.h // 4, rect.y + 3 * rect.h // 4
    assert colour(shot, left, top) == RED
    assert colour(shot, right, top) == BLUE
    assert colour(shot, left, bottom) == GREEN
    assert colour(shot, right, bottom) == WHITE


def test_left_red_right_blue_lands_left_and_right(window):
    frame = np.zeros((64, 64, 3), np.uint8)
    frame[:, :32] = RED
    frame[:, 32:] = BLUE
    window.show(frame)
    shot = window.screenshot()
    assert (shot[:, :128] == RED).all()
    assert (shot[:, 128:] == BLUE).all()


def test_letterbox_bars_are_black(window):
    window.show(np.full((100, 100, 3), 200, np.uint8))  # fills the screen first
    window.show(quadrants(128, 64))  # 2:1 into 1:1: bars above and below
    shot = window.screenshot()
    assert (shot[:64] == BLACK).all() and (shot[192:] == BLACK).all()
    assert colour(shot, 10, 70) == RED and colour(shot, 250, 190) == WHITE
    window.show(quadrants(64, 128))  # 1:2: bars left and right
    shot = window.screenshot()
    assert (shot[:, :64] == BLACK).all() and (shot[:, 192:] == BLACK).all()
    assert colour(shot, 70, 10) == RED and colour(shot, 190, 250) == WHITE


def test_letterbox_rect():
    assert tuple(letterbox((64, 64), (256, 256))) == (0, 0, 256, 256)
    assert tuple(letterbox((1920, 1080), (768, 768))) == (0, 168, 768, 432)
    assert tuple(letterbox((512, 512), (1920, 1080))) == (420, 0, 1080, 1080)


def test_smooth_scale_keeps_the_picture():
    with Window(WindowConfig(size=(256, 256), smooth_scale=True)) as win:
        win.show(quadrants(64, 64))
        shot = win.screenshot()
    assert colour(shot, 64, 64) == RED and colour(shot, 192, 192) == WHITE


def test_accepts_non_contiguous_frames_and_rejects_bad_ones(window):
    window.show(quadrants(64, 64)[:, ::-1])  # mirrored view: copied once, then shown
    assert colour(window.screenshot(), 32, 32) == BLUE
    with pytest.raises(ValueError):
        window.show(np.zeros((64, 64, 3), np.float32))
    with pytest.raises(ValueError):
        window.show(np.zeros((64, 64, 4), np.uint8))


def test_hud_toggling_changes_top_left(window):
    frame = np.full((64, 64, 3), 255, np.uint8)
    window.show(frame)
    plain = window.screenshot()[:30, :60].copy()
    window.set_hud(["fps 60.0", "model default"])
    window.show(frame)
    assert np.array_equal(window.screenshot()[:30, :60], plain)  # set but hidden
    window.hud_visible = True
    window.show(frame)
    with_hud = window.screenshot()[:30, :60]
    assert not np.array_equal(with_hud, plain)
    assert with_hud[10:, 8:20].mean() < 200  # translucent dark box over white
    window.hud_visible = False
    window.show(frame)
    assert np.array_equal(window.screenshot()[:30, :60], plain)


def test_hud_is_cleared_from_letterbox_bars():
    with Window(WindowConfig(size=(256, 256), hud=True)) as win:
        win.set_hud(["a long line of text over the bar"])
        win.show(np.full((64, 128, 3), 255, np.uint8))  # bar across the top 64 rows
        assert win.screenshot()[8:40, 8:100].max() > 0
        win.hud_visible = False
        win.show(np.full((64, 128, 3), 255, np.uint8))
        assert (win.screenshot()[:64] == BLACK).all()


def test_hud_renders_only_on_change():
    pygame.display.init()
    pygame.font.init()
    screen = pygame.display.set_mode((100, 100))
    hud = Hud(visible=True)
    assert hud.set_lines(["x"]) is True
    hud.draw(screen)
    image = hud._image
    assert hud.set_lines(["x"]) is False
    hud.draw(screen)
    assert hud._image is image
    hud.set_lines(["y"])
    hud.draw(screen)
    assert hud._image is not image


def test_keys_and_close_become_actions(window):
    for code in (pygame.K_f, pygame.K_h, pygame.K_s, pygame.K_a, pygame.K_SPACE, pygame.K_ESCAPE):
        pygame.event.post(key(code))
    pygame.event.post(pygame.event.Event(pygame.QUIT))
    assert window.poll() == [
        InputEvent(Action.TOGGLE_FULLSCREEN),
        InputEvent(Action.TOGGLE_HUD),
        InputEvent(Action.SNAPSHOT),
        InputEvent(Action.KEY, "a"),
        InputEvent(Action.KEY, "space"),
        InputEvent(Action.QUIT),
        InputEvent(Action.QUIT),
    ]
    assert window.poll() == []


def test_resize_is_handled_by_the_window(window):
    pygame.event.post(pygame.event.Event(pygame.VIDEORESIZE, w=400, h=200, size=(400, 200)))
    assert window.poll() == []
    assert window.size == (400, 200)
    window.show(quadrants(64, 64))
    shot = window.screenshot()
    assert shot.shape == (200, 400, 3)
    assert (shot[:, :100] == BLACK).all() and (shot[:, 300:] == BLACK).all()
    assert colour(shot, 150, 50) == RED and colour(shot, 250, 150) == WHITE


def test_kiosk_ignores_escape_close_and_fullscreen():
    with Window(WindowConfig(size=(256, 256), kiosk=True)) as win:
        assert win.fullscreen and win.size == pygame.display.get_desktop_sizes()[0]
        for code in (pygame.K_ESCAPE, pygame.K_f, pygame.K_h):
            pygame.event.post(key(code))
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        assert win.poll() == [InputEvent(Action.TOGGLE_HUD)]
        win.toggle_fullscreen()
        assert win.fullscreen


def test_toggle_fullscreen_and_back(window):
    window.toggle_fullscreen()
    assert window.fullscreen and window.size == pygame.display.get_desktop_sizes()[0]
    assert not pygame.mouse.get_visible()
    window.show(quadrants(64, 64))
    window.toggle_fullscreen()
    assert not window.fullscreen and window.size == (256, 256)
    assert pygame.mouse.get_visible()
    window.poll()  # SDL may hand the window new pixels here; the cached layout must follow
    window.show(quadrants(64, 64))
    shot = window.screenshot()
    assert colour(shot, 64, 64) == RED and colour(shot, 192, 192) == WHITE


def test_vsync_opens_at_the_configured_size():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dummy driver: "no fast renderer available"
        with Window(WindowConfig(size=(200, 100), vsync=True)) as win:
            win.show(quadrants(64, 64))
            assert win.size == (200, 100)
            assert colour(win.screenshot(), 60, 20) == RED


def test_missing_display_index_lists_the_displays():
    with pytest.raises(DisplayError, match=r"display 5 does not exist: this machine has 1 display"):
        Window(WindowConfig(display=5))
    assert not pygame.display.get_init()


def test_bad_size_is_a_display_error():
    with pytest.raises(DisplayError, match="two positive integers"):
        Window(WindowConfig(size=(0, 100)))


def test_close_twice_and_reopen():
    win = Window(WindowConfig(size=(64, 64)))
    win.close()
    win.close()
    assert not pygame.display.get_init()
    with Window(WindowConfig(size=(64, 64))) as again:
        again.show(quadrants(64, 64))


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SDL_VIDEODRIVER": "dummy"}, True),
        ({"SDL_VIDEODRIVER": "kmsdrm"}, True),
        ({"SDL_VIDEODRIVER": "x11", "DISPLAY": ":0"}, True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, True),
        ({"SDL_VIDEODRIVER": "x11"}, False),
        ({"SDL_VIDEODRIVER": "wayland,x11"}, False),
        ({}, False),
    ],
)
def test_display_available(monkeypatch, env, expected):
    for name in ("SDL_VIDEODRIVER", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(window_module.sys, "platform", "linux")
    assert display_available() is expected


def test_no_display_says_what_to_do(monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SDL_VIDEODRIVER", "x11")
    monkeypatch.setattr(window_module.sys, "platform", "linux")
    with pytest.raises(DisplayError) as caught:
        Window(WindowConfig())
    assert str(caught.value) == NO_DISPLAY_MESSAGE
    assert "SDL_VIDEODRIVER=dummy" in str(caught.value) and "Xvfb" in str(caught.value)
    assert not pygame.display.get_init()


def test_unreachable_display_server_is_not_an_invisible_window(monkeypatch, tmp_path):
    monkeypatch.delenv("SDL_VIDEODRIVER")
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":97")  # no X server there
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))  # and no Wayland socket
    with pytest.raises(
        DisplayError, match=r"no display found: .*cannot reach the display server :97"
    ):
        Window(WindowConfig())
    assert not pygame.display.get_init()


def test_vsync_refused_falls_back_and_warns_once(monkeypatch, caplog):
    set_mode = pygame.display.set_mode

    def no_vsync(size, flags=0, depth=0, display=0, vsync=0):
        if vsync:
            raise pygame.error("vsync not supported")
        return set_mode(size, flags, depth, display, vsync)

    monkeypatch.setattr(pygame.display, "set_mode", no_vsync)
    with Window(WindowConfig(size=(128, 128), vsync=True)) as win:
        win.toggle_fullscreen()
        win.toggle_fullscreen()
        win.show(quadrants(64, 64))
        assert win.size == (128, 128)
    warnings_logged = [r for r in caplog.records if "vsync unavailable" in r.getMessage()]
    assert len(warnings_logged) == 1
