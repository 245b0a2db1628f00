"""The performance window: shows uint8 frames letterboxed, a HUD, and turns keys into actions."""

from __future__ import annotations

import enum
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

# pygame prints a greeting on stdout at import; `livegan bench --json` needs stdout clean.
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import numpy as np
import pygame

from livegan.errors import DisplayError
from livegan.show.hud import Hud
from livegan.show.windowconfig import WindowConfig

if TYPE_CHECKING:
    from typing_extensions import Self

log = logging.getLogger(__name__)

NO_DISPLAY_MESSAGE = (
    "no display found: run headless with SDL_VIDEODRIVER=dummy livegan perform --frames N, "
    "or start Xvfb"
)

# SDL drivers that need a display server; any other driver named in SDL_VIDEODRIVER
# (dummy, offscreen, kmsdrm on a Raspberry Pi console, ...) is the user's explicit choice.
_SERVER_DRIVERS = frozenset({"x11", "wayland"})
_HEADLESS_DRIVERS = frozenset({"dummy", "offscreen"})  # SDL drivers that show nothing


class Action(enum.Enum):
    """What a key press or window event asks the performance loop to do."""

    QUIT = "quit"  # Esc or window close (never in kiosk mode)
    TOGGLE_FULLSCREEN = "toggle_fullscreen"  # F
    TOGGLE_HUD = "toggle_hud"  # H
    SNAPSHOT = "snapshot"  # S
    KEY = "key"  # any other key; InputEvent.key holds its name


@dataclass(frozen=True)
class InputEvent:
    """One action from the window; `key` is pygame.key.name of the key for Action.KEY."""

    action: Action
    key: str = ""


_KEY_ACTIONS = {
    pygame.K_ESCAPE: Action.QUIT,
    pygame.K_f: Action.TOGGLE_FULLSCREEN,
    pygame.K_h: Action.TOGGLE_HUD,
    pygame.K_s: Action.SNAPSHOT,
}
_KIOSK_IGNORED = frozenset({Action.QUIT, Action.TOGGLE_FULLSCREEN})


