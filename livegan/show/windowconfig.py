"""Window settings: one frozen config read from a patch's [window] and the command line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WindowConfig:
    """How the performance window opens and how fast it is fed."""

    size: tuple[int, int] = (768, 768)  # window size in pixels (width, height)
    fullscreen: bool = False  # borderless fullscreen at the monitor's resolution, cursor hidden
    display: int = 0  # monitor index, 0 .. number of monitors - 1
    vsync: bool = False  # sync flips to the monitor refresh (uses SDL's SCALED renderer)
    title: str = "livegan"  # window title
    hud: bool = False  # show the on-screen display at start
    kiosk: bool = False  # fullscreen; Esc, window close and F are ignored (installations)
    smooth_scale: bool = True  # filtered scaling (soft); False: nearest neighbour (crisp pixels)
    max_fps: float | None = None  # render no faster than this (None: as fast as it goes)
    canvas: str | tuple[int, int] = "off"  # frames grown to "auto" (the window's aspect),
    # (width, height), or "off" (the model's square, letterboxed)
