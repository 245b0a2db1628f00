"""Bends on the control side: OSC routes, patch targets from OSC, MIDI, sound and scenes,
and bad input counted, logged at a limited rate and clipped."""

from __future__ import annotations

import logging
import math

import mido
import pytest

from livegan.bendops import parse_bend
from livegan.control.audio.features import AudioValues
from livegan.control.controls import Controls
from livegan.control.inputs import namespace_entries
from livegan.control.osc.dispatch import Dispatcher
from livegan.control.osc.namespace import OscNamespace
from livegan.control.osc.wire import encode_message, parse_datagram
from livegan.control.patch.audio import AudioRoutes
from livegan.control.patch.router import Router
from livegan.errors import PatchError
from livegan.patchfile.load import parse_patch

LAYERS = ("4", "8", "16", "32")
SENDER = ("127.0.0.1", 9000)


@pytest.fixture
def controls() -> Controls:
    c = Controls(128, 4)
    c.bends.set_layers(LAYERS)
    return c


def send(dispatcher: Dispatcher, address: str, *args: object) -> None:
    """A message as it comes off the wire: encoded, parsed, dispatched."""
    messages, _ = parse_datagram(encode_message(address, *args))
    for message_address, message_args in messages:
        dispatcher(message_address, message_args, SENDER)


def test_osc_sets_and_clears_bends(controls: Controls) -> None:
    d = Dispatcher(OscNamespace(controls).table())
    version = controls.version
    send(d, "/livegan/bend/16/rotate", 45.0)
    send(d, "/livegan/bend/8/translate", 0.25, -0.5)
    send(d, "/livegan/bend/8/translate", 0.125)  # the first amount only: y stays
    send(d, "/livegan/bend/4/invert", 1)  # Max sends ints
    snap = controls.snapshot()
    assert snap.bends == {("16", "rotate"): (45.0,), ("8", "translate"): (0.125, -0.5),
                          ("4", "invert"): (1.0,)}
    assert snap.version > version
    send(d, "/livegan/bend/16/rotate", 0.0)  # back to zero: the bend is off
    assert ("16", "rotate") not in controls.snapshot().bends
    send(d, "/livegan/bend/off")
    assert controls.snapshot().bends == {}
    assert d.counts == {"unknown": 0, "bad_args": 0}


def test_bad_bends_are_counted_logged_once_and_clipped(controls: Controls, caplog) -> None:
    d = Dispatcher(OscNamespace(controls).table())
    send(d, "/livegan/bend/16/rotate", 30.0)
    with caplog.at_level(logging.WARNING, logger="livegan.control.bendcontrols"):
        for _ in range(50):  # a flood of each kind: counted every time, logged once
            send(d, "/livegan/bend/99/rotate", 10.0)
            send(d, "/livegan/bend/16/wobble", 1.0)
            send(d, "/livegan/bend/8/rotate", 720.0)
            send(d, "/livegan/bend/8/noise", 0.5, 1.0, 7.0)
            send(d, "/livegan/bend/16/rotate", "x")
        controls.set_bend("16", "rotate", [math.nan])
        controls.set_bend("16", "rotate", [math.inf])
    counts = controls.bends.counts
    assert counts == {"unknown_layer": 50, "unknown_op": 50, "clipped": 50, "not_finite": 2,
                      "extra": 50}
    bends = controls.snapshot().bends
    assert bends[("8", "rotate")] == (180.0,)  # clipped to the op's range
    assert bends[("8", "noise")] == (0.5, 1.0)  # the extra amount ignored
    assert bends[("16", "rotate")] == (30.0,)  # NaN and inf left it where it was
    assert ("99", "rotate") not in bends and ("16", "wobble") not in bends
    assert d.counts["bad_args"] == 150  # unknown layers, ops and a string
    messages = [r.getMessage() for r in caplog.records]
    for words in ("no layer '99'", "unknown bend op 'wobble'", "clipped", "past the op's",
                  "not finite"):
        assert sum(words in m for m in messages) == 1, (words, messages)


def test_a_new_model_keeps_the_bends_on_layers_it_has(controls: Controls) -> None:
    controls.set_bend("32", "rotate", [10.0])
    controls.set_bend("8", "flip", [1.0])
    controls.bends.set_layers(["4", "8", "16"])
    assert controls.snapshot().bends == {("8", "flip"): (1.0, 0.0)}
    assert not controls.set_bend("32", "rotate", [10.0])


