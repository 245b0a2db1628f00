"""Never black on stage: a running headless show under hostile OSC, a flood from another
process, broken models and patches on hot-swap, out-of-memory renders and a vanishing MIDI
device. Every frame shown is checked: uint8, the model's size, never all black."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable, Generator
from pathlib import Path

import mido
import numpy as np
import pytest
from hostile import HostileTraffic
from safetensors import safe_open
from safetensors.torch import save_file
from showdriver import Inbox, Script, headless_show, until
from showdriver import drive as shared_drive

from livegan.control.midi import ports as midi_module
from livegan.control.osc import query
from livegan.control.osc.config import OscConfig
from livegan.control.osc.sender import OscSender
from livegan.control.osc.server import DROP_REASONS
from livegan.control.osc.wire import encode_message, parse_datagram
from livegan.patchfile.load import load_patch
from livegan.perform import Performance
from livegan.show.frames import Frame
from livegan.show.window import WindowConfig

LIMIT = 120.0  # seconds before a stuck script is ended (a hang guard, not a timing)
RES = 32  # the conftest's tiny models


@pytest.fixture
def inbox():
    box = Inbox()
    yield box
    box.server.stop()


@pytest.fixture
def make_show(dummy_video, tiny_model: Path, tmp_path: Path) -> Callable[..., Performance]:
    def make(**overrides: object) -> Performance:
        return headless_show(str(tiny_model), str(tmp_path / "out"), (64, 64), 1_000_000,
                             **overrides)
    return make


def check_frame(frame: Frame) -> None:
    """What every frame on stage must be."""
    pixels = frame.pixels
    assert pixels.dtype == np.uint8 and pixels.shape == (RES, RES, 3), pixels.shape
    assert pixels.max() > 0, f"frame {frame.index} is black"


def drive(show: Performance, script: Script, limit: float = LIMIT) -> int:
    """Run `show` with `script` (see showdriver.drive), checking every frame; render errors
    are part of what these tests provoke, so they do not fail it by themselves."""
    return shared_drive(show, script, limit, check=check_frame, render_errors_fail=False)


def frames(count: int) -> Generator[None, Frame, list[Frame]]:
    taken = []
    while len(taken) < count:
        taken.append((yield))
    return taken


def rss_mb() -> float:
    """Resident memory of this process now, in MB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# -- hostile OSC at a running show ---------------------------------------------------------------

FUZZ_PATCH = """
[[map]]
osc = "/wek/outputs"
to = "dir"
in = [0.0, 1.0]
range = [-3.0, 3.0]
smooth = 0.1

[[map]]
osc = "/livegan/morph"
to = "z[3]"
pickup = true

[scenes.calm]
speed = 0.02
seed = 42
"""


def test_hostile_udp_at_a_running_show(make_show, inbox: Inbox, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch, models_dir: Path) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fuzz.toml").write_text(FUZZ_PATCH)
    show = make_show(patch=load_patch(tmp_path / "fuzz.toml"),
                     osc=OscConfig(port=0, feedback=inbox.target),
                     window=WindowConfig(size=(64, 64), hud=True))
    traffic = HostileTraffic(seed=3, z_dim=128, n_dirs=4)
    latents: list[np.ndarray] = []
    hooked = show.stage.on_render

    def on_render(engine, index, t, z, label) -> None:
        latents.append(z.copy())
        hooked(engine, index, t, z, label)

    show.stage.on_render = on_render
    sent = 0

    def script(show: Performance):
        nonlocal sent
        yield
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            chunk = 0
            for datagram in traffic.packets(5000):
                sock.sendto(datagram, ("127.0.0.1", show.osc.port))
                sent, chunk = sent + 1, chunk + len(datagram)
                if chunk > 64_000:  # let the receiver keep up: the kernel drops nothing
                    chunk = 0
                    yield from until(lambda n=sent: show.osc.stats()["datagrams"] >= n)
        yield from until(lambda: show.osc.stats()["datagrams"] >= sent)
        rendered = show.stage.rendered
        yield from until(lambda: show.stage.rendered >= rendered + 10)
        # the HUD (with hostile last messages in it) and telemetry agree with the counters
        total = show.dropped()
        assert any(f"dropped {total}" in line for line in show.hud_lines())
        yield from until(lambda: (inbox.args("/livegan/dropped") or [(-1,)])[-1][0] == total)

    drive(show, script)
    stats = show.osc.stats()
    assert stats["datagrams"] == sent == 5000
    assert stats["received"] == stats["delivered"] + stats["ignored"] + stats["coalesced"] + sum(
        stats[k] for k in DROP_REASONS)
    assert stats["handler_error"] == 0
    rule = show.osc.coalesce()  # the show's patch decides what may be superseded
    assert rule("/livegan/z/3") and rule("/wek/outputs") and not rule("/livegan/snapshot")
    assert show.dropped() == sum(stats[k] for k in DROP_REASONS) + sum(
        show.inputs.dispatcher.counts.values())
    assert show.stage.errors == 0, show.stage.last_error
    assert latents and all(np.isfinite(z).all() for z in latents)
    assert show.engine.info.name == "tiny"  # every /livegan/model name was refused
    assert "model swap refused" in inbox.errors()
    written = [p for p in tmp_path.rglob("*") if p.is_file()
               and p.parent.name not in ("tiny_models", "models_dir")]
    assert all(p.is_relative_to(tmp_path / "out") for p in written
               if p.name != "fuzz.toml"), written  # snapshots land in the output folder only


