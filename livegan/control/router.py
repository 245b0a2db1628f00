"""The patch router: applies mapped OSC, MIDI and key events, and scenes, to Controls."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from livegan.control.controls import MODES, PARAMS, Controls
from livegan.control.mapping import PARAM_TARGETS, Mapping, Pickup, Target
from livegan.control.patch import PatchConfig, Scene
from livegan.control.ratelog import RateLimitedLog
from livegan.latent import smoothstep

log = logging.getLogger(__name__)

Key = tuple[str, int | None]  # ("speed", None), ("dir", 3), ("z", 0)
Route = Callable[[tuple, tuple[str, int]], bool]
_GLIDE = -1  # origin of writes made by a scene glide


@dataclass
class _State:
    """What the router remembers about one mapping between events."""

    pickup: Pickup = field(default_factory=Pickup)
    pressed: bool = False  # a CC button is held (edge detection)
    toggled: bool = False  # toggle presses: on or off
    last_choice: object = None  # knob -> choice: the last value sent (send on change only)
    msb: dict[int, int] = field(default_factory=dict)  # 14-bit CC: channel -> MSB
    lsb: dict[int, int] = field(default_factory=dict)  # 14-bit CC: channel -> LSB
    goal: float | list[float] | None = None  # smoothing: where the value is heading
    now: float | list[float] | None = None  # smoothing: where it is


def _number(value: object) -> float | None:
    if isinstance(value, (bool, int, float)) and math.isfinite(value):
        return float(value)
    return None


class Router:
    """Applies a patch: mappings from OSC, MIDI and keys, and scene recalls, to Controls.

    Pure Python and thread-safe: OSC routes run on the OSC thread, MIDI and keys on the
    main thread; one lock keeps each mapping's state consistent. Call `tick()` once a
    frame: it advances per-mapping smoothing, scene glides and beat-based speed.

    Args:
        controls: the show's control state.
        patch: the patch to apply (None: the empty patch).
        labels: returns the playing model's class labels (names for /livegan/label).
        direction_names: the playing model's direction names, when no namespace is
            installed (otherwise the namespace's list is used, which follows hot-swaps).
        clock: monotonic seconds (tests pass their own).
    """

    def __init__(self, controls: Controls, patch: PatchConfig | None = None, *,
                 labels: Callable[[], list[str]] = list,
                 direction_names: list[str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.controls = controls
        self.labels = labels
        self.direction_names = list(direction_names or [])
        self.clock = clock
        self.scene: str | None = None  # the scene recalled last (HUD)
        self.namespace = None  # an OscNamespace once install() ran
        self._lock = threading.RLock()
        self._known: dict[Key, float] = {}  # dir/z components as last written by anyone seen
        self._glides: dict[Key, tuple[float, float, float, float]] = {}  # from, to, t0, seconds
        self._smoothing: set[int] = set()
        self._beat_speed: float | None = None
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
            self._states = [_State() for _ in patch.maps]
            self._smoothing.clear()
            self._index()
            if patch.motion.speed_unit == "beats":
                self._beat_speed = patch.motion.speed if patch.motion.speed is not None \
                    else (self._beat_speed or self.controls.param("speed"))
            else:
                self._beat_speed = None
            if patch.motion != old.motion:
                self.apply_motion()
            if self.namespace is not None:
                self.namespace.routes = self.routes()

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
            else:
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
                    self._set((name, None), value)

    def routes(self) -> dict[str, Route]:
        """OSC routes for OscNamespace.routes: the patch's addresses, scenes and labels."""
        routes: dict[str, Route] = {
            "/livegan/scene": lambda a, s: bool(a) and self.recall_scene(a[0]) is not None,
            "/livegan/label": lambda a, s: bool(a) and self.set_label(a[0]),
        }
        if self._beat_speed is not None:
            routes["/livegan/speed"] = self._beat_speed_route
        for address in self._by_osc:
            routes[address] = lambda args, sender, a=address: self.osc(a, args)
        return routes

    def install(self, namespace: object) -> None:
        """Put this router's routes in front of the namespace's defaults (and keep them there
        across reloads); direction names then follow the namespace (model hot-swaps)."""
        self.namespace = namespace
        namespace.routes = self.routes()  # type: ignore[attr-defined]

    def watch(self, handler: Callable[[str, tuple, tuple[str, int]], None]) -> Callable:
        """Wrap an OSC handler so OSC writes to dir/z that bypass the patch are seen (their
        values re-arm pickup on the same target)."""
        def watched(address: str, args: tuple, sender: tuple[str, int]) -> None:
            handler(address, args, sender)
            if address not in self._by_osc:
                self._observe(address, args)
        return watched

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
        if m.target.is_vector:
            values = [_number(a) for a in args]
            if not values or None in values:
                return False
            return self._vector(i, values)  # type: ignore[arg-type]
        arg = m.source.arg or 0
        if not args or len(args) <= arg:
            return not args and m.press_mode is not None and self._press(i, 1.0, True)
        x = args[arg]
        if isinstance(x, str):
            return m.value is None and self._choose(m.target, x.strip())
        value = _number(x)
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
        return self._choose(target, value)

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
        return self._choose(m.target, choice)

    def _set_continuous(self, i: int, y: float) -> bool:
        m, state = self.maps[i], self._states[i]
        key = self._key(m.target)
        if key is None:
            return False
        current = self._get(key)
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
            self._set(key, y, i)
        return True

    def _vector(self, i: int, values: list[float]) -> bool:
        m, state = self.maps[i], self._states[i]
        y = [m.scale(v, self._default_range(m)) for v in values]
        if m.smooth > 0:
            start = m.target.start
            if not isinstance(state.now, list) or len(state.now) != len(y):
                state.now = [self._get((m.target.name, start + k)) for k in range(len(y))]
            state.goal = y
            self._smoothing.add(i)
            return True
        return self._write_vector(m.target, y)

    def _write_vector(self, target: Target, values: list[float]) -> bool:
        setter = self.controls.set_dirs if target.name == "dir" else self.controls.set_z
        for k, v in enumerate(values, target.start):
            self._glides.pop((target.name, k), None)
            self._known[(target.name, k)] = v
        return setter(values, target.start) > 0

    # --- targets -------------------------------------------------------------------------

    def _default_range(self, m: Mapping) -> tuple[float, float] | None:
        """Ranges that depend on the patch or the model: scenes and labels by index."""
        if m.target.name == "scene":
            return 0.0, float(max(0, len(self.patch.scenes) - 1))
        if m.target.name == "label":
            return 0.0, float(max(0, len(self.labels()) - 1))
        return None

    def _names(self) -> list[str]:
        names = getattr(self.namespace, "direction_names", None)
        return names if names is not None else self.direction_names

    def _key(self, target: Target) -> Key | None:
        if target.name in PARAM_TARGETS:
            return target.name, None
        index = target.index
        if target.dir_name is not None:
            names = self._names()
            if target.dir_name not in names:
                self._ratelog.warning(f"dir:{target.dir_name}", "this model has no direction "
                                      "named %r (it has %s)", target.dir_name,
                                      ", ".join(names) or "none")
                return None
            index = names.index(target.dir_name)
        limit = self.controls.n_dirs if target.name == "dir" else self.controls.z_dim
        if index is None or index >= limit:
            self._ratelog.warning(f"range:{target.name}", "%s[%s] is past this model's %d",
                                  target.name, index, limit)
            return None
        return target.name, index

    def _get(self, key: Key) -> float:
        name = key[0]
        if name == "speed" and self._beat_speed is not None:
            return self._beat_speed
        if name in PARAMS:
            return self.controls.param(name)
        return self._known.get(key, 0.0)

    def _set(self, key: Key, value: float, origin: int | None = None) -> None:
        """Write one number; a performer's write cancels a scene glide on the same target."""
        if origin != _GLIDE:
            self._glides.pop(key, None)
        name, index = key
        if name == "speed" and self._beat_speed is not None:
            self._beat_speed = value
            value = value * self.controls.param("tempo") / 60.0
        if name in PARAMS:
            self.controls.set_param(name, value)
        else:
            setter = self.controls.set_dirs if name == "dir" else self.controls.set_z
            setter([value], index or 0)
            self._known[key] = value
        if origin is not None and origin >= 0 and self.maps[origin].pickup:
            self._states[origin].pickup.written = self._get(key)

    def _choose(self, target: Target, value: object) -> bool:
        """Seeds, keyframes, scenes, labels, modes, models, flags and actions."""
        name = target.name
        if name in ("hud", "record"):
            on = value if isinstance(value, bool) else (_number(value) or 0.0) >= 0.5
            self.controls.push_app(name, on)
        elif name == "snapshot":
            self.controls.push_app("snapshot")
        elif name == "model":
            self.controls.push_app("model", str(value))
        elif name == "scene":
            return self.recall_scene(value) is not None
        elif name == "label":
            return self.set_label(value)
        elif name == "mode":
            number = _number(value)
            mode = MODES[min(len(MODES) - 1, max(0, round(number)))] if number is not None \
                else str(value).lower()
            return self.controls.set_mode(mode)
        else:  # seed, key, key_store
            number = _number(value) if not isinstance(value, str) else \
                (float(value) if value.strip().isdigit() else None)
            if number is None:
                return False
            self.controls.push(name, max(0, round(number)))
        return True

    def set_label(self, value: object) -> bool:
        """Class label by name (the model's labels) or index; Pd's floats are rounded."""
        labels = self.labels()
        if isinstance(value, str):
            lowered = [label.lower() for label in labels]
            text = value.strip().lower()
            index = lowered.index(text) if text in lowered else \
                (int(text) if text.isdigit() else None)
        else:
            number = _number(value)
            index = None if number is None else round(number)
        if index is None or index < 0 or (labels and index >= len(labels)) or \
                (not labels and index > 0):
            self._ratelog.warning("label", "no label %r in this model (labels: %s)", value,
                                  ", ".join(labels) or "none, it is not conditional")
            return False
        self.controls.set_label(index)
        return True

    # --- scenes and time -----------------------------------------------------------------

    def recall_scene(self, name: object) -> Scene | None:
        """Recall a scene by name (or index in patch order), gliding over its glide time."""
        names = list(self.patch.scenes)
        number = None if isinstance(name, str) else _number(name)
        if number is not None and 0 <= round(number) < len(names):
            name = names[round(number)]
        scene = self.patch.scenes.get(name) if isinstance(name, str) else None
        if scene is None:
            self._ratelog.warning("scene", "no scene %r in this patch (scenes: %s)", name,
                                  ", ".join(names) or "none")
            return None
        with self._lock:
            self._apply_scene(scene)
        log.info("scene %s", scene.name)
        return scene

    def _apply_scene(self, scene: Scene) -> None:
        if "smooth" in scene.params:
            self._set(("smooth", None), scene.params["smooth"])
        seconds = scene.glide if scene.glide is not None else self.controls.param("smooth")
        now = self.clock()
        for name, value in scene.params.items():
            if name != "smooth":
                self._glide((name, None), value, seconds, now)
        if scene.mode is not None:
            self.controls.set_mode(scene.mode)
        if scene.seed is not None:
            self.controls.push("seed", scene.seed, seconds)
        if scene.key is not None:
            self.controls.push("key", scene.key)
        if scene.dirs is not None:
            for k in range(self.controls.n_dirs):
                self._glide(("dir", k), scene.dirs[k] if k < len(scene.dirs) else 0.0,
                            seconds, now)
        for label, value in scene.dir.items():
            key = self._key(Target("dir", index=int(label)) if label.isdigit()
                            else Target("dir", dir_name=label))
            if key is not None:
                self._glide(key, value, seconds, now)
        if scene.label is not None:
            self.set_label(scene.label)
        for state in self._states:
            state.pickup.rearm()
        self.scene = scene.name

    def _glide(self, key: Key, value: float, seconds: float, now: float) -> None:
        if seconds <= 0:
            self._set(key, value)
        else:
            self._glides[key] = (self._get(key), value, now, seconds)

    def tick(self, now: float | None = None) -> None:
        """Advance smoothing and glides to `now` (call once a frame, from one thread)."""
        now = self.clock() if now is None else now
        dt = 0.0 if self._last_tick is None else max(now - self._last_tick, 0.0)
        self._last_tick = now
        with self._lock:
            for key, (start, end, t0, seconds) in list(self._glides.items()):
                u = smoothstep((now - t0) / seconds)
                self._set(key, start + (end - start) * u, _GLIDE)
                if u >= 1.0:
                    self._glides.pop(key, None)
            for i in list(self._smoothing):
                self._smooth_step(i, dt)
            if self._beat_speed is not None:
                speed = self._beat_speed * self.controls.param("tempo") / 60.0
                if abs(speed - self.controls.param("speed")) > 1e-9:
                    self.controls.set_param("speed", speed)

    def _smooth_step(self, i: int, dt: float) -> None:
        m, state = self.maps[i], self._states[i]
        alpha = 1.0 - math.exp(-dt / m.smooth)
        if isinstance(state.goal, list):
            now = [a + (b - a) * alpha for a, b in zip(state.now, state.goal)]  # type: ignore
            done = max(abs(b - a) for a, b in zip(now, state.goal)) < 1e-4
            state.now = state.goal if done else now
            self._write_vector(m.target, list(state.now))
        else:
            value = state.now + (state.goal - state.now) * alpha  # type: ignore[operator]
            done = abs(state.goal - value) < 1e-4  # type: ignore[operator]
            state.now = state.goal if done else value
            key = self._key(m.target)
            if key is not None:
                self._set(key, state.now, i)  # type: ignore[arg-type]
        if done:
            self._smoothing.discard(i)
            state.now = None if not isinstance(state.goal, list) else state.now

    def _beat_speed_route(self, args: tuple, sender: tuple[str, int]) -> bool:
        value = _number(args[0]) if args else None
        if value is None:
            return False
        with self._lock:
            self._set(("speed", None), value)
        return True

    def _observe(self, address: str, args: tuple) -> None:
        """Remember dir/z values written by OSC outside the patch (pickup compares to them)."""
        name = "dir" if address in ("/livegan/dirs", "/wek/outputs") else \
            "z" if address == "/livegan/z" else None
        start = 0
        if name is None:
            head, _, tail = address.rpartition("/")
            if head not in ("/livegan/dir", "/livegan/z"):
                return
            name = head[len("/livegan/"):]
            names = self._names()
            start = names.index(tail) if name == "dir" and tail in names else \
                int(tail) if tail.isdigit() else -1
            args = args[:1]
        with self._lock:
            for k, value in enumerate(args, start):
                number = _number(value)
                if number is not None and k >= 0:
                    self._known[(name, k)] = number
                    self._glides.pop((name, k), None)
