"""What the page server may ask of the show: callables the show hands over at start."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from livegan.control.osc.dispatch import Dispatcher, RouteTable
from livegan.control.patch.config import PatchControls
from livegan.control.web.patchedit import CheckPatch
from livegan.errors import PatchError

#: (model name, or None for the playing model; seed) -> uint8 [H, W, 3]
RenderThumb = Callable[[str | None, int], np.ndarray]


def _no_models() -> list[dict[str, Any]]:
    return []


def _no_patch_checks(text: str, path: Path) -> PatchControls:
    raise PatchError("this show cannot check patches: nothing learned, stored or saved")


@dataclass
class ShowHooks:
    """The show's side of the page. Each callable runs on the page server's thread (or its
    thumbnail worker), so it must only read thread-safe state or hand work over; none of
    them may block for long.

    The defaults describe a show with nothing to offer (tests build only what they use).
    """

    dispatcher: Dispatcher = field(default_factory=lambda: Dispatcher(RouteTable()))
    """The show's OSC handler: page messages go through it exactly as UDP messages do."""
    version: Callable[[], int] = lambda: 0
    """The control state's version (Controls.version): values are read again when it moves."""
    models: Callable[[], list[dict[str, Any]]] = _no_models
    """The installed models: [{"name", "resolution", "arch"}] (may read files; run off-loop)."""
    model_name: Callable[[], str] = lambda: ""
    """The playing model's name."""
    render_thumb: RenderThumb | None = None
    """Renders one seed of a model on the calling thread (the thumbnail worker)."""
    patch: Callable[[], PatchControls] = PatchControls
    """The patch playing now."""
    apply_patch: Callable[[PatchControls], None] = lambda patch: None
    """Plays a changed patch (learned mappings, stored scenes) from the next frame on."""
    check_patch: CheckPatch = _no_patch_checks
    """Checks a patch's text as the patch loader does (learned mappings, stored scenes, save)."""
    patch_text: str = ""
    """The text of the patch file the show started with ("" when none)."""
    patch_path: Path | None = None
    """That file (None: none; a saved patch goes in ./patches)."""
    patch_model: str | None = None
    """The model a patch saved without a starting patch plays (None: the default)."""
