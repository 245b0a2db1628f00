"""Patch files: TOML read into frozen configs, checked in one place."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from livegan.bendops import BY_NAME
from livegan.control.controls import MODES, PARAMS
from livegan.control.osc.config import OscConfig
from livegan.control.patch.config import (
    SPEED_UNITS,
    AudioConfig,
    MidiConfig,
    MotionConfig,
    PatchControls,
    Scene,
    TempoConfig,
)
from livegan.control.tempo.quantize import UNITS
from livegan.errors import PatchError
from livegan.patchfile.check import Checker
from livegan.show.windowconfig import WindowConfig

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class PatchConfig(PatchControls):
    """A whole patch file: what the controls play (PatchControls) and the model, engine and
    window the show opens; `PatchConfig()` is the empty patch (defaults everywhere)."""

    path: Path | None = None  # file it was read from
    model: str | None = None  # model name or path (paths resolved next to the patch)
    backend: str | None = None  # auto | tensorrt | cuda | cpu
    window: WindowConfig = field(default_factory=WindowConfig)

    RESTART = ("model", "backend", "osc", "audio", "window")  # what waits for the next start


def load_patch(path: str | Path) -> PatchConfig:
    """Read and check a patch file.

    Raises:
        PatchError: the file cannot be read, is not TOML, or does not validate; the
            message names the file, the line and the dotted key, e.g.
            ``patches/x.toml:14: map[2].range: expected two numbers, got "a"``.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PatchError(f"patch {path} not found; ready patches are in patches/") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PatchError(f"cannot read patch {path}: {exc}") from None
    return parse_patch(text, path)


