"""Syphon (macOS) and Spout (Windows) outputs with stand-ins for syphon-python and SpoutGL:
frames reach them, and absent or failing, each is one clear line and the show goes on."""

from __future__ import annotations

import builtins
import sys
import threading
import types

import numpy as np
import pytest
from showdriver import failed_out_warning, warnings_from

from livegan.show.videoout import GL_RGBA, SpoutOut, SyphonOut, open_video_outs

SYPHON_MODULES = ("syphon", "syphon.utils", "syphon.utils.numpy", "syphon.utils.raw")


def fake_syphon(monkeypatch, fail: str | None = None) -> list:
    """syphon-python's Metal server API; returns the list of what it was asked to do."""
    calls: list = []

    class SyphonMetalServer:
        def __init__(self, name: str) -> None:
            if fail:
                raise RuntimeError(fail)
            self.device = "metal-device"
            calls.append(("server", name))

        def publish_frame_texture(self, texture) -> None:
            calls.append(("publish", texture["size"], texture["pixel"]))

        def stop(self) -> None:
            calls.append(("stop",))

    def create_mtl_texture(device, width, height):
        assert device == "metal-device"
        return {"size": (width, height), "pixel": None}

    def copy_image_to_mtl_texture(image: np.ndarray, texture) -> None:
        width, height = texture["size"]
        assert image.shape == (height, width, 4) and image.dtype == np.uint8
        assert (image[:, :, 3] == 255).all()
        texture["pixel"] = tuple(int(v) for v in image[0, 0, :3])

    parts = [types.ModuleType(name) for name in SYPHON_MODULES]
    parts[0].SyphonMetalServer = SyphonMetalServer
    parts[2].copy_image_to_mtl_texture = copy_image_to_mtl_texture
    parts[3].create_mtl_texture = create_mtl_texture
    for module in parts:
        monkeypatch.setitem(sys.modules, module.__name__, module)
    return calls


def fake_spout(monkeypatch, accept: bool = True) -> list:
    """SpoutGL's sender API; returns the list of what it was asked to do."""
    calls: list = []

    class SpoutSender:
        def setSenderName(self, name: str) -> None:
            calls.append(("name", name))

        def sendImage(self, buffer, width, height, gl_format, invert, host_fbo) -> bool:
            assert buffer.shape == (height, width, 4) and gl_format == GL_RGBA
            calls.append(("image", width, height, int(buffer[0, 0, 0])))
            return accept

        def setFrameSync(self, name: str) -> None:
            calls.append(("sync", name))

        def releaseSender(self) -> None:
            calls.append(("release",))

    module = types.ModuleType("SpoutGL")
    module.SpoutSender = SpoutSender
    monkeypatch.setitem(sys.modules, "SpoutGL", module)
    return calls


def _sent(out, frame: np.ndarray) -> None:
    """Send one frame and wait until the sink's thread has passed it on (or failed)."""
    before = out.sent
    out.send(frame)
    for _ in range(2000):
        if out.sent > before or out.failed:
            return
        threading.Event().wait(0.01)
    raise AssertionError("the frame never left")


def test_missing_libraries_are_one_line_each_naming_the_extra(monkeypatch, caplog):
    for name in (*SYPHON_MODULES, "SpoutGL"):
        monkeypatch.setitem(sys.modules, name, None)
    assert open_video_outs(syphon="livegan", spout="livegan") == []
    messages = warnings_from(caplog)
    assert len(messages) == 2
    assert "syphon-python is not installed (pip install 'livegan[syphon]' (macOS only))" \
        in messages[0]
    assert "SpoutGL is not installed (pip install 'livegan[spout]' (Windows only))" \
        in messages[1]
    assert all("the show goes on" in m for m in messages)


