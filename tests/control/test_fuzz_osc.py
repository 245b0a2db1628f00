"""100,000 random and malformed OSC datagrams through the parser, a patch's router, the
namespace and the controls: nothing escapes, counters add up, the latent stays finite."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hostile import KINDS, HostileTraffic, bundle, float_list

from livegan.control.controls import Controls, latest_events
from livegan.control.inputs import ShowInputs
from livegan.control.motion import LATENT_LIMIT, Motion
from livegan.control.osc.dispatch import Dispatcher
from livegan.control.osc.namespace import OscNamespace
from livegan.control.osc.server import DROP_REASONS, OscServer
from livegan.control.osc.wire import MAX_BUNDLE_DEPTH, parse_datagram
from livegan.latent import random_directions
from livegan.patchfile.load import parse_patch

PACKETS = 100_000
Z, DIRS = 128, 16
NAMES = ["pc0", "pc1", "warm", "calm"] + [f"d{i}" for i in range(4, DIRS)]

# Mappings on the same addresses the traffic aims at, so the router sees it too: vector,
# smoothed, pickup (which watches default z writes), curves, scenes by number.
PATCH = """
[[map]]
osc = "/wek/outputs"
to = "dir"
in = [0.0, 1.0]
range = [-3.0, 3.0]
smooth = 0.1
deadzone = 0.05

[[map]]
osc = "/livegan/morph"
to = "z[3]"
pickup = true
range = [-2.0, 2.0]

[[map]]
osc = "/livegan/truncation"
to = "truncation"
curve = "exp"
range = [0.2, 1.2]

[[map]]
osc = "/livegan/hud"
to = "scene"

[[map]]
osc = "/livegan/dirs"
arg = 1
to = "dir[warm]"
smooth = 0.2

[scenes.calm]
speed = 0.02
truncation = 0.5
seed = 42

[scenes.wild]
speed = 0.7
dirs = [1.0, -1.0]
glide = 0.5
"""

APP_KINDS = {"hud", "model", "record", "snapshot", "scene", "label"}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rig(tmp_path: Path):
    """A patch's router in front of the namespace, behind an OscServer (fed, not bound)."""
    controls = Controls(Z, DIRS)
    namespace = OscNamespace(controls, NAMES)
    inputs = ShowInputs(controls, namespace, parse_patch(PATCH, str(tmp_path / "fuzz.toml")))
    clock = Clock()
    inputs.router.clock = clock
    server = OscServer(inputs.dispatcher, port=0)
    yield controls, namespace, inputs, server, clock
    inputs.stop()


def test_100k_hostile_datagrams_never_escape_and_the_latent_stays_finite(rig) -> None:
    controls, _namespace, inputs, server, clock = rig
    motion = Motion(Z, random_directions(DIRS, Z))
    traffic = HostileTraffic(seed=8, z_dim=Z, n_dirs=DIRS)
    app_seen: set[str] = set()
    for n, datagram in enumerate(traffic.packets(PACKETS), 1):
        server.feed(datagram, ("127.0.0.1", 9))  # never raises: the test fails if it does
        if n % 250 == 0:  # what a show does each frame: tick, snapshot, one latent
            clock.now += 1 / 60
            inputs.tick()
            z = motion.step(controls.snapshot(), 1 / 60)
            assert z.dtype == np.float32 and z.shape == (Z,)
            assert np.isfinite(z).all(), f"NaN/inf latent after {n} datagrams"
            assert np.abs(z).max() <= 2 * LATENT_LIMIT * (1 + DIRS)  # clamped, truncation <= 2
            events = latest_events(controls.app_events())
            kinds = [e[0] for e in events]
            assert len(kinds) == len(set(kinds))
            app_seen.update(kinds)
            assert set(kinds) <= APP_KINDS
    assert sum(traffic.counts.values()) == PACKETS and set(traffic.counts) == set(KINDS)

    stats = server.stats()
    assert stats["datagrams"] == PACKETS
    assert stats["received"] == stats["delivered"] + stats["ignored"] + stats["coalesced"] + sum(
        stats[reason] for reason in DROP_REASONS)
    assert stats["handler_error"] == 0, "a handler raised on hostile input"
    for reason in ("malformed", "nonfinite", "too_deep"):
        assert stats[reason] > 100, (reason, stats)
    counts = inputs.dispatcher.counts
    assert counts["unknown"] > 100 and counts["bad_args"] > 100
    assert stats["delivered"] > PACKETS // 4  # the valid share still got through
    assert {"model", "snapshot"} <= app_seen  # /livegan/hud is the patch's here
    assert inputs.query.counts["limited"] > 0  # queries were answered on the OSC thread, few
    # bounded state: pending latent writes, motion events and keyframes cannot pile up
    assert len(controls.snapshot().z_updates) <= Z
    assert len(motion.keyframes) <= 256
    assert all(math.isfinite(v) for v in controls.snapshot().dirs)


