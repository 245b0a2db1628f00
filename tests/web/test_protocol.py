"""The page's pure parts: message parsing, pairing's lockout, patches made on the page."""

from __future__ import annotations

import mido
import pytest

from livegan.control.oscquery.tree import Live
from livegan.control.web import protocol
from livegan.control.web.pairing import LOCKED_S, MAX_WRONG, Pairing, PairingRefused
from livegan.control.web.patchedit import LearnSession, PatchEditor, scene_toml
from livegan.control.web.protocol import Refused
from livegan.patchfile.load import parse_patch


@pytest.mark.parametrize("text, command", [
    ('{"type": "osc", "address": "/livegan/speed", "args": [0.5]}',
     protocol.Osc("/livegan/speed", (0.5,))),
    ('{"type": "osc", "address": "/livegan/seed", "args": [3, 2.0, true, "x"]}',
     protocol.Osc("/livegan/seed", (3, 2.0, True, "x"))),
    ('{"type": "osc", "address": "/livegan/snapshot"}', protocol.Osc("/livegan/snapshot", ())),
    ('{"COMMAND": "LISTEN", "DATA": "/livegan/speed"}', protocol.Listen("/livegan/speed", True)),
    ('{"COMMAND": "IGNORE", "DATA": "/livegan/speed"}', protocol.Listen("/livegan/speed", False)),
    ('{"type": "learn", "target": "dir", "index": 3}', protocol.Learn("dir[3]")),
    ('{"type": "learn", "target": "scene", "value": "calm"}', protocol.Learn("scene", "calm")),
    ('{"type": "learn", "cancel": true}', protocol.Learn(None)),
    ('{"type": "save"}', protocol.Save(None)),
    ('{"type": "save", "name": "my-patch_2"}', protocol.Save("my-patch_2")),
    ('{"type": "scene", "store": "calm"}', protocol.StoreScene("calm")),
    ('{"type": "pair", "code": " 012345 "}', protocol.Pair("012345")),
    ('{"type": "pair", "code": 12345}', protocol.Pair("012345")),
])
def test_messages_parse_into_commands(text: str, command: object) -> None:
    assert protocol.parse(text) == command


@pytest.mark.parametrize("text, kind", [
    ("", "malformed"), ("{", "malformed"), ('"osc"', "malformed"),
    ('{"type": "osc", "address": "/x", "args": [NaN]}', "nonfinite"),
    ('{"type": "osc", "address": "/x", "args": [-Infinity]}', "nonfinite"),
    ('{"type": "osc", "address": "/x", "args": [null]}', "bad_args"),
    ('{"type": "osc", "address": "/x", "args": [[1]]}', "bad_args"),
    ('{"type": "osc", "address": "/x", "args": [1e400]}', "nonfinite"),
    ('{"type": "osc", "address": "/x", "args": [99999999999999999999999]}', "bad_args"),
    ('{"type": "osc", "address": "/x", "args": "1"}', "bad_args"),
    ('{"type": "osc", "address": "/a b", "args": []}', "bad_args"),
    ('{"type": "osc", "address": "/a\\u0000", "args": []}', "bad_args"),
    ('{"type": "osc", "address": 5}', "bad_args"),
    ('{"type": "learn", "target": "dir", "index": -1}', "bad_args"),
    ('{"type": "learn"}', "bad_args"),
    ('{"type": "save", "name": "../x"}', "bad_name"),
    ('{"type": "save", "name": "a.toml"}', "bad_name"),
    ('{"type": "scene", "store": ""}', "bad_name"),
    ('{"type": 3}', "unknown"), ("{}", "unknown"),
])
def test_bad_messages_name_their_counter(text: str, kind: str) -> None:
    with pytest.raises(Refused) as refused:
        protocol.parse(text)
    assert refused.value.kind == kind and str(refused.value)