def test_the_namespace_answers_the_ops_and_the_models_layers() -> None:
    entries = {address: what for address, _, what in namespace_entries(None, LAYERS)}
    what = entries["/livegan/bend/{layer}/{op}"]
    assert "layers 4, 8, 16, 32" in what and "rotate" in what and "noise" in what
    assert "/livegan/bend/off" in entries


PATCH = """
[[map]]
osc = "/fader"
to = "bend[16/rotate]"
range = [-90, 90]

[[map]]
midi = { cc = 21 }
to = "bend[8/translate/1]"

[[map]]
audio = "bass"
to = "bend[8/noise]"

[scenes.warp]
bend = { "16/rotate" = 45, "8/translate" = [0.25, 0.5] }
glide = 0
"""


def test_patch_mappings_drive_bends_from_osc_midi_sound_and_scenes(controls: Controls) -> None:
    router = Router(controls, parse_patch(PATCH))
    assert router.osc("/fader", (1.0,))
    router.midi(mido.Message("control_change", control=21, value=127))
    AudioRoutes(router).apply(AudioValues(bass=0.5))
    assert controls.snapshot().bends == {("16", "rotate"): (90.0,),
                                         ("8", "translate"): (0.0, 1.0),  # the op's range
                                         ("8", "noise"): (0.5, 0.0)}
    router.recall_scene("warp")
    router.tick()
    bends = controls.snapshot().bends
    assert bends[("16", "rotate")] == (45.0,) and bends[("8", "translate")] == (0.25, 0.5)


def test_a_mapping_to_a_layer_the_model_lacks_is_counted(controls: Controls) -> None:
    router = Router(controls, parse_patch('[[map]]\nosc = "/x"\nto = "bend[64/rotate]"\n'))
    assert not router.osc("/x", (0.5,))
    assert controls.bends.counts["unknown_layer"] == 1
    assert controls.snapshot().bends == {}


@pytest.mark.parametrize("body, words", [
    ('[[map]]\nosc = "/x"\nto = "bend[16/wobble]"\n', "map[0].to"),
    ('[[map]]\nosc = "/x"\nto = "bend[16/rotate/1]"\n', "rotate has 1 amount"),
    ('[[map]]\nosc = "/x"\nto = "bend"\n', "bend[layer/op]"),
    ('[scenes.a]\nbend = { "16/wobble" = 1 }\n', "scenes.a.bend.16/wobble"),
    ('[scenes.a]\nbend = { "16/rotate" = [1, 2] }\n', "scenes.a.bend.16/rotate"),
    ('[scenes.a]\nbend = 3\n', "scenes.a.bend"),
])
def test_bad_bend_targets_and_scene_bends_say_where(body: str, words: str) -> None:
    with pytest.raises(PatchError) as err:
        parse_patch(body, "live.toml")
    assert words in str(err.value) and "live.toml" in str(err.value)


def test_the_text_form_of_a_bend() -> None:
    assert parse_bend("8/translate=0.2,-0.1") == ("8", "translate", [0.2, -0.1])
    for bad in ("8/rotate", "rotate=1", "8/rotate=x", "8/rotate=1,2", "8/wobble=1"):
        with pytest.raises(ValueError):
            parse_bend(bad)


def test_an_unknown_bend_layer_is_said_once_in_its_own_words(controls: Controls,
                                                             caplog: pytest.LogCaptureFixture
                                                             ) -> None:
    """/livegan/bend/99/rotate 45.0 is a float for a layer the model lacks: one line naming
    the layer, counted as dropped, and no '(expected f…)' for an argument that was right."""
    import logging

    from livegan.control.osc.dispatch import Dispatcher
    from livegan.control.osc.namespace import OscNamespace

    caplog.set_level(logging.WARNING)
    dispatcher = Dispatcher(OscNamespace(controls).table())
    dispatcher("/livegan/bend/99/rotate", (45.0,), ("127.0.0.1", 9))
    assert "no layer '99'" in caplog.text and "expected" not in caplog.text
    assert dispatcher.counts["bad_args"] == 1 and controls.bends.counts["unknown_layer"] == 1
