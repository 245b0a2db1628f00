"""A performance's settings stated once: each default in its own home, then the patch, then
the flags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from livegan.control.osc.config import OscConfig
from livegan.control.web.config import WebConfig
from livegan.engine import BACKENDS
from livegan.modelfile import DEFAULT_MODEL
from livegan.patchfile.load import PatchConfig
from livegan.show.outputs import OutputsConfig
from livegan.show.windowconfig import WindowConfig


@dataclass(frozen=True)
class PerformConfig:
    """Everything a show needs; built from the CLI flags and the patch."""

    model: str = DEFAULT_MODEL  # model name in the model folders, or a path
    backend: str = BACKENDS[0]  # one of livegan.engine.BACKENDS; "auto" picks the fastest
    osc: OscConfig = field(default_factory=OscConfig)  # where OSC listens, telemetry target
    window: WindowConfig = field(default_factory=WindowConfig)  # window, frame cap, canvas
    frames: int | None = None  # quit after this many frames shown (scripts, tests)
    seed: int = 0  # seeds the walk
    outputs: OutputsConfig = field(default_factory=OutputsConfig)  # the output folder,
    # recording, NDI, virtual camera, Syphon, Spout (--out-dir, --record, --ndi, ...)
    patch: PatchConfig | None = None  # mappings, scenes, motion (None: no patch)
    midi: tuple[str, ...] = ()  # MIDI input name substrings (replace the patch's)
    midi_file: str | None = None  # a MIDI file played as input
    midi_loop: bool = False  # loop the MIDI file
    audio: str | None = None  # sound card name or index ("" = the default input); None: none
    audio_file: str | None = None  # a sound file played as input (WAV; FLAC with soundfile)
    audio_loop: bool = False  # loop the sound file
    link: bool = False  # join an Ableton Link session (needs livegan[link])
    max_res: int = 0  # render a StyleGAN2 skip model only up to this block (0: all of it)
    space: str = "z"  # play a style model from z or w (/livegan/space)
    web: WebConfig = field(default_factory=WebConfig)  # the control page (--no-web, --web-*)


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
        "outputs": OutputsConfig(**_flags_for(OutputsConfig, flags)),
        "patch": patch,
    }
    # everything else comes from the command line alone, when given
    return PerformConfig(**{**_flags_for(PerformConfig, flags), **settings})


def _flags_for(config: type, flags: Mapping[str, Any]) -> dict[str, Any]:
    """The flags given (not None) that are named as fields of `config`."""
    return {option.name: flags[option.name] for option in fields(config)
            if flags.get(option.name) is not None}


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
