"""What a patch asks of the controls: its inputs, motion, tempo, mappings and scenes (frozen;
livegan.patchfile reads them from the TOML file, with the rest of the file's settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

from livegan.control.osc.config import OscConfig
from livegan.control.patch.mapping import Mapping

SPEED_UNITS = ("seconds", "beats")


@dataclass(frozen=True)
class MidiConfig:
    """[midi]: which inputs to open and how."""

    input: tuple[str, ...] = ()  # substrings of port names, e.g. "nanoKONTROL2"
    virtual: bool = True  # also open a virtual input port named "livegan"
    clock: bool = True  # follow MIDI clock (0xF8) into the tempo
    file: str = ""  # a MIDI file played as input (resolved next to the patch)
    loop: bool = False  # play the file again when it ends


@dataclass(frozen=True)
class AudioConfig:
    """[audio]: sound in (see control/audio); --audio and --audio-file replace it."""

    input: str | None = None  # sound card name part or index ("" = the default); None: none
    file: str = ""  # a sound file played as input instead (resolved next to the patch)
    loop: bool = False  # play the file again when it ends


@dataclass(frozen=True)
class MotionConfig:
    """[motion]: how the latent moves at start; unset fields keep their defaults."""

    mode: str | None = None  # walk | keys | hold
    speed: float | None = None  # walk/loop speed (per second, or per beat)
    smooth: float | None = None  # smoothing time in seconds
    truncation: float | None = None  # 1 = as trained, lower = closer to the average image
    morph: float | None = None  # 0..1 position along the keyframe loop
    seed: int | None = None  # seed of the walk
    speed_unit: str = "seconds"  # seconds | beats (follows the tempo: Link, MIDI clock)


@dataclass(frozen=True)
class TempoConfig:
    """[tempo]: the beat grid that speed_unit = "beats" and quantize follow."""

    link: bool = False  # join an Ableton Link session (needs livegan[link]); --link too
    beats_per_bar: int = 4  # a bar for quantize = "bar" (Link's quantum)


@dataclass(frozen=True)
class Scene:
    """[scenes.NAME]: a set of values recalled together, gliding over `glide` seconds."""

    name: str
    params: dict[str, float] = field(default_factory=dict)  # speed, truncation, smooth, morph…
    mode: str | None = None  # walk | keys | hold
    seed: int | None = None  # glide to this seed's latent
    key: int | None = None  # glide to this stored keyframe
    dirs: tuple[float, ...] | None = None  # direction amounts 0..n-1 (the rest go to 0)
    dir: dict[str, float] = field(default_factory=dict)  # direction amounts by name or index
    label: str | int | None = None  # class label (name or index)
    bend: dict[str, tuple[float, ...]] = field(default_factory=dict)  # "layer/op" -> amounts
    glide: float | None = None  # seconds (default: the smoothing time)
    quantize: str | None = None  # "beat" | "bar": a recall waits for the next one
    line: int = 0  # line of the [scenes.NAME] header


@dataclass(frozen=True)
class PatchControls:
    """The controls' part of a patch; `PatchControls()` plays no patch (defaults everywhere).
    A patch file adds the model, engine and window it opens (livegan.patchfile.PatchConfig)."""

    osc: OscConfig = field(default_factory=OscConfig)
    midi: MidiConfig = field(default_factory=MidiConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    motion: MotionConfig = field(default_factory=MotionConfig)
    tempo: TempoConfig = field(default_factory=TempoConfig)
    maps: tuple[Mapping, ...] = ()  # [[map]] in file order
    scenes: dict[str, Scene] = field(default_factory=dict)  # [scenes.NAME] in file order

    RESTART = ("osc", "audio")  # what a running show takes only when it starts again

    def needs_restart(self, old: PatchControls) -> list[str]:
        """What changed since `old` that waits for the show's next start (mappings, scenes,
        motion, MIDI inputs and the bar play at once)."""
        later = [name for name in self.RESTART if getattr(self, name) != getattr(old, name, None)]
        return later + (["tempo link"] if self.tempo.link != old.tempo.link else [])
