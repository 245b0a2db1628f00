"""The /livegan OSC namespace, fed with raw datagrams through OscServer.feed into Controls."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pythonosc.osc_message_builder import OscMessageBuilder

from livegan.control.controls import PARAMS, Controls
from livegan.control.osc.dispatch import Dispatcher
from livegan.control.osc.namespace import NAMESPACE, OscNamespace
from livegan.control.osc.server import OscServer
from livegan.control.osc.wire import encode_message

Z, K = 8, 4
NAMES = ["pc0", "pc1", "warm", "calm"]
SENDER = ("127.0.0.1", 57120)


class Rig:
    """Controls <- OscNamespace's routes <- Dispatcher <- OscServer (not started: datagrams
    are fed directly)."""

    def __init__(self) -> None:
        self.controls = Controls(Z, K)
        self.namespace = OscNamespace(self.controls, NAMES)
        self.dispatch = Dispatcher(self.namespace.table())
        self.server = OscServer(self.dispatch, port=0)

    def send(self, address: str, *args: object) -> None:
        self.server.feed(encode_message(address, *args), SENDER)

    def send_floats(self, address: str, *args: float) -> None:
        """As Pure Data sends: every number a float32."""
        builder = OscMessageBuilder(address)
        for arg in args:
            builder.add_arg(float(arg), OscMessageBuilder.ARG_TYPE_FLOAT)
        self.server.feed(builder.build().dgram, SENDER)

    @property
    def counts(self) -> dict[str, int]:
        return dict(self.dispatch.counts)


@pytest.fixture
def rig() -> Rig:
    return Rig()


def test_z_accepts_ints_and_floats(rig: Rig) -> None:
    rig.send("/livegan/z", 1, 0.5, -2, 3.25)
    assert rig.controls.snapshot().z_updates == {0: 1.0, 1: 0.5, 2: -2.0, 3: 3.25}
    rig.send("/livegan/z", *([1.0] * (Z + 3)))  # longer than the latent: the rest ignored
    assert len(rig.controls.snapshot().z_updates) == Z
    assert rig.counts == {"unknown": 0, "bad_args": 0}


def test_one_z_component(rig: Rig) -> None:
    rig.send("/livegan/z/3", 0.75)
    rig.send("/livegan/z/5", 2)
    assert rig.controls.snapshot().z_updates == {3: 0.75, 5: 2.0}


def test_directions_by_index_and_by_name(rig: Rig) -> None:
    rig.send("/livegan/dir/1", 0.5)
    rig.send("/livegan/dir/warm", -1)
    rig.send("/livegan/dir/pc0", 2.0)
    assert rig.controls.snapshot().dirs.tolist() == [2.0, 0.5, -1.0, 0.0]
    rig.send("/livegan/dirs", 0.1, 0.2)
    np.testing.assert_allclose(rig.controls.snapshot().dirs, [0.1, 0.2, -1.0, 0.0], atol=1e-6)
    assert rig.counts == {"unknown": 0, "bad_args": 0}


def test_wekinator_outputs_drive_directions(rig: Rig) -> None:
    rig.send("/wek/outputs", 0.25, 0.5, 0.75, 1.0, 9.0)  # one output too many: ignored
    np.testing.assert_allclose(rig.controls.snapshot().dirs, [0.25, 0.5, 0.75, 1.0])


def test_seed_with_and_without_seconds(rig: Rig) -> None:
    rig.send("/livegan/seed", 5)
    rig.send("/livegan/seed", 5, 2.0)
    rig.send_floats("/livegan/seed", 5.0)  # Pure Data: floats only
    rig.send_floats("/livegan/seed", 6.0, 1.5)
    rig.send("/livegan/seed", 7, -3.0)  # negative seconds: jump
    assert rig.controls.snapshot().events == [
        ("seed", 5), ("seed", 5, 2.0), ("seed", 5), ("seed", 6, 1.5), ("seed", 7, 0.0)]
    assert all(isinstance(e[1], int) for e in rig.controls.snapshot().events)


def test_keyframes(rig: Rig) -> None:
    rig.send("/livegan/key/store", 2)
    rig.send_floats("/livegan/key", 2.0)
    assert rig.controls.snapshot().events == [("key_store", 2), ("key", 2)]


@pytest.mark.parametrize("name", ["speed", "truncation", "smooth", "morph"])
def test_params(rig: Rig, name: str) -> None:
    rig.send(f"/livegan/{name}", 0.5)
    assert rig.controls.param(name) == 0.5
    rig.send(f"/livegan/{name}", 1)  # an int
    assert rig.controls.param(name) == 1.0
    rig.send(f"/livegan/{name}", 1e6)  # clamped
    assert rig.controls.param(name) == PARAMS[name][2]


def test_mode(rig: Rig) -> None:
    for mode in ("hold", "keys", " Walk "):
        rig.send("/livegan/mode", mode)
        assert rig.controls.mode == mode.strip().lower()
    rig.send("/livegan/mode", "spin")
    rig.send("/livegan/mode", 1)
    assert rig.controls.mode == "walk"
    assert rig.counts["bad_args"] == 2


def test_app_events(rig: Rig) -> None:
    rig.send("/livegan/hud", 1)
    rig.send_floats("/livegan/hud", 0.0)
    rig.send("/livegan/hud", True)
    rig.send("/livegan/record", 1)
    rig.send("/livegan/record", 0)
    rig.send("/livegan/snapshot")
    rig.send("/livegan/model", "moth")
    rig.send("/livegan/scene", "calm")
    rig.send("/livegan/label", "cats")
    rig.send("/livegan/label", 2)
    assert rig.controls.app_events() == [
        ("hud", True), ("hud", False), ("hud", True), ("record", True), ("record", False),
        ("snapshot",), ("model", "moth"), ("scene", "calm"), ("label", "cats"), ("label", 2)]
    assert rig.counts == {"unknown": 0, "bad_args": 0}


def test_unknown_addresses_are_counted(rig: Rig) -> None:
    for address in ("/livegan/zz", "/livegan", "/other/thing", "/livegan/dir/1/2",
                    "/LIVEGAN/z", "/livegan/z/1/extra"):
        rig.send(address, 1.0)
    assert rig.counts["unknown"] == 6 and rig.counts["bad_args"] == 0
    stats = rig.server.stats()
    assert stats["delivered"] == 6  # the server delivered them; the namespace ignored them


@pytest.mark.parametrize(
    ("address", "args"),
    [
        ("/livegan/z", ()),
        ("/livegan/z", ("a", 1.0)),
        ("/livegan/z/3", ()),
        ("/livegan/z/3", (1.0, 2.0)),
        ("/livegan/z/3", ("x",)),
        ("/livegan/z/99", (1.0,)),
        ("/livegan/z/-1", (1.0,)),
        ("/livegan/z/x", (1.0,)),
        ("/livegan/z/²", (1.0,)),
        ("/livegan/z/", (1.0,)),
        ("/livegan/z/99999999999999999999999", (1.0,)),
        ("/livegan/dir/nope", (1.0,)),
        ("/livegan/dir/7", (1.0,)),
        ("/livegan/dirs", ()),
        ("/livegan/dirs", (b"blob",)),
        ("/wek/outputs", ("0.5",)),
        ("/livegan/seed", ()),
        ("/livegan/seed", ("five",)),
        ("/livegan/key", ()),
        ("/livegan/speed", ()),
        ("/livegan/speed", ("fast",)),
        ("/livegan/truncation", (None,)),
        ("/livegan/mode", ()),
        ("/livegan/model", ()),
        ("/livegan/model", (3,)),
        ("/livegan/hud", ()),
        ("/livegan/hud", ("on",)),
        ("/livegan/record", (None,)),
        ("/livegan/label", (True,)),
    ],
)
def test_wrong_arguments_are_counted(rig: Rig, address: str, args: tuple) -> None:
    before = rig.controls.version
    rig.send(address, *args)
    assert rig.counts == {"unknown": 0, "bad_args": 1}
    assert rig.controls.version == before
    assert rig.controls.app_events() == []
    assert rig.server.stats()["handler_error"] == 0


def test_non_finite_numbers_never_reach_the_controls(rig: Rig) -> None:
    rig.send("/livegan/speed", math.nan)
    rig.send("/livegan/z", 1.0, math.inf)
    assert rig.server.stats()["nonfinite"] == 2
    assert rig.controls.param("speed") == PARAMS["speed"][0]
    assert rig.controls.snapshot().z_updates == {}
    # and if a caller bypasses the wire format, the namespace refuses them itself
    rig.dispatch("/livegan/speed", (math.nan,), SENDER)
    rig.dispatch("/livegan/z/1", (math.inf,), SENDER)
    assert rig.counts["bad_args"] == 2


def test_hostile_arguments_never_raise(rig: Rig) -> None:
    rng = np.random.default_rng(0)
    values = [None, True, b"\x00", "", "s" * 1000, 2**63 - 1, -(2**63), 1e38, -0.0,
              (144, 60, 100, 0), [1, 2], {"a": 1}, math.nan]
    addresses = list(rig.namespace.table().exact) + ["/livegan/z/0", "/livegan/dir/pc1",
                                                "/livegan/dir/0", "/x"]
    for address in addresses:
        for _ in range(20):
            args = tuple(values[i] for i in rng.integers(0, len(values), rng.integers(0, 4)))
            rig.dispatch(address, args, SENDER)
    assert sum(rig.counts.values()) > 0


def test_patch_routes_win_over_defaults(rig: Rig) -> None:
    seen = []
    rig.dispatch.table = rig.namespace.table().over(
        {"/wek/outputs": lambda args, sender: seen.append(args) or True})
    rig.send("/wek/outputs", 0.5)
    assert seen == [(0.5,)]
    assert rig.controls.snapshot().dirs.tolist() == [0.0] * K


def test_direction_names_follow_a_model_swap(rig: Rig) -> None:
    rig.namespace.direction_names = ["bright"]
    rig.controls.resize(Z, 1)
    rig.send("/livegan/dir/bright", 1.5)
    rig.send("/livegan/dir/warm", 1.0)
    assert rig.controls.snapshot().dirs.tolist() == [1.5]
    assert rig.counts["bad_args"] == 1


def test_namespace_table_covers_the_routes() -> None:
    documented = {a.split("/{")[0] for a in NAMESPACE}
    routes = set(OscNamespace(Controls(Z, K)).table().exact)
    assert routes <= documented
    assert {"/livegan/z", "/livegan/dir", "/wek/outputs", "/livegan/query"} <= documented
    for address, (types, what) in NAMESPACE.items():
        assert address.startswith("/") and what
