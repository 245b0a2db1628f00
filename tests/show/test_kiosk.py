"""Kiosk mode: quit keys are ignored and a render thread that stops is restarted."""

from __future__ import annotations

import logging

import pygame
import pytest

from livegan.control.osc.config import OscConfig
from livegan.perform import Performance
from livegan.performconfig import PerformConfig
from livegan.show.outputs import OutputsConfig
from livegan.show.window import WindowConfig


@pytest.mark.usefixtures("dummy_video")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_kiosk_ignores_quit_and_restarts_a_dead_render_thread(tmp_path, make_tiny_model,
                                                              caplog):
    model = make_tiny_model(tmp_path / "m.safetensors", arch="dcgan")
    cfg = PerformConfig(model=str(model), backend="cpu", osc=OscConfig(port=0), frames=12,
                        outputs=OutputsConfig(out_dir=str(tmp_path / "out")),
                        window=WindowConfig(size=(64, 64), kiosk=True))
    show = Performance(cfg)
    put = show.frames.put
    state = {"failed": False}

    def put_once_failing(frame) -> None:
        if frame.index == 3 and not state["failed"]:
            state["failed"] = True
            raise RuntimeError("simulated crash outside the generator")
        put(frame)

    show.frames.put = put_once_failing
    show.on_frame = lambda frame: pygame.event.post(pygame.event.Event(pygame.QUIT))
    first = show.render
    assert show.run() == 12  # Esc / window close did not end it
    assert state["failed"] and show.render is not first
    assert show.render.stage is first.stage is show.stage  # the new thread takes the stage over
    assert show.stage.rendered >= 12  # frame numbers carry on
    assert any("restarting" in r.getMessage() for r in caplog.records
               if r.levelno == logging.ERROR)
