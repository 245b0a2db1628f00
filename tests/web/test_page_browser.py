"""The control page in a real headless Chromium against a real headless show of the bundled
default model: sliders move the picture, seeds glide, OSC from another process moves the
page, learn maps a MIDI knob, save writes a patch that plays, pairing refuses wrong codes.

Screenshots of the page (a 1440x1000 window and a 390x844 phone) are taken on every run into
the test's folder; with LIVEGAN_SCREENSHOTS=FOLDER they are also written there
(`LIVEGAN_SCREENSHOTS=docs` makes the README's docs/control_page.png and
docs/control_page_phone.png).
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
import time
from pathlib import Path

import mido
import numpy as np
import pytest
from browser import Frames, Page, differ, require_chromium, run_beside
from PIL import Image
from showdriver import headless_show

from livegan.cli import main
from livegan.control.controls import Controls
from livegan.control.inputs import ShowInputs
from livegan.control.osc.namespace import OscNamespace
from livegan.control.web.config import WebConfig
from livegan.control.web.hooks import ShowHooks
from livegan.control.web.server import WebServer
from livegan.latent import seed_latent
from livegan.patchfile.load import PatchConfig, load_patch
from livegan.perform import Performance
from livegan.show.windowconfig import WindowConfig

require_chromium()
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
WAIT = 20.0  # seconds a show-side condition may take (each wait ends as soon as it holds)
SPEED = "/livegan/speed"
TRUNCATION = "/livegan/truncation"


def slider(address: str, index: int = 0) -> str:
    return f".row.slider[data-address='{address}'][data-index='{index}']"


def wait_for(condition, what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"the show never got {what}")
        time.sleep(0.01)


def web(show: Performance) -> WebServer:
    """The show's page server (once the show runs)."""
    assert show.web is not None and show.web.page_url, "the show serves no control page"
    return show.web


def keep_screenshot(page: Page, tmp_path: Path, name: str) -> Path:
    """A screenshot into the test's folder (and into LIVEGAN_SCREENSHOTS, a folder, when
    set: `LIVEGAN_SCREENSHOTS=docs` refreshes the README's pictures)."""
    shot = page.screenshot(tmp_path / name)
    assert shot.stat().st_size > 20_000  # a page with a picture in it, not a blank
    folder = os.environ.get("LIVEGAN_SCREENSHOTS")
    if folder:  # at CSS pixels, 256 colours: a fifth of the bytes, the same to the eye
        image = Image.open(shot).convert("RGB")
        width = page.js("return window.innerWidth")
        if image.width > width:
            height = round(image.height * width / image.width)
            image = image.resize((width, height), Image.Resampling.LANCZOS)
        Path(folder).mkdir(parents=True, exist_ok=True)
        image.quantize(256, method=Image.Quantize.MEDIANCUT).save(Path(folder) / name,
                                                                   optimize=True)
    return shot


@pytest.fixture(scope="module")
def desktop():
    page = Page((1440, 1000))
    yield page
    page.close()


@pytest.fixture
def make_show(dummy_video, tmp_path: Path):
    def make(**overrides: object) -> Performance:
        # 30 frames a second: the show leaves the browser a core on a small machine
        return headless_show("default", str(tmp_path / "out"), (256, 256), 10**7,
                             window=WindowConfig(size=(256, 256), max_fps=30), **overrides)
    return make


def open_page(page: Page, show: Performance) -> None:
    """Open the show's page and wait until its controls are built from the tree."""
    page.open(web(show).page_url)
    page.find(slider(SPEED))
    assert page.errors() == []


def hold_still(page: Page, show: Performance) -> None:
    """From the page: hold the latent, no smoothing, so that frames only change when a
    control does."""
    page.click("#sec-motion .choices button[data-value='hold']")
    page.type(f"{slider('/livegan/smooth')} input.value", "0\n")
    wait_for(lambda: show.controls.mode == "hold" and show.controls.param("smooth") == 0.0,
             "hold and smooth 0 from the page")


