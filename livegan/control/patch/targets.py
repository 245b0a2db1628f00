"""Control targets: reads and writes of every mappable control, with glides and beat speed."""

from __future__ import annotations

import logging
from collections.abc import Callable

from livegan.control.controls import MODES, PARAMS, Controls
from livegan.control.osc.dispatch import number
from livegan.control.patch.config import Scene
from livegan.control.patch.mapping import PARAM_TARGETS, Target
from livegan.control.tempo.quantize import Quantizer
from livegan.latent import smoothstep
from livegan.ratelog import RateLimitedLog

log = logging.getLogger(__name__)

Key = tuple[str, int | None]  # ("speed", None), ("dir", 3), ("z", 0)


def whole(text: str) -> int | None:
    """"12" -> 12; anything else (including non-ASCII digits) -> None."""
    text = text.strip()
    return int(text) if text.isascii() and text.isdigit() else None


class Targets:
    """Writes mapped values into Controls and remembers what it cannot read back.

    Controls keeps params readable, but dir and z components only as pending writes, so
    the values last written (by mappings, scenes or default OSC seen by `observe`) are
    kept here for pickup and glides. Not locked: the Router calls it under its lock.

    Args:
        controls: the show's control state.
        labels: returns the playing model's class labels.
        direction_names: returns the playing model's direction names.
        recall_scene: called for the scene target (the Router owns scenes) as
            recall_scene(name, quantize).
        quantizer: holds quantized changes until the next beat or bar (None: none held).
    """

    def __init__(self, controls: Controls, labels: Callable[[], list[str]],
                 direction_names: Callable[[], list[str]],
                 recall_scene: Callable[[object, str | None], object],
                 quantizer: Quantizer | None = None) -> None:
        self.controls = controls
        self.quantizer = quantizer
        self.labels = labels
        self.direction_names = direction_names
        self.recall_scene = recall_scene
        self.beat_speed: float | None = None  # speed per beat when [motion] speed_unit = beats
        self._known: dict[Key, float] = {}
        self._glides: dict[Key, tuple[float, float, float, float]] = {}  # from, to, t0, seconds
        self._ratelog = RateLimitedLog(log)

    def key(self, target: Target) -> Key | None:
        """The number a continuous target stands for; None (warned) when the model lacks it."""
        if target.name in PARAM_TARGETS:
            return target.name, None
        if target.bend is not None:
            layer, op = target.bend
            known = self.controls.bends.known(layer, op)  # counted and logged when not
            return (f"bend/{layer}/{op}", target.index or 0) if known else None
        index = target.index
        if target.dir_name is not None:
            names = self.direction_names()
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

    def get(self, key: Key) -> float:
        name = key[0]
        if name == "speed" and self.beat_speed is not None:
            return self.beat_speed
        if name in PARAMS:
            return self.controls.param(name)
        if name.startswith("bend/"):
            _, layer, op = name.split("/")
            amounts = self.controls.bends.amounts(layer, op)
            return amounts[key[1] or 0] if amounts else 0.0
        return self._known.get(key, 0.0)

    def set(self, key: Key, value: float, gliding: bool = False) -> float:
        """Write one number; a write other than a glide's cancels the glide on that target.

        Returns the value now held (params are clamped to their range).
        """
        if not gliding:
            self._glides.pop(key, None)
        name, index = key
        if name == "speed" and self.beat_speed is not None:
            self.beat_speed = value
            value = value * self.controls.param("tempo") / 60.0
        if name in PARAMS:
            self.controls.set_param(name, value)
        elif name.startswith("bend/"):
            _, layer, op = name.split("/")
            self.controls.set_bend(layer, op, [value], index or 0)
        else:
            setter = self.controls.set_dirs if name == "dir" else self.controls.set_z
            setter([value], index or 0)
            self._known[key] = value
        return self.get(key)

    def set_vector(self, target: Target, values: list[float]) -> bool:
        """dir or z components from target.start on."""
        setter = self.controls.set_dirs if target.name == "dir" else self.controls.set_z
        for k, v in enumerate(values, target.start):
            self._glides.pop((target.name, k), None)
            self._known[(target.name, k)] = v
        return setter(values, target.start) > 0

    def choose(self, target: Target, value: object, quantize: str | None = None) -> bool:
        """Seeds, keyframes, scenes, labels, modes, models, flags and actions; scenes, seeds
        and keys wait for the next beat or bar when `quantize` says so."""
        name = target.name
        if name in ("hud", "record"):
            on = value if isinstance(value, bool) else (number(value) or 0.0) >= 0.5
            self.controls.push_app(name, on)
        elif name == "snapshot":
            self.controls.push_app("snapshot")
        elif name == "model":
            self.controls.push_app("model", str(value))
        elif name == "scene":
            return self.recall_scene(value, quantize) is not None
        elif name == "label":
            return self.set_label(value)
        elif name == "mode":
            n = number(value)
            mode = MODES[min(len(MODES) - 1, max(0, round(n)))] if n is not None \
                else str(value).lower()
            return self.controls.set_mode(mode)
        else:  # seed, key, key_store
            n = whole(value) if isinstance(value, str) else number(value)
            if n is None:
                return False
            push = lambda: self.controls.push(name, max(0, round(n)))
            if not self.hold(name, quantize, push):
                push()
        return True

    def hold(self, kind: str, quantize: str | None, action: Callable[[], object]) -> bool:
        """Hold `action` until the next beat or bar (`quantize`); False: do it now."""
        if quantize is None or self.quantizer is None:
            return False
        self.quantizer.hold(kind, quantize, action)
        return True

    def set_label(self, value: object) -> bool:
        """Class label by name (the model's labels) or index; Pd's floats are rounded."""
        labels = self.labels()
        if isinstance(value, str):
            lowered = [label.lower() for label in labels]
            text = value.strip().lower()
            index = lowered.index(text) if text in lowered else whole(text)
        else:
            n = number(value)
            index = None if n is None else round(n)
        if index is None or index < 0 or (labels and index >= len(labels)) or \
                (not labels and index > 0):
            self._ratelog.warning("label", "no label %.80r in this model (labels: %s)", value,
                                  ", ".join(labels) or "none, it is not conditional")
            return False
        self.controls.set_label(index)
        return True

    def glide(self, key: Key, value: float, seconds: float, now: float) -> None:
        """Move a number to `value` over `seconds` (smoothstep), advanced by `advance`."""
        if seconds <= 0:
            self.set(key, value)
        else:
            self._glides[key] = (self.get(key), value, now, seconds)

    def advance(self, now: float) -> None:
        """Move the glides on to `now`, and the speed with the tempo when it is in beats."""
        for key, (start, end, t0, seconds) in list(self._glides.items()):
            u = smoothstep((now - t0) / seconds)
            self.set(key, start + (end - start) * u, gliding=True)
            if u >= 1.0:
                self._glides.pop(key, None)
        if self.beat_speed is not None:
            speed = self.beat_speed * self.controls.param("tempo") / 60.0
            if abs(speed - self.controls.param("speed")) > 1e-9:
                self.controls.set_param("speed", speed)

    def observe(self, address: str, args: tuple, names: set[str]) -> None:
        """Remember dir/z values that default OSC addresses wrote (pickup compares to them).

        Only targets named in `names` ("dir", "z") are remembered.
        """
        name = "dir" if address in ("/livegan/dirs", "/wek/outputs") else \
            "z" if address == "/livegan/z" else None
        start = 0
        if name is None:
            head, _, tail = address.rpartition("/")
            if head not in ("/livegan/dir", "/livegan/z"):
                return
            name = head[len("/livegan/"):]
            if name not in names:
                return
            names = self.direction_names()
            start = names.index(tail) if name == "dir" and tail in names else \
                (whole(tail) if whole(tail) is not None else -1)
            args = args[:1]
        if name not in names:
            return
        limit = self.controls.n_dirs if name == "dir" else self.controls.z_dim
        for k, value in enumerate(args[: max(0, limit - start)], start):
            n = number(value)
            if n is not None and k >= 0:
                self._known[(name, k)] = n
                self._glides.pop((name, k), None)

    def apply_scene(self, scene: Scene, now: float) -> None:
        """Recall `scene`: its values glide over its glide time (default: the smoothing)."""
        if "smooth" in scene.params:
            self.set(("smooth", None), scene.params["smooth"])
        seconds = scene.glide if scene.glide is not None else self.controls.param("smooth")
        for name, value in scene.params.items():
            if name != "smooth":
                self.glide((name, None), value, seconds, now)
        if scene.mode is not None:
            self.controls.set_mode(scene.mode)
        if scene.seed is not None:
            self.controls.push("seed", scene.seed, seconds)
        if scene.key is not None:
            self.controls.push("key", scene.key)
        if scene.dirs is not None:
            for k in range(self.controls.n_dirs):
                self.glide(("dir", k), scene.dirs[k] if k < len(scene.dirs) else 0.0,
                           seconds, now)
        for label, value in scene.dir.items():
            key = self.key(Target("dir", index=whole(label)) if whole(label) is not None
                           else Target("dir", dir_name=label))
            if key is not None:
                self.glide(key, value, seconds, now)
        for bend, values in scene.bend.items():
            layer, op = bend.split("/")
            for k, value in enumerate(values):
                key = self.key(Target("bend", index=k, bend=(layer, op)))
                if key is not None:
                    self.glide(key, value, seconds, now)
        if scene.label is not None:
            self.set_label(scene.label)