# -- a flood from another process -----------------------------------------------------------------

def test_a_flood_from_another_process_keeps_frames_coming_and_memory_flat(make_show) -> None:
    show = make_show()
    samples: dict[str, float] = {}
    flood: list[subprocess.Popen] = []

    def script(show: Performance):
        yield from frames(20)  # warmed up
        samples["before"] = rss_mb()
        flood.append(subprocess.Popen(
            [sys.executable, "-m", "livegan.bench.traffic", "--port", str(show.osc.port),
             "--rate", "10000", "--seconds", "2.5"], stdout=subprocess.PIPE, text=True))
        yield from until(lambda: show.osc.stats()["datagrams"] > 5000)
        samples["early"], rendered = rss_mb(), show.stage.rendered
        yield from until(lambda: flood[0].poll() is not None)
        samples["after"] = rss_mb()
        assert show.stage.rendered > rendered + 5, "frames stopped during the flood"
        yield from frames(5)

    try:
        drive(show, script)
    finally:
        for process in flood:
            process.kill()
    out = json.loads(flood[0].stdout.read())
    received = show.osc.stats()["datagrams"]
    assert out["sent"] >= 20_000 and received > 10_000
    assert show.osc.stats()["handler_error"] == 0 and show.stage.errors == 0
    # bounded queues, newest value wins: the second half of the flood adds nothing
    assert samples["after"] - samples["early"] < 25, samples
    assert samples["after"] - samples["before"] < 60, samples


def test_a_burst_of_queries_draws_few_replies_and_never_reaches_the_main_loop(make_show,
                                                                            caplog) -> None:
    """400 /livegan/query from one sender, naming 100 reply ports: a bounded number of
    one-datagram replies, answered on the OSC thread while frames keep coming."""
    show = make_show()
    listeners = []
    for _ in range(100):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind(("127.0.0.1", 0))
        sock.setblocking(False)
        listeners.append(sock)

    def script(show: Performance):
        yield from frames(10)
        rendered = show.stage.rendered
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
            for n in range(400):
                port = listeners[n % 100].getsockname()[1]
                client.sendto(encode_message("/livegan/query", port), ("127.0.0.1", show.osc.port))
        yield from until(lambda: show.osc.stats()["received"] >= 400)
        yield from until(lambda: show.stage.rendered >= rendered + 10)  # frames kept coming

    try:
        drive(show, script)
        replies = []
        for sock in listeners:
            try:
                while True:
                    replies.append(sock.recv(65535))
            except BlockingIOError:
                pass
    finally:
        for sock in listeners:
            sock.close()
    assert "not available in this show" not in caplog.text  # no query event for the main loop
    counts = show.inputs.query.counts
    assert counts["answered"] + counts["limited"] == 400
    assert 1 <= len(replies) == counts["answered"] <= query.BURST + 2  # + refills meanwhile
    assert all(parse_datagram(r)[0][-1][0] == "/livegan/namespace/end" for r in replies)


# -- faults on hot-swap ---------------------------------------------------------------------------

