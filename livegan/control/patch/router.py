"""The patch router: applies mapped OSC, MIDI and key events, and scenes, to Controls."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from livegan.control.controls import Controls
from livegan.control.osc.batch import Coalescing
from livegan.control.osc.dispatch import IndexedRoute, Route, RouteTable
from livegan.control.osc.namespace import CONTINUOUS
from livegan.control.patch.load import PatchConfig, Scene
from livegan.control.patch.mapping import Mapping, MappingState
from livegan.control.patch.targets import Key, Targets, number
from livegan.control.ratelog import RateLimitedLog
from livegan.control.tempo.quantize import Quantizer

log = logging.getLogger(__name__)

WATCHED_EXACT = ("/livegan/z", "/livegan/dirs", "/wek/outputs")  # default dir/z addresses
WATCHED_FAMILIES = ("/livegan/z", "/livegan/dir")  # /livegan/z/{i}, /livegan/dir/{i|name}


class Router:
    """The mapping engine: a patch's mappings (OSC, MIDI, keys) and scene recalls -> Controls.

    Pure Python and thread-safe: OSC routes run on the OSC thread, MIDI, keys and scenes on
    the main thread; one lock keeps each mapping's state consistent. `table()` builds the OSC
    dispatcher's routes. `tick()`, once a frame, advances smoothing, glides and beat speed.

    Args:
        controls: the show's control state.
        patch: the patch to apply (None: the empty patch).
        labels: returns the playing model's class labels (names for /livegan/label).
        direction_names: returns the playing model's direction names (follows hot-swaps).
        clock: monotonic seconds (tests pass their own).
        quantizer: holds quantized scene, seed and key changes (None: they apply at once).
    """

    def __init__(self, controls: Controls, patch: PatchConfig | None = None, *,
                 labels: Callable[[], list[str]] = list,
                 direction_names: Callable[[], list[str]] = list,
                 clock: Callable[[], float] = time.monotonic,
                 quantizer: Quantizer | None = None) -> None:
        self.controls = controls
        self.labels = labels
        self.direction_names = direction_names
        self.clock = clock
        self.scene: str | None = None  # the scene recalled last (HUD)
        self.targets = Targets(controls, labels, direction_names, self.recall_scene, quantizer)
        self._lock = threading.RLock()
        self._smoothing: set[int] = set()
        self._last_tick: float | None = None
        self._ratelog = RateLimitedLog(log)
        self.patch = PatchConfig()
        self.set_patch(patch or PatchConfig())

    # --- patch ---------------------------------------------------------------------------

    def set_patch(self, patch: PatchConfig) -> None:
        """Use `patch` from now on (live reload); motion settings apply when they changed."""
        with self._lock:
            old, self.patch = self.patch, patch
            self.maps: tuple[Mapping, ...] = patch.maps
            self._states = [MappingState() for _ in patch.maps]
            self._smoothing.clear()
            self._index()
            self._coalescing = self._build_coalescing()
            # dir/z written by default OSC matter only to pickup mappings on them
            self._watched = {m.target.name for m in patch.maps
                             if m.pickup and m.target.name in ("dir", "z")}
            targets = self.targets
            if patch.motion.speed_unit == "beats":
                targets.beat_speed = patch.motion.speed if patch.motion.speed is not None \
                    else (targets.beat_speed or self.controls.param("speed"))
            else:
                targets.beat_speed = None
            if patch.motion != old.motion:
                self.apply_motion()

    def _index(self) -> None:
        self._by_osc: dict[str, list[int]] = {}
        self._by_cc: dict[int, list[int]] = {}
        self._by_note: dict[int, list[int]] = {}
        self._by_key: dict[str, list[int]] = {}
        self._pitch: list[int] = []
        for i, m in enumerate(self.maps):
            s = m.source
            if s.kind == "osc":
                self._by_osc.setdefault(s.address, []).append(i)
            elif s.kind == "cc":
                self._by_cc.setdefault(s.number, []).append(i)
                if s.bits == 14:
                    self._by_cc.setdefault(s.number + 32, []).append(i)
            elif s.kind == "note":
                self._by_note.setdefault(s.number, []).append(i)
            elif s.kind == "key":
                self._by_key.setdefault(s.key, []).append(i)
            elif s.kind == "pitchbend":  # audio mappings: control/patch/audio.py
                self._pitch.append(i)

    def apply_motion(self) -> None:
        """Write the patch's [motion] values into Controls (start, and reloads that change it)."""
        motion = self.patch.motion
        with self._lock:
            if motion.mode is not None:
                self.controls.set_mode(motion.mode)
            for name in ("smooth", "truncation", "morph", "speed"):
                value = getattr(motion, name)
                if value is not None:
                    self.targets.set((name, None), value)

    def table(self, defaults: RouteTable) -> RouteTable:
        """The OSC dispatcher's routes: the patch's addresses in front of `defaults`.

        Default routes that write dir or z, which pickup mappings of this patch watch,
        also tell the router the values they wrote (so pickup re-arms on them).
        """
        with self._lock:
            routes: dict[str, Route] = {}
            if self.targets.beat_speed is not None:
                routes["/livegan/speed"] = self._beat_speed_route
            for address in self._by_osc:
                routes[address] = lambda args, sender, a=address: self.osc(a, args)
            if not self._watched:
                return defaults.over(routes)
            exact = dict(defaults.exact)
            for address in WATCHED_EXACT:
                if address in exact:
                    exact[address] = self._observed(address, exact[address])
            indexed = dict(defaults.indexed)
            for head in WATCHED_FAMILIES:
                if head in indexed:
                    indexed[head] = self._observed_family(head, indexed[head])
            return RouteTable(exact, indexed, defaults.types, defaults.deep).over(routes)

    def _observed(self, address: str, route: Route) -> Route:
        def observed(args: tuple, sender: tuple[str, int]) -> bool:
            ok = route(args, sender)
            with self._lock:
                self.targets.observe(address, args, self._watched)
            return ok
        return observed

    def _observed_family(self, head: str, route: IndexedRoute) -> IndexedRoute:
        def observed(tail: str, args: tuple) -> bool:
            ok = route(tail, args)
            with self._lock:
                self.targets.observe(f"{head}/{tail}", args, self._watched)
            return ok
        return observed

    def coalescing(self) -> Coalescing:
        """OscServer's coalesce rule: the default continuous addresses, and the patch's
        addresses whose mappings all set values (never one with a press or pickup on it)."""
        return self._coalescing

    def _build_coalescing(self) -> Coalescing:
        values, acts = set(), set()
        for address, indices in self._by_osc.items():
            maps = [self.maps[i] for i in indices]
            sets_values = all(m.press_mode is None and not m.pickup
                              and (m.target.is_continuous or m.target.is_vector) for m in maps)
            (values if sets_values else acts).add(address)
        return Coalescing(CONTINUOUS.addresses | values, CONTINUOUS.prefixes, frozenset(acts))

    # --- inputs --------------------------------------------------------------------------

    def osc(self, address: str, args: tuple) -> bool:
        """Apply an OSC message to the mappings on `address`; False when none could use it."""
        ok = False
        with self._lock:
            for i in self._by_osc.get(address, ()):
                ok = self._osc_one(i, args) or ok
        return ok

    def _osc_one(self, i: int, args: tuple) -> bool:
        m = self.maps[i]
        if m.target.is_vector:  # components past the model's are ignored: never parsed
            size = self.controls.n_dirs if m.target.name == "dir" else self.controls.z_dim
            values = [number(a) for a in args[: max(1, size - m.target.start)]]
            if not values or None in values:
                return False
            return self._vector(i, values)  # type: ignore[arg-type]
        arg = m.source.arg or 0
        if not args or len(args) <= arg:
            return not args and m.press_mode is not None and self._press(i, 1.0, True)
        x = args[arg]
        if isinstance(x, str):
            return m.value is None and self.targets.choose(m.target, x.strip(), m.quantize)
        value = number(x)
        if value is None:
            return False
        if m.press_mode is not None:
            on = self._is_on(m, value)  # streams (TouchDesigner) repeat: act on changes
            return on == self._states[i].pressed or self._press(i, value, on)
        return self._continuous(i, value)

    def midi(self, msg: object) -> None:
        """Apply one mido message (control_change, note_on/off, pitchwheel)."""
        kind = getattr(msg, "type", "")
        channel = getattr(msg, "channel", 0) + 1
        with self._lock:
            if kind == "control_change":
                for i in self._by_cc.get(msg.control, ()):  # type: ignore[attr-defined]
                    if self.maps[i].source.channel in (None, channel):
                        self._cc(i, msg.control, msg.value, channel)  # type: ignore[attr-defined]
            elif kind in ("note_on", "note_off"):
                on = kind == "note_on" and msg.velocity > 0  # type: ignore[attr-defined]
                for i in self._by_note.get(msg.note, ()):  # type: ignore[attr-defined]
                    if self.maps[i].source.channel in (None, channel):
                        self._press(i, float(msg.velocity), on)  # type: ignore[attr-defined]
            elif kind == "pitchwheel":
                for i in self._pitch:
                    if self.maps[i].source.channel in (None, channel):
                        self._continuous(i, float(msg.pitch))  # type: ignore[attr-defined]

    def key(self, name: str) -> bool:
        """Apply a key press (pygame key name); False when no mapping listens to it."""
        indices = self._by_key.get(name.strip().lower(), ())
        with self._lock:
            for i in indices:
                self._press(i, 1.0, True)
        return bool(indices)

    def _cc(self, i: int, control: int, value: int, channel: int) -> None:
        m, state = self.maps[i], self._states[i]
        if m.source.bits == 14:
            if control == m.source.number:
                state.msb[channel], state.lsb[channel] = value, 0
            else:
                state.lsb[channel] = value
            value = (state.msb.get(channel, 0) << 7) | state.lsb.get(channel, 0)
        if m.press_mode is None:
            self._continuous(i, float(value))
            return
        on = self._is_on(m, value)
        if on != state.pressed:
            self._press(i, float(value), on)

    @staticmethod
    def _is_on(m: Mapping, value: float) -> bool:
        low, high = m.in_range or m.source.native
        return (value - low) / (high - low) >= 0.5 if high != low else value > 0

    def _press(self, i: int, raw: float, on: bool) -> bool:
        """A button, pad, key or note went down (on) or up."""
        m, state = self.maps[i], self._states[i]
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

    def _send(self, i: int, value: object) -> bool:
        """A value already in target units, from a press."""
        target = self.maps[i].target
        if target.is_continuous:
            return self._set_continuous(i, float(value))  # type: ignore[arg-type]
        return self.targets.choose(target, value, self.maps[i].quantize)

    def _continuous(self, i: int, raw: float) -> bool:
        """A knob, fader, pitch bend or OSC number in source units."""
        m, state = self.maps[i], self._states[i]
        y = m.scale(raw, self._default_range(m))
        if m.target.is_continuous:
            return self._set_continuous(i, y)
        choice = y >= 0.5 if m.target.name in ("hud", "record") else round(y)
        if choice == state.last_choice:
            return True  # a knob or a stream sweeping through one choice sends it once
        state.last_choice = choice
        return self.targets.choose(m.target, choice, m.quantize)

    def _set_continuous(self, i: int, y: float) -> bool:
        m, state = self.maps[i], self._states[i]
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
            self._states[i].pickup.written = held

    def _vector(self, i: int, values: list[float]) -> bool:
        m, state = self.maps[i], self._states[i]
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

    # --- targets -------------------------------------------------------------------------

    def _default_range(self, m: Mapping) -> tuple[float, float] | None:
        """Ranges that depend on the patch or the model: scenes and labels by index."""
        if m.target.name == "scene":
            return 0.0, float(max(0, len(self.patch.scenes) - 1))
        if m.target.name == "label":
            return 0.0, float(max(0, len(self.labels()) - 1))
        return None

    def set_label(self, value: object) -> bool:
        """Class label by name (the model's labels) or index (/livegan/label)."""
        with self._lock:
            return self.targets.set_label(value)

    # --- scenes and time -----------------------------------------------------------------

    def recall_scene(self, name: object, quantize: str | None = None) -> Scene | None:
        """Recall a scene by name (or index in patch order), gliding over its glide time; at
        the next beat or bar when `quantize` or the scene's own quantize says so."""
        names = list(self.patch.scenes)
        index = None if isinstance(name, str) else number(name)
        if index is not None and 0 <= round(index) < len(names):
            name = names[round(index)]
        scene = self.patch.scenes.get(name) if isinstance(name, str) else None
        if scene is None:
            self._ratelog.warning("scene", "no scene %.80r in this patch (scenes: %s)", name,
                                  ", ".join(names) or "none")
            return None
        if not self.targets.hold("scene", quantize or scene.quantize,
                                 lambda: self._apply_scene(scene)):
            self._apply_scene(scene)
        return scene

    def _apply_scene(self, scene: Scene) -> None:
        with self._lock:
            self.targets.apply_scene(scene, self.clock())
            for state in self._states:
                state.pickup.rearm()
            self.scene = scene.name
        log.info("scene %s", scene.name)

    def tick(self, now: float | None = None) -> None:
        """Advance smoothing and glides to `now` (call once a frame, from one thread)."""
        now = self.clock() if now is None else now
        dt = 0.0 if self._last_tick is None else max(now - self._last_tick, 0.0)
        self._last_tick = now
        with self._lock:
            self.targets.advance(now)
            for i in list(self._smoothing):
                self._smooth_step(i, dt)

    def _smooth_step(self, i: int, dt: float) -> None:
        m, state = self.maps[i], self._states[i]
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

    def _beat_speed_route(self, args: tuple, sender: tuple[str, int]) -> bool:
        value = number(args[0]) if args else None
        if value is None:
            return False
        with self._lock:
            self.targets.set(("speed", None), value)
        return True
