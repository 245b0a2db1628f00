"""The control page against a real headless show: the page's messages move the controls and
the picture, values come back from UDP OSC, the HUD figures, MIDI learn, saved patches that
`livegan perform` plays, and a device that must pair."""

from __future__ import annotations

import mido
import numpy as np
import pytest
from pagerig import PageClient
from showdriver import drive, frames_after, headless_show, until

from livegan.cli import main
from livegan.control.osc.sender import OscSender
from livegan.patchfile.load import load_patch, parse_patch
from livegan.perform import Performance

LIMIT = 60.0  # seconds before the watchdog ends a show (a hang, not a timing)
PATCH = """\
[scenes.calm]
speed = 0.02
"""


def page(show: Performance, **connect) -> PageClient:
    assert show.web is not None and show.web.page_port is not None
    return PageClient(f"http://127.0.0.1:{show.web.page_port}/ws", **connect)


def make_show(tmp_path, make_tiny_model, **overrides) -> Performance:
    model = make_tiny_model(tmp_path / "tiny.safetensors")
    return headless_show(str(model), str(tmp_path / "out"), (64, 64), 100000, **overrides)


@pytest.mark.usefixtures("dummy_video")
def test_the_page_moves_controls_and_the_picture_and_hears_udp_osc(tmp_path,
                                                                   make_tiny_model) -> None:
    show = make_show(tmp_path, make_tiny_model)
    clients: list = []

    def script(show: Performance):
        yield
        clients.append(client := page(show))
        yield from until(lambda: client.seen("hello") is not None)
        client.send({"type": "osc", "address": "/livegan/mode", "args": ["hold"]})
        yield from until(lambda: show.controls.mode == "hold")
        before = (yield from frames_after(show, 2))[-1]
        client.send({"type": "osc", "address": "/livegan/speed", "args": [0.6]})
        client.send({"type": "osc", "address": "/livegan/truncation", "args": [0.2]})
        yield from until(lambda: show.controls.param("truncation") == pytest.approx(0.2))
        after = (yield from frames_after(show, 1))[0]
        assert show.controls.param("speed") == pytest.approx(0.6)
        assert np.abs(after.astype(int) - before.astype(int)).mean() > 1.0  # it moved
        sender = OscSender("127.0.0.1", show.osc.port)
        sender.send("/livegan/smooth", 2.5)
        sender.close()
        yield from until(lambda: client.seen("values", lambda m: m["values"].get(
            "/livegan/smooth") == [pytest.approx(2.5)]) is not None)
        yield from until(lambda: client.seen("values", lambda m: m.get("hud", {}).get(
            "frame", 0) > 0 and m["hud"]["fps"] > 0) is not None)

    try:
        drive(show, script, LIMIT)
    finally:
        for c in clients:
            c.close()
    hello = clients[0].seen("hello")
    assert hello["model"] == "tiny" and hello["paired"] is True
    assert "speed" in hello["tree"]["CONTENTS"]["livegan"]["CONTENTS"]


@pytest.mark.usefixtures("dummy_video")
def test_learn_from_midi_then_save_a_patch_that_perform_plays(tmp_path, make_tiny_model,
                                                              monkeypatch) -> None:
    path = tmp_path / "show.toml"
    path.write_text(PATCH)
    show = make_show(tmp_path, make_tiny_model, patch=parse_patch(PATCH, path))
    clients: list = []

    def script(show: Performance):
        yield
        clients.append(client := page(show))
        yield from until(lambda: client.seen("hello") is not None)
        client.send({"type": "learn", "target": "truncation"})
        yield from until(lambda: client.seen("learning") is not None)
        show.inputs.midi.feed(mido.Message("control_change", control=7, value=10))
        yield from until(lambda: client.seen("learned") is not None)
        yield from until(lambda: len(show.inputs.router.patch.maps) == 1)
        show.inputs.midi.feed(mido.Message("control_change", control=7, value=127))
        yield from until(lambda: show.controls.param("truncation") == pytest.approx(2.0))
        client.send({"type": "scene", "store": "wide"})
        yield from until(lambda: "wide" in show.inputs.router.patch.scenes)
        client.send({"type": "save", "name": "learned"})
        yield from until(lambda: client.seen("saved") is not None)

    try:
        drive(show, script, LIMIT)
    finally:
        for c in clients:
            c.close()
    saved = tmp_path / "learned.toml"
    assert clients[0].seen("saved")["path"] == str(saved)
    patch = load_patch(saved)
    assert patch.maps[0].source.number == 7 and patch.maps[0].target.name == "truncation"
    assert patch.scenes["wide"].params["truncation"] == pytest.approx(2.0)
    monkeypatch.setenv("LIVEGAN_MODELS", str(tmp_path))
    assert main(["perform", str(saved), "--model", str(tmp_path / "tiny.safetensors"),
                 "--frames", "5", "--backend", "cpu", "--osc-port", "0", "--no-web",
                 "--size", "64x64", "--out-dir", str(tmp_path / "out")]) == 0


@pytest.mark.usefixtures("dummy_video")
def test_a_device_on_the_network_must_pair_first(tmp_path, make_tiny_model) -> None:
    show = make_show(tmp_path, make_tiny_model)
    assert show.web is not None
    show.web.trust_loopback = False  # 127.0.0.1 plays a phone on the stage network
    clients: list = []

    def script(show: Performance):
        yield
        clients.append(client := page(show))
        yield from until(lambda: client.seen("hello") is not None)
        assert client.seen("hello") == {"type": "hello", "paired": False}
        client.send({"type": "osc", "address": "/livegan/speed", "args": [4.0]})
        client.send({"type": "pair", "code": "12345x"})
        yield from until(lambda: len([m for m in client.messages
                                      if m["type"] == "pair"]) == 2)
        client.send({"type": "pair", "code": show.web.pairing.code})
        yield from until(lambda: client.seen("hello", lambda m: m["paired"]) is not None)
        client.send({"type": "osc", "address": "/livegan/speed", "args": [4.0]})
        yield from until(lambda: show.controls.param("speed") == 4.0)

    try:
        drive(show, script, LIMIT)
    finally:
        for c in clients:
            c.close()
    answers = [m for m in clients[0].messages if m["type"] == "pair"]
    assert [m["ok"] for m in answers] == [False, False, True]
    assert show.web.counts["pair_wrong"] == 1 and show.web.counts["unpaired"] == 1
