"""The beat grid (own count, MIDI clock, Ableton Link) and changes quantized to beats and bars,
driven over real loopback OSC, mido messages and, where installed, two real Link peers."""

from __future__ import annotations

import logging
import re
import sys
import time

import mido
import pytest
from oscwait import wait_handled
from pythonosc.udp_client import SimpleUDPClient

from livegan.control.controls import Controls, latest_events
from livegan.control.inputs import ShowInputs
from livegan.control.osc.namespace import OscNamespace
from livegan.control.osc.server import OscServer
from livegan.control.tempo.clock import BeatClock
from livegan.control.tempo.link import open_link
from livegan.control.tempo.midiclock import CLOCKS_PER_BEAT
from livegan.errors import PatchError
from livegan.patchfile.load import parse_patch

LINK_WAIT = 15.0  # Link peers find each other by multicast, usually within a second


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


class Rig:
    """ShowInputs behind a real OscServer, its beat clock on a clock the test moves."""

    def __init__(self, text: str) -> None:
        self.controls = Controls(z_dim=8, n_dirs=4)
        self.inputs = ShowInputs(self.controls, OscNamespace(self.controls, []),
                                 parse_patch(text, "t.toml"))
        self.clock = FakeClock()
        self.inputs.beats.clock = self.clock
        self.inputs.midi.clock = self.clock
        self.server = OscServer(self.inputs.dispatcher, port=0).start()
        self.client = SimpleUDPClient("127.0.0.1", self.server.port)
        self.sent = 0
        self.frame(0.0)

    def send(self, address: str, *args: object) -> None:
        self.client.send_message(address, list(args))
        self.sent += 1
        wait_handled(self.server, self.sent)

    def frame(self, seconds: float) -> list[tuple]:
        """One frame of the main loop `seconds` later; returns the motion events queued."""
        self.clock.now += seconds
        handlers = self.inputs.app_handlers()
        for kind, *args in latest_events(self.controls.app_events()):
            handlers[kind](*args)
        self.inputs.tick()
        return self.controls.snapshot().events


@pytest.fixture
def rig():
    made: list[Rig] = []

    def make(text: str) -> Rig:
        made.append(Rig(text))
        return made[-1]

    yield make
    for r in made:
        r.server.stop()
        r.inputs.stop()


SCENES = """
[tempo]
beats_per_bar = 4

[scenes.drop]
truncation = 0.3
glide = 0
quantize = "bar"
"""


def test_the_own_count_follows_the_tempo_and_marks_beats_and_bars() -> None:
    controls = Controls(z_dim=4, n_dirs=1)
    controls.set_param("tempo", 120.0)  # two beats a second
    clock = BeatClock(controls, per_bar=3)
    assert clock.tick(0.0) == (False, False)
    assert clock.tick(0.4) == (False, False)
    assert clock.tick(0.6) == (True, False) and clock.beat.in_bar == 2
    assert clock.tick(1.1) == (True, False) and clock.beat.in_bar == 3
    assert clock.tick(1.6) == (True, True) and clock.beat.in_bar == 1  # beat 3: a new bar
    assert (clock.beats, clock.bars, clock.beat.source) == (3, 1, "internal")


def test_midi_clock_leads_the_beat_and_start_counts_from_the_bar(rig) -> None:
    r = rig("[midi]\nclock = true\n")
    r.frame(0.3)  # the own count has moved on a little
    pulse = 0.5 / CLOCKS_PER_BEAT  # 120 bpm
    r.inputs.midi.feed(mido.Message("start"))
    beats = []
    for n in range(1, 2 * CLOCKS_PER_BEAT + 1):
        r.clock.now += pulse
        r.inputs.midi.feed(mido.Message("clock"))
        r.inputs.tick()
        beats.append(r.inputs.beats.beats)
    assert r.inputs.beats.beat.source == "midi"
    assert r.controls.param("tempo") == pytest.approx(120.0)
    # a beat begins exactly on the 24th and the 48th pulse
    assert beats[CLOCKS_PER_BEAT - 2] == beats[0] and beats[CLOCKS_PER_BEAT - 1] == beats[0] + 1
    assert beats[-1] == beats[0] + 2
    r.frame(2.0)  # the clock stopped: the own count carries on from the MIDI beat
    assert r.inputs.beats.beat.source == "internal" and r.inputs.beats.beat.position > 2.0


def test_a_quantized_scene_waits_for_the_bar(rig) -> None:
    r = rig(SCENES)
    r.controls.set_param("tempo", 120.0)
    r.frame(0.1)
    r.send("/livegan/scene", "drop")
    r.frame(0.1)
    assert r.controls.param("truncation") == pytest.approx(1.0)
    assert r.inputs.quantizer.held() == {"scene": "bar"}
    assert "waiting: scene on the bar" in r.inputs.hud_lines()[0]
    r.frame(0.5)  # a beat, not a bar
    assert r.controls.param("truncation") == pytest.approx(1.0)
    r.frame(1.4)  # 2.1 s at 120 bpm: the bar has begun
    assert r.controls.param("truncation") == pytest.approx(0.3)
    assert r.inputs.router.scene == "drop" and r.inputs.quantizer.held() == {}


