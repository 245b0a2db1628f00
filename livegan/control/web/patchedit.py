"""Patches made on the page: learned mappings and stored scenes added to the show's patch,
checked by the patch loader, played at once and written as TOML into the patches folder."""

from __future__ import annotations

import math
import os
import re
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from livegan.control.midi.learn import LEARN_RANGE, Learned, Learner
from livegan.control.oscquery.tree import Live
from livegan.control.patch.config import PatchControls
from livegan.control.patch.mapping import DEFAULT_RANGES, parse_target
from livegan.control.web.protocol import Refused, check_name
from livegan.errors import PatchError

DEFAULT_FOLDER = Path("patches")  # where patches go when the show started without one
SCENE_PARAMS = ("speed", "truncation", "smooth", "morph")  # what a stored scene keeps
#: checks a patch's text (its file named for messages) as the patch loader does: the patch to
#: play, or PatchError naming the line (livegan.patchfile.load.parse_patch)
CheckPatch = Callable[[str, Path], PatchControls]
NEW_PATCH = "# Made on livegan's control page: `livegan perform {path}` plays it.\n"
ADDED = "\n# Added on the control page\n"


@dataclass(frozen=True)
class LearnedMap:
    """A mapping learned on the page: where it listens, what it moves, its TOML."""

    source: str  # "CC 16 ch 1", "/fader/1"
    target: str  # "speed", "dir[3]"
    toml: str  # the [[map]] table

    def message(self) -> dict[str, Any]:
        return {"source": self.source, "to": self.target, "toml": self.toml}


def _toml_value(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, float):
        return repr(round(value, 6)) if math.isfinite(value) else "0.0"
    return str(value)


def _range(target: str) -> str:
    """The output range written for a learned control: the target's usual range (a fader
    sweeps the whole of it), LEARN_RANGE for directions as `livegan midi learn` does."""
    parsed = parse_target(target)
    if parsed.name == "dir":
        low, high = LEARN_RANGE
    elif parsed.is_continuous:
        low, high = parsed.default_range if parsed.bend is not None \
            else DEFAULT_RANGES[parsed.name]
    else:
        return ""
    return f"range = [{float(low)!r}, {float(high)!r}]\n"


def midi_map(learned: Learned, value: object) -> LearnedMap:
    """A [[map]] for a learned MIDI control (as `livegan midi learn` writes, aimed at one
    target of the page, with the page's value for buttons)."""
    if learned.kind == "pitchbend":
        source, text = f"pitch bend ch {learned.channel}", \
            f"midi = {{ pitchbend = true, channel = {learned.channel} }}"
    else:
        bits = ", bits = 14" if learned.bits == 14 else ""
        source = f"{'CC' if learned.kind == 'cc' else 'note'} {learned.number} ch " \
                 f"{learned.channel}"
        text = f"midi = {{ {learned.kind} = {learned.number}, channel = {learned.channel}" \
               f"{bits} }}"
    lines = ["[[map]]", text, f"to = {_toml_value(learned.target)}"]
    if value is not None:
        lines.append(f"value = {_toml_value(value)}")
    else:
        lines.append(_range(learned.target).rstrip())
        if learned.kind == "note" and parse_target(learned.target).is_continuous:
            lines.append('press = "gate"')
    return LearnedMap(source, learned.target, "\n".join(x for x in lines if x) + "\n")


def osc_map(address: str, args: tuple, target: str, value: object) -> LearnedMap:
    """A [[map]] for a learned OSC address: its first argument (when it sends several)
    spread over the target's range."""
    lines = ["[[map]]", f"osc = {_toml_value(address)}"]
    if len(args) > 1 and not parse_target(target).is_vector:
        lines.append("arg = 0")
    lines.append(f"to = {_toml_value(target)}")
    lines.append(f"value = {_toml_value(value)}" if value is not None
                 else _range(target).rstrip())
    return LearnedMap(address, target, "\n".join(x for x in lines if x) + "\n")


