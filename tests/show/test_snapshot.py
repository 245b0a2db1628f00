"""Snapshots and the output folder: PNGs land inside it, and nothing is ever written outside."""

from __future__ import annotations

import gc
import os
from pathlib import PurePath

import numpy as np
import pygame
import pytest
from PIL import Image

from livegan.control.osc.config import OscConfig
from livegan.control.osc.sender import OscSender
from livegan.errors import OutputError
from livegan.perform import Performance
from livegan.performconfig import PerformConfig
from livegan.show.outputs import OutputsConfig
from livegan.show.snapshot import (
    NAMES_KEPT,
    WRITTEN_KEPT,
    OutputFolder,
    Snapshots,
    write_png,
)
from livegan.show.window import WindowConfig


def files_under(path) -> set:
    return {p.relative_to(path) for p in path.rglob("*") if p.is_file()}


def test_generated_names_stay_inside_and_never_collide(tmp_path):
    folder = OutputFolder(tmp_path / "out")
    first = folder.new_path("snapshot", ".png")
    first.touch()
    second = folder.unique(first.name)
    assert first.parent == second.parent == (tmp_path / "out").resolve()
    assert first.name.startswith("snapshot-") and second.name == first.stem + "-1.png"
    assert folder.new_path("../../evil", ".png").parent == folder.root  # kind is cleaned


@pytest.mark.parametrize("name", ["../escape.mp4", "/etc/passwd", "a/../../escape.png", "."])
def test_names_outside_the_folder_are_refused(tmp_path, name):
    folder = OutputFolder(tmp_path / "out")
    with pytest.raises(OutputError, match="outside the output folder"):
        folder.unique(name)
    assert files_under(tmp_path) == set()


def test_a_symlink_out_of_the_folder_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = OutputFolder(tmp_path / "out")
    folder.ensure()
    os.symlink(outside, folder.root / "link")
    with pytest.raises(OutputError):
        folder.unique("link/x.png")
    os.symlink(outside / "target.png", folder.root / "planted.png")  # dangling
    with pytest.raises(FileExistsError):
        write_png(np.zeros((4, 4, 3), np.uint8), folder.root / "planted.png")
    assert not (outside / "target.png").exists()


def test_snapshots_write_the_frame_and_the_window(tmp_path):
    snapshots = Snapshots(OutputFolder(tmp_path / "out"))
    frame = np.zeros((32, 32, 3), np.uint8)
    frame[:, :16] = (255, 0, 0)
    paths = snapshots.take(frame, window=np.full((64, 80, 3), 9, np.uint8))
    snapshots.wait()
    assert [p.name.endswith("-window.png") for p in paths] == [False, True]
    assert Image.open(paths[0]).size == (32, 32) and Image.open(paths[1]).size == (80, 64)
    assert np.array_equal(np.asarray(Image.open(paths[0])), frame)
    assert snapshots.take(None) == []  # nothing shown yet: nothing written


@pytest.mark.usefixtures("dummy_video")
def test_osc_and_the_s_key_snapshot_into_the_output_folder_only(tmp_path, make_tiny_model,
                                                                 monkeypatch):
    model = make_tiny_model(tmp_path / "models" / "m.safetensors", arch="dcgan")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    cfg = PerformConfig(model=str(model), backend="cpu", osc=OscConfig(port=0), frames=2000,
                        window=WindowConfig(size=(64, 48)))  # default out_dir: ./livegan-out
    show = Performance(cfg)
    senders: list[OscSender] = []

    def steer(show: Performance, frame) -> None:
        if not senders:
            senders.append(OscSender("127.0.0.1", show.osc.port))
            senders[0].send("/livegan/snapshot")
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_s, mod=0,
                                                 unicode="s", scancode=0))
        elif len(show.outputs.snapshots.written) >= 4:
            pygame.event.post(pygame.event.Event(pygame.QUIT))

    show.on_frame = lambda frame: steer(show, frame)
    show.run()
    senders[0].close()
    written = files_under(work)
    assert len(written) == 4, written  # two snapshots: frame + window each
    assert all(p.parts[0] == "livegan-out" and p.suffix == ".png" for p in written)
    sizes = sorted(Image.open(work / p).size for p in written)
    assert sizes == [(32, 32), (32, 32), (64, 48), (64, 48)]


