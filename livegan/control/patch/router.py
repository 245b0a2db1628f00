"""The patch router: applies mapped OSC, MIDI and key events, and scenes, to Controls."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from livegan.control.controls import Controls
from livegan.control.osc.batch import Coalescing
from livegan.control.osc.dispatch import IndexedRoute, Route, RouteTable, number
from livegan.control.osc.namespace import CONTINUOUS
from livegan.control.patch.config import PatchControls, Scene
from livegan.control.patch.mapping import Mapping
from livegan.control.patch.play import MappingPlayer
from livegan.control.patch.targets import Targets
from livegan.control.tempo.quantize import Quantizer
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

WATCHED_EXACT = ("/livegan/z", "/livegan/dirs", "/wek/outputs")  # default dir/z addresses
WATCHED_FAMILIES = ("/livegan/z", "/livegan/dir")  # /livegan/z/{i}, /livegan/dir/{i|name}


class Router:
    """The mapping engine: a patch's mappings (OSC, MIDI, keys) and scene recalls -> Controls.

    Pure Python and thread-safe: OSC routes run on the OSC thread, MIDI, keys and scenes on
    the main thread, sound mappings on the analysis thread; one lock (`lock`) keeps each
    mapping's state consistent. The router finds the mappings an event reaches; `player`
    (control/patch/play.py) plays them. `table()` builds the OSC dispatcher's routes.
    `tick()`, once a frame, advances smoothing, glides and beat speed.

    Args:
        controls: the show's control state.
        patch: the patch to apply (None: the empty patch).
        labels: returns the playing model's class labels (names for /livegan/label).
        direction_names: returns the playing model's direction names (follows hot-swaps).
        clock: monotonic seconds (tests pass their own).
        quantizer: holds quantized scene, seed and key changes (None: they apply at once).
    """

    def __init__(self, controls: Controls, patch: PatchControls | None = None, *,
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
        self.player = MappingPlayer(controls, self.targets)
        self.lock = threading.RLock()  # held while mappings play (AudioRoutes takes it too)
        self._last_tick: float | None = None
        self._ratelog = RateLimitedLog(log)
        self.patch = PatchControls()
        self.set_patch(patch or PatchControls())

    # --- patch ---------------------------------------------------------------------------

    def set_patch(self, patch: PatchControls) -> None:
        """Use `patch` from now on (live reload); motion settings apply when they changed."""
        with self.lock:
            old, self.patch = self.patch, patch
            self.maps: tuple[Mapping, ...] = patch.maps
            self.player.set_patch(patch)
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
        with self.lock:
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
        with self.lock:
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
            with self.lock:
                self.targets.observe(address, args, self._watched)
            return ok
        return observed

    def _observed_family(self, head: str, route: IndexedRoute) -> IndexedRoute:
        def observed(tail: str, args: tuple) -> bool:
            ok = route(tail, args)
            with self.lock:
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
        with self.lock:
            for i in self._by_osc.get(address, ()):
                ok = self.player.osc(i, args) or ok
        return ok

    def midi(self, msg: object) -> None:
        """Apply one mido message (control_change, note_on/off, pitchwheel)."""
        kind = getattr(msg, "type", "")
        channel = getattr(msg, "channel", 0) + 1
        player = self.player
        with self.lock:
            if kind == "control_change":
                for i in self._by_cc.get(msg.control, ()):  # type: ignore[attr-defined]
                    if self.maps[i].source.channel in (None, channel):
                        player.cc(i, msg.control, msg.value, channel)  # type: ignore[attr-defined]
            elif kind in ("note_on", "note_off"):
                on = kind == "note_on" and msg.velocity > 0  # type: ignore[attr-defined]
                for i in self._by_note.get(msg.note, ()):  # type: ignore[attr-defined]
                    if self.maps[i].source.channel in (None, channel):
                        player.press(i, float(msg.velocity), on)  # type: ignore[attr-defined]
            elif kind == "pitchwheel":
                for i in self._pitch:
                    if self.maps[i].source.channel in (None, channel):
                        player.continuous(i, float(msg.pitch))  # type: ignore[attr-defined]

    def key(self, name: str) -> bool:
        """Apply a key press (pygame key name); False when no mapping listens to it."""
        indices = self._by_key.get(name.strip().lower(), ())
        with self.lock:
            for i in indices:
                self.player.press(i, 1.0, True)
        return bool(indices)

    def set_label(self, value: object) -> bool:
        """Class label by name (the model's labels) or index (/livegan/label)."""
        with self.lock:
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
        with self.lock:
            self.targets.apply_scene(scene, self.clock())
            self.player.rearm()
            self.scene = scene.name
        log.info("scene %s", scene.name)

    def tick(self, now: float | None = None) -> None:
        """Advance smoothing and glides to `now` (call once a frame, from one thread)."""
        now = self.clock() if now is None else now
        dt = 0.0 if self._last_tick is None else max(now - self._last_tick, 0.0)
        self._last_tick = now
        with self.lock:
            self.targets.advance(now)
            self.player.smooth(dt)

    def _beat_speed_route(self, args: tuple, sender: tuple[str, int]) -> bool:
        value = number(args[0]) if args else None
        if value is None:
            return False
        with self.lock:
            self.targets.set(("speed", None), value)
        return True