def test_frames_reach_syphon_and_a_new_size_keeps_the_server(monkeypatch):
    calls = fake_syphon(monkeypatch)
    (out,) = open_video_outs(syphon="stage left")
    assert isinstance(out, SyphonOut)
    _sent(out, np.full((8, 8, 3), 7, np.uint8))
    _sent(out, np.full((16, 8, 3), 9, np.uint8))  # a model swap changed the frame size
    out.close()
    assert not out.failed
    assert calls == [("server", "stage left"), ("publish", (8, 8), (7, 7, 7)),
                     ("publish", (8, 16), (9, 9, 9)), ("stop",)]


def test_frames_reach_spout_and_a_new_size_reopens_the_sender(monkeypatch):
    calls = fake_spout(monkeypatch)
    (out,) = open_video_outs(spout="livegan")
    assert isinstance(out, SpoutOut)
    _sent(out, np.full((8, 8, 3), 3, np.uint8))
    _sent(out, np.full((16, 8, 3), 4, np.uint8))
    out.close()
    assert calls == [("name", "livegan"), ("image", 8, 8, 3), ("sync", "livegan"),
                     ("release",), ("name", "livegan"), ("image", 8, 16, 4),
                     ("sync", "livegan"), ("release",)]


@pytest.mark.parametrize("which", ["syphon", "spout"])
def test_a_failing_sink_is_one_line_and_sending_goes_on(monkeypatch, caplog, which):
    if which == "syphon":
        fake_syphon(monkeypatch, fail="no Metal device")
        out = SyphonOut("livegan")
    else:
        fake_spout(monkeypatch, accept=False)
        out = SpoutOut("livegan")
    _sent(out, np.zeros((8, 8, 3), np.uint8))
    message = failed_out_warning(out, caplog)
    hint = "macOS 11" if which == "syphon" else "OpenGL driver"
    cause = "no Metal device" if which == "syphon" else "refused the frame"
    assert cause in message and hint in message and "the show goes on" in message


@pytest.mark.parametrize("name", ["SpoutGL", "syphon"])
def test_a_library_that_cannot_load_is_one_clear_line(monkeypatch, caplog, name):
    real_import = builtins.__import__

    def broken(module, *args, **kwargs):
        if module.split(".")[0] == name:
            raise OSError(f"{name}: the specified native library could not be loaded")
        return real_import(module, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", broken)
    assert open_video_outs(**{name.lower().replace("gl", ""): "livegan"}) == []
    (message,) = warnings_from(caplog)
    assert "cannot load" in message and "native library" in message
    assert ("Metal GPU" if name == "syphon" else "OpenGL driver") in message


def test_the_command_line_names_the_senders():
    from livegan.cli import build_parser

    args = build_parser().parse_args(["perform", "--syphon", "--spout", "deck B"])
    assert (args.syphon, args.spout) == ("livegan", "deck B")
    args = build_parser().parse_args(["perform"])
    assert args.syphon is None and args.spout is None


@pytest.mark.usefixtures("dummy_video")
def test_a_show_sends_its_frames_to_syphon_and_spout(tmp_path, make_tiny_model, monkeypatch):
    from livegan.control.osc.config import OscConfig
    from livegan.perform import Performance
    from livegan.performconfig import PerformConfig
    from livegan.show.outputs import OutputsConfig
    from livegan.show.window import WindowConfig

    syphon_calls, spout_calls = fake_syphon(monkeypatch), fake_spout(monkeypatch)
    model = make_tiny_model(tmp_path / "m.safetensors", arch="dcgan")
    cfg = PerformConfig(model=str(model), backend="cpu", osc=OscConfig(port=0), frames=20,
                        outputs=OutputsConfig(out_dir=str(tmp_path / "out"), syphon="livegan",
                                              spout="livegan"),
                        window=WindowConfig(size=(64, 64)))
    assert Performance(cfg).run() == 20
    assert syphon_calls[0] == ("server", "livegan") and syphon_calls[-1] == ("stop",)
    assert any(c[0] == "publish" for c in syphon_calls)  # the newest frames, not every one
    assert spout_calls[0] == ("name", "livegan") and spout_calls[-1] == ("release",)
    assert any(c[0] == "image" for c in spout_calls)
