"""The on-screen display: text lines on a translucent dark box, re-rendered only on change."""

from __future__ import annotations

import logging
from collections.abc import Sequence

import pygame

log = logging.getLogger(__name__)

TEXT_COLOUR = (255, 255, 255)
BOX_COLOUR = (0, 0, 0, 170)  # translucent dark box behind the text
MARGIN = 8  # pixels between the window corner and the box
PADDING = 6  # pixels between the box edge and the text


def font_size_for(screen_height: int) -> int:
    """Return a legible font size for a window of this height (14 to 32 pixels)."""
    return max(14, min(32, screen_height // 32))


class Hud:
    """Text lines drawn top-left over the frame; needs pygame.font initialised."""

    def __init__(self, visible: bool = False) -> None:
        """Create an empty HUD, shown or hidden."""
        self.visible = visible
        self._lines: list[str] = []
        self._font: pygame.font.Font | None = None
        self._font_size = 0
        self._image: pygame.Surface | None = None

    @property
    def lines(self) -> list[str]:
        """The text lines shown, top to bottom."""
        return list(self._lines)

    def set_lines(self, lines: Sequence[str]) -> bool:
        """Set the text lines; return whether they changed (and so will be re-rendered)."""
        new = [str(line) for line in lines]
        if new == self._lines:
            return False
        self._lines = new
        self._image = None
        return True

    def rect(self, screen_height: int) -> pygame.Rect | None:
        """Return where the box lands on a window of this height, or None when nothing shows."""
        if not (self.visible and self._lines):
            return None
        return self._surface(screen_height).get_rect(topleft=(MARGIN, MARGIN))

    def draw(self, screen: pygame.Surface) -> pygame.Rect | None:
        """Blend the HUD onto screen; return the rect drawn, or None when hidden or empty."""
        if not (self.visible and self._lines):
            return None
        return screen.blit(self._surface(screen.get_height()), (MARGIN, MARGIN))

    def _surface(self, screen_height: int) -> pygame.Surface:
        """Return the rendered box, re-rendering when the lines or the font size changed."""
        size = font_size_for(screen_height)
        if self._font is None or size != self._font_size:
            self._font = pygame.font.Font(None, size)  # pygame's bundled default font
            self._font_size = size
            self._image = None
        if self._image is None:
            self._image = render_box(self._font, self._lines)
            log.debug("HUD rendered: %d lines at %d px", len(self._lines), size)
        return self._image


def render_box(font: pygame.font.Font, lines: Sequence[str]) -> pygame.Surface:
    """Render lines in white on a translucent dark box (per-pixel alpha surface)."""
    rendered = [font.render(line, True, TEXT_COLOUR) for line in lines]
    line_height = font.get_linesize()
    width = max(image.get_width() for image in rendered) + 2 * PADDING
    height = line_height * len(rendered) + 2 * PADDING
    box = pygame.Surface((width, height), pygame.SRCALPHA)
    box.fill(BOX_COLOUR)
    for row, image in enumerate(rendered):
        box.blit(image, (PADDING, PADDING + row * line_height))
    return box.convert_alpha() if pygame.display.get_surface() else box