class LearnSession:
    """Learn from the page: armed with a target, the next MIDI control or OSC address seen
    becomes a mapping onto it (once), as `livegan midi learn` hands out targets.
    Thread-safe: MIDI arrives on the main thread, OSC on its own, the page on the server's."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._target: str | None = None
        self._value: object = None

    @property
    def armed(self) -> bool:
        return self._target is not None

    @property
    def target(self) -> str | None:
        """The target waiting for a control, or None."""
        return self._target

    def arm(self, target: str, value: object = None) -> None:
        """Wait for a control for `target` (a patch `to`). Raises Refused when unknown."""
        try:
            parse_target(target)
        except ValueError as exc:
            raise Refused("bad_args", str(exc)) from None
        with self._lock:
            self._target, self._value = target, value

    def cancel(self) -> None:
        with self._lock:
            self._target = None

    def midi(self, msg: object) -> LearnedMap | None:
        """A MIDI message (mido): the mapping it makes, when armed and it is a control."""
        if self._target is None:
            return None
        with self._lock:
            if self._target is None:
                return None
            learned = Learner([self._target]).feed(msg, now=0.0)
            if learned is None:
                return None
            self._target, value = None, self._value
        return midi_map(learned, value)

    def osc(self, address: str, args: tuple) -> LearnedMap | None:
        """An OSC message from another program: the mapping it makes, when armed."""
        if self._target is None or address.startswith("/livegan/"):
            return None  # livegan's own addresses already have their routes
        with self._lock:
            if self._target is None:
                return None
            target, value, self._target = self._target, self._value, None
        return osc_map(address, args, target, value)


def scene_toml(name: str, live: Live) -> str:
    """A [scenes.NAME] table holding the values now."""
    lines = [f"[scenes.{name}]"]
    for param in SCENE_PARAMS:
        if param in live.params:
            lines.append(f"{param} = {_toml_value(float(live.params[param]))}")
    if live.params.get("noise"):
        lines.append(f"noise = {_toml_value(float(round(live.params['noise'])))}")
    lines.append(f"mode = {_toml_value(live.mode)}")
    if live.dirs:
        lines.append("dirs = [" + ", ".join(_toml_value(float(v)) for v in live.dirs) + "]")
    if live.labels:
        lines.append(f"label = {int(live.label)}")
    if live.bends:
        bends = ", ".join(f'"{layer}/{op}" = [' + ", ".join(_toml_value(float(a))
                                                             for a in amounts) + "]"
                          for (layer, op), amounts in live.bends.items())
        lines.append(f"bend = {{ {bends} }}")
    return "\n".join(lines) + "\n"


class PatchEditor:
    """The show's patch text with what the page added: learned [[map]] tables and stored
    scenes (a stored scene replaces the one of that name). Each addition is checked by the
    patch loader before it plays; `save` writes the text into the patches folder only.

    Args:
        check: the patch loader's check of a patch's text.
        text: the patch file's text the show started with ("" when none).
        path: that file (None: the show started without a patch).
        model: the model a new patch names (when there was no patch).
    """

    def __init__(self, check: CheckPatch, text: str = "", path: Path | None = None,
                 model: str | None = None) -> None:
        self.check = check
        self.path = path
        self.folder = path.parent if path is not None else DEFAULT_FOLDER
        self._base = text if path is not None else (
            NEW_PATCH + (f"model = {_toml_value(model)}\n" if model else ""))
        self._maps: list[str] = []
        self._scenes: dict[str, str] = {}
        self._lock = threading.Lock()

    def text(self) -> str:
        """The whole patch as it would be saved."""
        with self._lock:
            base = self._base
            for name in self._scenes:
                base = _without_scene(base, name)
            added = self._maps + list(self._scenes.values())
        if not added:
            return base
        return base.rstrip("\n") + "\n" + ADDED + "\n".join(added)

    def add_map(self, block: str) -> PatchControls:
        """Add a learned [[map]]; returns the patch to play. Raises PatchError (nothing added)."""
        with self._lock:
            self._maps.append(block)
        return self._checked(lambda: self._maps.remove(block))

    def store_scene(self, name: str, block: str) -> PatchControls:
        """Add or replace a scene; returns the patch to play. Raises PatchError."""
        with self._lock:
            old = self._scenes.get(name)
            self._scenes[name] = block

        def undo() -> None:
            if old is None:
                self._scenes.pop(name, None)
            else:
                self._scenes[name] = old
        return self._checked(undo)

    def _checked(self, undo) -> PatchControls:
        try:
            return self.check(self.text(), self.path or self.folder / "page.toml")
        except PatchError:
            with self._lock:
                undo()
            raise

    def save(self, name: str | None) -> Path:
        """Write the patch as patches-folder/NAME.toml (None: over the show's own patch),
        checked first, atomically. Raises Refused for a name or a patch it cannot write."""
        if name is None:
            if self.path is None:
                raise Refused("save_refused", "this show started without a patch: save it "
                              "under a name (save as)")
            target = self.path
        else:
            target = self.folder / f"{check_name(name, 'patch')}.toml"
        text = self.text()
        try:
            self.check(text, target)
        except PatchError as exc:
            raise Refused("save_refused", f"not saved: {exc}") from None
        try:
            _write_inside(self.folder, target.name, text)
        except OSError as exc:
            raise Refused("save_refused", f"cannot write {target}: "
                          f"{exc.strerror or exc}") from None
        return target


def _without_scene(text: str, name: str) -> str:
    """`text` without the [scenes.NAME] table (and its sub-tables)."""
    quoted = re.escape(name)
    own = re.compile(rf"^\s*\[\s*scenes\s*\.\s*(?:{quoted}|\"{quoted}\"|'{quoted}')"
                     rf"\s*(?:\]|\.)")
    lines, kept, skipping = text.splitlines(keepends=True), [], False
    for line in lines:
        if re.match(r"^\s*\[", line):
            skipping = bool(own.match(line))
        if not skipping:
            kept.append(line)
    return "".join(kept)


def _write_inside(folder: Path, name: str, text: str) -> None:
    """Replace folder/name with `text` atomically: a fresh temporary file made exclusively
    in `folder` (never following a link), then renamed over the name."""
    folder.mkdir(parents=True, exist_ok=True)
    if "/" in name or "\\" in name or name in ("", ".", ".."):
        raise OSError(f"{name!r} is not a file name")
    handle, tmp = tempfile.mkstemp(prefix=".livegan-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, folder / name)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
