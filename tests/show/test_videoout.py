"""Video out: NDI and virtual camera are optional; absent or broken, one message and the show goes on."""

from __future__ import annotations

import sys
import threading
import types

import numpy as np
import pytest
from showdriver import failed_out_warning, warnings_from

from livegan.control.osc.config import OscConfig
from livegan.perform import Performance
from livegan.performconfig import PerformConfig
from livegan.show.outputs import OutputsConfig
from livegan.show.videoout import VirtualCamOut, open_video_outs
from livegan.show.window import WindowConfig


@pytest.fixture
def no_video_libs(monkeypatch):
    """Make cyndilib and pyvirtualcam unimportable, whether or not they are installed."""
    for name in ("cyndilib", "cyndilib.sender", "cyndilib.video_frame",
                 "cyndilib.wrapper.ndi_structs", "pyvirtualcam"):
        monkeypatch.setitem(sys.modules, name, None)


def fake_pyvirtualcam(monkeypatch, fail: str | None = None) -> list:
    """Install a stand-in pyvirtualcam module; returns the list its cameras append to."""
    received: list = []

    class Camera:
        def __init__(self, width: int, height: int, fps: float, fmt: str) -> None:
            if fail:
                raise RuntimeError(fail)
            self.device = "/dev/video9"
            self.size = (width, height)
            received.append(("open", width, height))

        def send(self, frame: np.ndarray) -> None:
            assert frame.shape == (self.size[1], self.size[0], 3)
            received.append(("frame", int(frame[0, 0, 0])))

        def close(self) -> None:
            received.append(("close",))

    module = types.SimpleNamespace(Camera=Camera, PixelFormat=types.SimpleNamespace(RGB="RGB"))
    monkeypatch.setitem(sys.modules, "pyvirtualcam", module)
    return received


def test_missing_libraries_are_one_clear_message_each(no_video_libs, caplog):
    outs = open_video_outs(ndi="stage", vcam=True)
    assert outs == []
    messages = warnings_from(caplog)
    assert len(messages) == 2
    assert "cyndilib is not installed (pip install 'livegan[ndi]')" in messages[0]
    assert "pyvirtualcam is not installed (pip install 'livegan[vcam]')" in messages[1]
    assert all("the show goes on" in m for m in messages)


def test_a_missing_runtime_is_one_message_and_sending_goes_on(monkeypatch, caplog):
    fake_pyvirtualcam(monkeypatch, fail="'v4l2loopback' backend: no loopback device found")
    (out,) = open_video_outs(vcam=True)
    out.send(np.full((8, 8, 3), 1, np.uint8))  # its sink's thread opens the camera, fails, ends
    message = failed_out_warning(out, caplog)
    assert "v4l2loopback" in message and "modprobe" in message


def test_frames_reach_a_working_camera_and_a_new_size_reopens_it(monkeypatch):
    received = fake_pyvirtualcam(monkeypatch)
    out = VirtualCamOut(fps=30)
    arrived = threading.Event()
    send = out._write

    def spy(frame: np.ndarray) -> None:
        send(frame)
        arrived.set()

    monkeypatch.setattr(out, "_write", spy)
    out.send(np.full((8, 8, 3), 7, np.uint8))
    assert arrived.wait(20)
    arrived.clear()
    out.send(np.full((16, 8, 3), 9, np.uint8))  # a model swap changed the frame size
    assert arrived.wait(20)
    out.close()
    assert received == [("open", 8, 8), ("frame", 7), ("close",), ("open", 8, 16),
                        ("frame", 9), ("close",)]


@pytest.mark.usefixtures("dummy_video")
def test_the_show_goes_on_without_ndi_and_virtual_camera(tmp_path, make_tiny_model,
                                                         no_video_libs, caplog):
    model = make_tiny_model(tmp_path / "m.safetensors", arch="dcgan")
    cfg = PerformConfig(model=str(model), backend="cpu", osc=OscConfig(port=0), frames=5,
                        outputs=OutputsConfig(out_dir=str(tmp_path / "out"), ndi="stage",
                                              vcam=True),
                        window=WindowConfig(size=(64, 64)))
    assert Performance(cfg).run() == 5
    assert len(warnings_from(caplog)) == 2