def test_the_operator_may_record_anywhere_and_messages_only_inside(tmp_path, monkeypatch):
    """`--record ~/show.mp4` is the operator's choice and is honoured; a name that arrives
    in a message stays inside the output folder."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    folder = OutputFolder(tmp_path / "out")
    home = (tmp_path / "home").resolve()
    assert folder.place("~/show.mp4") == home / "show.mp4"
    (home / "show.mp4").write_bytes(b"taken")
    assert folder.place("~/show.mp4") == home / "show-1.mp4"  # never overwrites
    assert folder.place("../beside.mp4") == (tmp_path / "beside.mp4").resolve()
    assert folder.place("show.mp4") == folder.root / "show.mp4"
    with pytest.raises(OutputError, match="outside the output folder"):
        folder.unique("../show.mp4")  # a name from a message
    with pytest.raises(OutputError, match="outside the output folder"):
        folder.unique(home / "show.mp4")


@pytest.mark.usefixtures("dummy_video")
def test_perform_records_to_a_path_the_operator_typed(tmp_path, make_tiny_model, monkeypatch):
    pytest.importorskip("av")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    model = make_tiny_model(tmp_path / "m.safetensors", arch="dcgan")
    cfg = PerformConfig(model=str(model), backend="cpu", osc=OscConfig(port=0), frames=8,
                        outputs=OutputsConfig(out_dir=str(tmp_path / "out"), record="~/show.mp4"),
                        window=WindowConfig(size=(32, 32)))
    Performance(cfg).run()
    assert (tmp_path / "home" / "show.mp4").stat().st_size > 0
    assert (tmp_path / "home" / "show.controls.jsonl").is_file()


def paths_in_memory() -> int:
    gc.collect()
    return sum(issubclass(type(o), PurePath) for o in gc.get_objects())


def test_handing_out_names_for_weeks_keeps_memory_flat(tmp_path):
    """Every name a show hands out (snapshots several times a second under a flood of
    /livegan/snapshot) used to stay in memory for good: about 1 KB a snapshot."""
    folder = OutputFolder(tmp_path / "out")
    for _ in range(NAMES_KEPT):  # as many names as are ever remembered
        folder.new_path("snapshot", ".png")
    before = paths_in_memory()
    for _ in range(3000):
        folder.new_path("snapshot", ".png")
    assert paths_in_memory() - before < 10  # unbounded: 3000 more


def test_names_handed_out_never_repeat_while_their_files_are_missing(tmp_path):
    folder = OutputFolder(tmp_path / "out")
    recent = [folder.new_path("snapshot", ".png") for _ in range(NAMES_KEPT)]
    assert len(set(recent)) == NAMES_KEPT  # none written yet, none handed out twice
    recent[0].touch()  # the oldest, once written, is taken on disk
    assert all(folder.new_path("snapshot", ".png") not in recent for _ in range(NAMES_KEPT))


def test_snapshots_remember_only_the_latest_paths(tmp_path):
    snapshots = Snapshots(OutputFolder(tmp_path / "out"))
    frame = np.zeros((4, 4, 3), np.uint8)
    taken = []
    for _ in range(WRITTEN_KEPT + 10):
        taken += snapshots.take(frame)
        snapshots.wait()
    assert len(files_under(tmp_path)) == WRITTEN_KEPT + 10  # every snapshot is on disk
    assert list(snapshots.written) == taken[-WRITTEN_KEPT:]  # memory holds the newest only


def test_snapshots_stop_while_the_disk_is_nearly_full(tmp_path, monkeypatch, caplog):
    import shutil

    from livegan.show import snapshot

    caplog.set_level("WARNING", logger="livegan.show.snapshot")
    snapshots = Snapshots(OutputFolder(tmp_path / "out"))
    frame = np.zeros((4, 4, 3), np.uint8)
    free = shutil.disk_usage(tmp_path).free
    monkeypatch.setattr(snapshot, "MIN_FREE_BYTES", free + (1 << 40))  # "nearly full"
    for _ in range(50):  # a patch flooding /livegan/snapshot
        assert snapshots.take(frame) == []
    assert files_under(tmp_path) == set() and snapshots.skipped == 50
    assert caplog.text.count("snapshot skipped") == 1  # one line, not fifty
    assert "MB free on the disk of" in caplog.text and "--out-dir" in caplog.text
    monkeypatch.setattr(snapshot, "MIN_FREE_BYTES", 0)  # room again: snapshots resume
    assert len(snapshots.take(frame)) == 1
    snapshots.wait()
    assert len(files_under(tmp_path)) == 1
