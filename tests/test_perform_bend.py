"""Network bending in a running headless show: OSC over a real UDP socket and a patch
mapping bend the frames on screen, and /livegan/bend/off brings the unbent frame back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pythonosc.udp_client import SimpleUDPClient
from showdriver import drive, frames_after, until

from livegan.control.osc.config import OscConfig
from livegan.patchfile.load import parse_patch
from livegan.perform import Performance
from livegan.performconfig import PerformConfig
from livegan.show.outputs import OutputsConfig
from livegan.show.window import WindowConfig

LIMIT = 60.0


def _show(model: Path, tmp_path: Path, patch: str = "") -> Performance:
    return Performance(PerformConfig(model=str(model), backend="cpu", osc=OscConfig(port=0),
                                     window=WindowConfig(size=(64, 64)), frames=100_000,
                                     outputs=OutputsConfig(out_dir=str(tmp_path / "out")),
                                     patch=parse_patch(patch) if patch else None))




def _held(show: Performance, client: SimpleUDPClient):
    """Inside a script: hold the latent still, so only bends change the picture."""
    client.send_message("/livegan/mode", "hold")
    client.send_message("/livegan/speed", 0.0)
    client.send_message("/livegan/smooth", 0.0)
    yield from until(lambda: show.controls.mode == "hold" and show.controls.param("speed") == 0.0
                     and show.controls.param("smooth") == 0.0)
    frames = yield from frames_after(show, 3)
    assert np.array_equal(frames[-1], frames[-2]), "hold should hold the picture"
    return frames[-1]


def _diff(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def test_osc_bends_the_frame_on_screen(dummy_video, tiny_model: Path, tmp_path: Path) -> None:
    show = _show(tiny_model, tmp_path)

    def script(show: Performance):
        yield
        client = SimpleUDPClient("127.0.0.1", show.osc.port)
        plain = yield from _held(show, client)
        client.send_message("/livegan/bend/8/rotate", 90.0)
        client.send_message("/livegan/bend/16/flip", [1.0, 0.0])
        yield from until(lambda: len(show.controls.snapshot().bends) == 2)
        bent = (yield from frames_after(show, 2))[-1]
        assert _diff(bent, plain) > 1.0, "the bends did not change the frame"
        assert any(line.startswith("bends 8/rotate 90 16/flip 1,0") for line in show.hud_lines())
        client.send_message("/livegan/bend/off", [])
        yield from until(lambda: not show.controls.bends.current())
        after = (yield from frames_after(show, 2))[-1]
        assert np.array_equal(after, plain), "bends off should give the unbent frame"

    drive(show, script, LIMIT)
    assert show.inputs.dispatcher.counts == {"unknown": 0, "bad_args": 0}
    assert show.stage.errors == 0 and show.stage.bends.errors == 0


def test_a_patch_mapping_bends_the_frame(dummy_video, tiny_model: Path, tmp_path: Path) -> None:
    patch = '[[map]]\nosc = "/knob"\nto = "bend[8/scale]"\nrange = [0, 2]\n'
    show = _show(tiny_model, tmp_path, patch)

    def script(show: Performance):
        yield
        client = SimpleUDPClient("127.0.0.1", show.osc.port)
        plain = yield from _held(show, client)
        client.send_message("/knob", 0.5)  # 0..1 over the range: zoom 1 (twice as large)
        yield from until(lambda: show.controls.bends.current() == {("8", "scale"): (1.0,)})
        bent = (yield from frames_after(show, 2))[-1]
        assert _diff(bent, plain) > 1.0

    drive(show, script, LIMIT)
    assert show.stage.errors == 0
