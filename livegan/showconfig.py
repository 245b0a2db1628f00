"""A show's settings stated once: each default in its own home, then the patch, then the flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any

from livegan.control.web.config import WebConfig
from livegan.patchfile.load import PatchConfig
from livegan.perform import PerformConfig

# Flags that replace a setting of the patch's [osc] or [window] when given: flag -> field.
OSC_VALUES = {"host": "host", "osc_port": "port", "oscquery_port": "oscquery_port"}
WINDOW_VALUES = {"size": "size", "display": "display", "max_fps": "max_fps", "canvas": "canvas"}
# Switches (fullscreen, hud, ...) are on when either the flag or the patch turns them on.
WINDOW_SWITCHES = ("fullscreen", "hud", "vsync", "kiosk")


def perform_config(patch: PatchConfig, flags: Mapping[str, Any]) -> PerformConfig:
    """The show's config: a flag given on the command line wins over the patch, the patch
    over the defaults (which live in PerformConfig, OscConfig, WindowConfig and the modules
    they name).

    Args:
        patch: the patch (PatchConfig() when performing without one).
        flags: the parsed command line; flags left out are absent or None.
    """

    def given(names: Mapping[str, str]) -> dict[str, Any]:
        return {name: flags[flag] for flag, name in names.items() if flags.get(flag) is not None}

    def pick(flag: str, patched: object, default: object) -> Any:
        value = flags.get(flag)
        return value if value is not None else patched if patched is not None else default

    osc = replace(patch.osc, **given(OSC_VALUES),
                  **({"feedback": flags["feedback"]} if flags.get("feedback") else {}),
                  **({"oscquery": False} if flags.get("no_oscquery") else {}))
    window = replace(patch.window, **given(WINDOW_VALUES),
                     **{name: True for name in WINDOW_SWITCHES if flags.get(name)},
                     smooth_scale=not flags.get("nearest", False))
    settings: dict[str, Any] = {
        "model": pick("model", patch.model, PerformConfig.model),
        "backend": pick("backend", patch.backend, PerformConfig.backend),
        "seed": pick("seed", patch.motion.seed, PerformConfig.seed),
        "link": bool(flags.get("link")) or patch.tempo.link,
        "midi": tuple(flags.get("midi") or ()),
        **_audio(patch, flags),
        "osc": osc,
        "window": window,
        "web": _web(flags),
        "patch": patch,
    }
    # everything else comes from the command line alone, when given
    for field in fields(PerformConfig):
        if field.name not in settings and flags.get(field.name) is not None:
            settings[field.name] = flags[field.name]
    return PerformConfig(**settings)


def _web(flags: Mapping[str, Any]) -> WebConfig:
    """The control page: --no-web, --web-host, --web-port, --open (no patch keys)."""
    return WebConfig(page=not flags.get("no_web"), host=flags.get("web_host"),
                     port=flags.get("web_port"), open=bool(flags.get("open")))


def _audio(patch: PatchConfig, flags: Mapping[str, Any]) -> dict[str, Any]:
    """Sound in: --audio or --audio-file replace the patch's [audio] as a whole."""
    device, file = flags.get("audio"), flags.get("audio_file")
    if device is None and not file:
        device, file = patch.audio.input, patch.audio.file or None
    return {"audio": device, "audio_file": file,
            "audio_loop": bool(flags.get("audio_loop")) or patch.audio.loop}