def test_a_slider_moves_the_picture(desktop: Page, make_show, tmp_path: Path) -> None:
    show = make_show(patch=load_patch(REPO / "patches" / "default.toml"))

    def steps(show: Performance, frames: Frames) -> None:
        open_page(desktop, show)
        hold_still(desktop, show)
        before = frames.after(show.controls.version, 3)
        assert differ(before[0], before[2]) == 0, "hold should hold the picture"

        desktop.drag_slider(f"{slider(TRUNCATION)} input[type=range]", 0.1)  # 0..2: about 0.2
        wait_for(lambda: show.controls.param("truncation") < 0.5, "the truncation slider")
        after = frames.after(show.controls.version, 1)
        assert differ(after[0], before[0]) > 2.0, "the slider did not change the picture"
        took = show.controls.param("truncation")
        assert abs(desktop.value(TRUNCATION) - took) < 0.01  # the page shows what the show took

        # a scene (the patch's "wild": walk, truncation 1.3 over 1 s) moves the page's controls
        desktop.click("#sec-scenes .choices button[data-value='wild']")
        desktop.wait(f"return Math.abs(document.querySelector(\"{slider(TRUNCATION)} "
                     "input[type=range]\").value - 1.3) < 0.01", what="the scene's truncation")
        assert desktop.js("return document.querySelector(\"#sec-motion button[data-value='walk']\")"
                          ".classList.contains('on')")
        desktop.js("window.scrollTo(0, 0); document.activeElement.blur()")
        desktop.wait("return document.getElementById('preview').classList.contains('live')")
        time.sleep(0.6)  # a fresh preview and HUD
        keep_screenshot(desktop, tmp_path, "control_page.png")

    run_beside(show, steps)
    assert web(show).counts["refused"] == 0
    assert show.inputs.dispatcher.counts == {"unknown": 0, "bad_args": 0}


def test_a_seed_button_glides(desktop: Page, make_show) -> None:
    show = make_show()
    seed = 5
    target = seed_latent(seed, show.engine.z_dim)

    def steps(show: Performance, frames: Frames) -> None:
        open_page(desktop, show)
        hold_still(desktop, show)
        desktop.type("#glide", "3")  # long enough that a busy machine's few frames fall inside
        desktop.click(f"#explore .seed-tile[data-seed='{seed}']")
        wait_for(lambda: show.stage.motion.glide is not None, "a glide")
        version = show.controls.version  # the click's: no frame of before the glide counts
        assert np.allclose(show.stage.motion.glide[1], target)  # towards the seed's latent
        seen = frames.after(version, 8)  # a twelfth of the glide at 30 frames a second
        wait_for(lambda: show.stage.motion.glide is None, "the end of the glide")
        assert np.allclose(show.stage.motion.base, target)
        end = frames.next(1)[0]
        # a glide, not a jump: the picture moves frame by frame on its way to the seed's
        assert sum(differ(a, b) > 0 for a, b in itertools.pairwise(seen)) >= 4
        assert all(differ(f, end) > 0.5 for f in seen[:4])
        assert desktop.js("return document.getElementById('seed').value") == str(seed)

    run_beside(show, steps)


SENDER = """
import sys, time
from pythonosc.udp_client import SimpleUDPClient
client = SimpleUDPClient("127.0.0.1", int(sys.argv[1]))
for _ in range(5):  # UDP: a few copies; the newest value wins
    client.send_message(sys.argv[2], float(sys.argv[3]))
    time.sleep(0.02)
"""


def test_osc_from_another_process_moves_the_page(desktop: Page, make_show) -> None:
    show = make_show()

    def steps(show: Performance, frames: Frames) -> None:
        open_page(desktop, show)
        assert desktop.value(SPEED) == pytest.approx(show.controls.param("speed"), abs=0.01)
        start = time.monotonic()
        subprocess.run([sys.executable, "-c", SENDER, str(show.osc.port), SPEED, "2.5"],
                       check=True, timeout=WAIT)
        desktop.wait(f"return Math.abs(document.querySelector(\"{slider(SPEED)} "
                     "input[type=range]\").value - 2.5) < 0.01", what="speed 2.5 from OSC")
        assert time.monotonic() - start < 5.0
        assert show.controls.param("speed") == pytest.approx(2.5)
        # the number beside it too, and the HUD counts the messages
        assert desktop.js(f"return document.querySelector(\"{slider(SPEED)} input.value\")"
                          ".value") == "2.50"
        desktop.wait("return Number(document.getElementById('hud-received').textContent) > 0",
                     what="the HUD's message count")

    run_beside(show, steps)


