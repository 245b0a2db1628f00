"""Playing one mapping: a source value through its range, curve, press mode, pickup and
smoothing into target writes, with what the mapping remembers between events."""

from __future__ import annotations

import math

from livegan.control.controls import Controls
from livegan.control.osc.dispatch import number
from livegan.control.patch.config import PatchControls
from livegan.control.patch.mapping import Mapping, MappingState
from livegan.control.patch.targets import Key, Targets


class MappingPlayer:
    """Turns the values a patch's mappings receive into writes to their targets.

    Mappings are named by their index in the patch (`maps`); each has a `MappingState`
    (press edges, toggles, 14-bit CC halves, pickup, smoothing). Not locked: the Router
    (and its audio routes) call it under the router's lock.

    Args:
        controls: the show's control state (the sizes of dir and z).
        targets: where values are written.
    """

    def __init__(self, controls: Controls, targets: Targets) -> None:
        self.controls = controls
        self.targets = targets
        self.maps: tuple[Mapping, ...] = ()
        self.states: list[MappingState] = []
        self._scenes = 0
        self._smoothing: set[int] = set()

    def set_patch(self, patch: PatchControls) -> None:
        """Play `patch`'s mappings from now on, each from a fresh state."""
        self.maps = patch.maps
        self.states = [MappingState() for _ in patch.maps]
        self._scenes = len(patch.scenes)
        self._smoothing.clear()

    def rearm(self) -> None:
        """Every pickup mapping waits to meet its target again (after a scene)."""
        for state in self.states:
            state.pickup.rearm()

    # --- sources -------------------------------------------------------------------------

    def osc(self, i: int, args: tuple) -> bool:
        """Mapping `i` receives an OSC message's arguments; False when it cannot use them."""
        m = self.maps[i]
        if m.target.is_vector:  # components past the model's are ignored: never parsed
            size = self.controls.n_dirs if m.target.name == "dir" else self.controls.z_dim
            values = [number(a) for a in args[: max(1, size - m.target.start)]]
            if not values or None in values:
                return False
            return self._vector(i, values)  # type: ignore[arg-type]
        arg = m.source.arg or 0
        if not args or len(args) <= arg:
            return not args and m.press_mode is not None and self.press(i, 1.0, True)
        x = args[arg]
        if isinstance(x, str):
            return m.value is None and self.targets.choose(m.target, x.strip(), m.quantize)
        value = number(x)
        if value is None:
            return False
        if m.press_mode is not None:
            on = self.is_on(m, value)  # streams (TouchDesigner) repeat: act on changes
            return on == self.states[i].pressed or self.press(i, value, on)
        return self.continuous(i, value)

    def cc(self, i: int, control: int, value: int, channel: int) -> None:
        """Mapping `i` receives a MIDI control change (either half of a 14-bit pair)."""
        m, state = self.maps[i], self.states[i]
        if m.source.bits == 14:
            if control == m.source.number:
                state.msb[channel], state.lsb[channel] = value, 0
            else:
                state.lsb[channel] = value
            value = (state.msb.get(channel, 0) << 7) | state.lsb.get(channel, 0)
        if m.press_mode is None:
            self.continuous(i, float(value))
            return
        on = self.is_on(m, value)
        if on != state.pressed:
            self.press(i, float(value), on)

    @staticmethod
    def is_on(m: Mapping, value: float) -> bool:
        """Whether `value` holds a press mapping's button down (the upper half of its input)."""
        low, high = m.in_range or m.source.native
        return (value - low) / (high - low) >= 0.5 if high != low else value > 0

    def pressed(self, i: int) -> bool:
        """Whether mapping `i`'s button is held down."""
        return self.states[i].pressed

    def press(self, i: int, raw: float, on: bool) -> bool:
        """A button, pad, key or note went down (on) or up."""
        m, state = self.maps[i], self.states[i]
        mode = m.press_mode
        state.pressed = on
        low, high = m.out_range(self._default_range(m))
        top = m.value if m.value is not None else high
        if mode == "trigger":
            return not on or self._send(i, top)
        if mode == "toggle":
            if on:
                state.toggled = not state.toggled
                return self._send(i, top if state.toggled else low)
            return True
        if mode == "gate":
            return self._send(i, top if on else low)
        return self._send(i, m.scale(raw, (low, high)) if on else low)  # velocity

    def continuous(self, i: int, raw: float) -> bool:
        """A knob, fader, pitch bend, sound feature or OSC number in source units."""
        m, state = self.maps[i], self.states[i]
        y = m.scale(raw, self._default_range(m))
        if m.target.is_continuous:
            return self._set_continuous(i, y)
        choice = y >= 0.5 if m.target.name in ("hud", "record") else round(y)
        if choice == state.last_choice:
            return True  # a knob or a stream sweeping through one choice sends it once
        state.last_choice = choice
        return self.targets.choose(m.target, choice, m.quantize)

    # --- writes --------------------------------------------------------------------------

    def _send(self, i: int, value: object) -> bool:
        """A value already in target units, from a press."""
        target = self.maps[i].target
        if target.is_continuous:
            return self._set_continuous(i, float(value))  # type: ignore[arg-type]
        return self.targets.choose(target, value, self.maps[i].quantize)

    def _set_continuous(self, i: int, y: float) -> bool:
        m, state = self.maps[i], self.states[i]
        key = self.targets.key(m.target)
        if key is None:
            return False
        current = self.targets.get(key)
        if m.pickup:
            low, high = m.out_range(self._default_range(m))
            if not state.pickup.allows(y, current, high - low):
                return True
        if m.smooth > 0:
            state.goal = y
            if state.now is None:
                state.now = current
            self._smoothing.add(i)
        else:
            self._write(i, key, y)
        return True

    def _write(self, i: int, key: Key, value: float) -> None:
        held = self.targets.set(key, value)
        if self.maps[i].pickup:
            self.states[i].pickup.written = held

    def _vector(self, i: int, values: list[float]) -> bool:
        m, state = self.maps[i], self.states[i]
        y = [m.scale(v, self._default_range(m)) for v in values]
        if m.smooth > 0:
            start = m.target.start
            if not isinstance(state.now, list) or len(state.now) != len(y):
                state.now = [self.targets.get((m.target.name, start + k))
                             for k in range(len(y))]
            state.goal = y
            self._smoothing.add(i)
            return True
        return self.targets.set_vector(m.target, y)

    def _default_range(self, m: Mapping) -> tuple[float, float] | None:
        """Ranges that depend on the patch or the model: scenes and labels by index."""
        if m.target.name == "scene":
            return 0.0, float(max(0, self._scenes - 1))
        if m.target.name == "label":
            return 0.0, float(max(0, len(self.targets.labels()) - 1))
        return None

    # --- smoothing -----------------------------------------------------------------------

    def smooth(self, dt: float) -> None:
        """Move every smoothing mapping `dt` seconds closer to where it is heading."""
        for i in list(self._smoothing):
            self._smooth_step(i, dt)

    def _smooth_step(self, i: int, dt: float) -> None:
        m, state = self.maps[i], self.states[i]
        alpha = 1.0 - math.exp(-dt / m.smooth)
        if isinstance(state.goal, list):
            now = [a + (b - a) * alpha for a, b in zip(state.now, state.goal)]  # type: ignore
            done = max(abs(b - a) for a, b in zip(now, state.goal)) < 1e-4
            state.now = state.goal if done else now
            self.targets.set_vector(m.target, list(state.now))
        else:
            value = state.now + (state.goal - state.now) * alpha  # type: ignore[operator]
            done = abs(state.goal - value) < 1e-4  # type: ignore[operator]
            state.now = state.goal if done else value
            key = self.targets.key(m.target)
            if key is not None:
                self._write(i, key, state.now)  # type: ignore[arg-type]
        if done:  # the next move starts from wherever the target is by then
            self._smoothing.discard(i)
            state.now = None
