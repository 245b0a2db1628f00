"""MIDI learn: each new knob, fader or pad the performer moves becomes a [[map]] entry."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PAIR_SECONDS = 0.02  # an LSB (CC n+32) this soon after its MSB (CC n) makes a 14-bit pair
LEARN_RANGE = (-3.0, 3.0)  # direction amounts a learned control sweeps

HEADER = """\
# Learned with `livegan midi learn`: each control moves one direction of the model.
# Change `to` to aim a control elsewhere (truncation, speed, scene, seed...) and
# `range` to set how far it goes; see the Patches section of the README.
"""


def default_targets() -> Iterator[str]:
    """dir[0], dir[1], ... : the next free target for each new control."""
    i = 0
    while True:
        yield f"dir[{i}]"
        i += 1


@dataclass
class Learned:
    """One learned control and where it goes."""

    kind: str  # cc | note | pitchbend
    channel: int  # 1..16
    number: int  # cc or note number (0 for pitch bend)
    target: str  # e.g. "dir[0]"
    bits: int = 7  # 14 once CC n+32 was seen following CC n

    def toml(self) -> str:
        """The [[map]] entry, ready to paste into a patch."""
        if self.kind == "pitchbend":
            source = f"midi = {{ pitchbend = true, channel = {self.channel} }}"
        else:
            bits = ", bits = 14" if self.bits == 14 else ""
            source = f"midi = {{ {self.kind} = {self.number}, channel = {self.channel}{bits} }}"
        lines = ["[[map]]", source, f'to = "{self.target}"',
                 f"range = [{LEARN_RANGE[0]:.1f}, {LEARN_RANGE[1]:.1f}]"]
        if self.kind == "note":
            lines.append('press = "gate"  # held: top of the range; released: bottom')
        return "\n".join(lines) + "\n"


class Learner:
    """The core of `livegan midi learn`, fed one mido message at a time (testable offline).

    Each control seen for the first time (CC, note on, pitch bend, per channel) gets the
    next target; a CC n+32 arriving right after CC n (n < 32) turns CC n into a 14-bit
    pair instead of a new control.

    Args:
        targets: the targets to hand out in order (default: dir[0], dir[1], ...).
    """

    def __init__(self, targets: Iterable[str] | None = None) -> None:
        self._targets = iter(targets) if targets is not None else default_targets()
        self.entries: list[Learned] = []
        self._seen: dict[tuple, Learned] = {}
        self._lsb_of: set[tuple[int, int]] = set()  # (channel, cc) known to be an LSB
        self._previous: tuple[tuple, float] | None = None  # last CC seen and when

    def feed(self, msg: Any, now: float | None = None) -> Learned | None:
        """Learn from one message; returns the entry it created or changed, else None.

        `now` (or else the message's `time`, when set) is its arrival time in seconds.
        """
        if now is None:
            now = getattr(msg, "time", 0) or time.monotonic()
        kind = getattr(msg, "type", "")
        channel = getattr(msg, "channel", 0) + 1
        if kind == "control_change":
            return self._cc(channel, msg.control, now)
        if kind == "note_on" and msg.velocity > 0:
            return self._new(("note", channel, msg.note))
        if kind == "pitchwheel":
            return self._new(("pitchbend", channel, 0))
        return None

    def _cc(self, channel: int, control: int, now: float) -> Learned | None:
        previous, self._previous = self._previous, (("cc", channel, control), now)
        if (channel, control) in self._lsb_of:
            return None
        msb = ("cc", channel, control - 32)
        if 32 <= control < 64 and previous is not None and previous[0] == msb \
                and now - previous[1] <= PAIR_SECONDS and msb in self._seen:
            self._lsb_of.add((channel, control))
            entry = self._seen[msb]
            entry.bits = 14
            stray = self._seen.pop(("cc", channel, control), None)
            if stray is not None:  # learned alone before its MSB showed up: hand it back
                self.entries.remove(stray)
            return entry
        return self._new(("cc", channel, control))

    def _new(self, key: tuple) -> Learned | None:
        if key in self._seen:
            return None
        entry = Learned(kind=key[0], channel=key[1], number=key[2], target=next(self._targets))
        self._seen[key] = entry
        self.entries.append(entry)
        return entry

    def toml(self) -> str:
        """Every entry learned so far, as a patch file (it loads with load_patch)."""
        return HEADER + "".join("\n" + entry.toml() for entry in self.entries)


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` so an interrupted learn never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def learn(messages: Iterable[Any], learner: Learner, out: Path | None = None,
          echo: Callable[[str], None] = print) -> Learner:
    """Feed `messages` to `learner`, echoing each new entry and rewriting `out` each time.

    `messages` may be endless (a live port): stop it with KeyboardInterrupt.
    """
    for msg in messages:
        entry = learner.feed(msg)
        if entry is None:
            continue
        echo(entry.toml())
        if out is not None:
            write_atomic(out, learner.toml())
    return learner


def live_messages(inputs: Any, poll: float = 0.005) -> Iterator[Any]:
    """Messages from a started MidiInputs, as they arrive, until KeyboardInterrupt."""
    while True:
        now = time.monotonic()
        for msg in inputs.drain():
            yield msg.copy(time=now)
        time.sleep(poll)
