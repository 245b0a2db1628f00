"""MIDI mappings driven by mido messages: CC (7 and 14 bit), notes, pitch bend, keys, pickup."""

from __future__ import annotations

import mido
import numpy as np
import pytest

from livegan.control.controls import Controls
from livegan.control.patch.mapping import PICKUP_WINDOW
from livegan.control.patch.router import Router
from livegan.patchfile.load import parse_patch


def cc(control: int, value: int, channel: int = 0) -> mido.Message:
    return mido.Message("control_change", control=control, value=value, channel=channel)


def note(number: int, velocity: int = 100, on: bool = True, channel: int = 0) -> mido.Message:
    kind = "note_on" if on else "note_off"
    return mido.Message(kind, note=number, velocity=velocity, channel=channel)


def make(text: str) -> tuple[Router, Controls]:
    controls = Controls(z_dim=16, n_dirs=4)
    return Router(controls, parse_patch(text, "m.toml"),
                  direction_names=lambda: ["pc0", "pc1", "warm", "calm"]), controls


def dirs(controls: Controls) -> np.ndarray:
    return controls.snapshot().dirs


def test_cc_7_bit_with_range_and_channel_filter() -> None:
    router, controls = make('[[map]]\nmidi = { cc = 7, channel = 2 }\nto = "dir[0]"\n'
                            'range = [-1.0, 1.0]\n')
    router.midi(cc(7, 127, channel=1))  # mido channel 1 is MIDI channel 2
    assert dirs(controls)[0] == pytest.approx(1.0)
    router.midi(cc(7, 0, channel=0))  # channel 1: not this mapping's
    assert dirs(controls)[0] == pytest.approx(1.0)


def test_cc_without_range_uses_the_target_usual_range() -> None:
    router, controls = make('[[map]]\nmidi = { cc = 1 }\nto = "dir[1]"\n'
                            '[[map]]\nmidi = { cc = 2 }\nto = "truncation"\n')
    router.midi(cc(1, 0))
    router.midi(cc(2, 127))
    assert dirs(controls)[1] == pytest.approx(-3.0)
    assert controls.param("truncation") == pytest.approx(2.0)


def test_cc_14_bit_combines_msb_and_lsb() -> None:
    router, controls = make('[[map]]\nmidi = { cc = 3, bits = 14 }\nto = "dir[2]"\n'
                            'range = [0.0, 16383.0]\n')
    router.midi(cc(3, 0x40))  # MSB: 0x40 << 7 = 8192
    assert dirs(controls)[2] == pytest.approx(8192)
    router.midi(cc(35, 0x15))  # LSB (3 + 32) refines it
    assert dirs(controls)[2] == pytest.approx(8192 + 0x15)
    router.midi(cc(3, 0x7F))
    router.midi(cc(35, 0x7F))
    assert dirs(controls)[2] == pytest.approx(16383)


def test_pickup_on_a_knob_is_soft_takeover() -> None:
    router, controls = make('[[map]]\nmidi = { cc = 16 }\nto = "truncation"\n'
                            'range = [0.0, 2.0]\npickup = true\n')
    router.midi(cc(16, 127))  # 2.0 while the value is 1.0: no jump
    router.midi(cc(16, 100))
    assert controls.param("truncation") == 1.0
    router.midi(cc(16, 64))  # 1.0079: within 3/128 of 1.0
    assert controls.param("truncation") == pytest.approx(128 / 127)
    assert abs(128 / 127 - 1.0) <= PICKUP_WINDOW * 2.0
    router.midi(cc(16, 0))
    assert controls.param("truncation") == 0.0
    router.recall_scene("none")  # not a scene: nothing re-armed
    router.midi(cc(16, 10))
    assert controls.param("truncation") == pytest.approx(20 / 127)


def test_pickup_rearms_after_a_scene() -> None:
    router, controls = make('[[map]]\nmidi = { cc = 16 }\nto = "truncation"\n'
                            'range = [0.0, 2.0]\npickup = true\n'
                            '[scenes.s]\ntruncation = 1.5\nglide = 0.0\n')
    router.midi(cc(16, 64))
    router.midi(cc(16, 10))
    router.recall_scene("s")
    assert controls.param("truncation") == 1.5
    router.midi(cc(16, 20))  # the knob is far below 1.5 now: held back
    assert controls.param("truncation") == 1.5