def test_quantized_seeds_apply_once_the_newest_on_the_beat(rig) -> None:
    r = rig('[[map]]\nosc = "/livegan/seed"\nto = "seed"\nquantize = "beat"\n')
    r.controls.set_param("tempo", 60.0)  # one beat a second
    r.frame(0.2)
    for seed in (3, 4, 7):
        r.send("/livegan/seed", seed)
    assert r.frame(0.3) == []
    assert r.frame(0.6) == [("seed", 7)]  # the beat: only the newest, once
    assert r.frame(1.0) == []


def test_a_quantized_note_picks_the_scene_on_the_next_bar(rig) -> None:
    r = rig(SCENES.replace('quantize = "bar"\n', "") +
            '[[map]]\nmidi = { note = 36 }\nto = "scene"\nvalue = "drop"\nquantize = "bar"\n')
    r.controls.set_param("tempo", 240.0)  # four beats a second: a bar a second
    r.frame(0.1)
    r.inputs.midi.feed(mido.Message("note_on", note=36, velocity=90))
    r.frame(0.5)
    assert r.controls.param("truncation") == pytest.approx(1.0)
    r.frame(0.5)
    assert r.controls.param("truncation") == pytest.approx(0.3)


@pytest.mark.parametrize("text, message", [
    ('[[map]]\nosc = "/t"\nto = "truncation"\nquantize = "bar"\n',
     "t.toml:4: map[0].quantize: quantize holds scene, seed and key changes"),
    ('[scenes.a]\nspeed = 1\nquantize = "bars"\n',
     "t.toml:3: scenes.a.quantize: expected one of beat, bar"),
    ("[tempo]\nbeats_per_bar = 0\n", "t.toml:2: tempo.beats_per_bar: expected a whole number"),
    ("[tempo]\nlinks = true\n", "tempo.links: unknown key (did you mean link?)"),
])
def test_bad_tempo_settings_name_the_line(text: str, message: str) -> None:
    with pytest.raises(PatchError, match=re.escape(message)):
        parse_patch(text, "t.toml")


def test_without_the_link_extra_one_line_says_what_to_install(monkeypatch, caplog) -> None:
    monkeypatch.setitem(sys.modules, "link", None)  # import link raises ImportError
    with caplog.at_level(logging.WARNING):
        assert open_link(120.0) is None
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [("Ableton Link needs LinkPython-extern: pip install 'livegan[link]'; "
                      "the show keeps its own beat")]


def _wait(condition, seconds: float = LINK_WAIT) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_link_peers_share_the_tempo_and_it_stays_when_they_leave() -> None:
    link = pytest.importorskip("link", reason="Ableton Link: pip install 'livegan[link]'")
    controls = Controls(z_dim=4, n_dirs=1)
    session = open_link(100.0)
    assert session is not None
    clock = BeatClock(controls, link=session)
    peer = link.Link(133.0)
    peer.enabled = True
    try:
        if not _wait(lambda: session.peers() == 1 and peer.numPeers() == 1):
            pytest.skip("Link peers did not find each other here (no multicast)")
        state = peer.captureAppSessionState()
        state.setTempo(150.0, peer.clock().micros())
        peer.commitAppSessionState(state)
        assert _wait(lambda: clock.tick() is not None and
                     controls.param("tempo") == pytest.approx(150.0))
        assert clock.beat.source == "link" and "1 peer)" in clock.describe()
        controls.set_param("tempo", 90.0)  # a mapping or scene here moves the tempo
        clock.tick()
        assert _wait(lambda: peer.captureAppSessionState().tempo() == pytest.approx(90.0))
        peer.enabled = False  # the peer leaves
        assert _wait(lambda: session.peers() == 0)
        clock.tick()
        assert controls.param("tempo") == pytest.approx(90.0)
    finally:
        peer.enabled = False
        clock.close()


def test_link_beats_drive_speed_in_beats_through_the_tempo_api() -> None:
    pytest.importorskip("link", reason="Ableton Link: pip install 'livegan[link]'")
    rig_controls = Controls(z_dim=8, n_dirs=4)
    inputs = ShowInputs(rig_controls, OscNamespace(rig_controls, []),
                        parse_patch('[tempo]\nlink = true\n[motion]\nspeed = 0.5\n'
                                    'speed_unit = "beats"\n', "t.toml"))
    inputs.start()
    try:
        assert inputs.beats.link is not None
        inputs.beats.link.set_tempo(180.0)
        inputs.tick()
        assert rig_controls.param("tempo") == pytest.approx(180.0)
        assert rig_controls.param("speed") == pytest.approx(0.5 * 3.0)  # 0.5 a beat, 3 a second
        before = inputs.beats.beat.position
        assert _wait(lambda: (inputs.tick(), inputs.beats.beat.position > before + 0.1)[1])
    finally:
        inputs.stop()
