"""Mappings: one incoming control (OSC, MIDI, key, sound) scaled and shaped onto one target."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

from livegan.bendops import BY_NAME, OP_NAMES

SOURCE_KINDS = ("osc", "cc", "note", "pitchbend", "key", "audio")
CURVES = ("lin", "exp", "log")
PRESS_MODES = ("trigger", "toggle", "gate", "velocity")

PARAM_TARGETS = ("speed", "truncation", "smooth", "morph", "tempo")  # Controls params
VECTOR_TARGETS = ("dir", "z")  # a whole list, or one component with [i]
CHOICE_TARGETS = ("seed", "key", "key_store", "scene", "label", "mode", "model")  # pick one
FLAG_TARGETS = ("hud", "record")  # on or off
ACTION_TARGETS = ("snapshot",)  # fire and forget
BEND_TARGET = "bend"  # bend[layer/op] or bend[layer/op/k]: one amount of a bend
TARGETS = PARAM_TARGETS + VECTOR_TARGETS + CHOICE_TARGETS + FLAG_TARGETS + ACTION_TARGETS + (
    BEND_TARGET,)

#: Output range used when a MIDI or key mapping gives no `range` (OSC passes values through).
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "speed": (0.0, 1.0), "truncation": (0.0, 2.0), "smooth": (0.0, 5.0), "morph": (0.0, 1.0),
    "tempo": (60.0, 180.0), "dir": (-3.0, 3.0), "z": (-3.0, 3.0), "seed": (0.0, 127.0),
    "key": (0.0, 15.0), "key_store": (0.0, 15.0), "scene": (0.0, 127.0), "label": (0.0, 127.0),
    "mode": (0.0, 2.0), "hud": (0.0, 1.0), "record": (0.0, 1.0), "snapshot": (0.0, 1.0),
    "model": (0.0, 1.0),
}

#: Native range of each source's numbers, used when a mapping gives no `in`.
NATIVE_RANGES: dict[str, tuple[float, float]] = {
    "osc": (0.0, 1.0), "cc": (0.0, 127.0), "cc14": (0.0, 16383.0),
    "pitchbend": (-8192.0, 8191.0), "note": (0.0, 127.0), "key": (0.0, 1.0),
    "audio": (0.0, 1.0), "audio_tempo": (60.0, 180.0),  # analysis 0..1; tempo in BPM
}

PICKUP_WINDOW = 3 / 128  # soft takeover: a control within this share of its range picks up
_CURVE_K = 4.0  # steepness of exp/log; exp and log are exact inverses of each other
_TARGET = re.compile(r"^\s*([a-z_]+)\s*(?:\[\s*([^\]\s]+)\s*\])?\s*$")


@dataclass(frozen=True)
class Source:
    """Where a mapping listens."""

    kind: str  # one of SOURCE_KINDS
    address: str = ""  # osc: the address, e.g. "/wek/outputs"
    arg: int | None = None  # osc: use only this argument (0-based); None: the whole list
    number: int = 0  # cc: controller number; note: note number
    channel: int | None = None  # MIDI channel 1..16; None: any channel
    bits: int = 7  # cc: 7, or 14 (CC n is the MSB, CC n+32 the LSB)
    key: str = ""  # key: pygame key name, e.g. "space", "1", "left"
    feature: str = ""  # audio: level, bass, mid, high, onset, beat or tempo

    @property
    def native(self) -> tuple[float, float]:
        """The range of this source's raw numbers."""
        if self.kind == "cc" and self.bits == 14:
            return NATIVE_RANGES["cc14"]
        if self.kind == "audio" and self.feature == "tempo":
            return NATIVE_RANGES["audio_tempo"]
        return NATIVE_RANGES[self.kind]

    def describe(self) -> str:
        """Short human text, e.g. "CC 16 ch 1" or "/wek/outputs[2]"."""
        channel = f" ch {self.channel}" if self.channel else ""
        if self.kind == "osc":
            return self.address + (f"[{self.arg}]" if self.arg is not None else "")
        if self.kind == "cc":
            return f"CC {self.number}{'/' + str(self.number + 32) if self.bits == 14 else ''}" \
                   f"{channel}"
        if self.kind == "note":
            return f"note {self.number}{channel}"
        if self.kind == "pitchbend":
            return f"pitch bend{channel}"
        if self.kind == "audio":
            return f"audio {self.feature}"
        return f"key {self.key}"


