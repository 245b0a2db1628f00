"""A show's settings stated once: each default in its own home, then the patch, then the flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from livegan.control.patch.load import PatchConfig
from livegan.perform import PerformConfig
from livegan.show.window import WindowConfig

# Settings a patch's [window] and the command line share: flag name -> WindowConfig field.
# Switches (fullscreen, hud, ...) are on when either the flag or the patch turns them on.
WINDOW_VALUES = {"size": "size", "display": "display"}
WINDOW_SWITCHES = ("fullscreen", "hud", "vsync", "kiosk")


def perform_config(patch: PatchConfig, flags: Mapping[str, Any]) -> PerformConfig:
    """The show's config: a flag given on the command line wins over the patch, the patch
    over the defaults (which live in PerformConfig, WindowConfig and the modules they name).

    Args:
        patch: the patch (PatchConfig() when performing without one).
        flags: the parsed command line; flags left out are absent or None.
    """

    def pick(flag: str, patched: object, default: object) -> Any:
        value = flags.get(flag)
        return value if value is not None else patched if patched is not None else default

    win, osc = patch.window, patch.osc
    window = WindowConfig(
        **{name: pick(flag, getattr(win, name), getattr(WindowConfig, name))
           for flag, name in WINDOW_VALUES.items()},
        **{name: bool(flags.get(name)) or bool(getattr(win, name)) for name in WINDOW_SWITCHES},
        title=win.title or WindowConfig.title,
        smooth_scale=not flags.get("nearest", False))
    settings: dict[str, Any] = {
        "model": pick("model", patch.model, PerformConfig.model),
        "backend": pick("backend", patch.backend, PerformConfig.backend),
        "osc_host": pick("host", osc.host, PerformConfig.osc_host),
        "osc_port": pick("osc_port", osc.port, PerformConfig.osc_port),
        "osc_allow": list(osc.allow) if osc.allow is not None else None,
        "feedback": flags.get("feedback") or osc.feedback or None,
        "seed": pick("seed", patch.motion.seed, PerformConfig.seed),
        "max_fps": pick("max_fps", win.max_fps, PerformConfig.max_fps),
        "canvas": pick("canvas", win.canvas, PerformConfig.canvas),
        "midi": tuple(flags.get("midi") or ()),
        **_audio(patch, flags),
        "window": window,
        "patch": patch,
    }
    # everything else comes from the command line alone, when given
    for field in fields(PerformConfig):
        if field.name not in settings and flags.get(field.name) is not None:
            settings[field.name] = flags[field.name]
    return PerformConfig(**settings)


def _audio(patch: PatchConfig, flags: Mapping[str, Any]) -> dict[str, Any]:
    """Sound in: --audio or --audio-file replace the patch's [audio] as a whole."""
    device, file = flags.get("audio"), flags.get("audio_file")
    if device is None and not file:
        device, file = patch.audio.input, patch.audio.file or None
    return {"audio": device, "audio_file": file,
            "audio_loop": bool(flags.get("audio_loop")) or patch.audio.loop}
