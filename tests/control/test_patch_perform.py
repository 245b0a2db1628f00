"""Patches in a running show: ready patches perform headless, keys route, edits reload live."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from oscwait import wait_handled
from pythonosc.udp_client import SimpleUDPClient

from livegan import cli
from livegan.control.controls import Controls
from livegan.control.inputs import ShowInputs
from livegan.control.osc.namespace import OscNamespace
from livegan.control.osc.server import OscServer
from livegan.patchfile.load import load_patch
from livegan.patchfile.watch import PatchWatcher

PATCHES = Path(__file__).resolve().parents[2] / "patches"


@pytest.mark.parametrize("name", sorted(p.name for p in PATCHES.glob("*.toml")))
def test_every_ready_patch_performs_headless(name: str, tiny_model: Path, dummy_video) -> None:
    argv = ["perform", str(PATCHES / name), "--model", str(tiny_model), "--frames", "20",
            "--osc-port", "0", "--size", "64x64"]
    assert cli.main(argv) == 0


def write(path: Path, text: str) -> None:
    """Write and make sure the modification time moves (coarse clocks, fast tests)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text)
    if path.stat().st_mtime_ns <= before:
        os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


SCENES = "[scenes.calm]\nspeed = 0.02\n[scenes.wild]\nspeed = 0.7\n"


def test_keys_and_live_reload_in_a_running_show(tmp_path: Path, tiny_model: Path,
                                                dummy_video) -> None:
    import pygame

    from livegan.control.osc.config import OscConfig
    from livegan.perform import Performance
    from livegan.performconfig import PerformConfig
    from livegan.show.window import WindowConfig

    path = tmp_path / "live.toml"
    write(path, '[[map]]\nkey = "1"\nto = "scene"\nvalue = "calm"\n' + SCENES)
    show = Performance(PerformConfig(model=str(tiny_model), osc=OscConfig(port=0), frames=5000,
                                     window=WindowConfig(size=(64, 64)), patch=load_patch(path)))
    steps: list[str] = []

    def press(key: int) -> None:
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="",
                                             scancode=0))

    def on_frame(frame) -> None:
        router, watcher = show.inputs.router, show.watcher
        if not steps:
            press(pygame.K_1)
            steps.append("pressed 1")
        elif steps == ["pressed 1"] and router.scene == "calm":
            write(path, '[[map]]\nkey = "2"\nto = "scene"\nvalue = "wild"\n' + SCENES)
            steps.append("edited")
        elif steps[-1] == "edited" and watcher.reloads == 1:
            press(pygame.K_2)
            steps.append("pressed 2")
        elif steps[-1] == "pressed 2" and router.scene == "wild":
            pygame.event.post(pygame.event.Event(pygame.QUIT))
            steps.append("done")

    show.on_frame = on_frame
    show.run()
    assert steps == ["pressed 1", "edited", "pressed 2", "done"]
    assert show.controls.param("speed") > 0.02  # gliding toward the wild scene


def test_live_reload_changes_routes_and_a_broken_edit_keeps_the_old(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    write(path, '[[map]]\nosc = "/a"\nto = "dir[0]"\n')
    controls = Controls(z_dim=16, n_dirs=4)
    namespace = OscNamespace(controls)
    inputs = ShowInputs(controls, namespace, load_patch(path))
    watcher = PatchWatcher(path, inputs.set_patch)
    server = OscServer(inputs.dispatcher, port=0).start()
    client = SimpleUDPClient("127.0.0.1", server.port)
    sent = 0

    def send(address: str, value: float) -> None:
        nonlocal sent
        client.send_message(address, value)
        sent += 1
        wait_handled(server, sent)

    try:
        send("/a", 1.0)
        write(path, '[[map]]\nosc = "/a"\nto = "dir[1]"\nrange = [0.0, 4.0]\n')
        assert watcher.poll(force=True) is not None
        send("/a", 0.5)
        assert list(controls.snapshot().dirs) == [1.0, 2.0, 0.0, 0.0]
        write(path, '[[map]]\nosc = "/a"\nto = "dir[2]"\n\nrange = [0.0, "x"]\n')
        assert watcher.poll(force=True) is None
        assert watcher.error.startswith(f"{path}:5: map[0].range: expected two numbers")
        send("/a", 1.0)  # the old patch keeps playing
        assert list(controls.snapshot().dirs) == [1.0, 4.0, 0.0, 0.0]
        assert watcher.poll(force=True) is None  # unchanged since: not read again
    finally:
        server.stop()
        inputs.stop()