def test_notes_trigger_toggle_gate_and_velocity() -> None:
    router, controls = make(
        '[[map]]\nmidi = { note = 36 }\nto = "seed"\nvalue = 5\n'  # trigger (a value)
        '[[map]]\nmidi = { note = 37 }\nto = "hud"\npress = "toggle"\n'
        '[[map]]\nmidi = { note = 38 }\nto = "dir[0]"\npress = "gate"\nrange = [0.0, 2.0]\n'
        '[[map]]\nmidi = { note = 39 }\nto = "dir[1]"\nrange = [0.0, 127.0]\n')  # velocity
    router.midi(note(36))
    router.midi(note(36, on=False))
    router.midi(note(36, velocity=1))
    assert controls.snapshot().events == [("seed", 5), ("seed", 5)]
    for on in (True, False, True, False, True):
        router.midi(note(37, on=on))
    assert controls.app_events() == [("hud", True), ("hud", False), ("hud", True)]
    router.midi(note(38))
    assert dirs(controls)[0] == 2.0
    router.midi(note(38, velocity=0))  # note-on with velocity 0 is a note-off
    assert dirs(controls)[0] == 0.0
    router.midi(note(39, velocity=90))
    assert dirs(controls)[1] == pytest.approx(90)
    router.midi(note(39, on=False))
    assert dirs(controls)[1] == 0.0


def test_pitch_bend_centre_is_the_middle_of_the_range() -> None:
    router, controls = make('[[map]]\nmidi = { pitchbend = true }\nto = "dir[3]"\n'
                            'range = [-2.0, 2.0]\n')
    router.midi(mido.Message("pitchwheel", pitch=8191))
    assert dirs(controls)[3] == pytest.approx(2.0)
    router.midi(mido.Message("pitchwheel", pitch=-8192))
    assert dirs(controls)[3] == pytest.approx(-2.0)
    router.midi(mido.Message("pitchwheel", pitch=0))
    assert abs(dirs(controls)[3]) < 1e-3


def test_cc_buttons_fire_once_per_press() -> None:
    router, controls = make('[[map]]\nmidi = { cc = 41 }\nto = "mode"\nvalue = "hold"\n'
                            '[[map]]\nmidi = { cc = 45 }\nto = "record"\npress = "toggle"\n')
    router.midi(cc(41, 127))
    assert controls.mode == "hold"
    controls.set_mode("walk")
    router.midi(cc(41, 127))  # still held: no new press
    assert controls.mode == "walk"
    for value in (127, 0, 127, 0):
        router.midi(cc(45, value))
    assert controls.app_events() == [("record", True), ("record", False)]


def test_a_knob_through_choices_sends_each_once() -> None:
    router, controls = make('[[map]]\nmidi = { cc = 5 }\nto = "key"\nrange = [0.0, 3.0]\n')
    for value in range(128):
        router.midi(cc(5, value))
    assert controls.snapshot().events == [("key", k) for k in range(4)]


def test_keys_trigger_and_toggle() -> None:
    router, controls = make('[[map]]\nkey = "space"\nto = "mode"\npress = "toggle"\n'
                            'value = "hold"\n[[map]]\nkey = "k"\nto = "key_store"\nvalue = 3\n'
                            '[[map]]\nkey = "up"\nto = "speed"\nvalue = 0.5\n')
    assert router.key("space") and controls.mode == "hold"
    assert router.key("SPACE") and controls.mode == "walk"
    router.key("k")
    router.key("up")
    assert controls.snapshot().events == [("key_store", 3)]
    assert controls.param("speed") == 0.5
    assert not router.key("q")


def test_z_components_and_dir_by_name() -> None:
    router, controls = make('[[map]]\nmidi = { cc = 1 }\nto = "z"\nindex = 4\n'
                            '[[map]]\nmidi = { cc = 2 }\nto = "dir[calm]"\n')
    router.midi(cc(1, 127))
    router.midi(cc(2, 0))
    snap = controls.snapshot()
    assert snap.z_updates == {4: pytest.approx(3.0)} and snap.dirs[3] == pytest.approx(-3.0)


def test_beats_follow_the_tempo() -> None:
    router, controls = make('[motion]\nspeed = 0.5\nspeed_unit = "beats"\n'
                            '[[map]]\nmidi = { cc = 9 }\nto = "speed"\nrange = [0.0, 1.0]\n')
    controls.set_param("tempo", 120.0)
    router.tick()
    assert controls.param("speed") == pytest.approx(1.0)  # 0.5 per beat at 2 beats/s
    controls.set_param("tempo", 60.0)
    router.tick()
    assert controls.param("speed") == pytest.approx(0.5)
    router.midi(cc(9, 127))  # 1.0 per beat
    assert controls.param("speed") == pytest.approx(1.0)