def test_each_hostile_kind_is_counted_where_it_belongs() -> None:
    nan = float_list("/livegan/speed", [float("nan")])
    deep = float_list("/livegan/speed", [0.5])
    for _ in range(MAX_BUNDLE_DEPTH + 1):
        deep = bundle(deep)
    cases = {
        nan: ([], ["nonfinite"]),
        float_list("/livegan/z", [1.0, float("inf")], "d"): ([], ["nonfinite"]),
        deep: ([], ["too_deep"]),
        b"/livegan/speed\0\0,f\0\0\0\0": ([], ["malformed"]),  # truncated float
        b"/livegan/speed\0\0,b\0\0\x7f\xff\xff\xff": ([], ["malformed"]),  # 2 GB blob
        b"/livegan/z\0\0,c\0\0\xff\xff\xff\xff": ([], ["malformed"]),  # no such character
        b"/livegan/z\0\0,[f\0\0\0\0\0\0": ([], ["malformed"]),  # unclosed array
        bundle(deep[:-3]): ([], ["malformed"]),
    }
    for datagram, expected in cases.items():
        assert parse_datagram(datagram) == expected, datagram[:40]
    big = float_list("/livegan/z", [0.25] * 10_000)
    (address, args), = parse_datagram(big)[0]
    assert address == "/livegan/z" and len(args) == 10_000


@pytest.mark.parametrize("address, args", [
    ("/livegan/z/99999999", (1.0,)), ("/livegan/z/-1", (1.0,)), ("/livegan/dir/99", (1.0,)),
    ("/livegan/z/0", ("fast",)), ("/livegan/speed", ("1.0",)), ("/livegan/speed", ()),
    ("/livegan/z", ("x",) * 3), ("/livegan/seed", ("seven",)), ("/livegan/mode", (3,)),
    ("/livegan/dir/" + "x" * 500, (1.0,)), ("/livegan/z/١", (1.0,)),
])
def test_hostile_arguments_change_nothing(address: str, args: tuple) -> None:
    controls = Controls(Z, DIRS)
    namespace = Dispatcher(OscNamespace(controls, NAMES).table())
    before = controls.version
    namespace(address, args, ("127.0.0.1", 9))
    assert controls.version == before
    assert namespace.counts["bad_args"] + namespace.counts["unknown"] == 1


def test_huge_values_are_clamped_on_their_way_into_the_latent() -> None:
    controls = Controls(Z, DIRS)
    namespace = Dispatcher(OscNamespace(controls, NAMES).table())
    motion = Motion(Z, random_directions(DIRS, Z))
    namespace("/livegan/mode", ("hold",), ("127.0.0.1", 9))
    namespace("/livegan/z", (1e300, -1e300) * (Z // 2), ("127.0.0.1", 9))
    namespace("/livegan/dirs", (3.0e38,) * DIRS, ("127.0.0.1", 9))
    namespace("/livegan/smooth", (0.0,), ("127.0.0.1", 9))
    namespace("/livegan/truncation", (1e300,), ("127.0.0.1", 9))
    z = motion.step(controls.snapshot(), 1 / 60)
    assert np.isfinite(z).all()
    assert np.abs(motion.base).max() == LATENT_LIMIT
    assert np.abs(motion.amounts).max() == LATENT_LIMIT


def test_a_10k_element_list_costs_only_the_model_size() -> None:
    controls = Controls(Z, DIRS)
    namespace = Dispatcher(OscNamespace(controls, NAMES).table())
    server = OscServer(namespace, port=0)
    server.feed(float_list("/livegan/z", [0.5] * 10_000))
    server.feed(float_list("/wek/outputs", [0.5] * 10_000))
    snap = controls.snapshot()
    assert len(snap.z_updates) == Z and all(v == 0.5 for v in snap.z_updates.values())
    assert list(snap.dirs) == [0.5] * DIRS
    assert server.stats()["delivered"] == 2