@dataclass(frozen=True)
class Target:
    """What a mapping moves: a control name, maybe one component of a vector."""

    name: str  # one of TARGETS
    index: int | None = None  # dir/z: one component
    dir_name: str | None = None  # dir: a direction by the model's name for it
    start: int = 0  # dir/z as a whole list: first component written
    bend: tuple[str, str] | None = None  # bend: (layer, op); `index` is the amount

    @property
    def default_range(self) -> tuple[float, float]:
        """The output range when a mapping gives none: a bend amount's own range."""
        if self.bend is not None:
            op, k = BY_NAME[self.bend[1]], self.index or 0
            return op.low[k], op.high[k]
        return DEFAULT_RANGES[self.name]

    @property
    def is_vector(self) -> bool:
        """A whole list of dir or z components."""
        return self.name in VECTOR_TARGETS and self.index is None and self.dir_name is None

    @property
    def is_continuous(self) -> bool:
        """A number that can glide: a param, or one dir/z component."""
        return self.name in PARAM_TARGETS or self.bend is not None or (
            self.name in VECTOR_TARGETS and not self.is_vector)

    def describe(self) -> str:
        if self.bend is not None:
            return f"bend[{'/'.join(self.bend)}{f'/{self.index}' if self.index else ''}]"
        if self.dir_name is not None:
            return f"{self.name}[{self.dir_name}]"
        if self.index is not None:
            return f"{self.name}[{self.index}]"
        return self.name + (f" from {self.start}" if self.start else "")


def parse_target(text: str, index: int | None = None, start: int = 0) -> Target:
    """Read a target such as "truncation", "dir", "dir[3]", "dir[smile]" or "z[0]".

    Args:
        text: the mapping's `to`.
        index: the mapping's `index` (same as writing `name[index]`).
        start: first component written by a whole-list dir/z mapping.

    Raises:
        ValueError: with a sentence saying what is wrong.
    """
    match = _TARGET.match(text)
    name = match.group(1) if match else ""
    if name not in TARGETS:
        raise ValueError(f"unknown target {text!r}; targets are {', '.join(TARGETS)}, "
                         "dir[i] or dir[name], z[i]")
    inner = match.group(2) if match else None
    if name == BEND_TARGET:
        return _bend_target(text, inner, index)
    if inner is not None and index is not None:
        raise ValueError(f"give the index once: {text!r} or index = {index}, not both")
    if (inner is not None or index is not None) and name not in VECTOR_TARGETS:
        raise ValueError(f"{name} takes no index; only dir and z do")
    if index is not None:
        inner = str(index)
    if inner is None:
        return Target(name, start=start)
    if inner.isascii() and inner.isdigit():
        return Target(name, index=int(inner))
    if name == "z":
        raise ValueError(f"z[{inner}]: latent components are numbered, e.g. z[0]")
    return Target(name, dir_name=inner)


def _bend_target(text: str, inner: str | None, index: int | None) -> Target:
    """bend[layer/op] or bend[layer/op/k] (k: which amount; `index` says the same)."""
    parts = (inner or "").split("/")
    if len(parts) == 3 and parts[2].isascii() and parts[2].isdigit() and index is None:
        index, parts = int(parts[2]), parts[:2]
    if len(parts) != 2 or not parts[0] or parts[1] not in BY_NAME:
        raise ValueError(f"{text!r}: write bend[layer/op] or bend[layer/op/k], e.g. "
                         f"bend[16/rotate]; ops are {', '.join(OP_NAMES)}")
    size = BY_NAME[parts[1]].size
    if index is not None and index >= size:
        raise ValueError(f"{text!r}: {parts[1]} has {size} amount(s) "
                         f"({', '.join(BY_NAME[parts[1]].amounts)}), numbered from 0")
    return Target(BEND_TARGET, index=index or 0, bend=(parts[0], parts[1]))


def shape_curve(t: float, curve: str) -> float:
    """Bend t in 0..1: lin keeps it, exp gives fine control at the low end, log at the top."""
    if curve == "exp":
        return math.expm1(_CURVE_K * t) / math.expm1(_CURVE_K)
    if curve == "log":
        return math.log1p(math.expm1(_CURVE_K) * t) / _CURVE_K
    return t


def apply_deadzone(t: float, deadzone: float) -> float:
    """Inputs within `deadzone` of the middle give exactly 0.5; the rest stretch, no jump."""
    if deadzone <= 0:
        return t
    offset = t - 0.5
    if abs(offset) <= deadzone:
        return 0.5
    return 0.5 + math.copysign((abs(offset) - deadzone) / (0.5 - deadzone) * 0.5, offset)