def _rewrite(source: Path, target: Path, change: Callable[[dict, dict], None]) -> Path:
    """A copy of a model file with its tensors or metadata changed."""
    with safe_open(str(source), framework="pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - not a dict
    change(tensors, meta)
    save_file(tensors, str(target), metadata=meta)
    return target


def broken_models(folder: Path, good: Path) -> list[str]:
    """Files in a model folder that must never go on stage; returns their names."""
    (folder / "corrupt.safetensors").write_bytes(os.urandom(4096))
    (folder / "truncated.safetensors").write_bytes(good.read_bytes()[: good.stat().st_size // 2])

    def wider(tensors: dict, meta: dict) -> None:
        config = json.loads(meta["config"])
        meta["config"] = json.dumps({**config, "ngf": config["ngf"] * 2})

    def poisoned(tensors: dict, meta: dict) -> None:
        name = next(k for k in tensors if k.endswith("weight") and tensors[k].dim() > 1)
        tensors[name][0] = float("nan")

    _rewrite(good, folder / "wrongshape.safetensors", wider)
    _rewrite(good, folder / "nan.safetensors", poisoned)
    return ["corrupt", "truncated", "wrongshape", "nan"]


def test_broken_models_keep_the_old_one_playing_and_a_good_swap_crossfades(
        make_show, inbox: Inbox, tiny_model: Path, models_dir: Path, make_tiny_model) -> None:
    bad = broken_models(models_dir, tiny_model)
    make_tiny_model(models_dir / "other.safetensors", name="other", seed=5)
    show = make_show(osc=OscConfig(port=0, feedback=inbox.target))
    first = show.engine
    fading: list[bool] = []

    def script(show: Performance):
        yield
        out = OscSender("127.0.0.1", show.osc.port)
        for count, name in enumerate(bad, 1):
            out.send("/livegan/model", name)
            yield from until(lambda count=count: inbox.errors().count("swap refused") >= count)
            yield from frames(3)
            assert show.stage.engine is first
        out.send("/livegan/model", "other")
        yield from until(lambda: show.stage.engine.info.name == "other")
        while show.stage.crossfade.active or not fading:
            yield
            fading.append(show.stage.crossfade.active)
        yield from frames(3)
        out.close()

    drive(show, script)
    errors = inbox.errors()
    for name in bad:
        assert f"{name}.safetensors" in errors, errors
    assert "truncated or corrupt" in errors and "NaN" in errors and "shape" in errors
    assert show.stage.crossfade.fades == 1 and any(fading)
    assert show.stage.errors == 0, show.stage.last_error


def test_a_broken_patch_edit_keeps_the_old_patch_in_a_running_show(
        make_show, inbox: Inbox, tmp_path: Path) -> None:
    path = tmp_path / "live.toml"
    path.write_text('[[map]]\nosc = "/a"\nto = "speed"\nrange = [0.0, 1.0]\n')
    show = make_show(patch=load_patch(path), osc=OscConfig(port=0, feedback=inbox.target))
    show.watcher.interval = 0.0

    def script(show: Performance):
        yield
        out = OscSender("127.0.0.1", show.osc.port)
        path.write_text('[[map]]\nosc = "/a"\nto = "speed"\nrange = [0.0, "x"]\n')
        yield from until(lambda: "patch reload refused" in inbox.errors())
        out.send("/a", 0.5)
        yield from until(lambda: show.controls.param("speed") == pytest.approx(0.5))
        out.close()

    drive(show, script)
    assert "live.toml:4" in inbox.errors()  # file and line of the broken key


# -- the generator fails mid-show -----------------------------------------------------------------

def test_out_of_memory_keeps_the_last_frame_then_falls_back(make_show, inbox: Inbox,
                                                            monkeypatch) -> None:
    show = make_show(osc=OscConfig(port=0, feedback=inbox.target))
    failing = show.engine
    state = {"failing": False, "failed_calls": 0}
    real_render = failing.render

    def render(z, label=None):
        if state["failing"]:
            state["failed_calls"] += 1
            raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")
        return real_render(z, label)

    monkeypatch.setattr(failing, "render", render)
    monkeypatch.setattr(failing.backend, "name", "cuda")  # as if on a GPU: cpu comes next

    def script(show: Performance):
        yield from frames(5)
        shown, state["failing"] = show.shown, True
        yield from until(lambda: show.stage.engine is not failing)
        assert show.shown <= shown + 3  # nothing new was shown while it failed
        yield from frames(10)
        yield from until(lambda: "now on cpu" in inbox.errors())

    drive(show, script)
    assert state["failed_calls"] >= 5 and show.stage.errors >= 5
    assert show.engine is show.stage.engine and show.backend == "cpu"
    assert show.stage.failover.fallbacks == 1
    assert "CUDA out of memory" in inbox.errors()  # reported on telemetry, then the fallback


# -- MIDI device unplugged and back ----------------------------------------------------------------

class FakeMidi:
    """rtmidi stand-in: port names the test edits; open ports keep their callbacks."""

    def __init__(self) -> None:
        self.names = ["nanoKONTROL2:nanoKONTROL2 MIDI 1 20:0"]
        self.ports: dict[str, Callable] = {}

    def list(self) -> list[str]:
        return list(self.names)

    def open(self, name: str, callback, virtual: bool = False):
        port = mido.ports.BaseInput(name)
        self.ports[name] = callback
        return port

    def play(self, value: int) -> None:
        for name, callback in self.ports.items():
            if name in self.names:
                callback(mido.Message("control_change", control=16, value=value))


def test_a_midi_device_vanishing_mid_show_is_survived_and_reconnected(
        make_show, tmp_path: Path, monkeypatch) -> None:
    fake = FakeMidi()
    monkeypatch.setattr(midi_module, "input_names", fake.list)
    monkeypatch.setattr(midi_module, "open_port", fake.open)
    path = tmp_path / "midi.toml"
    path.write_text('[midi]\ninput = "nanoKONTROL2"\nvirtual = false\n\n'
                    '[[map]]\nmidi = { cc = 16 }\nto = "speed"\nrange = [0.0, 1.0]\n')
    show = make_show(patch=load_patch(path))
    show.inputs.midi.rescan = 0.02
    midi = show.inputs.midi

    def script(show: Performance):
        yield
        yield from until(lambda: len(midi.ports) == 1)
        fake.play(127)
        yield from until(lambda: show.controls.param("speed") == pytest.approx(1.0))
        fake.names = []  # unplugged
        yield from until(lambda: not midi.ports)
        yield from frames(10)
        fake.names = ["nanoKONTROL2:nanoKONTROL2 MIDI 1 24:0"]  # back, on a new ALSA number
        yield from until(lambda: len(midi.ports) == 1)
        fake.play(0)
        yield from until(lambda: show.controls.param("speed") == pytest.approx(0.0))

    drive(show, script)
    assert show.stage.errors == 0
