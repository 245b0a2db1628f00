"""Live shows end to end: headless windows, real UDP from other processes, render errors,
model hot-swap and the HUD, driven frame by frame through Performance.on_frame."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from showdriver import Script, frames_after, headless_show, until
from showdriver import drive as shared_drive

import livegan.perform
from livegan.cli import main
from livegan.control.controls import Controls
from livegan.control.osc.sender import OscSender
from livegan.control.osc.wire import encode_message
from livegan.engine import Engine
from livegan.modelfile import load_model
from livegan.perform import Performance
from livegan.show.frames import Frame, FrameQueue
from livegan.stage.stage import Stage
from livegan.stage.thread import RenderThread

LIMIT = 90.0  # seconds a show may run before the watchdog ends it (a hang, not a timing)
Z = 128  # latent size of the conftest's tiny models

# Resends its current messages every 10 ms to 127.0.0.1:PORT; stdin lines (JSON
# [address, args]) replace the message at that address; "" as the address clears them.
SENDER = r"""
import json, sys, threading, time
from pythonosc.udp_client import SimpleUDPClient
client = SimpleUDPClient("127.0.0.1", int(sys.argv[1]))
current = {}
lock = threading.Lock()
def read():
    for line in sys.stdin:
        address, args = json.loads(line)
        with lock:
            if address:
                current[address] = args
            else:
                current.clear()
threading.Thread(target=read, daemon=True).start()
deadline = time.time() + float(sys.argv[2])
while time.time() < deadline:
    with lock:
        messages = list(current.items())
    for address, args in messages:
        client.send_message(address, args)
    time.sleep(0.01)