def parse_patch(text: str, path: str | Path = "<patch>") -> PatchConfig:
    """Check TOML `text` as a patch (see load_patch); nothing in it is evaluated."""
    path = Path(path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PatchError(_toml_error(path, exc)) from None
    check = Checker(path, text)
    check.keys(data, (), ("model", "backend", "osc", "midi", "audio", "motion", "tempo", "window",
                          "map", "scenes"))
    scenes = _scenes(check, data.get("scenes"))
    maps_data = data.get("map", [])
    if not isinstance(maps_data, list):
        check.fail(("map",), "write each mapping as a [[map]] table")
    return PatchConfig(
        path=path,
        model=_model(check, data.get("model"), path),
        backend=check.choice(data, "backend", (), _backends() if "backend" in data else ()),
        osc=_osc(check, check.table(data, "osc", ())),
        midi=_midi(check, check.table(data, "midi", ()), path),
        audio=_audio(check, check.table(data, "audio", ()), path),
        motion=_motion(check, check.table(data, "motion", ())),
        tempo=_tempo(check, check.table(data, "tempo", ())),
        window=_window(check, check.table(data, "window", ())),
        maps=tuple(check.mapping(m, i, tuple(scenes)) for i, m in enumerate(maps_data)),
        scenes=scenes,
    )


def _toml_error(path: Path, exc: Exception) -> str:
    """tomllib's "... (at line 3, column 5)" as "file:3: not valid TOML: ... (column 5)"."""
    text = str(exc)
    head, sep, tail = text.rpartition(" (at line ")
    if sep:
        line, _, column = tail.rstrip(")").partition(", column ")
        return f"{path}:{line}: not valid TOML: {head} (column {column})"
    return f"{path}: not valid TOML: {text}"


def _resolve(path: Path, name: str) -> str:
    """A relative file path in a patch means next to the patch file."""
    candidate = Path(name).expanduser()
    if candidate.is_absolute() or path.name.startswith("<"):
        return str(candidate)
    return str(path.parent / candidate)


def _model(check: Checker, value: object, path: Path) -> str | None:
    if value is None:
        return None
    name = check.string(value, ("model",))
    looks_like_path = "/" in name or "\\" in name or name.endswith(".safetensors")
    return _resolve(path, name) if looks_like_path else name


def _osc(check: Checker, table: dict) -> OscConfig:
    """[osc]; keys left out keep OscConfig's defaults."""
    where = ("osc",)
    check.keys(table, where, ("port", "host", "allow", "feedback", "oscquery", "oscquery_port"))
    allow = table.get("allow")
    if allow is not None:
        allow = tuple(check.strings(allow, where + ("allow",)))
        for entry in allow:
            check.network(entry, where + ("allow",))
    feedback = check.choice(table, "feedback", where, None) or ""
    if feedback:
        check.hostport(feedback, where + ("feedback",))
    return OscConfig(**_given(
        port=check.integer(table, "port", where, 0, 65535),
        host=check.choice(table, "host", where, None),
        allow=allow,
        feedback=feedback,
        oscquery=check.flag(table, "oscquery", where, None),
        oscquery_port=check.integer(table, "oscquery_port", where, 0, 65535),
    ))


def _midi(check: Checker, table: dict, path: Path) -> MidiConfig:
    where = ("midi",)
    check.keys(table, where, ("input", "virtual", "clock", "file", "loop"))
    inputs = table.get("input", [])
    names = (inputs,) if isinstance(inputs, str) else tuple(check.strings(inputs,
                                                                           where + ("input",)))
    file = check.choice(table, "file", where, None) or ""
    return MidiConfig(
        input=tuple(n for n in names if n),
        virtual=check.flag(table, "virtual", where, True),
        clock=check.flag(table, "clock", where, True),
        file=_resolve(path, file) if file else "",
        loop=check.flag(table, "loop", where, False),
    )


def _audio(check: Checker, table: dict, path: Path) -> AudioConfig:
    where = ("audio",)
    check.keys(table, where, ("input", "file", "loop"))
    device = table.get("input", False)
    if isinstance(device, bool):  # true: the default input; false: none
        device = "" if device else None
    elif isinstance(device, int):
        device = str(device)
    else:
        device = check.string(device, where + ("input",))
    file = check.choice(table, "file", where, None) or ""
    return AudioConfig(input=device, file=_resolve(path, file) if file else "",
                       loop=bool(check.flag(table, "loop", where, False)))


def _motion(check: Checker, table: dict) -> MotionConfig:
    where = ("motion",)
    check.keys(table, where, ("mode", "speed", "smooth", "truncation", "morph", "seed",
                              "speed_unit"))
    params = {name: check.param(table, name, where) for name in
              ("speed", "smooth", "truncation", "morph")}
    return MotionConfig(
        mode=check.choice(table, "mode", where, MODES),
        seed=check.integer(table, "seed", where, 0, 2**32 - 1),
        speed_unit=check.choice(table, "speed_unit", where, SPEED_UNITS) or "seconds",
        **params,
    )


def _tempo(check: Checker, table: dict) -> TempoConfig:
    where = ("tempo",)
    check.keys(table, where, ("link", "beats_per_bar"))
    return TempoConfig(link=bool(check.flag(table, "link", where, False)),
                       beats_per_bar=check.integer(table, "beats_per_bar", where, 1, 64) or 4)


def _window(check: Checker, table: dict) -> WindowConfig:
    """[window]; keys left out keep WindowConfig's defaults."""
    where = ("window",)
    check.keys(table, where, ("size", "fullscreen", "display", "hud", "vsync", "kiosk",
                              "title", "max_fps", "canvas"))
    return WindowConfig(**_given(
        size=check.size(table.get("size"), where + ("size",)),
        fullscreen=check.flag(table, "fullscreen", where, None),
        display=check.integer(table, "display", where, 0, 16),
        hud=check.flag(table, "hud", where, None),
        vsync=check.flag(table, "vsync", where, None),
        kiosk=check.flag(table, "kiosk", where, None),
        title=check.choice(table, "title", where, None) or None,
        max_fps=check.number(table, "max_fps", where, 1, 1000),
        canvas=_canvas(check, table, where),
    ))


def _given(**values: object) -> dict[str, object]:
    """The values a patch gave (not None); the config's defaults fill in the rest."""
    return {name: value for name, value in values.items() if value is not None}


def _canvas(check: Checker, table: dict, where: tuple[str, ...]) -> str | tuple[int, int] | None:
    """[window] canvas: "auto", "off" or "WxH" (the frame a spatial latent grows)."""
    if "canvas" not in table:
        return None
    value = table["canvas"]
    if isinstance(value, str) and value.strip().lower() in ("auto", "off"):
        return value.strip().lower()
    if not isinstance(value, (str, list)):
        check.fail(where + ("canvas",), f"expected \"auto\", \"off\" or \"WxH\", got "
                   f"{value!r}")
    return check.size(value, where + ("canvas",))


def _scenes(check: Checker, data: object) -> dict[str, Scene]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        check.fail(("scenes",), "write each scene as a [scenes.NAME] table")
    scenes = {}
    for name, table in data.items():
        where = ("scenes", name)
        if not isinstance(table, dict):
            check.fail(where, "write the scene as a [scenes.NAME] table")
        check.keys(table, where, (*PARAMS, "mode", "seed", "key", "dirs", "dir", "label",
                                  "bend", "glide", "quantize"))
        scenes[name] = Scene(
            name=name,
            params={p: v for p in PARAMS if (v := check.param(table, p, where)) is not None},
            mode=check.choice(table, "mode", where, MODES),
            seed=check.integer(table, "seed", where, 0, 2**32 - 1),
            key=check.integer(table, "key", where, 0, 1023),
            dirs=check.numbers(table.get("dirs"), where + ("dirs",)),
            dir=check.named_numbers(table.get("dir"), where + ("dir",)),
            label=check.label(table.get("label"), where + ("label",)),
            bend=_scene_bends(check, table.get("bend"), where + ("bend",)),
            glide=check.number(table, "glide", where, 0.0, 600.0),
            quantize=check.choice(table, "quantize", where, UNITS),
            line=check.line(where) or 0,
        )
    return scenes


def _scene_bends(check: Checker, value: object, where: tuple) -> dict[str, tuple[float, ...]]:
    """bend = { "16/rotate" = 45, "8/translate" = [0.2, 0] }: amounts by layer/op."""
    if value is not None and not isinstance(value, dict):
        check.fail(where, "write bends as a table, e.g. bend = { \"16/rotate\" = 45 }")
    bends = {}
    for name, amounts in (value or {}).items():
        amounts = check.numbers(amounts if isinstance(amounts, list) else [amounts],
                                where + (name,))
        layer, _, op = name.partition("/")
        if not layer or op not in BY_NAME or not 0 < len(amounts) <= BY_NAME[op].size:
            check.fail(where + (name,), f"write \"layer/op\" = amount(s), e.g. \"16/rotate\" "
                       f"= 45; ops are {', '.join(BY_NAME)}, each with its count of amounts")
        bends[name] = amounts
    return bends


def _backends() -> tuple[str, ...]:
    """The engine's backend names (imported only when a patch names a backend's slot)."""
    from livegan.engine import BACKENDS

    return BACKENDS