def test_values_changes_and_ranges() -> None:
    tree = {"FULL_PATH": "/", "CONTENTS": {"a": {"FULL_PATH": "/a", "VALUE": [1.0],
                                                 "RANGE": [{"MIN": 0.0, "MAX": 2.0}]}}}
    assert protocol.tree_values(tree) == {"/a": [1.0]}
    assert protocol.changes({"/a": [1.0], "/b": [2]}, {"/a": [1.5], "/b": [2]}) == {"/a": [1.5]}
    ranges = protocol.tree_ranges(tree)["/a"]
    assert protocol.out_of_range((3.0,), ranges) and not protocol.out_of_range((2.0,), ranges)
    assert not protocol.out_of_range(("x",), ranges)


def test_five_wrong_codes_lock_an_address_out_for_a_minute() -> None:
    now = [0.0]
    pairing = Pairing(clock=lambda: now[0], code="424242")
    for _ in range(MAX_WRONG - 1):
        with pytest.raises(PairingRefused, match="wrong"):
            pairing.attempt("10.0.0.7", "000000")
    with pytest.raises(PairingRefused) as locked:
        pairing.attempt("10.0.0.7", "000000")
    assert locked.value.kind == "pair_locked"
    with pytest.raises(PairingRefused, match="wait"):
        pairing.attempt("10.0.0.7", "424242")  # even the right code waits
    token = pairing.attempt("10.0.0.8", "424242")  # another device is not held up
    assert pairing.valid(token) and not pairing.valid("x" * 43) and not pairing.valid(None)
    now[0] += LOCKED_S + 1
    assert pairing.valid(pairing.attempt("10.0.0.7", "424242"))


def test_pairing_codes_are_six_fresh_digits() -> None:
    codes = {Pairing().code for _ in range(20)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 1


def test_learned_controls_become_mappings_that_the_patch_loader_accepts(tmp_path) -> None:
    learn = LearnSession()
    learn.arm("bend[16/rotate]")
    assert learn.midi(mido.Message("clock")) is None  # not a control: still waiting
    made = learn.midi(mido.Message("control_change", control=16, value=1))
    assert made is not None and made.source == "CC 16 ch 1" and not learn.armed
    learn.arm("scene", "calm")
    button = learn.midi(mido.Message("note_on", note=60, velocity=100, channel=9))
    learn.arm("truncation")
    assert learn.osc("/livegan/speed", (1.0,)) is None  # livegan's own addresses are taken
    fader = learn.osc("/1/fader4", (0.5, 0.1))
    editor = PatchEditor(parse_patch, "[scenes.calm]\nspeed = 0.5\n", tmp_path / "p.toml")
    for mapping in (made, button, fader):
        patch = editor.add_map(mapping.toml)
    rotate, scene, truncation = patch.maps
    assert rotate.target.bend == ("16", "rotate") and rotate.out_range() == (-180.0, 180.0)
    assert scene.value == "calm" and scene.source.channel == 10
    assert truncation.source.arg == 0 and truncation.out_range() == (0.0, 2.0)
    with pytest.raises(Refused):
        learn.arm("nowhere")


def test_a_stored_scene_replaces_the_one_of_its_name(tmp_path) -> None:
    text = "# mine\n[scenes.calm]\nspeed = 0.5\n[scenes.calm.dir]\nwarm = 1.0\n" \
           "[scenes.wild]\nspeed = 2.0\n"
    editor = PatchEditor(parse_patch, text, tmp_path / "p.toml")
    live = Live(params={"speed": 0.25, "truncation": 0.7, "smooth": 0.1, "morph": 0.0},
                mode="hold", dirs=[0.5, -1.0], bends={("8", "rotate"): (45.0,)})
    patch = editor.store_scene("calm", scene_toml("calm", live))
    calm = patch.scenes["calm"]
    assert calm.params["speed"] == 0.25 and calm.mode == "hold" and calm.dirs == (0.5, -1.0)
    assert calm.dir == {} and calm.bend == {"8/rotate": (45.0,)}
    assert patch.scenes["wild"].params["speed"] == 2.0 and "# mine" in editor.text()
    path = editor.save("copy")
    assert parse_patch(path.read_text(), path).scenes["calm"].params["speed"] == 0.25
    assert [p.name for p in tmp_path.iterdir()] == ["copy.toml"]  # no temporary file left