def test_learn_maps_a_midi_knob(desktop: Page, make_show) -> None:
    show = make_show()

    def steps(show: Performance, frames: Frames) -> None:
        server = web(show)
        open_page(desktop, show)
        desktop.click(f"{slider(SPEED)} button.learn")
        desktop.wait("return !document.getElementById('learn-banner').hidden",
                     what="the learn banner")
        wait_for(lambda: server.sockets.learn.armed, "learn armed")
        show.inputs.midi.feed(mido.Message("control_change", channel=0, control=21, value=64))
        desktop.wait("return document.getElementById('toast').textContent"
                     ".startsWith('Learned')", what="the learned mapping")
        assert "speed" in desktop.js("return document.getElementById('toast').textContent")
        assert desktop.js("return document.getElementById('learn-banner').hidden")
        # the show's main thread puts the learned mapping into the patch (an app event):
        # once it is there, the knob drives speed, live: its top is the top of speed's range
        def learned() -> list:
            return [m for m in show.inputs.router.patch.maps if m.target.name == "speed"]

        wait_for(lambda: bool(learned()), "the mapping in the show's patch")
        mapping = learned()[0]
        show.inputs.midi.feed(mido.Message("control_change", channel=0, control=21, value=127))
        top = (mapping.range or mapping.target.default_range)[1]
        wait_for(lambda: show.controls.param("speed") == pytest.approx(top), "the knob's value")
        desktop.wait(f"return Math.abs(document.querySelector(\"{slider(SPEED)} "
                     f"input[type=range]\").value - {top}) < 0.01", what="the knob on the page")

    run_beside(show, steps)


