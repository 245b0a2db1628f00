"""Mappings, scenes, labels and query replies driven over a real loopback UDP socket."""

from __future__ import annotations

import math
import socket
import threading

import numpy as np
import pytest
from oscwait import WAIT, wait_handled
from pythonosc.udp_client import SimpleUDPClient

from livegan.control.controls import Controls, latest_events
from livegan.control.inputs import ShowInputs
from livegan.control.osc.namespace import NAMESPACE, OscNamespace
from livegan.control.osc.server import OscServer
from livegan.control.osc.wire import parse_datagram
from livegan.control.patch.mapping import PICKUP_WINDOW, shape_curve
from livegan.patchfile.load import parse_patch

NAMES = ["pc0", "pc1", "warm", "calm"]


class FakeClock:
    """Time that moves only when the test says so (smoothing and glides)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Rig:
    """Controls + namespace + ShowInputs (router) behind a real OscServer on port 0."""

    def __init__(self, text: str, labels: list[str] | None = None) -> None:
        self.controls = Controls(z_dim=16, n_dirs=4)
        self.namespace = OscNamespace(self.controls, NAMES)
        self.inputs = ShowInputs(self.controls, self.namespace, parse_patch(text, "t.toml"),
                                 labels=lambda: list(labels or []))
        self.clock = FakeClock()
        self.inputs.router.clock = self.clock
        self.server = OscServer(self.inputs.dispatcher, port=0).start()
        self.client = SimpleUDPClient("127.0.0.1", self.server.port)
        self.sent = 0

    def send(self, address: str, *args: object) -> None:
        """Send one message and wait until the server has handled it."""
        self.client.send_message(address, list(args))
        self.sent += 1
        wait_handled(self.server, self.sent)

    def dirs(self) -> np.ndarray:
        return self.controls.snapshot().dirs

    def tick(self, seconds: float) -> None:
        self.clock.now += seconds
        self.inputs.router.tick()

    def frame(self) -> None:
        """What the show's main loop does once a frame: run the queued show-level events
        (the newest of each kind), then advance glides."""
        handlers = self.inputs.app_handlers()
        for kind, *args in latest_events(self.controls.app_events()):
            if kind in handlers:
                handlers[kind](*args)
        self.inputs.router.tick()

    def close(self) -> None:
        self.server.stop()


@pytest.fixture
def rig():
    made: list[Rig] = []

    def make(text: str, **kwargs) -> Rig:
        made.append(Rig(text, **kwargs))
        made[-1].inputs.router.tick()  # start the clock
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_a_whole_list_drives_a_vector_with_range(rig) -> None:
    r = rig('[[map]]\nosc = "/wek/outputs"\nto = "dir"\nrange = [-3.0, 3.0]\n')
    r.send("/wek/outputs", 0.0, 0.5, 1.0, 0.75)
    assert r.dirs() == pytest.approx([-3.0, 0.0, 3.0, 1.5])


def test_one_argument_drives_one_component_and_ints_count(rig) -> None:
    r = rig('[[map]]\nosc = "/xy"\narg = 1\nto = "dir[warm]"\nin = [0, 127]\n'
            'range = [0.0, 2.0]\n')
    r.send("/xy", 10, 127)  # ints, as Max sends them
    assert r.dirs()[2] == pytest.approx(2.0)
    r.send("/xy", 10)  # too few arguments: counted, ignored
    assert r.inputs.dispatcher.counts["bad_args"] == 1 and r.dirs()[2] == pytest.approx(2.0)


def test_without_range_osc_numbers_pass_through(rig) -> None:
    r = rig('[[map]]\nosc = "/dir1"\nto = "dir[0]"\n[[map]]\nosc = "/s"\nto = "speed"\n')
    r.send("/dir1", -2.5)
    r.send("/s", 0.75)
    assert r.dirs()[0] == pytest.approx(-2.5) and r.controls.param("speed") == 0.75


def test_curves_invert_and_deadzone_shape_the_value(rig) -> None:
    r = rig('[[map]]\nosc = "/e"\nto = "dir[0]"\nrange = [0.0, 1.0]\ncurve = "exp"\n'
            '[[map]]\nosc = "/l"\nto = "dir[1]"\nrange = [0.0, 1.0]\ncurve = "log"\n'
            '[[map]]\nosc = "/i"\nto = "dir[2]"\nrange = [0.0, 2.0]\ninvert = true\n'
            '[[map]]\nosc = "/d"\nto = "dir[3]"\nrange = [-1.0, 1.0]\ndeadzone = 0.1\n')
    r.send("/e", 0.5)
    r.send("/l", 0.5)
    r.send("/i", 0.25)
    r.send("/d", 0.55)  # inside the deadzone: exactly the middle
    dirs = r.dirs()
    assert dirs[0] == pytest.approx(shape_curve(0.5, "exp")) and dirs[0] < 0.2
    assert dirs[1] == pytest.approx(shape_curve(0.5, "log")) and dirs[1] > 0.8
    assert shape_curve(shape_curve(0.3, "exp"), "log") == pytest.approx(0.3)
    assert dirs[2] == pytest.approx(1.5) and dirs[3] == 0.0
    r.send("/d", 1.0)
    r.send("/d", 0.8)  # (0.3 - 0.1) / 0.4 of the way from the middle to the top
    assert r.dirs()[3] == pytest.approx(0.5)


def test_per_mapping_smoothing_eases_in_seconds(rig) -> None:
    r = rig('[[map]]\nosc = "/t"\nto = "truncation"\nrange = [0.0, 2.0]\nsmooth = 1.0\n'
            '[[map]]\nosc = "/v"\nto = "dir"\nsmooth = 0.5\n')
    r.send("/t", 0.0)  # heading from 1.0 to 0.0
    assert r.controls.param("truncation") == 1.0  # nothing yet: the tick moves it
    r.tick(1.0)
    assert r.controls.param("truncation") == pytest.approx(math.exp(-1.0), abs=1e-6)
    r.send("/v", 2.0, 2.0)
    r.tick(0.5)
    assert r.dirs()[:2] == pytest.approx([2 * (1 - math.exp(-1.0))] * 2, abs=1e-5)
    for _ in range(40):
        r.tick(0.25)
    assert r.controls.param("truncation") == pytest.approx(0.0, abs=1e-3)
    assert r.dirs()[:2] == pytest.approx([2.0, 2.0], abs=1e-3)


def test_pickup_waits_for_the_control_and_rearms_after_an_osc_write(rig) -> None:
    r = rig('[[map]]\nosc = "/fader"\nto = "truncation"\nrange = [0.0, 2.0]\npickup = true\n')
    r.send("/fader", 0.1)  # 0.2: far from the current 1.0, held back
    assert r.controls.param("truncation") == 1.0
    r.send("/fader", 0.3)  # 0.6: still below
    assert r.controls.param("truncation") == 1.0
    r.send("/fader", 0.5 - PICKUP_WINDOW / 2)  # within 3/128 of the value: picked up
    assert r.controls.param("truncation") == pytest.approx(1.0 - PICKUP_WINDOW)
    r.send("/fader", 0.1)  # follows from now on
    assert r.controls.param("truncation") == pytest.approx(0.2)
    r.send("/livegan/truncation", 1.5)  # someone else moved it: armed again
    r.send("/fader", 0.2)
    assert r.controls.param("truncation") == 1.5
    r.send("/fader", 0.9)  # 1.8: jumped past 1.5 in one move: picked up
    assert r.controls.param("truncation") == pytest.approx(1.8)


def test_pickup_on_a_direction_sees_the_default_namespace_writes(rig) -> None:
    r = rig('[[map]]\nosc = "/k"\nto = "dir[1]"\nrange = [-3.0, 3.0]\npickup = true\n')
    r.send("/k", 0.5)  # 0.0 meets the current 0.0
    r.send("/k", 0.75)
    assert r.dirs()[1] == pytest.approx(1.5)
    r.send("/livegan/dirs", 0.0, -2.0)  # the default namespace moves dir 1
    r.send("/k", 0.8)
    assert r.dirs()[1] == pytest.approx(-2.0)
    r.send("/k", 1 / 6)  # -2.0 exactly
    r.send("/k", 0.25)
    assert r.dirs()[1] == pytest.approx(-1.5)


def test_presses_from_osc_buttons_and_bangs(rig) -> None:
    r = rig('[[map]]\nosc = "/drop"\nto = "scene"\nvalue = "peak"\n'
            '[[map]]\nosc = "/snap"\nto = "snapshot"\n'
            '[[map]]\nosc = "/hold"\nto = "mode"\npress = "toggle"\nvalue = "hold"\n'
            '[scenes.peak]\nspeed = 0.6\n')
    for value in (1.0, 1.0, 1.0, 0.0):  # a stream (TouchDesigner) held down: one press
        r.send("/drop", value)
    assert r.inputs.router.scene == "peak"
    r.send("/snap")
    r.send("/snap")  # a bang (no arguments) fires every time
    assert r.controls.app_events() == [("snapshot",), ("snapshot",)]
    r.send("/hold", 1)
    assert r.controls.mode == "hold"
    r.send("/hold", 0)
    r.send("/hold", 1)
    assert r.controls.mode == "walk"


def test_choices_from_numbers_act_once_per_change(rig) -> None:
    r = rig('[[map]]\nosc = "/seed"\nto = "seed"\n[[map]]\nosc = "/m"\nto = "mode"\n')
    for value in (3.0, 3.2, 2.9, 7.0):  # Pd floats, rounded
        r.send("/seed", value)
    r.send("/m", 2.0)
    snap = r.controls.snapshot()
    assert snap.events == [("seed", 3), ("seed", 7)] and snap.mode == "hold"


def test_scenes_glide_over_their_time_and_rearm_pickup(rig) -> None:
    r = rig('[[map]]\nosc = "/t"\nto = "truncation"\nrange = [0.0, 2.0]\npickup = true\n'
            '[scenes.calm]\nspeed = 0.5\ntruncation = 0.2\nseed = 42\nmode = "keys"\n'
            'dirs = [1.0]\ndir = { warm = -2.0 }\nglide = 2.0\n')
    r.send("/t", 0.5)  # picked up at 1.0
    r.send("/livegan/scene", "calm")
    r.frame()
    snap = r.controls.snapshot()
    assert snap.mode == "keys" and ("seed", 42, 2.0) in snap.events
    r.tick(1.0)  # halfway through a smoothstep glide
    assert r.controls.param("truncation") == pytest.approx(0.6)
    assert r.controls.param("speed") == pytest.approx(0.3)
    r.tick(1.0)
    assert r.controls.param("truncation") == pytest.approx(0.2)
    assert r.dirs() == pytest.approx([1.0, 0.0, -2.0, 0.0])
    r.send("/t", 0.9)  # armed again by the scene: 1.8 is far from 0.2
    assert r.controls.param("truncation") == pytest.approx(0.2)
    r.send("/livegan/scene", 0.0)  # Pd: a scene by its number
    r.frame()
    r.send("/livegan/scene", "nope")  # unknown: warned, nothing changes
    r.frame()
    assert r.inputs.router.scene == "calm"


def test_labels_by_name_or_index(rig) -> None:
    r = rig("", labels=["cat", "dog", "bird"])
    r.send("/livegan/label", "Dog")
    r.frame()
    assert r.controls.snapshot().label == 1
    r.send("/livegan/label", 2.0)  # Pd float
    r.frame()
    assert r.controls.snapshot().label == 2
    r.send("/livegan/label", "fish")
    r.frame()
    r.send("/livegan/label", 7)
    r.frame()
    assert r.controls.snapshot().label == 2


def test_scene_and_label_changes_wait_for_the_frame(rig, monkeypatch) -> None:
    """Scenes and labels act once a frame on the main thread, never on the OSC thread: a
    burst of recalls costs one recall, the newest."""
    r = rig('[scenes.calm]\nspeed = 0.5\nglide = 0.0\n[scenes.busy]\nspeed = 2.0\nglide = 0.0\n',
            labels=["cat", "dog"])
    router = r.inputs.router
    recalls: list[tuple[object, str]] = []
    recall = router.recall_scene
    monkeypatch.setattr(router, "recall_scene", lambda name: recalls.append(
        (name, threading.current_thread().name)) or recall(name))
    speed = r.controls.param("speed")
    for _ in range(50):
        r.send("/livegan/scene", "calm")
        r.send("/livegan/scene", "busy")
    r.send("/livegan/label", "dog")
    assert router.scene is None and r.controls.param("speed") == speed  # nothing yet
    assert r.controls.snapshot().label == 0 and recalls == []
    r.frame()
    assert recalls == [("busy", threading.main_thread().name)]
    assert router.scene == "busy" and r.controls.snapshot().label == 1
    r.tick(0.001)
    assert r.controls.param("speed") == pytest.approx(2.0)


def test_query_replies_with_the_namespace_and_patch_addresses(rig) -> None:
    r = rig('[[map]]\nosc = "/dir1"\nto = "dir[0]"\n')
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.settimeout(WAIT)
        r.send("/livegan/query", listener.getsockname()[1])
        assert r.controls.app_events() == []  # answered on the OSC thread, not the main one
        replies = []
        while not replies or replies[-1][0] != "/livegan/namespace/end":
            messages, _ = parse_datagram(listener.recv(65535))
            replies += messages
    entries = {args[0]: args for address, args in replies if address == "/livegan/namespace"}
    assert set(NAMESPACE) <= set(entries) and "/dir1" in entries
    assert entries["/livegan/speed"][1:] == ("f", "walk/loop speed (-10..10)")
    assert entries["/dir1"][2] == "patch: /dir1 -> dir[0]"


def test_unknown_direction_names_and_indices_are_ignored(rig) -> None:
    r = rig('[[map]]\nosc = "/a"\nto = "dir[smile]"\n[[map]]\nosc = "/b"\nto = "dir[9]"\n')
    r.send("/a", 1.0)
    r.send("/b", 1.0)
    assert r.inputs.dispatcher.counts["bad_args"] == 2 and not r.dirs().any()
    assert r.server.running