def display_available() -> bool:
    """Return whether a window can plausibly be opened, without initialising pygame.

    True on Windows and macOS, when SDL_VIDEODRIVER names a driver that needs no display
    server (dummy, offscreen, kmsdrm, ...), or when DISPLAY or WAYLAND_DISPLAY is set.
    """
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return True
    requested = os.environ.get("SDL_VIDEODRIVER", "")
    drivers = [name.strip().lower() for name in requested.split(",") if name.strip()]
    if any(name not in _SERVER_DRIVERS for name in drivers):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def letterbox(frame_size: tuple[int, int], screen_size: tuple[int, int]) -> pygame.Rect:
    """Return the largest rect of the frame's aspect ratio centred in the screen.

    Args:
        frame_size: (width, height) of the frame.
        screen_size: (width, height) of the window surface.
    """
    frame_w, frame_h = frame_size
    screen_w, screen_h = screen_size
    scale = min(screen_w / frame_w, screen_h / frame_h)
    w = max(1, min(screen_w, round(frame_w * scale)))
    h = max(1, min(screen_h, round(frame_h * scale)))
    return pygame.Rect((screen_w - w) // 2, (screen_h - h) // 2, w, h)


@dataclass
class _Layout:
    """Surfaces cached for one (frame size, screen size) pair."""

    frame_size: tuple[int, int]
    screen_size: tuple[int, int]
    pixels: int  # address of the screen's pixels; SDL may swap them on window events
    rect: pygame.Rect  # where the frame lands on screen
    bars: list[pygame.Rect] = field(default_factory=list)  # letterbox bars around it
    source: pygame.Surface | None = None  # frame in display pixel format; None: no scaling
    target: pygame.Surface | None = None  # subsurface of the screen at `rect`


class Window:
    """The performance window; lives on the main thread, takes uint8 RGB frames [H, W, 3].

    Only one Window may be open at a time (pygame has one display). Use it as a
    context manager or call close().
    """

    def __init__(self, config: WindowConfig) -> None:
        """Open the window.

        Raises:
            DisplayError: no display is available, the display index does not exist,
                the size is invalid or SDL cannot open the window.
        """
        _check_config(config)
        _start_display()
        self.config = config
        self._closed = False
        self._fullscreen = config.fullscreen or config.kiosk
        self._windowed_size = config.size
        self._vsync_ok = config.vsync  # cleared for good once SDL refuses vsync
        self._scaled = False  # True while SDL's SCALED renderer is in use (vsync)
        self._layout: _Layout | None = None
        self._bars_dirty = True
        self._hud = Hud(visible=config.hud)
        try:
            _check_display_index(config.display)
            pygame.display.set_caption(config.title)
            self._screen = self._open()
        except DisplayError:
            self.close()
            raise

    # -- public API --------------------------------------------------------------

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the drawing surface: the window, or the logical size with vsync."""
        return self._screen.get_size()

    @property
    def fullscreen(self) -> bool:
        """Whether the window is fullscreen now."""
        return self._fullscreen

    @property
    def hud_visible(self) -> bool:
        """Whether the on-screen display is drawn over the frame."""
        return self._hud.visible

    @hud_visible.setter
    def hud_visible(self, visible: bool) -> None:
        self._hud.visible = bool(visible)
        self._bars_dirty = True

    def show(self, frame: np.ndarray) -> None:
        """Draw a uint8 RGB frame [H, W, 3] letterboxed to the window, the HUD if on, and flip."""
        frame = _check_frame(frame)
        height, width = frame.shape[:2]
        layout = self._layout_for((width, height))
        # frombuffer wraps the array without copying; the blit below is the one copy.
        image = pygame.image.frombuffer(frame.data, (width, height), "RGB")
        if layout.source is None:
            self._screen.blit(image, layout.rect)
        else:
            layout.source.blit(image, (0, 0))  # copy + convert to the display pixel format
            self._scale(layout.source, layout.target)
        if self._bars_dirty:
            for bar in layout.bars:
                self._screen.fill((0, 0, 0), bar)
            self._bars_dirty = False
        hud_rect = self._hud.draw(self._screen)
        if hud_rect is not None and hud_rect.collidelist(layout.bars) != -1:
            self._bars_dirty = True  # bars are not redrawn per frame: clear the box off next time
        pygame.display.flip()

    def poll(self) -> list[InputEvent]:
        """Drain pygame's event queue into actions; window resizes are handled here."""
        events: list[InputEvent] = []
        for event in pygame.event.get():
            if event.type == pygame.QUIT:
                self._append(events, InputEvent(Action.QUIT))
            elif event.type == pygame.KEYDOWN:
                action = _KEY_ACTIONS.get(event.key)
                if action is not None:
                    self._append(events, InputEvent(action))
                else:
                    name = pygame.key.name(event.key)
                    if name:
                        events.append(InputEvent(Action.KEY, name))
            elif event.type == pygame.VIDEORESIZE:
                self._resized((event.w, event.h))
        return events

    def set_hud(self, lines: Sequence[str]) -> None:
        """Set the HUD text lines (drawn top-left); re-rendered only when they change."""
        if self._hud.set_lines(lines):
            self._bars_dirty = True

    def toggle_fullscreen(self) -> None:
        """Switch between the window and borderless fullscreen (ignored in kiosk mode)."""
        if self.config.kiosk:
            log.info("kiosk mode stays fullscreen")
            return
        self._fullscreen = not self._fullscreen
        self._screen = self._open()

    def screenshot(self) -> np.ndarray:
        """Return what is on screen now as uint8 RGB [H, W, 3]."""
        width, height = self._screen.get_size()
        data = bytearray(pygame.image.tobytes(self._screen, "RGB"))
        return np.frombuffer(data, np.uint8).reshape(height, width, 3)

    def close(self) -> None:
        """Close the window and shut pygame's display down; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        pygame.font.quit()
        pygame.display.quit()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _open(self) -> pygame.Surface:
        """(Re)create the display surface for the current mode."""
        if self._fullscreen:
            size, flags = (0, 0), pygame.FULLSCREEN  # (0, 0): native size, borderless
        else:
            size, flags = self._windowed_size, pygame.RESIZABLE
        screen = self._open_vsync(size, flags) if self._vsync_ok else None
        if screen is None:
            self._scaled = False
            try:
                screen = self._set_mode(size, flags)
            except pygame.error as error:
                mode = "fullscreen" if self._fullscreen else f"a {size[0]}x{size[1]} window"
                where = f"display {self.config.display}"
                raise DisplayError(f"cannot open {mode} on {where}: {error}") from None
        pygame.mouse.set_visible(not self._fullscreen)
        screen.fill((0, 0, 0))
        self._layout = None
        self._bars_dirty = True
        log.debug("display surface %dx%d (fullscreen=%s)", *screen.get_size(), self._fullscreen)
        return screen

    def _open_vsync(self, size: tuple[int, int], flags: int) -> pygame.Surface | None:
        """Open with SCALED and vsync=1 (pygame's rule), or None after logging once why not."""
        if size == (0, 0):  # SCALED needs an explicit size: the monitor's own
            size = pygame.display.get_desktop_sizes()[self.config.display]
        try:
            screen = self._set_mode(size, flags | pygame.SCALED, vsync=1)
        except pygame.error as error:
            log.warning("vsync unavailable (%s); continuing without it", error)
            self._vsync_ok = False
            return None
        self._scaled = True
        return screen

    def _set_mode(self, size: tuple[int, int], flags: int, vsync: int = 0) -> pygame.Surface:
        """pygame.display.set_mode on the configured display, insisting on the size asked."""
        display = self.config.display
        screen = pygame.display.set_mode(size, flags, display=display, vsync=vsync)
        if size != (0, 0) and screen.get_size() != size:
            # Leaving fullscreen, SDL keeps the fullscreen size until the mode is set again.
            screen = pygame.display.set_mode(size, flags, display=display, vsync=vsync)
        return screen

    def _resized(self, size: tuple[int, int]) -> None:
        """Follow a window resize; SCALED and fullscreen surfaces keep their size."""
        if not (self._fullscreen or self._scaled):
            size = (max(1, size[0]), max(1, size[1]))
            self._windowed_size = size
            if self._screen.get_size() != size:
                self._screen = self._open()
        self._screen.fill((0, 0, 0))
        self._layout = None
        self._bars_dirty = True

    def _layout_for(self, frame_size: tuple[int, int]) -> _Layout:
        """Return the cached layout for this frame size, rebuilding it when anything changed."""
        screen_size = self._screen.get_size()
        pixels = self._screen._pixels_address  # the subsurface below points into these
        layout = self._layout
        if (
            layout
            and layout.frame_size == frame_size
            and layout.screen_size == screen_size
            and layout.pixels == pixels
        ):
            return layout
        rect = letterbox(frame_size, screen_size)
        layout = _Layout(frame_size, screen_size, pixels, rect, _bars(rect, screen_size))
        if rect.size != frame_size:
            layout.source = pygame.Surface(frame_size, 0, self._screen)
            layout.target = self._screen.subsurface(rect)
        self._layout = layout
        self._bars_dirty = True
        return layout

    def _scale(self, source: pygame.Surface, target: pygame.Surface) -> None:
        """Scale source into target in place (no allocation)."""
        if self.config.smooth_scale:
            pygame.transform.smoothscale(source, target.get_size(), target)
        else:
            pygame.transform.scale(source, target.get_size(), target)

    def _append(self, events: list[InputEvent], event: InputEvent) -> None:
        """Append an action unless kiosk mode ignores it."""
        if self.config.kiosk and event.action in _KIOSK_IGNORED:
            log.debug("kiosk mode ignores %s", event.action.value)
            return
        events.append(event)


def _check_config(config: WindowConfig) -> None:
    """Reject sizes and display indices no window can have."""
    size = config.size
    if len(size) != 2 or not all(isinstance(v, int) and v > 0 for v in size):
        raise DisplayError(f"window size must be two positive integers (width, height), got {size}")
    if not isinstance(config.display, int) or config.display < 0:
        raise DisplayError(f"display index must be 0 or more, got {config.display}")


def _start_display() -> None:
    """Initialise pygame's display and font modules, or raise DisplayError saying what to do."""
    if not display_available():
        raise DisplayError(NO_DISPLAY_MESSAGE)
    try:
        pygame.display.init()
        pygame.font.init()
    except pygame.error as error:
        pygame.display.quit()
        raise DisplayError(f"{NO_DISPLAY_MESSAGE} (SDL: {error})") from None
    driver = pygame.display.get_driver()
    requested = os.environ.get("SDL_VIDEODRIVER", "").lower()
    if driver in _HEADLESS_DRIVERS and driver not in requested:
        # SDL falls back to an invisible offscreen window when the X/Wayland server is gone.
        server = os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or "none set"
        pygame.font.quit()
        pygame.display.quit()
        raise DisplayError(f"{NO_DISPLAY_MESSAGE} (cannot reach the display server {server})")


def _check_display_index(display: int) -> None:
    """Raise DisplayError naming the displays there are when `display` is not one of them."""
    count = pygame.display.get_num_displays()
    if display >= count:
        indices = "0" if count == 1 else f"0 to {count - 1}"
        raise DisplayError(
            f"display {display} does not exist: this machine has {count} "
            f"display{'s' if count != 1 else ''} (use --display {indices})"
        )


def _check_frame(frame: np.ndarray) -> np.ndarray:
    """Return the frame as a C-contiguous uint8 [H, W, 3] array; ValueError if it is not one."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise ValueError(f"frame must be a uint8 numpy array, got {getattr(frame, 'dtype', frame)}")
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"frame must have shape [H, W, 3], got {list(frame.shape)}")
    return frame if frame.flags.c_contiguous else np.ascontiguousarray(frame)


def _bars(rect: pygame.Rect, screen_size: tuple[int, int]) -> list[pygame.Rect]:
    """Return the letterbox bars: the screen minus rect, as up to four rects."""
    width, height = screen_size
    bars = [
        pygame.Rect(0, 0, width, rect.top),
        pygame.Rect(0, rect.bottom, width, height - rect.bottom),
        pygame.Rect(0, rect.top, rect.left, rect.height),
        pygame.Rect(rect.right, rect.top, width - rect.right, rect.height),
    ]
    return [bar for bar in bars if bar.width > 0 and bar.height > 0]
