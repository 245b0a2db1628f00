"""Drive a real headless Performance from a test, frame by frame (shared by the show tests)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Generator

import numpy as np
import pygame

from livegan.control.osc.config import OscConfig
from livegan.control.osc.server import OscServer
from livegan.perform import Performance
from livegan.performconfig import PerformConfig
from livegan.show.frames import Frame
from livegan.show.outputs import OutputsConfig
from livegan.show.window import WindowConfig

Script = Callable[[Performance], Generator[None, Frame, None]]


def drive(show: Performance, script: Script, limit: float, check: Callable[[Frame], None] | None = None,
          render_errors_fail: bool = True) -> int:
    """Run `show` on this (main) thread; `script` receives every frame shown (`frame = yield`)
    and the show quits when it returns. `check` runs on every frame first. An assertion
    inside the script, a render error (unless render_errors_fail is False) or a script still
    waiting after `limit` seconds fails the test. Returns the frames shown."""
    steps = script(show)
    next(steps)
    failure: list[BaseException] = []
    finished = threading.Event()

    def quit_show() -> None:
        finished.set()
        pygame.event.post(pygame.event.Event(pygame.QUIT))

    def on_frame(frame: Frame) -> None:
        if finished.is_set():
            return
        try:
            if check is not None:
                check(frame)
            steps.send(frame)
        except StopIteration:
            quit_show()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the test thread below
            failure.append(exc)
            quit_show()

    def watchdog() -> None:
        deadline = time.monotonic() + limit
        while not finished.wait(0.05):
            if render_errors_fail and show.stage.errors:  # say why frames stopped coming
                failure.append(AssertionError(f"render failed: {show.stage.last_error}"))
            elif time.monotonic() > deadline:
                failure.append(TimeoutError(f"the script did not finish within {limit} s"))
            else:
                continue
            quit_show()
            return

    show.on_frame = on_frame
    threading.Thread(target=watchdog, daemon=True).start()
    shown = show.run()
    finished.set()
    if failure:
        raise failure[0]
    return shown


def until(condition: Callable[[], bool]) -> Generator[None, Frame, Frame]:
    """Inside a script: take frames until `condition()` holds; returns the frame it held on."""
    while True:
        frame = yield
        if condition():
            return frame


def headless_show(model: str, out_dir: str, size: tuple[int, int], frames: int,
                  **overrides: object) -> Performance:
    """A Performance on `model` (cpu backend), OSC on a free port, a `size` window, output in
    `out_dir`; `overrides` replace any PerformConfig field."""
    options = {"model": model, "backend": "cpu", "osc": OscConfig(port=0),
               "window": WindowConfig(size=size), "frames": frames,
               "outputs": OutputsConfig(out_dir=out_dir), **overrides}
    return Performance(PerformConfig(**options))


class Inbox:
    """A real OSC receiver on 127.0.0.1 (port 0) that keeps every message by address."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, tuple]] = []
        self._arrived = threading.Condition()
        self.server = OscServer(self._keep, "127.0.0.1", 0).start()
        self.target = f"127.0.0.1:{self.server.port}"

    def _keep(self, address: str, args: tuple, sender: tuple[str, int]) -> None:
        with self._arrived:
            self.messages.append((address, args))
            self._arrived.notify_all()

    def args(self, address: str) -> list[tuple]:
        with self._arrived:
            return [a for addr, a in self.messages if addr == address]

    def errors(self) -> str:
        return "\n".join(a[0] for a in self.args("/livegan/error"))

    def wait_for(self, *addresses: str, timeout: float = 20.0) -> bool:
        """Wait until every address has arrived at least once (a generous delivery bound)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while not all(any(a == addr for a, _ in self.messages) for addr in addresses):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._arrived.wait(left)
        return True

    def close(self) -> None:
        self.server.stop()


def warnings_from(caplog) -> list[str]:
    """The warnings the video outputs logged."""
    return [r.getMessage() for r in caplog.records
            if r.name == "livegan.show.videoout" and r.levelno == logging.WARNING]


def failed_out_warning(out, caplog) -> str:
    """Waits for a video output's sink thread to fail, sends it more frames (never raising,
    never blocking), closes it; returns the one warning it logged."""
    out._thread.join(20)
    assert out.failed
    for value in range(5):
        out.send(np.full((8, 8, 3), value, np.uint8))  # never raises, never blocks
    out.close()
    messages = warnings_from(caplog)
    assert len(messages) == 1
    return messages[0]


def frames_after(show: Performance, count: int) -> Generator[None, Frame, list[np.ndarray]]:
    """Inside a script: the pixels of the next `count` frames rendered from the control
    state as it is now (frames already in flight are skipped)."""
    version = show.controls.version
    taken: list[np.ndarray] = []
    while len(taken) < count:
        frame = yield
        if frame.version >= version:
            taken.append(frame.pixels.copy())
    return taken
