"""Telemetry: fps, frame, heartbeat, model and error messages arrive on a real UDP socket."""

from __future__ import annotations

import time

import pygame
import pytest
from showdriver import Inbox

from livegan.control.osc.config import OscConfig
from livegan.control.osc.sender import OscSender
from livegan.errors import LiveganError
from livegan.perform import Performance
from livegan.performconfig import PerformConfig
from livegan.show.outputs import OutputsConfig
from livegan.show.telemetry import Telemetry
from livegan.show.window import WindowConfig


@pytest.fixture
def inbox():
    box = Inbox()
    yield box
    box.close()


def test_tick_sends_each_message_on_its_schedule(inbox):
    telemetry = Telemetry(OscSender.to(inbox.target))
    telemetry.tick(10.0, 59.5, "tiny")  # start: model, fps and heartbeat 1
    telemetry.tick(10.2, 60.0, "tiny")  # nothing due
    telemetry.frame(7)
    telemetry.tick(10.6, 61.0, "tiny", render_errors=3, last_error="boom")
    telemetry.error("model swap refused: nope")
    telemetry.tick(11.05, 62.0, "other")  # second heartbeat, new model, queued error
    assert inbox.wait_for("/livegan/model", "/livegan/fps", "/livegan/heartbeat",
                          "/livegan/frame", "/livegan/error")
    assert inbox.wait_for("/livegan/heartbeat") and _settle(inbox, "/livegan/error", 2)
    assert inbox.args("/livegan/model") == [("tiny",), ("other",)]
    assert [a[0] for a in inbox.args("/livegan/fps")] == pytest.approx([59.5, 61.0, 62.0])
    assert inbox.args("/livegan/heartbeat") == [(1,), (2,)]
    assert inbox.args("/livegan/frame") == [(7,)]
    errors = [a[0] for a in inbox.args("/livegan/error")]
    assert errors == ["render failed (3x): boom", "model swap refused: nope"]
    telemetry.close()


def _settle(inbox: Inbox, address: str, count: int, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while len(inbox.args(address)) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return len(inbox.args(address)) >= count


def test_bad_feedback_target_is_a_clear_error():
    with pytest.raises(LiveganError, match="HOST:PORT"):
        OscSender.to("localhost:notaport")


@pytest.mark.usefixtures("dummy_video")
def test_a_show_reports_to_its_feedback_address(tmp_path, make_tiny_model, inbox):
    model = make_tiny_model(tmp_path / "m.safetensors", arch="dcgan", name="tiny")
    cfg = PerformConfig(model=str(model), backend="cpu", frames=2000,
                        osc=OscConfig(port=0, feedback=inbox.target),
                        outputs=OutputsConfig(out_dir=str(tmp_path / "out")),
                        window=WindowConfig(size=(64, 64)))
    show = Performance(cfg)
    senders: list[OscSender] = []

    def steer(show: Performance, frame) -> None:
        if not senders:
            senders.append(OscSender("127.0.0.1", show.osc.port))
            senders[0].send("/livegan/model", "no-such-model")  # refused: reported as an error
        elif inbox.args("/livegan/error") and inbox.args("/livegan/frame"):
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    show.on_frame = lambda frame: steer(show, frame)
    show.run()
    senders[0].close()
    assert inbox.wait_for("/livegan/fps", "/livegan/frame", "/livegan/heartbeat",
                          "/livegan/model", "/livegan/error")
    assert inbox.args("/livegan/model")[0] == ("tiny",)
    assert inbox.args("/livegan/heartbeat")[0] == (1,)
    assert all(isinstance(a[0], int) and a[0] >= 1 for a in inbox.args("/livegan/frame"))
    assert "no-such-model" in inbox.args("/livegan/error")[0][0]