def test_save_writes_a_patch_that_plays(desktop: Page, make_show, tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # a show without a patch saves into ./patches
    show = make_show()

    def steps(show: Performance, frames: Frames) -> None:
        open_page(desktop, show)
        desktop.type(f"{slider(SPEED)} input.value", "0.7\n")
        wait_for(lambda: show.controls.param("speed") == pytest.approx(0.7), "speed 0.7")
        desktop.type("#scene-store input", "slow\n")
        desktop.find("#sec-scenes .choices button[data-value='slow']")  # the new scene's button
        desktop.click("#save-as")
        desktop.type("#saveas-name", "../evil\n")  # the browser's own check refuses it...
        assert not Path("evil.toml").exists() and not (tmp_path.parent / "evil.toml").exists()
        desktop.js("window.livegan.send({type: 'save', name: '../evil'})")  # ...and the show's
        desktop.wait("return document.getElementById('toast').classList.contains('bad')",
                     what="the refusal")
        desktop.type("#saveas-name", "mypatch\n")
        desktop.wait("return document.getElementById('toast').textContent.startsWith('Saved')",
                     what="the saved message")

    run_beside(show, steps)
    saved = tmp_path / "patches" / "mypatch.toml"
    assert sorted(p.name for p in (tmp_path / "patches").iterdir()) == ["mypatch.toml"]
    patch = load_patch(saved)
    assert patch.scenes["slow"].params["speed"] == pytest.approx(0.7)
    assert main(["perform", str(saved), "--frames", "5", "--osc-port", "0", "--size", "64x64",
                 "--backend", "cpu", "--no-web"]) == 0


def test_a_wrong_pairing_code_is_refused(make_show, tmp_path: Path) -> None:
    show = make_show()
    phone = Page((390, 844), mobile=True)

    def steps(show: Performance, frames: Frames) -> None:
        server = web(show)
        server.trust_loopback = False  # this browser plays a phone on the stage network
        code = server.pairing.code
        wrong = f"{(int(code) + 1) % 1_000_000:06d}"
        version = show.controls.version

        phone.open(server.page_url)
        phone.wait("return !document.getElementById('pairing').hidden", what="the pairing form")
        assert phone.js("return document.getElementById('controls').childElementCount") == 0
        phone.type("#pair-code", wrong + "\n")
        phone.wait("return !document.getElementById('pair-error').hidden", what="the refusal")
        assert "wrong" in phone.js("return document.getElementById('pair-error').textContent")
        phone.screenshot(tmp_path / "pairing.png")
        assert server.counts["pair_wrong"] == 1
        assert phone.js("return document.getElementById('controls').childElementCount") == 0
        assert show.controls.version == version  # nothing reached the show
        assert not phone.js("return document.getElementById('preview').classList"
                            ".contains('live')")  # nor the show's picture the phone

        phone.type("#pair-code", code + "\n")
        phone.find(slider(SPEED))  # paired: the controls arrive
        phone.wait("return document.getElementById('pairing').hidden")
        phone.drag_slider(f"{slider(SPEED)} input[type=range]", 0.6)  # about 2 of -10..10
        wait_for(lambda: show.controls.param("speed") > 1.0, "speed from the paired phone")
        # a phone upright: one column, the panels one under the other
        lefts = phone.js("return ['#sec-motion', '#sec-dirs', '#seed-panel'].map(s => "
                         "Math.round(document.querySelector(s).getBoundingClientRect().left))")
        assert len(set(lefts)) == 1
        phone.js("window.scrollTo(0, 0)")
        phone.wait("return document.getElementById('preview').classList.contains('live')")
        time.sleep(0.6)
        keep_screenshot(phone, tmp_path, "control_page_phone.png")
        assert server.counts["pair_wrong"] == 1 and server.counts["pair_locked"] == 0

    try:
        run_beside(show, steps)
    finally:
        phone.close()


def test_the_page_throttles_its_messages_and_reconnects(desktop: Page) -> None:
    """Without a show or a model: the page's side of the WebSocket."""
    controls = Controls(z_dim=6, n_dirs=4)
    inputs = ShowInputs(controls, OscNamespace(controls, ["pc0", "pc1", "warm", "calm"]),
                        PatchConfig())

    def serve(port: int) -> WebServer:
        hooks = ShowHooks(dispatcher=inputs.dispatcher, version=lambda: controls.version,
                          model_name=lambda: "tiny", patch=lambda: inputs.patch)
        return WebServer(inputs.oscquery, "127.0.0.1", port, lambda: 9, web=WebConfig(),
                         hooks=hooks).start()

    server = serve(0)
    try:
        desktop.open(server.page_url)
        desktop.find(slider(SPEED))
        # a finger sweeping a slider: 300 input events in a third of a second...
        start = time.monotonic()
        desktop.js(f"""
            const input = document.querySelector("{slider(SPEED)} input[type=range]");
            const end = performance.now() + 300;
            let v = 0;
            const sweep = () => {{
              for (let i = 0; i < 10; i++) {{
                input.value = (v += 0.01);
                input.dispatchEvent(new Event('input'));
              }}
              if (performance.now() < end) setTimeout(sweep, 10);
              else {{ input.value = 3; input.dispatchEvent(new Event('input')); }}
            }};
            sweep();""")
        wait_for(lambda: controls.param("speed") == pytest.approx(3.0, abs=0.01), "the last value")
        seconds = time.monotonic() - start
        # ...reach the show at most 60 times a second, the last one included
        assert server.counts["messages"] <= 60 * seconds + 3
        assert server.counts["messages"] >= 5

        port = server.page_port
        server.stop()  # the show quits...
        desktop.wait("return document.body.classList.contains('offline')", what="offline")
        controls.set_param("speed", -1.5)
        server = serve(port)  # ...and starts again on its port: the page connects by itself
        desktop.wait("return !document.body.classList.contains('offline')", what="online again")
        desktop.wait(f"return document.querySelector(\"{slider(SPEED)} input[type=range]\")"
                     ".value == -1.5", what="the new show's speed")
        assert desktop.errors() == []
    finally:
        server.stop()
