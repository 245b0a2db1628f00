"""The /livegan OSC namespace: turns messages into control writes, with a dict lookup."""

from __future__ import annotations

from collections.abc import Callable

from livegan.control.controls import NOISE_MODES, Controls
from livegan.control.osc.batch import Coalescing
from livegan.control.osc.dispatch import TOLD, Route, RouteTable, number

# address -> (argument types, what it does); `livegan osc` and /livegan/query print this.
NAMESPACE: dict[str, tuple[str, str]] = {
    "/livegan/z": ("f…", "set latent components 0..n-1"),
    "/livegan/z/{i}": ("f", "set one latent component"),
    "/livegan/dir/{i|name}": ("f", "amount along a direction stored in the model"),
    "/livegan/dirs": ("f…", "amounts for directions 0..n-1"),
    "/livegan/seed": ("i [f]", "glide to the latent of seed i (optional seconds)"),
    "/livegan/key": ("i", "glide to stored keyframe i"),
    "/livegan/key/store": ("i", "store the current latent as keyframe i"),
    "/livegan/morph": ("f", "0..1 position along the keyframe loop"),
    "/livegan/mode": ("s", "walk, keys or hold"),
    "/livegan/speed": ("f", "walk/loop speed"),
    "/livegan/truncation": ("f", "truncation amount (0..2, 1 = as trained)"),
    "/livegan/smooth": ("f", "smoothing time in seconds"),
    "/livegan/space": ("s", ("play a StyleGAN model from z (its seeds) or w (straight "
                             "lines in its style space)")),
    "/livegan/noise": ("s|i", ("noise inputs of a StyleGAN model: const, random or none "
                               "(or 0, 1, 2)")),
    "/livegan/scene": ("s", "recall a scene of the patch"),
    "/livegan/label": ("s|i", "class label of a conditional model (name or index)"),
    "/livegan/model": ("s", "hot-swap to a model by name (model folders only)"),
    "/livegan/record": ("i", "1 starts, 0 stops recording"),
    "/livegan/snapshot": ("", "save a PNG into the output folder"),
    "/livegan/hud": ("i", "show/hide the on-screen display"),
    "/livegan/query": ("[i]", "reply with the namespace to the sender (optional reply port)"),
    "/livegan/bend/{layer}/{op}": ("f…", ("bend a layer's feature maps: translate, rotate, "
                                          "scale, flip, erode, dilate, invert, ablate, noise")),
    "/livegan/bend/off": ("", "every bend off"),
    "/wek/outputs": ("f…", "Wekinator's outputs; by default each drives one direction"),
}


# Default addresses that only set values: the newest message to one may stand for the
# others in the same batch (see livegan.control.osc.batch). Everything else acts.
CONTINUOUS = Coalescing(
    frozenset(("/livegan/z", "/livegan/dirs", "/wek/outputs", "/livegan/speed",
               "/livegan/truncation", "/livegan/smooth", "/livegan/morph")),
    ("/livegan/z/", "/livegan/dir/", "/livegan/bend/"))


def _numbers(args: tuple) -> list[float] | None:
    if args and set(map(type, args)) == {float}:  # the usual list: floats, parsed finite
        return list(args)
    values = [number(a) for a in args]
    return None if not values or any(v is None for v in values) else values  # type: ignore


def _index(value: object) -> int | None:
    """An int, or a float that means one (Pd sends only floats)."""
    value = number(value)
    return None if value is None else round(value)