"""


class Sender:
    """Another OS process that keeps sending OSC to a port, steered through its stdin."""

    def __init__(self, port: int, seconds: float = LIMIT) -> None:
        self.process = subprocess.Popen([sys.executable, "-c", SENDER, str(port), str(seconds)],
                                        stdin=subprocess.PIPE, text=True)

    def set(self, address: str, *args: object) -> None:
        self.process.stdin.write(json.dumps([address, list(args)]) + "\n")
        self.process.stdin.flush()

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)
        self.process.stdin.close()


def drive(show: Performance, script: Script, limit: float = LIMIT) -> None:
    """Run `show` with `script` (see showdriver.drive); render errors fail the test."""
    shared_drive(show, script, limit)


wait_until = until


@pytest.fixture
def make_show(dummy_video, tiny_model: Path, tmp_path: Path) -> Callable[..., Performance]:
    """Performance(PerformConfig) on the tiny model, OSC on a free port, a 64x64 window."""
    def make(**overrides: object) -> Performance:
        return headless_show(str(tiny_model), str(tmp_path / "out"), (64, 64), 100_000,
                             **overrides)
    return make


def _differ(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


# -- headless runs -----------------------------------------------------------------------------

def test_perform_headless_through_the_cli(dummy_video, tiny_model: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["perform", "--model", str(tiny_model), "--frames", "60", "--osc-port", "0",
                 "--size", "64x64", "--backend", "cpu"])
    assert code == 0


def test_missing_model_is_one_sentence(dummy_video, tmp_path: Path, models_dir: Path,
                                       capsys: pytest.CaptureFixture,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code = main(["perform", "--model", "no_such_model", "--frames", "5", "--osc-port", "0"])
    err = capsys.readouterr().err
    assert code == 2 and "no_such_model" in err and "livegan models" in err
    assert "Traceback" not in err


# -- OSC from another process steers the picture ------------------------------------------------

def test_osc_from_another_process_changes_the_frame(make_show) -> None:
    show = make_show()
    target = [3.0 if i % 2 else -3.0 for i in range(Z)]
    senders: list[Sender] = []

    def script(show: Performance):
        yield
        sender = Sender(show.osc.port)
        senders.append(sender)
        sender.set("/livegan/mode", "hold")
        sender.set("/livegan/speed", 0)
        sender.set("/livegan/smooth", 0.0)
        yield from wait_until(lambda: show.controls.mode == "hold"
                              and show.controls.param("speed") == 0.0
                              and show.controls.param("smooth") == 0.0)
        before = yield from frames_after(show, 4)
        assert all(_differ(f, before[0]) == 0 for f in before), "hold should hold the picture"

        sender.set("/livegan/z", *target)
        yield from wait_until(lambda: np.allclose(show.stage.motion.base, target))
        after = yield from frames_after(show, 4)
        assert _differ(after[0], before[0]) > 2.0, "the OSC latent did not change the picture"
        assert all(_differ(f, after[0]) == 0 for f in after)
        stats = show.osc.stats()
        assert stats["delivered"] > 0 and stats["malformed"] == 0

    try:
        drive(show, script)
    finally:
        for sender in senders:
            sender.close()
    assert show.inputs.dispatcher.counts == {"unknown": 0, "bad_args": 0}
    assert show.stage.errors == 0


# A bundle whose element size is -4: python-osc's parser steps back onto the same size field
# for ever (sizes of -4 and below; -1 only raises). livegan's own parser drops it.
LOOPING_BUNDLE = b"#bundle\0" + (1).to_bytes(8, "big") + (-4).to_bytes(4, "big", signed=True)


def test_malformed_packets_are_dropped_and_the_show_goes_on(make_show) -> None:
    show = make_show()
    good = encode_message("/livegan/speed", 0.5)
    junk = [np.random.default_rng(0).bytes(64), good[:-2], good[:5], b"", LOOPING_BUNDLE]

    def script(show: Performance):
        yield
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for datagram in junk:
                sock.sendto(datagram, ("127.0.0.1", show.osc.port))
            sock.sendto(good, ("127.0.0.1", show.osc.port))
        yield from wait_until(lambda: show.controls.param("speed") == 0.5)
        rendered = show.stage.rendered
        yield from wait_until(lambda: show.stage.rendered >= rendered + 10)
        stats = show.osc.stats()
        assert stats["datagrams"] == len(junk) + 1
        assert stats["malformed"] >= len(junk) - 1  # an empty datagram may count as nothing
        assert stats["delivered"] == 1

    drive(show, script)
    assert show.stage.errors == 0


class _Recording(FrameQueue):
    """A frame queue that also keeps every frame put into it, in order."""

    def __init__(self, into: list[Frame]) -> None:
        super().__init__()
        self.into = into

    def put(self, frame: Frame) -> None:
        self.into.append(frame)
        super().put(frame)


def test_render_errors_keep_the_last_frame_and_recover(tiny_model: Path) -> None:
    engine = Engine(load_model(tiny_model), "cpu")
    controls = Controls(engine.z_dim, engine.directions.shape[0])
    frames: list[Frame] = []

    thread = RenderThread(Stage(engine), controls, _Recording(frames))
    real_render = engine.render
    calls = {"n": 0}

    def flaky(z: np.ndarray, label: int | None = None) -> np.ndarray:
        calls["n"] += 1
        if 3 <= calls["n"] < 8:
            raise RuntimeError("the GPU fell off the bus")
        return real_render(z, label)

    engine.render = flaky  # type: ignore[method-assign]
    thread.start()
    try:
        deadline = time.monotonic() + LIMIT
        while len(frames) < 10 and time.monotonic() < deadline and thread.is_alive():
            time.sleep(0.01)
    finally:
        thread.stop()
    assert not thread.is_alive()
    assert thread.stage.errors == 5
    assert "fell off the bus" in thread.stage.last_error
    assert len(frames) >= 10 and thread.stage.rendered == len(frames)
    assert [f.index for f in frames] == list(range(1, len(frames) + 1))  # no frame for a failure
    engine.close()


def test_an_engine_replaced_before_it_played_is_closed(tiny_model: Path) -> None:
    playing, first, second = (Engine(load_model(tiny_model), "cpu") for _ in range(3))
    closed: list[Engine] = []
    for engine in (first, second):
        engine.close = lambda engine=engine: closed.append(engine)  # type: ignore[method-assign]
    stage = Stage(playing)
    stage.swap(first)
    stage.swap(second)  # before a frame took the first: the newest wins
    assert closed == [first] and stage.pending is second
    stage.swap(second)  # the same engine again: nothing to close
    assert closed == [first]
    controls = Controls(playing.z_dim, playing.directions.shape[0])
    assert stage.frame(controls.snapshot(), 1 / 60) is not None
    assert stage.engine is second and stage.pending is None and closed == [first]
    stage.close()
    for engine in (playing, first, second):
        Engine.close(engine)


def test_a_repeated_model_refusal_is_logged_once_in_a_while(make_show,
                                                            caplog: pytest.LogCaptureFixture
                                                            ) -> None:
    show = make_show()
    caplog.set_level("ERROR", logger="livegan.perform")
    playing = show.engine
    for _ in range(20):  # a sensor patch asking for a missing model at 20 Hz
        show._swap_model("nope")
    show._swap_model("also-missing")  # another refusal has its own line
    assert caplog.text.count("model swap refused") == 2
    assert show.engine is playing and show.stage.pending is None


# -- show events over OSC ------------------------------------------------------------------------

def test_model_hot_swap_by_name(make_show, models_dir: Path, make_tiny_model,
                                caplog: pytest.LogCaptureFixture,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    make_tiny_model(models_dir / "plain.safetensors", directions=False, name="plain", seed=5)
    (models_dir / "broken.safetensors").write_bytes(b"\x00" * 64)
    show = make_show()
    first = show.engine
    trims: list[bool] = []  # when the old model is gone, its memory goes back
    monkeypatch.setattr(livegan.perform, "release_free_memory",
                        lambda: trims.append(not show.stage.crossfade.active) or True)
    out = OscSender("127.0.0.1", 9)  # replaced once the port is known

    def refusals() -> int:
        return caplog.text.count("model swap refused")

    def script(show: Performance):
        nonlocal out
        yield
        out = OscSender("127.0.0.1", show.osc.port)
        for count, bad in enumerate(("nope", "../tiny_models/tiny", "/etc/passwd", "broken",
                                     ".."), 1):
            out.send("/livegan/model", bad)  # one at a time: within a frame the newest wins
            yield from wait_until(lambda count=count: refusals() >= count)
        rendered = show.stage.rendered
        yield from wait_until(lambda: show.stage.rendered >= rendered + 5)
        assert show.engine is first and show.stage.engine is first

        out.send("/livegan/dir/warm", 1.0)  # direction amounts carry over a swap
        out.send("/livegan/model", "plain")
        yield from wait_until(lambda: show.stage.engine.info.name == "plain")
        rendered = show.stage.rendered
        yield from wait_until(lambda: show.stage.rendered >= rendered + 5)
        assert show.engine.info.name == "plain"
        assert show.controls.n_dirs == show.engine.directions.shape[0] == 16
        out.send("/livegan/dir/dir7", 0.5)  # the new model's (fallback) direction names
        yield from wait_until(lambda: show.controls.snapshot().dirs[7] == 0.5)
        yield from wait_until(lambda: trims == [True])  # once, after the fade

    caplog.set_level("ERROR", logger="livegan.perform")
    try:
        drive(show, script)
    finally:
        out.close()
    assert show.stage.errors == 0, show.stage.last_error
    assert show.inputs.dispatcher.counts == {"unknown": 0, "bad_args": 0}


def test_hud_toggles_over_osc(make_show) -> None:
    show = make_show()
    out: list[OscSender] = []

    def script(show: Performance):
        yield
        out.append(OscSender("127.0.0.1", show.osc.port))
        assert not show.window.hud_visible
        out[0].send("/livegan/hud", 1)
        yield from wait_until(lambda: show.window.hud_visible)
        yield from frames_after(show, 2)
        assert any(line.startswith("OSC") for line in show.hud_lines())
        out[0].send("/livegan/hud", 0.0)
        yield from wait_until(lambda: not show.window.hud_visible)

    try:
        drive(show, script)
    finally:
        for sender in out:
            sender.close()


# -- the acceptance run: the real console script, steered by another process --------------------

@pytest.mark.slow
def test_console_script_performs_while_another_process_sends(tiny_model: Path, tmp_path: Path,
                                                              free_udp_port: int) -> None:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    sender = Sender(free_udp_port, seconds=LIMIT)
    sender.set("/livegan/z", *[0.5] * Z)
    sender.set("/livegan/seed", 5, 0.5)
    sender.set("/livegan/dir/pc1", 1.5)
    sender.set("/livegan/speed", 0.3)
    try:
        done = subprocess.run(
            ["livegan", "perform", "--model", str(tiny_model), "--frames", "300",
             "--osc-port", str(free_udp_port), "--size", "64x64",
             "--out-dir", str(tmp_path / "out")],
            check=False, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=LIMIT)
    finally:
        sender.close()
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr


def test_max_fps_spaces_the_rendered_frames(tiny_model: Path, monkeypatch) -> None:
    """--max-fps 25: each frame starts in its own 40 ms slot. The render loop runs here on a
    clock that moves only when the loop waits, so the spacing is exact, not a timing."""
    import livegan.stage.thread as render_thread

    engine = Engine(load_model(tiny_model), "cpu")
    controls = Controls(engine.z_dim, engine.directions.shape[0])
    clock = types.SimpleNamespace(now=0.0)
    put_at: list[float] = []

    class Clocked(FrameQueue):
        def put(self, frame: Frame) -> None:
            put_at.append(clock.now)

    class Waits:
        """Stands in for the stop event: waiting moves the clock on."""

        def is_set(self) -> bool:
            return len(put_at) >= 10

        def wait(self, seconds: float) -> bool:
            clock.now += seconds
            return self.is_set()

    monkeypatch.setattr(render_thread, "time",
                        types.SimpleNamespace(perf_counter=lambda: clock.now))
    thread = RenderThread(Stage(engine), controls, Clocked(), max_fps=25)
    thread.stopping = Waits()  # type: ignore[assignment]
    thread.run()  # on this thread, until ten frames are out
    assert np.diff(put_at) == pytest.approx([0.04] * 9)
    engine.close()


def test_max_fps_flag_and_patch_key(tmp_path: Path, tiny_model: Path) -> None:
    from livegan.patchfile.load import load_patch

    patch = tmp_path / "capped.toml"
    patch.write_text("[window]\nmax_fps = 60\n")
    assert load_patch(patch).window.max_fps == 60
    patch.write_text("[window]\nmax_fps = 0\n")
    with pytest.raises(Exception, match=r"capped.toml:2.*max_fps"):
        load_patch(patch)
    with pytest.raises(SystemExit):
        main(["perform", "--max-fps", "fast", "--frames", "1"])