@dataclass(frozen=True)
class Mapping:
    """One source driving one target, with the shaping a patch asks for.

    Numbers arrive in the source's own units (OSC as sent, CC 0..127, 14-bit CC
    0..16383, pitch bend -8192..8191, velocity 0..127); `in_range` (default: those
    native ranges, 0..1 for OSC) maps onto 0..1, then invert, deadzone and curve shape
    it, and `range` spreads it over the target. An OSC mapping without range, in,
    curve, invert or deadzone passes numbers through unchanged.
    """

    source: Source
    target: Target
    range: tuple[float, float] | None = None  # output range (default: DEFAULT_RANGES)
    in_range: tuple[float, float] | None = None  # input range in source units
    curve: str = "lin"  # lin | exp | log
    invert: bool = False  # flip the input: top of the fader gives the bottom of the range
    deadzone: float = 0.0  # 0..0.45: share of the input around its middle that gives the middle
    smooth: float = 0.0  # seconds this mapping takes to reach a new value (0: at once)
    pickup: bool = False  # soft takeover: ignore the control until it meets the current value
    press: str | None = None  # notes, keys, buttons: trigger | toggle | gate | velocity
    value: str | float | None = None  # what a press sends (scene name, seed, mode, number)
    quantize: str | None = None  # scene, seed, key: "beat" | "bar" waits for the next one
    line: int = 0  # line of the [[map]] in the patch file, for messages

    @property
    def passthrough(self) -> bool:
        """OSC numbers go to the target unchanged."""
        return (self.source.kind == "osc" and self.range is None and self.in_range is None
                and self.curve == "lin" and not self.invert and self.deadzone == 0.0)

    @property
    def press_mode(self) -> str | None:
        """How presses act: explicit `press`, else trigger for keys, snapshots, notes to a
        choice, or any mapping with a `value`; velocity for other notes; None: continuous."""
        if self.press is not None:
            return self.press
        if self.source.kind == "key" or self.value is not None or self.target.name == "snapshot":
            return "trigger"
        if self.source.kind == "note":
            return "velocity" if self.target.is_continuous or self.target.is_vector \
                else "trigger"
        return None

    def out_range(self, default: tuple[float, float] | None = None) -> tuple[float, float]:
        """The output range: `range`, else `default`, else the target's usual range."""
        return self.range or default or self.target.default_range

    def normalize(self, x: float) -> float:
        """Input in source units -> 0..1 after in-range, invert, deadzone and curve."""
        low, high = self.in_range or self.source.native
        t = (x - low) / (high - low) if high != low else 0.0
        return self.shape(min(1.0, max(0.0, t)))

    def shape(self, t: float) -> float:
        """0..1 -> 0..1 through invert, deadzone and curve."""
        if self.invert:
            t = 1.0 - t
        return shape_curve(apply_deadzone(t, self.deadzone), self.curve)

    def scale(self, x: float, default: tuple[float, float] | None = None) -> float:
        """Input in source units -> target value."""
        if self.passthrough:
            return x
        low, high = self.out_range(default)
        return low + self.normalize(x) * (high - low)

    def describe(self) -> str:
        """One line for `livegan osc` and the log."""
        extra = []
        if self.range is not None:
            extra.append(f"range {self.range[0]:g}..{self.range[1]:g}")
        if self.curve != "lin":
            extra.append(self.curve)
        extra += [name for name, on in (("invert", self.invert), ("pickup", self.pickup)) if on]
        if self.deadzone:
            extra.append(f"deadzone {self.deadzone:g}")
        if self.smooth:
            extra.append(f"smooth {self.smooth:g}s")
        if self.press is not None:
            extra.append(self.press)
        if self.value is not None:
            extra.append(f"value {self.value!r}")
        if self.quantize is not None:
            extra.append(f"on the next {self.quantize}")
        tail = f"  ({', '.join(extra)})" if extra else ""
        return f"{self.source.describe()} -> {self.target.describe()}{tail}"


class Pickup:
    """Soft takeover for one mapping: hold the control back until it meets the value.

    Armed at start and whenever someone else moved the target (a scene, OSC, another
    mapping): the control is ignored until it comes within PICKUP_WINDOW of the current
    value, or crosses it between two moves (a fast sweep).
    """

    def __init__(self) -> None:
        self.armed = True
        self.previous: float | None = None  # the control's last (held back) value
        self.written: float | None = None  # what this mapping last wrote

    def rearm(self) -> None:
        self.armed, self.previous = True, None

    def allows(self, value: float, current: float, span: float) -> bool:
        """Whether `value` from the control may be written over `current`."""
        if self.written is not None and abs(current - self.written) > 1e-6:
            self.rearm()  # the target moved under us: wait until the control meets it
            self.written = current
        if not self.armed:
            return True
        previous, self.previous = self.previous, value
        crossed = previous is not None and (previous - current) * (value - current) <= 0
        if abs(value - current) <= PICKUP_WINDOW * abs(span) or crossed:
            self.armed = False
            return True
        return False


@dataclass
class MappingState:
    """What the router remembers about one mapping between events."""

    pickup: Pickup = field(default_factory=Pickup)
    pressed: bool = False  # a CC button is held (edge detection)
    toggled: bool = False  # toggle presses: on or off
    last_choice: object = None  # knob -> choice: the last value sent (send on change only)
    msb: dict[int, int] = field(default_factory=dict)  # 14-bit CC: channel -> MSB
    lsb: dict[int, int] = field(default_factory=dict)  # 14-bit CC: channel -> LSB
    goal: float | list[float] | None = None  # smoothing: where the value is heading
    now: float | list[float] | None = None  # smoothing: where it is