class OscNamespace:
    """The default routes of the /livegan namespace; they only write `Controls`.

    `table()` gives them to a `Dispatcher` (after a patch's router has put its own
    routes in front). Show-level actions (model, record, scene, query, ...) are queued
    with `Controls.push_app` for the main thread, never run on the OSC thread;
    /livegan/query is answered by `livegan.control.osc.query`.

    Args:
        controls: the show's control state.
        direction_names: the playing model's direction names (/livegan/dir/{name}); the
            show assigns `direction_names` after a hot-swap.
    """

    def __init__(self, controls: Controls, direction_names: list[str] | None = None) -> None:
        self.controls = controls
        self.direction_names = list(direction_names or [])
        self._fixed: dict[str, Route] = {
            "/livegan/z": lambda a, s: self._many(a[: self.controls.z_dim], self.controls.set_z),
            "/livegan/dirs": lambda a, s: self._many(a[: self.controls.n_dirs],
                                                     self.controls.set_dirs),
            "/wek/outputs": lambda a, s: self._many(a[: self.controls.n_dirs],
                                                    self.controls.set_dirs),
            "/livegan/seed": self._seed,
            "/livegan/key": lambda a, s: self._event(a, "key"),
            "/livegan/key/store": lambda a, s: self._event(a, "key_store"),
            "/livegan/mode": lambda a, s: bool(a) and isinstance(a[0], str)
            and self.controls.set_mode(a[0].strip().lower()),
            "/livegan/scene": lambda a, s: self._app(a, "scene", (str, int, float)),
            "/livegan/model": lambda a, s: self._app(a, "model", str),
            "/livegan/label": lambda a, s: self._app(a, "label", (str, int, float)),
            "/livegan/record": lambda a, s: self._app_flag(a, "record"),
            "/livegan/hud": lambda a, s: self._app_flag(a, "hud"),
            "/livegan/snapshot": lambda a, s: self.controls.push_app("snapshot") or True,
            "/livegan/noise": self._noise,
            "/livegan/space": lambda a, s: self._app(a, "space", str),
        }
        for name in ("speed", "truncation", "smooth", "morph"):
            self._fixed[f"/livegan/{name}"] = self._param_route(name)

    def table(self) -> RouteTable:
        """The default routes: exact addresses, and /livegan/z/{i}, /livegan/dir/{i|name}."""
        return RouteTable(dict(self._fixed),
                          {"/livegan/z": self._z_component, "/livegan/dir": self._direction},
                          expected_types, {"/livegan/bend": self._bend})

    def _param_route(self, name: str) -> Route:
        def route(args: tuple, sender: tuple[str, int]) -> bool:
            return len(args) >= 1 and (v := number(args[0])) is not None \
                and self.controls.set_param(name, v)
        return route

    def _noise(self, args: tuple, sender: tuple[str, int]) -> bool:
        """const, random or none, by name or index."""
        if not args:
            return False
        if isinstance(args[0], str):
            name = args[0].strip().lower()
            if name not in NOISE_MODES:
                return False
            index = NOISE_MODES.index(name)
        else:
            index = _index(args[0])
            if index is None or not 0 <= index < len(NOISE_MODES):
                return False
        return self.controls.set_param("noise", float(index))

    def _many(self, args: tuple, setter: Callable[[list[float], int], int]) -> bool:
        values = _numbers(args)
        return values is not None and setter(values, 0) > 0

    def _seed(self, args: tuple, sender: tuple[str, int]) -> bool:
        seed = _index(args[0]) if args else None
        if seed is None:
            return False
        seconds = number(args[1]) if len(args) > 1 else None
        if seconds is not None:
            self.controls.push("seed", seed, max(0.0, seconds))
        else:
            self.controls.push("seed", seed)
        return True

    def _event(self, args: tuple, kind: str) -> bool:
        index = _index(args[0]) if args else None
        if index is None:
            return False
        self.controls.push(kind, index)
        return True

    def _app(self, args: tuple, kind: str, types: type | tuple) -> bool:
        if not args or not isinstance(args[0], types) or isinstance(args[0], bool):
            return False
        self.controls.push_app(kind, args[0])
        return True

    def _app_flag(self, args: tuple, kind: str) -> bool:
        value = number(args[0]) if args else None
        if value is None:
            return False
        self.controls.push_app(kind, value >= 0.5)
        return True

    def _z_component(self, tail: str, args: tuple) -> bool:
        """/livegan/z/{i}."""
        value = number(args[0]) if len(args) == 1 else None
        index = int(tail) if tail.isascii() and tail.isdigit() else None
        return value is not None and index is not None and self.controls.set_z([value], index) > 0

    def _direction(self, tail: str, args: tuple) -> bool:
        """/livegan/dir/{i|name}."""
        value = number(args[0]) if len(args) == 1 else None
        if value is None:
            return False
        if tail in self.direction_names:
            index = self.direction_names.index(tail)
        elif tail.isascii() and tail.isdigit():
            index = int(tail)
        else:
            return False
        return self.controls.set_dirs([value], index) > 0


    def _bend(self, rest: str, args: tuple) -> bool:
        """/livegan/bend/{layer}/{op} f…, /livegan/bend/off."""
        if rest == "off":
            self.controls.clear_bends()
            return True
        layer, _, op = rest.partition("/")
        values = _numbers(args)
        if values is not None and not self.controls.bends.known(layer, op):
            return TOLD  # the bends said which layer or op is unknown
        return values is not None and self.controls.set_bend(layer, op, values)


def expected_types(address: str) -> str:
    """The argument types the namespace documents for `address` (for warnings)."""
    for pattern, (types, _) in NAMESPACE.items():
        if pattern == address or (pattern.endswith("}") and
                                  address.startswith(pattern[: pattern.index("{")])):
            return types or "no arguments"
    return "see `livegan osc`"
