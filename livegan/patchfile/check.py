"""Checks patch values in one place; every error names the file, line and dotted key."""

from __future__ import annotations

import difflib
import ipaddress
import json
import math
import re
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn

from livegan.control.audio.features import FEATURES
from livegan.control.controls import MODES, PARAMS
from livegan.control.patch.mapping import (
    CURVES,
    PRESS_MODES,
    Mapping,
    Source,
    Target,
    parse_target,
)
from livegan.control.tempo import quantize
from livegan.errors import LiveganError, PatchError

Where = tuple  # ("map", 2, "range") -> "map[2].range"

MAP_KEYS = ("osc", "arg", "midi", "key", "audio", "to", "index", "start", "range", "in", "curve",
            "invert", "deadzone", "smooth", "pickup", "press", "value", "quantize")
MIDI_KEYS = ("cc", "note", "pitchbend", "channel", "bits")
WINDOW_KEYS = ("f", "h", "s", "escape")  # the window acts on these itself
_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]]+?)\s*\]\]?\s*(?:#.*)?$")


def dotted(where: Where) -> str:
    """("map", 2, "midi", "cc") -> "map[2].midi.cc"."""
    text = ""
    for part in where:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def show(value: object) -> str:
    """A value as the user wrote it (TOML-ish), for messages."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return str(value)


def _split_key(text: str) -> tuple[str, ...]:
    """A TOML table name such as `scenes."my scene"` -> ("scenes", "my scene")."""
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([^.\s]+)', text)
    return tuple(a or b or c for a, b, c in parts)


class Locator:
    """Finds the line of a dotted key in TOML source (tomllib reports no lines)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.regions: list[tuple[tuple, int, int]] = [((), 0, 0)]  # (key, header line, start)
        counts: dict[tuple, int] = {}
        for number, line in enumerate(self.lines, 1):
            match = _HEADER.match(line)
            if not match:
                continue
            key = _split_key(match.group(2))
            if match.group(1) == "[[":
                counts[key] = counts.get(key, -1) + 1
                key = key + (counts[key],)
            self.regions.append((key, number, number))

    def line(self, where: Where) -> int | None:
        """1-based line of `where`, or None when it cannot be found."""
        best = max((i for i, r in enumerate(self.regions) if where[: len(r[0])] == r[0]),
                   key=lambda i: len(self.regions[i][0]))
        key, header, start = self.regions[best]
        end = self.regions[best + 1][2] - 1 if best + 1 < len(self.regions) else len(self.lines)
        rest = where[len(key):]
        if not rest or not isinstance(rest[0], str):
            return header or None
        name = re.escape(rest[0])
        pattern = re.compile(rf"^\s*(?:{name}|\"{name}\"|'{name}')\s*[=.]")
        for number in range(start + 1 if header else 1, end + 1):
            if pattern.match(self.lines[number - 1]):
                return number
        return header or None


class Checker:
    """Typed reads of patch values; the first problem raises PatchError at its line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.locator = Locator(text)

    def line(self, where: Where) -> int | None:
        return self.locator.line(where)

    def fail(self, where: Where, message: str) -> NoReturn:
        line = self.line(where)
        place = f"{self.path}:{line}" if line else str(self.path)
        raise PatchError(f"{place}: {dotted(where)}: {message}" if where else
                         f"{place}: {message}")

    def keys(self, table: dict, where: Where, allowed: Iterable[str]) -> None:
        """Reject keys a patch does not know (typos would otherwise be silently ignored)."""
        allowed = tuple(allowed)
        for key in table:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, 1)
                hint = f" (did you mean {close[0]}?)" if close else \
                    f"; known keys: {', '.join(allowed)}"
                self.fail(where + (key,), f"unknown key{hint}")

    def table(self, data: dict, key: str, where: Where) -> dict:
        value = data.get(key, {})
        if not isinstance(value, dict):
            self.fail(where + (key,), f"expected a table [{dotted(where + (key,))}], "
                      f"got {show(value)}")
        return value

    def string(self, value: object, where: Where) -> str:
        if not isinstance(value, str):
            self.fail(where, f"expected a string in quotes, got {show(value)}")
        return value

    def strings(self, value: object, where: Where) -> list[str]:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(where, f"expected a list of strings, got {show(value)}")
        return value

    def choice(self, table: dict, key: str, where: Where,
               choices: Iterable[str] | None) -> str | None:
        """An optional string, one of `choices` when given."""
        if key not in table:
            return None
        value = self.string(table[key], where + (key,))
        if choices is not None and value not in tuple(choices):
            self.fail(where + (key,), f"expected one of {', '.join(choices)}, got {show(value)}")
        return value

    def flag(self, table: dict, key: str, where: Where, default: bool | None) -> bool | None:
        value = table.get(key, default)
        if value is not None and not isinstance(value, bool):
            self.fail(where + (key,), f"expected true or false, got {show(value)}")
        return value

    def _number(self, value: object, where: Where, low: float | None,
                high: float | None) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            self.fail(where, f"expected a number, got {show(value)}")
        if (low is not None and value < low) or (high is not None and value > high):
            self.fail(where, f"expected a number from {low:g} to {high:g}, got {show(value)}")
        return float(value)

    def number(self, table: dict, key: str, where: Where, low: float | None = None,
               high: float | None = None) -> float | None:
        return None if key not in table else self._number(table[key], where + (key,), low, high)

    def param(self, table: dict, name: str, where: Where) -> float | None:
        """A control parameter within its range (see controls.PARAMS)."""
        _, low, high = PARAMS[name]
        return self.number(table, name, where, low, high)

    def integer(self, table: dict, key: str, where: Where, low: int, high: int) -> int | None:
        if key not in table:
            return None
        value = table[key]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(where + (key,), f"expected a whole number from {low} to {high}, "
                      f"got {show(value)}")
        return value

    def numbers(self, value: object, where: Where) -> tuple[float, ...] | None:
        if value is None:
            return None
        if not isinstance(value, list):
            self.fail(where, f"expected a list of numbers (maybe empty), got {show(value)}")
        return tuple(self._number(v, where, None, None) for v in value)

    def pair(self, value: object, where: Where) -> tuple[float, float] | None:
        if value is None:
            return None
        if isinstance(value, list) and len(value) == 2 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                for v in value):
            return float(value[0]), float(value[1])
        self.fail(where, f"expected two numbers such as [-3.0, 3.0], got {show(value)}")

    def named_numbers(self, value: object, where: Where) -> dict[str, float]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.fail(where, f"expected a table of amounts such as {{ warm = 1.5, 0 = -1 }}, "
                      f"got {show(value)}")
        return {str(k): self._number(v, where + (k,), None, None) for k, v in value.items()}

    def label(self, value: object, where: Where) -> str | int | None:
        if value is None or isinstance(value, str) or (
                isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            return value
        self.fail(where, f"expected a label name or index, got {show(value)}")

    def size(self, value: object, where: Where) -> tuple[int, int] | None:
        if value is None:
            return None
        if isinstance(value, str) and re.fullmatch(r"\d+x\d+", value.lower()):
            value = [int(v) for v in value.lower().split("x")]
        if isinstance(value, list) and len(value) == 2 and all(
                isinstance(v, int) and not isinstance(v, bool) and 16 <= v <= 16384
                for v in value):
            return value[0], value[1]
        self.fail(where, f"expected [width, height] or \"WxH\" (16 or more), got {show(value)}")

    def network(self, entry: str, where: Where) -> None:
        if entry.strip() == "localhost":
            return
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            self.fail(where, f"{show(entry)} is not an IP address or network "
                      "(such as 127.0.0.1 or 192.168.1.0/24)")

    def hostport(self, text: str, where: Where) -> None:
        from livegan.control.osc.sender import parse_hostport

        try:
            parse_hostport(text)
        except LiveganError as exc:
            self.fail(where, str(exc))

    def mapping(self, table: object, i: int, scenes: tuple[str, ...]) -> Mapping:
        """One [[map]] table -> Mapping (see mapping.Mapping for the meaning of each key)."""
        where: Where = ("map", i)
        if not isinstance(table, dict):
            self.fail(where, "write each mapping as a [[map]] table")
        self.keys(table, where, MAP_KEYS)
        source = self._source(table, where)
        target = self._target(table, where, source)
        mapping = Mapping(
            source=source, target=target,
            range=self.pair(table.get("range"), where + ("range",)),
            in_range=self.pair(table.get("in"), where + ("in",)),
            curve=self.choice(table, "curve", where, CURVES) or "lin",
            invert=bool(self.flag(table, "invert", where, False)),
            deadzone=self.number(table, "deadzone", where, 0.0, 0.45) or 0.0,
            smooth=self.number(table, "smooth", where, 0.0, 60.0) or 0.0,
            pickup=bool(self.flag(table, "pickup", where, False)),
            press=self.choice(table, "press", where, PRESS_MODES),
            value=self._value(table, where, target, scenes),
            quantize=self.choice(table, "quantize", where, quantize.UNITS),
            line=self.line(where) or 0,
        )
        if mapping.in_range is not None and mapping.in_range[0] == mapping.in_range[1]:
            self.fail(where + ("in",), "the two ends of the input range must differ")
        self._combinations(mapping, where)
        return mapping

    def _source(self, table: dict, where: Where) -> Source:
        given = [k for k in ("osc", "midi", "key", "audio") if k in table]
        if len(given) != 1:
            self.fail(where, "give exactly one source: osc = \"/address\", "
                      "midi = { cc = 16 }, key = \"space\" or audio = \"bass\"")
        if "arg" in table and given[0] != "osc":
            self.fail(where + ("arg",), "arg picks one argument of an OSC message; "
                      "this mapping has no osc source")
        if given[0] == "osc":
            address = self.string(table["osc"], where + ("osc",))
            if not address.startswith("/") or " " in address:
                self.fail(where + ("osc",), f"an OSC address starts with / and has no spaces, "
                          f"got {show(address)}")
            arg = self.integer(table, "arg", where, 0, 1023)
            return Source("osc", address=address, arg=arg)
        if given[0] == "audio":
            feature = self.string(table["audio"], where + ("audio",)).strip().lower()
            if feature not in FEATURES:
                close = difflib.get_close_matches(feature, FEATURES, 1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                self.fail(where + ("audio",), f"expected one of {', '.join(FEATURES)}, "
                          f"got {show(table['audio'])}{hint}")
            return Source("audio", feature=feature)
        if given[0] == "key":
            key = self.string(table["key"], where + ("key",)).strip().lower()
            if not key:
                self.fail(where + ("key",), "name a key, such as \"space\", \"1\" or \"left\"")
            if key in WINDOW_KEYS:
                self.fail(where + ("key",), f"{key} is the window's own key (F fullscreen, "
                          "H HUD, S snapshot, Esc quit); pick another")
            return Source("key", key=key)
        return self._midi_source(table["midi"], where + ("midi",))

    def _midi_source(self, midi: object, where: Where) -> Source:
        if not isinstance(midi, dict):
            self.fail(where, "expected a table such as { cc = 16, channel = 1 }")
        self.keys(midi, where, MIDI_KEYS)
        kinds = [k for k in ("cc", "note", "pitchbend") if k in midi]
        if len(kinds) != 1:
            self.fail(where, "give exactly one of cc = N, note = N or pitchbend = true")
        channel = self.integer(midi, "channel", where, 1, 16)
        bits = self.integer(midi, "bits", where, 7, 14) or 7
        if bits not in (7, 14):
            self.fail(where + ("bits",), f"expected 7 or 14, got {bits}")
        if kinds[0] == "pitchbend":
            if midi["pitchbend"] is not True:
                self.fail(where + ("pitchbend",), "write pitchbend = true")
            return Source("pitchbend", channel=channel)
        number = self.integer(midi, kinds[0], where, 0, 127)
        if bits == 14 and (kinds[0] != "cc" or number > 31):
            self.fail(where + ("bits",), "14-bit needs cc 0..31 (CC n is the MSB, n+32 the LSB)")
        return Source(kinds[0], number=number, channel=channel, bits=bits)

    def _target(self, table: dict, where: Where, source: Source) -> Target:
        if "to" not in table:
            self.fail(where, "missing to = \"TARGET\" (e.g. to = \"dir[0]\" or \"truncation\")")
        to = self.string(table["to"], where + ("to",))
        try:
            target = parse_target(to, self.integer(table, "index", where, 0, 100000),
                                  self.integer(table, "start", where, 0, 100000) or 0)
        except ValueError as exc:
            self.fail(where + ("to",), str(exc))
        if target.is_vector and (source.kind != "osc" or source.arg is not None):
            self.fail(where + ("to",), f"{to} as a whole takes a list of numbers from OSC; "
                      f"one control moves one component, e.g. {to}[0]")
        return target

    def _value(self, table: dict, where: Where, target: Target,
               scenes: tuple[str, ...]) -> str | float | None:
        if "value" not in table:
            return None
        value, place = table["value"], where + ("value",)
        name = target.name
        if name == "scene":
            if value not in scenes:
                self.fail(place, f"no scene named {show(value)}; the patch has "
                          f"{', '.join(scenes) or 'no [scenes.NAME] tables'}")
        elif name == "mode":
            if value not in MODES:
                self.fail(place, f"expected one of {', '.join(MODES)}, got {show(value)}")
        elif name == "model":
            if not isinstance(value, str) or "/" in value or "\\" in value or not value:
                self.fail(place, "expected a model name from the model folders (no paths)")
        elif name == "label":
            self.label(value, place)
        elif name in ("seed", "key", "key_store"):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                self.fail(place, f"expected a whole number 0 or more, got {show(value)}")
        elif name in ("hud", "record") and isinstance(value, bool):
            return float(value)
        else:
            return self._number(value, place, None, None)
        return value

    def _combinations(self, m: Mapping, where: Where) -> None:
        kind, press = m.source.kind, m.press
        if press is not None and kind == "pitchbend":
            self.fail(where + ("press",), "press is for notes, keys and buttons, not pitch bend")
        if press == "velocity" and kind != "note":
            self.fail(where + ("press",), "only notes have a velocity")
        if press == "gate" and kind == "key":
            self.fail(where + ("press",), "keys report presses only: use trigger or toggle")
        if m.pickup and kind == "audio":
            self.fail(where + ("pickup",), "pickup is for knobs and faders; sound has no "
                      "position to pick up from")
        if m.pickup and (not m.target.is_continuous or m.press_mode is not None):
            self.fail(where + ("pickup",), "pickup is for knobs and faders moving a number "
                      "(speed, truncation, smooth, morph, tempo, dir[i], z[i])")
        if m.quantize is not None and m.target.name not in quantize.TARGETS:
            self.fail(where + ("quantize",), "quantize holds scene, seed and key changes "
                      f"until the next beat or bar; {m.target.name} changes at once")
        if m.target.name == "model" and m.value is None and kind != "osc":
            self.fail(where, "a model target needs value = \"NAME\"")
